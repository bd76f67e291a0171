#include "nm/envelope.h"

#include <cstring>

#include "boost/json/basic_parser_impl.hpp"
#include "boost/json/error.hpp"

#include "base/log.h"
#include "nm/message.h"
#include "nm/wire_error.h"

namespace omnibridge::nm {
namespace {

namespace json = boost::json;

// A basic_parser handler that builds nothing: the parser itself checks grammar, UTF-8 and depth.
struct NullHandler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  bool on_document_begin(json::error_code&) { return true; }

  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) { return true; }

  bool on_object_end(std::size_t, json::error_code&) { return true; }

  bool on_array_begin(json::error_code&) { return true; }

  bool on_array_end(std::size_t, json::error_code&) { return true; }

  bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }

  bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }

  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }

  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }

  bool on_number_part(json::string_view, json::error_code&) { return true; }

  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }

  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }

  bool on_double(double, json::string_view, json::error_code&) { return true; }

  bool on_bool(bool, json::error_code&) { return true; }

  bool on_null(json::error_code&) { return true; }

  bool on_comment_part(json::string_view, json::error_code&) { return true; }

  bool on_comment(json::string_view, json::error_code&) { return true; }
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipSpace(std::string_view s, size_t pos) {
  while (pos < s.size() && IsSpace(s[pos]))
    ++pos;
  return pos;
}

// `pos` is at an opening quote of a valid string; returns the index just past its closing quote.
size_t SkipString(std::string_view s, size_t pos) {
  ++pos;
  while (true) {
    const void* quote = std::memchr(s.data() + pos, '"', s.size() - pos);
    size_t q = static_cast<size_t>(static_cast<const char*>(quote) - s.data());
    const void* slash = std::memchr(s.data() + pos, '\\', q - pos);
    if (slash == nullptr)
      return q + 1;
    pos = static_cast<size_t>(static_cast<const char*>(slash) - s.data()) + 2;  // skip the escape
  }
}

// `pos` is at the first character of a valid value; returns the index just past it.
size_t SkipValue(std::string_view s, size_t pos) {
  char c = s[pos];
  if (c == '"')
    return SkipString(s, pos);
  if (c == '{' || c == '[') {
    int depth = 0;
    while (pos < s.size()) {
      char d = s[pos];
      if (d == '"') {
        pos = SkipString(s, pos);
        continue;
      }
      if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0)
          return pos + 1;
      }
      ++pos;
    }
    return pos;
  }
  while (pos < s.size() && s[pos] != ',' && s[pos] != '}' && s[pos] != ']' && !IsSpace(s[pos]))
    ++pos;
  return pos;
}

}  // namespace

absl::Status ValidateJson(std::string_view text) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::basic_parser<NullHandler> parser(options);
  json::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  if (!ec)
    return absl::OkStatus();
  if (ec == json::error::too_deep)
    return WireError(WireCode::kTooDeep,
                     base::Cat("JSON nests deeper than ", kMaxJsonDepth, " levels"));
  // Classify only on failure: the parser has already checked UTF-8 inside strings.
  if (!IsValidUtf8(text))
    return WireError(WireCode::kInvalidUtf8, "message is not valid UTF-8");
  return WireError(WireCode::kInvalidJson, base::Cat("malformed JSON: ", ec.message()));
}

absl::StatusOr<Envelope> ScanEnvelope(std::string_view s) {
  size_t pos = SkipSpace(s, 0);
  if (pos >= s.size() || s[pos] != '{')
    return WireError(WireCode::kNotObject, "message is not a JSON object");
  Envelope envelope;
  pos = SkipSpace(s, pos + 1);
  if (pos < s.size() && s[pos] == '}')
    return envelope;
  while (pos < s.size()) {
    size_t key_end = SkipString(s, pos);
    std::string_view key = s.substr(pos + 1, key_end - pos - 2);
    if (key.find('\\') != std::string_view::npos)
      envelope.simple = false;
    pos = SkipSpace(s, key_end);
    pos = SkipSpace(s, pos + 1);  // ':'
    size_t value_end = SkipValue(s, pos);
    std::string_view value = s.substr(pos, value_end - pos);
    std::string_view* slot = nullptr;
    if (key == "type") {
      slot = &envelope.type_raw;
    } else if (key == "id") {
      slot = &envelope.id_raw;
    } else if (key == "payload") {
      slot = &envelope.payload_raw;
    }
    if (slot != nullptr) {
      if (!slot->empty())
        envelope.simple = false;
      *slot = value;
    }
    pos = SkipSpace(s, value_end);
    if (pos >= s.size() || s[pos] == '}')
      break;
    pos = SkipSpace(s, pos + 1);  // ','
  }
  return envelope;
}

}  // namespace omnibridge::nm
