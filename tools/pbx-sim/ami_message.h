// AMI wire format for pbx-sim: packets of "Key: Value" lines ended by an empty line. pbx-sim has
// its own codec on purpose (DESIGN.md): sharing the host driver's parser would hide its bugs.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace omnibridge::pbxsim {

// One AMI packet in wire order. Repeated headers (Variable, ChanVariable, Output) are kept.
class AmiMessage {
 public:
  AmiMessage() = default;

  void Add(absl::string_view name, absl::string_view value) {
    headers_.emplace_back(std::string(name), std::string(value));
  }

  void Append(const AmiMessage& other) {
    headers_.insert(headers_.end(), other.headers_.begin(), other.headers_.end());
  }

  // First value of `name`, compared case-insensitively like astman_get_header(); empty if absent.
  std::string Get(absl::string_view name) const;
  std::optional<std::string> Find(absl::string_view name) const;
  // Every value of `name` (case-insensitive), in order.
  std::vector<std::string> GetAll(absl::string_view name) const;

  bool Has(absl::string_view name) const { return Find(name).has_value(); }

  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

  std::vector<std::pair<std::string, std::string>>& mutable_headers() { return headers_; }

  bool empty() const { return headers_.empty(); }

  // CRLF-framed bytes including the terminating empty line.
  std::string Serialize() const;

 private:
  std::vector<std::pair<std::string, std::string>> headers_;
};

// Incremental reader for client packets, with Asterisk's limits (manager.c get_input() and
// process_message()): a line over 1024 bytes or more than 128 headers is an error for that
// packet, after which reading goes on with the next packet.
class AmiParser {
 public:
  static constexpr size_t kMaxLineBytes = 1024;
  static constexpr size_t kMaxHeaders = 128;

  enum class Error { kNone, kLineTooLong, kTooManyHeaders };

  struct Result {
    Error error = Error::kNone;
    // The headers read; on an error those kept before it (Asterisk still echoes ActionID).
    AmiMessage message;
  };

  // Consumes `data` and appends every completed packet (or packet-level error) to `out`.
  // Accepts CRLF and bare LF line ends. Memory stays bounded by the limits above.
  void Feed(absl::string_view data, std::vector<Result>* out);

 private:
  void EndLine(std::vector<Result>* out);

  std::string line_;
  bool line_too_long_ = false;
  AmiMessage current_;
  Error packet_error_ = Error::kNone;
  size_t header_count_ = 0;
};

}  // namespace omnibridge::pbxsim

namespace omnibridge::pbxsim {

// "Response: <response>" plus the action's ActionID when it has a non-empty one, as
// astman_send_response_full() writes it.
inline AmiMessage MakeResponse(const AmiMessage& action, absl::string_view response) {
  AmiMessage m;
  m.Add("Response", response);
  if (auto id = action.Find("ActionID"); id.has_value() && !id->empty())
    m.Add("ActionID", *id);
  return m;
}

inline AmiMessage MakeResponse(const AmiMessage& action, absl::string_view response,
                               absl::string_view message) {
  AmiMessage m = MakeResponse(action, response);
  m.Add("Message", message);
  return m;
}

// Asterisk's ast_true(): yes, true, y, t, 1, on.
bool AmiTrue(absl::string_view value);

}  // namespace omnibridge::pbxsim
