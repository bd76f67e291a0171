#include "nm/message.h"

#include <cstdint>
#include <cstring>

#include "boost/json/error.hpp"
#include "boost/json/monotonic_resource.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/parse_options.hpp"

#include "base/log.h"
#include "nm/wire_error.h"

namespace omnibridge::nm {

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = p + text.size();
  while (p < end) {
    // ASCII fast path, 8 bytes at a time: protocol messages are mostly ASCII.
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if (word & 0x8080808080808080ULL)
        break;
      p += 8;
    }
    if (p >= end)
      break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= extra)
      return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += extra + 1;
  }
  return true;
}

absl::StatusOr<boost::json::object> ParseInboundMessage(std::string_view payload) {
  if (!IsValidUtf8(payload)) {
    return WireError(WireCode::kInvalidUtf8, "message is not valid UTF-8");
  }
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(payload, ec, {}, options);
  if (ec == boost::json::error::too_deep) {
    return WireError(WireCode::kTooDeep,
                     base::Cat("JSON nests deeper than ", kMaxJsonDepth, " levels"));
  }
  if (ec) {
    return WireError(WireCode::kInvalidJson, base::Cat("malformed JSON: ", ec.message()));
  }
  boost::json::object* object = value.if_object();
  if (object == nullptr) {
    return WireError(WireCode::kNotObject, "message is not a JSON object");
  }
  const boost::json::value* type = object->if_contains("type");
  if (type == nullptr || !type->is_string() || type->get_string().empty()) {
    return WireError(WireCode::kMissingType, "message has no string \"type\"");
  }
  return std::move(*object);
}

std::string RequestIdOf(const boost::json::object& message) {
  const boost::json::value* id = message.if_contains("id");
  if (id == nullptr)
    return "";
  if (const auto* s = id->if_string())
    return std::string(s->data(), s->size());
  if (id->is_int64())
    return std::to_string(id->get_int64());
  if (id->is_uint64())
    return std::to_string(id->get_uint64());
  return "";
}

}  // namespace omnibridge::nm
