// One browser session of the host: validates each inbound frame, does the hello handshake,
// answers ping, and dispatches requests to the handlers the composition root registers. Pure
// logic over frames: the transport is given as a Send function, so tests drive it directly.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"

#include "nm/frame_codec.h"
#include "nm/protocol.h"

namespace omnibridge::app {

class HostSession {
 public:
  // Writes one message to the browser; an error (e.g. a reply over the 1 MiB browser limit)
  // makes the session answer the request with an error frame instead.
  using Send = std::function<absl::Status(const boost::json::value& message)>;
  // Replies to one request: the handler calls it exactly once (now or later) with an `ack`,
  // `error` or typed reply object; HostSession fills in `re`.
  using Reply = std::function<void(boost::json::object reply)>;
  using Handler = std::function<void(const boost::json::object& request, Reply reply)>;

  struct Options {
    std::string version;
    std::vector<std::string> capabilities;
    // Called once the extension's hello is accepted, before the hello reply is sent: handlers and
    // capabilities added here are in effect for the reply.
    std::function<void(const nm::HelloRequest&)> on_hello;
    // Called once after the hello reply and the frames held until then have been sent.
    std::function<void()> after_hello;
    // Writes one message given as pieces of serialized JSON (the ping fast path). When absent the
    // pieces are parsed and go through Send.
    std::function<absl::Status(std::initializer_list<std::string_view>)> send_pieces;
  };

  HostSession(Options options, Send send);

  // Handles requests of exactly this `type`. Known protocol types without a handler are answered
  // `not_available`; types outside the protocol `unknown_type`.
  void RegisterHandler(std::string type, Handler handler);

  // Adds a capability announced in the hello reply (before the handshake).
  void AddCapability(std::string capability) { options_.capabilities.push_back(capability); }

  void OnFrame(nm::DecodedFrame&& frame);
  // The same for a frame given as a view (valid during the call) or as a skipped oversize frame.
  void OnPayload(std::string_view payload);
  void OnOversize(uint32_t length);

  // Sends an unsolicited host → extension message; held (in order) until the handshake is done.
  void Publish(boost::json::value message);

  bool handshake_done() const { return handshake_done_; }

 private:
  void Dispatch(boost::json::object&& message);
  void SendError(const boost::json::value& re, const absl::Status& status);
  void SendReply(const boost::json::value& re, boost::json::object reply);
  // Answers a ping from its raw spans; false when the message needs the DOM path.
  bool FastPong(std::string_view payload);

  Options options_;
  Send send_;
  absl::flat_hash_map<std::string, Handler> handlers_;
  bool handshake_done_ = false;
  std::vector<boost::json::value> held_;
};

}  // namespace omnibridge::app
