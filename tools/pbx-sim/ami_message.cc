#include "ami_message.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace omnibridge::pbxsim {

std::optional<std::string> AmiMessage::Find(absl::string_view name) const {
  for (const auto& [key, value] : headers_) {
    if (absl::EqualsIgnoreCase(key, name))
      return value;
  }
  return std::nullopt;
}

std::string AmiMessage::Get(absl::string_view name) const { return Find(name).value_or(""); }

std::vector<std::string> AmiMessage::GetAll(absl::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : headers_) {
    if (absl::EqualsIgnoreCase(key, name))
      values.push_back(value);
  }
  return values;
}

std::string AmiMessage::Serialize() const {
  std::string out;
  size_t size = 2;
  for (const auto& [key, value] : headers_)
    size += key.size() + value.size() + 4;
  out.reserve(size);
  for (const auto& [key, value] : headers_) {
    out.append(key).append(": ").append(value).append("\r\n");
  }
  out.append("\r\n");
  return out;
}

void AmiParser::Feed(absl::string_view data, std::vector<Result>* out) {
  for (char c : data) {
    if (c == '\n') {
      EndLine(out);
      continue;
    }
    if (line_too_long_)
      continue;
    // Asterisk's inbuf holds 1024 bytes including the line end, so a CRLF line carries at most
    // 1022 characters (1023 with a bare LF).
    if (line_.size() + 1 >= kMaxLineBytes) {
      // Like Asterisk, the packet is answered with an error once it ends; the rest of the
      // line is dropped here so that memory stays bounded.
      line_too_long_ = true;
      line_.clear();
      continue;
    }
    line_.push_back(c);
  }
}

void AmiParser::EndLine(std::vector<Result>* out) {
  if (!line_.empty() && line_.back() == '\r')
    line_.pop_back();
  if (line_too_long_) {
    line_too_long_ = false;
    packet_error_ = Error::kLineTooLong;
    ++header_count_;
    return;
  }
  if (line_.empty()) {
    Result result;
    // Asterisk reports a header overflow before a long line (do_message()).
    result.error = header_count_ > kMaxHeaders ? Error::kTooManyHeaders : packet_error_;
    result.message = std::move(current_);
    out->push_back(std::move(result));
    current_ = AmiMessage();
    packet_error_ = Error::kNone;
    header_count_ = 0;
    return;
  }
  ++header_count_;
  if (header_count_ <= kMaxHeaders) {
    absl::string_view line = line_;
    size_t colon = line.find(':');
    if (colon != absl::string_view::npos) {
      absl::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      current_.Add(line.substr(0, colon), value);
    }
    // A line without a colon can never match a header name in Asterisk either: ignore it.
  }
  line_.clear();
}

}  // namespace omnibridge::pbxsim

namespace omnibridge::pbxsim {

bool AmiTrue(absl::string_view value) {
  for (absl::string_view yes : {"yes", "true", "y", "t", "1", "on"}) {
    if (absl::EqualsIgnoreCase(value, yes))
      return true;
  }
  return false;
}

}  // namespace omnibridge::pbxsim
