// Asterisk Manager Interface, the pure part: packet parser, action serializer, and the mapping of
// AMI events onto cti::CtiEvent. No I/O; the fuzz target and the benchmark drive it directly.
//
// Framing (research notes §1.2): "Key: Value" lines ended by CRLF (a bare LF is accepted), a blank
// line ends a packet, the very first line of a session is the banner with no blank line after it.
// Header names compare case-insensitively; repeated headers are kept in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

#include "cti/cti_link.h"

namespace omnibridge::cti::ami {

// One AMI packet (or the banner). Owns its bytes; views it returns live as long as the message and
// until it is modified.
class AmiMessage {
 public:
  bool is_banner() const { return banner_; }

  // The banner line ("Asterisk Call Manager/11.0.0"); empty for a packet.
  std::string_view banner() const { return banner_ ? std::string_view(data_) : std::string_view(); }

  size_t size() const { return fields_.size(); }

  std::string_view name(size_t i) const { return View(fields_[i].name_off, fields_[i].name_len); }

  std::string_view value(size_t i) const {
    return View(fields_[i].value_off, fields_[i].value_len);
  }

  // The first header called `name` (any case), or nullopt.
  std::optional<std::string_view> Find(std::string_view name) const;

  // Same, "" when missing.
  std::string_view Get(std::string_view name) const { return Find(name).value_or(""); }

  bool Has(std::string_view name) const { return Find(name).has_value(); }

  // Every value of `name`, in order.
  std::vector<std::string_view> GetAll(std::string_view name) const;

  // Building (used by the parser and tests).
  void Clear();
  void SetBanner(std::string_view line);
  void Add(std::string_view name, std::string_view value);

 private:
  struct Field {
    uint32_t name_off, name_len, value_off, value_len;
  };

  std::string_view View(uint32_t off, uint32_t len) const {
    return std::string_view(data_).substr(off, len);
  }

  std::string data_;
  std::vector<Field> fields_;
  bool banner_ = false;
};

// Incremental packet parser. Never throws, never stalls: a line or packet over the limits is
// dropped (reported through `on_error`) and parsing resumes at the next packet boundary.
class AmiParser {
 public:
  struct Limits {
    // Asterisk's own input limit is 1024, but it *sends* longer lines (long ChanVariable values,
    // Command output), so the default is generous.
    size_t max_line_bytes = 16 * 1024;
    size_t max_headers = 512;
    size_t max_packet_bytes = 256 * 1024;
  };

  using MessageFn = absl::FunctionRef<void(const AmiMessage&)>;
  using ErrorFn = absl::FunctionRef<void(const absl::Status&)>;

  // `expect_banner`: the first line is the banner (a client's view of a session).
  explicit AmiParser(bool expect_banner = true) : AmiParser(Limits{}, expect_banner) {}

  AmiParser(Limits limits, bool expect_banner);

  // Consumes `bytes`; calls `on_message` for each complete packet (the message is reused: copy what
  // you keep) and `on_error` for each dropped line/packet (kResourceExhausted).
  void Feed(std::string_view bytes, MessageFn on_message, ErrorFn on_error);

  // Forgets any partial packet; the next line is a banner again if `expect_banner`.
  void Reset(bool expect_banner);

  // Bytes buffered waiting for the end of a line (bounded by max_line_bytes).
  size_t buffered_bytes() const { return partial_line_.size(); }

 private:
  void OnLine(std::string_view line, MessageFn on_message, ErrorFn on_error);
  void DropPacket(ErrorFn on_error, std::string_view why);

  Limits limits_;
  bool expect_banner_;
  std::string partial_line_;
  bool skipping_line_ = false;    // inside an oversize line: discard to its end
  bool dropping_packet_ = false;  // discard lines until the blank line
  size_t packet_bytes_ = 0;
  AmiMessage message_;
};

// An action to send. Header order is kept; `ActionID` is added by the serializer.
struct AmiAction {
  std::string name;  // "QueuePause"
  std::vector<std::pair<std::string, std::string>> headers;

  AmiAction& Set(std::string key, std::string value) {
    headers.emplace_back(std::move(key), std::move(value));
    return *this;
  }
};

// Appends the CRLF-framed packet for `action` to `out`. kInvalidArgument when a name or value holds
// CR or LF (header injection), a name is empty or holds ':' — `out` is then untouched.
absl::Status SerializeAction(const AmiAction& action, std::string_view action_id, std::string* out);

// Lowercase hex MD5 of challenge + secret, the Key of an MD5 Login.
std::string Md5LoginKey(std::string_view challenge, std::string_view secret);

// The Local channel half that runs the member's dialplan: "…;1" → "…;2" (DESIGN.md). Other names
// are returned unchanged.
std::string MemberLegToRun(std::string_view member_channel);

// Maps one AMI event onto a cti::CtiEvent and calls `emit` (zero or one time). Events the model
// does not need are ignored. `snapshot` marks list items of a resync (QueueStatus,
// CoreShowChannels). Tolerates Asterisk 11 (Join/Leave, QueueMemberPaused, AgentCalled's
// AgentCalled/AgentName) and 13–16 (separate Reason: on QueueMemberPause) shapes next to 18–22's.
void TranslateEvent(const AmiMessage& event, bool snapshot,
                    absl::FunctionRef<void(const CtiEvent&)> emit);

}  // namespace omnibridge::cti::ami
