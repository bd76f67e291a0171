// The loopback Connect API (DESIGN.md "Contracts", docs/connect-api.yaml): lets another program
// on the agent's machine (a softphone, a CTI app) post interaction events that run PopFlow flows,
// read the current interactions, and subscribe to interaction events over a WebSocket.
//
//   POST /v1/events         {"event": "offered|…|custom", "name"?, "interaction": {…}, "data"?}
//                           → 202 {"status": "accepted"}
//   GET  /v1/interactions   → 200 {"interactions": [<interaction>…]}
//   GET  /v1/events         WebSocket (Upgrade): one JSON text message per Broadcast()
//
// Every request needs `Authorization: Bearer <token>` (the token is in `connect-token`, mode 0600,
// in the per-user config directory) → else 401; any request carrying a browser `Origin` (or
// `Sec-Fetch-Site`) header → 403; no CORS headers, ever. Bodies over connect.maxBodyBytes → 413;
// malformed JSON, no `interaction` or an unknown `event` → 400. Every error body is
// {"error": "<what is wrong>"}. Bound to 127.0.0.1 only.
//
// The server knows neither PopFlow nor the agent model: the host implements ConnectBackend and
// calls Broadcast() with interaction events. Everything runs on the host's io_context thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "boost/json/array.hpp"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"

namespace omnibridge::config {
struct Config;
}

namespace omnibridge::connect {

// ---- events -----------------------------------------------------------------------------------

enum class EventKind {
  kOffered,
  kConnected,
  kHeld,
  kResumed,
  kTransferred,
  kEnded,
  kMissed,
  kWrapupStarted,
  kWrapupEnded,
  kCustom,
};
// "offered", …, "wrapupEnded", "custom" (the wire names).
std::string_view EventKindName(EventKind kind);
std::optional<EventKind> ParseEventKind(std::string_view name);

// A validated POST /v1/events body.
struct ConnectEvent {
  EventKind kind = EventKind::kCustom;
  std::string name;  // the custom event's name (required for kCustom, else empty)
  // The interaction.update fields that were posted, type-checked: interactionId (required), and
  // any of channel, direction, state, ani, callerName, dnis, queue, since (strings) and data
  // (object). Other fields are dropped.
  boost::json::object interaction;
  boost::json::object data;  // optional event payload ("data" beside "interaction")

  // The normalised body {"event", "name"?, "interaction", "data"?}: what
  // popflow::PopflowService::OnConnectEvent takes, and the shape of WebSocket messages.
  boost::json::object ToJson() const;
};

struct EventLimits {
  int max_depth = 16;
  size_t max_string = 4096;                   // any string field of the interaction
  size_t max_id = 256;                        // interactionId
  size_t max_name = 100;                      // custom event name
  size_t max_data_bytes = size_t{64} * 1024;  // serialised `data` objects
};

// Parses and validates a POST /v1/events body. InvalidArgument naming the problem otherwise
// (the server answers 400 with that message). Never throws.
absl::StatusOr<ConnectEvent> ParseEventBody(std::string_view body, const EventLimits& limits = {});

// Turns the host's outgoing interaction frames into Connect API event messages for Broadcast():
// interaction.update snapshots whose state changed → offered | connected | held | resumed (held →
// connected) | ended | wrapupStarted (→ wrapup); interaction.ended → wrapupEnded after wrap-up,
// else ended when no ended snapshot came first. A "transferred": true field that newly appears →
// transferred. Repeated snapshots give nothing. Other frames are ignored. Remembers at most
// `max_tracked` interactions (the oldest is forgotten first).
class InteractionEventStream {
 public:
  explicit InteractionEventStream(size_t max_tracked = 1024) : max_tracked_(max_tracked) {}

  // `frame` is a host → extension frame ({"type": "interaction.update", "interaction": {…}} or
  // {"type": "interaction.ended", "interactionId": …}). Returns the messages to broadcast.
  std::vector<boost::json::object> OnFrame(const boost::json::object& frame);

 private:
  struct Seen {
    std::string state;
    bool transferred = false;
    uint64_t order = 0;
    boost::json::object interaction;
  };

  size_t max_tracked_;
  uint64_t next_order_ = 0;
  std::map<std::string, Seen, std::less<>> seen_;
};

// ---- token ------------------------------------------------------------------------------------

inline constexpr char kTokenFileName[] = "connect-token";

// Reads `dir`/connect-token, or creates it (and `dir`, mode 0700) with 32 random bytes from
// OpenSSL's RAND_bytes, hex-encoded (64 characters), mode 0600. An existing file that is not a
// regular file owned by this user is refused (FailedPrecondition); one readable by others is
// narrowed to 0600; one whose content is not a token is replaced. Safe against a concurrent
// first start (exclusive link of a fully written temporary file).
absl::StatusOr<std::string> LoadOrCreateToken(const std::string& dir);

// `Authorization` header value → the bearer token, or nullopt when it is not "Bearer <token>"
// (scheme case-insensitive).
std::optional<std::string_view> BearerToken(std::string_view authorization);

// Constant-time comparison (CRYPTO_memcmp); lengths may leak, contents do not.
bool TokenMatches(std::string_view expected, std::string_view presented);

// ---- server -----------------------------------------------------------------------------------

// Implemented by the host (app/). Called on the io_context thread.
class ConnectBackend {
 public:
  virtual ~ConnectBackend() = default;
  // A valid POSTed event. OK → 202. InvalidArgument → 400, NotFound → 404, FailedPrecondition →
  // 409, ResourceExhausted → 429, Unavailable → 503, others → 500; the message is the error.
  virtual absl::Status OnEvent(const ConnectEvent& event) = 0;
  // The current interactions (interaction.update "interaction" objects).
  virtual boost::json::array Interactions() const = 0;
};

struct ConnectOptions {
  uint16_t port = 8787;                           // connect.port; 0 = ephemeral (tests)
  int64_t max_body_bytes = int64_t{1024} * 1024;  // connect.maxBodyBytes
  std::string token_dir;                          // where connect-token lives (UserConfigDir())
  int max_connections = 32;
  size_t max_subscriber_queue = 256;  // messages queued per WebSocket before it is dropped
};

// connect.* from the configuration; token_dir = config::UserConfigDir() (also when
// OMNIBRIDGE_CONFIG names a file elsewhere).
ConnectOptions OptionsFromConfig(const config::Config& config);

class ConnectServer {
 public:
  // Loads or creates the token, then listens on 127.0.0.1:port. `backend` is not owned and must
  // outlive the server. Unavailable when the port is taken (e.g. another host of the same user
  // owns the Connect API).
  static absl::StatusOr<std::unique_ptr<ConnectServer>> Create(boost::asio::io_context& io,
                                                               ConnectOptions options,
                                                               ConnectBackend* backend);
  ~ConnectServer();
  ConnectServer(const ConnectServer&) = delete;
  ConnectServer& operator=(const ConnectServer&) = delete;

  uint16_t port() const;
  std::string token_path() const;

  // Sends `message` (serialised once) to every WebSocket subscriber. A subscriber whose queue is
  // full is disconnected (1008, "too slow") rather than blocking or growing memory.
  void Broadcast(const boost::json::value& message);
  size_t subscribers() const;

 private:
  class Impl;
  explicit ConnectServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace omnibridge::connect
