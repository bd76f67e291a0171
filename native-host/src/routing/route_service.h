// RouteService: the I/O around the Router (router.h) in the route mode. It serves the CRM webhooks
// and the status pages over HTTP (connect/http_server.h), authenticates and maps each webhook
// (webhook.h), commits it to the journal (journal.h) before answering, feeds the router, commits
// the router's journal updates, issues its commands on the CTI link and runs its timer.
//
// HTTP (DESIGN.md "Contracts", Router):
//   POST /v1/webhooks/<source>  new id → 202 {"interactionId"}; same id → 200, same id, nothing
//                               routed twice; 401 bad/missing signature or token, stale
//                               timestamp, replay; 404 unknown source; 400 malformed body or no
//                               id; 413 too large; 503 journal unavailable. Errors are
//                               {"error": "<what is wrong>"}.
//   GET /v1/status              JSON: link, per-queue figures, items
//   GET /                       the same as a small HTML page (every value escaped)
//
// Threading: everything on the io_context's one thread. The link and clock are not owned and must
// outlive the service.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "boost/json/object.hpp"

#include "base/clock.h"
#include "config/config.h"
#include "connect/http_server.h"
#include "cti/cti_link.h"
#include "routing/journal.h"
#include "routing/router.h"
#include "routing/webhook.h"

namespace omnibridge::routing {

// Mirrors `route.*` (DESIGN.md).
struct RouteSettings {
  std::string listen_host = "127.0.0.1";  // route.listen "host:port"
  uint16_t listen_port = 8088;
  std::string journal_path;  // route.journal
  std::vector<Source> sources;
  int64_t max_body_bytes = 1024 * 1024;  // route.maxBodyBytes
  RouterOptions router;                  // offerTimeoutSeconds, emailLiveMax
};

// Reads and validates `route.*`. Errors name the key ("route.listen: ...").
absl::StatusOr<RouteSettings> SettingsFromConfig(const boost::json::object& route);

// Parses "host:port", "[v6]:port" or ":port" (port 0 = ephemeral).
absl::Status ParseListen(std::string_view text, std::string* host, uint16_t* port);

class RouteService final : public cti::CtiEventSink, public connect::HttpHandler {
 public:
  // Opens the journal and restores the router from it. Does not listen or connect yet.
  static absl::StatusOr<std::unique_ptr<RouteService>> Create(boost::asio::io_context& io,
                                                              RouteSettings settings,
                                                              cti::CtiLink* link,
                                                              const base::Clock* clock);
  ~RouteService() override;

  // Starts the HTTP server and the CTI link. Unavailable when the port cannot be bound.
  absl::Status Start();
  // Stops the link and the server; pending completions are dropped.
  void Stop();

  uint16_t port() const;

  // One HTTP request, whatever the transport (the server calls this; so do tests and the bench).
  connect::HttpResponse Handle(const connect::HttpRequest& request);
  boost::json::object StatusJson() const;
  std::string StatusHtml() const;

  const Router& router() const { return router_; }

  Journal& journal() { return *journal_; }

  // Counters (bench, tests).
  struct Stats {
    uint64_t accepted = 0;    // 202
    uint64_t duplicates = 0;  // 200
    uint64_t rejected = 0;    // 4xx/5xx on webhooks
    uint64_t route_requests_ok = 0;
    uint64_t route_requests_failed = 0;
  };

  const Stats& stats() const { return stats_; }

  // connect::HttpHandler
  std::optional<connect::HttpResponse> OnHeaders(const connect::HttpRequest& request) override;
  void OnRequest(connect::HttpRequest request, connect::HttpResponder responder) override;

  // cti::CtiEventSink
  void OnLinkStatus(const cti::LinkStatus& status) override;
  void OnEvent(const cti::CtiEvent& event) override;

 private:
  RouteService(boost::asio::io_context& io, RouteSettings settings, cti::CtiLink* link,
               const base::Clock* clock, std::unique_ptr<Journal> journal);

  connect::HttpResponse Webhook(const Source& source, const connect::HttpRequest& request);
  void Apply(RouterEffects effects);
  void FlushJournal();
  void ArmTimer();
  const Source* FindSource(std::string_view name) const;

  boost::asio::io_context& io_;
  RouteSettings settings_;
  cti::CtiLink* link_;
  const base::Clock* clock_;
  std::unique_ptr<Journal> journal_;
  Router router_;
  Authenticator auth_;
  cti::LinkStatus link_status_;
  std::unique_ptr<connect::HttpServer> server_;
  struct TimerState;
  std::unique_ptr<TimerState> timer_;
  std::shared_ptr<RouteService*> self_;  // completions hold a weak_ptr: late ones are dropped
  Stats stats_;
  std::vector<JournalUpdate> journal_batch_;  // committed at the next turn of the loop
  bool started_ = false;
};

}  // namespace omnibridge::routing
