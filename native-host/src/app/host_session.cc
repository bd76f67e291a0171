#include "app/host_session.h"

#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/json/value_from.hpp"

#include "base/log.h"
#include "nm/envelope.h"
#include "nm/message.h"
#include "nm/wire_error.h"

namespace omnibridge::app {
namespace json = boost::json;

namespace {
// Unsolicited frames held before the handshake; beyond this the oldest are dropped (the
// extension re-reads state after hello anyway: every frame is a full snapshot).
constexpr size_t kMaxHeldFrames = 1000;
}  // namespace

HostSession::HostSession(Options options, Send send)
    : options_(std::move(options)), send_(std::move(send)) {}

void HostSession::RegisterHandler(std::string type, Handler handler) {
  handlers_[std::move(type)] = std::move(handler);
}

void HostSession::SendError(const json::value& re, const absl::Status& status) {
  OMNI_LOG(kInfo, "session", "error reply (", nm::WireCodeName(nm::WireCodeOf(status)),
           "): ", status.message());
  (void)send_(nm::MakeErrorFrame(re, status));
}

void HostSession::OnFrame(nm::DecodedFrame&& frame) {
  if (frame.oversize()) {
    OnOversize(frame.oversize_length);
  } else {
    OnPayload(frame.payload);
  }
}

void HostSession::OnOversize(uint32_t length) {
  SendError(nullptr, nm::WireError(nm::WireCode::kFrameTooLarge,
                                   base::Cat("message of ", length,
                                             " bytes exceeds the limit; it was skipped")));
}

void HostSession::OnPayload(std::string_view payload) {
  if (absl::Status valid = nm::ValidateJson(payload); !valid.ok()) {
    SendError(nullptr, valid);
    return;
  }
  if (FastPong(payload))
    return;
  auto message = nm::ParseInboundMessage(payload);
  if (!message.ok()) {
    SendError(nullptr, message.status());
    return;
  }
  Dispatch(std::move(*message));
}

namespace {
// An id the fast path may echo as is: a short string without escapes, or a small integer. Anything
// else goes through the DOM path and its precise validation.
bool PlainId(std::string_view raw) {
  if (raw.size() > 2 && raw.size() <= 130 && raw.front() == '"' && raw.back() == '"')
    return raw.find('\\') == std::string_view::npos;
  if (raw.empty() || raw.size() > 18)
    return false;
  for (char c : raw) {
    if (c < '0' || c > '9')
      return false;
  }
  return true;
}
}  // namespace

bool HostSession::FastPong(std::string_view payload) {
  auto envelope = nm::ScanEnvelope(payload);
  if (!envelope.ok() || !envelope->simple || envelope->type_raw != "\"ping\"" ||
      !PlainId(envelope->id_raw)) {
    return false;
  }
  std::string_view echoed = envelope->payload_raw.empty() ? "null" : envelope->payload_raw;
  std::initializer_list<std::string_view> pieces = {R"({"type":"pong","re":)", envelope->id_raw,
                                                    R"(,"payload":)", echoed, "}"};
  absl::Status sent;
  if (options_.send_pieces) {
    sent = options_.send_pieces(pieces);
  } else {
    std::string text;
    for (std::string_view piece : pieces)
      text.append(piece);
    sent = send_(json::parse(text));
  }
  if (!sent.ok())
    SendError(json::parse(envelope->id_raw), sent);
  return true;
}

void HostSession::Dispatch(json::object&& message) {
  std::string type(message.at("type").get_string());
  json::value re = nullptr;
  if (const json::value* id = message.if_contains("id"))
    re = *id;

  const nm::MessageTypeInfo* info = nm::FindMessageType(type);
  if (info == nullptr) {
    SendError(re, nm::WireError(nm::WireCode::kUnknownType,
                                base::Cat("unknown message type \"", type, "\"")));
    return;
  }
  if (absl::Status fields = nm::CheckRequestFields(message); !fields.ok()) {
    SendError(re, fields);
    return;
  }

  if (type == "hello") {
    auto hello = nm::DecodeRequest<nm::HelloRequest>(message);
    if (!hello.ok()) {
      SendError(re, hello.status());
      return;
    }
    if (hello->protocol != nm::kProtocolVersion) {
      SendError(re, nm::WireError(nm::WireCode::kProtocolMismatch,
                                  base::Cat("extension speaks protocol ", hello->protocol,
                                            ", this host speaks ", nm::kProtocolVersion)));
      return;
    }
    bool first = !handshake_done_;
    // Frames published by on_hello are held, so the hello reply is the first frame sent.
    if (first && options_.on_hello)
      options_.on_hello(*hello);
    handshake_done_ = true;
    (void)send_(json::value_from(
        nm::HelloReply{re, nm::kProtocolVersion, options_.version, options_.capabilities}));
    if (first) {
      std::vector<json::value> held = std::move(held_);
      held_.clear();
      for (const json::value& frame : held)
        (void)send_(frame);
      if (options_.after_hello)
        options_.after_hello();
    }
    return;
  }
  if (type == "ping") {
    // Answered before the handshake too: health checks and `doctor` use it.
    auto ping = nm::DecodeRequest<nm::PingRequest>(message);
    if (!ping.ok()) {
      SendError(re, ping.status());
      return;
    }
    SendReply(re, json::value_from(nm::Pong{nullptr, std::move(ping->payload)}).as_object());
    return;
  }
  if (!handshake_done_) {
    SendError(re, nm::WireError(nm::WireCode::kHandshakeRequired,
                                base::Cat("send hello before \"", type, "\"")));
    return;
  }
  auto handler = handlers_.find(type);
  if (handler == handlers_.end()) {
    SendError(re, nm::WireError(nm::WireCode::kNotAvailable,
                                base::Cat("\"", type, "\" is not available in this build yet")));
    return;
  }
  handler->second(message, [this, re](json::object reply) { SendReply(re, std::move(reply)); });
}

void HostSession::SendReply(const json::value& re, json::object reply) {
  reply["re"] = re;
  absl::Status sent = send_(reply);
  if (!sent.ok())
    SendError(re, sent);
}

void HostSession::Publish(json::value message) {
  if (handshake_done_) {
    (void)send_(message);
    return;
  }
  if (held_.size() >= kMaxHeldFrames)
    held_.erase(held_.begin());
  held_.push_back(std::move(message));
}

}  // namespace omnibridge::app
