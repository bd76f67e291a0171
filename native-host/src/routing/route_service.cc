#include "routing/route_service.h"

#include <chrono>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"

#include "base/log.h"
#include "base/status_macros.h"

namespace omnibridge::routing {
namespace json = boost::json;
using base::Cat;
using connect::HttpRequest;
using connect::HttpResponse;

namespace {

constexpr std::string_view kWebhookPrefix = "/v1/webhooks/";
constexpr size_t kStatusItems = 200;

HttpResponse JsonResponse(int status, const json::object& body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = json::serialize(body);
  return r;
}

HttpResponse ErrorResponse(int status, absl::string_view message) {
  return JsonResponse(status,
                      json::object{{"error", json::string_view(message.data(), message.size())}});
}

int HttpStatusFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 503;
    default:
      return 503;
  }
}

std::string IsoTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// Text for an HTML text node or a quoted attribute: nothing in it can open markup.
std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

json::string_view Js(std::string_view s) { return json::string_view(s.data(), s.size()); }

}  // namespace

// ----------------------------------------------------------------------------------- settings

absl::Status ParseListen(std::string_view text, std::string* host, uint16_t* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return absl::InvalidArgumentError("route.listen: must be \"host:port\"");
  std::string_view h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  int p = -1;
  if (!absl::SimpleAtoi(absl::string_view(text.data() + colon + 1, text.size() - colon - 1), &p) ||
      p < 0 || p > 65535)
    return absl::InvalidArgumentError("route.listen: the port must be 0 to 65535");
  *host = h.empty() ? "127.0.0.1" : std::string(h);
  *port = static_cast<uint16_t>(p);
  return absl::OkStatus();
}

absl::StatusOr<RouteSettings> SettingsFromConfig(const json::object& route) {
  RouteSettings s;
  auto integer = [&](std::string_view key, int64_t lo, int64_t hi, int64_t* out) -> absl::Status {
    const json::value* v = route.if_contains(Js(key));
    if (v == nullptr)
      return absl::OkStatus();
    if (!v->is_int64() || v->get_int64() < lo || v->get_int64() > hi)
      return absl::InvalidArgumentError(
          Cat("route.", key, ": must be an integer from ", lo, " to ", hi));
    *out = v->get_int64();
    return absl::OkStatus();
  };
  std::string listen = "127.0.0.1:8088";
  if (const json::value* v = route.if_contains("listen")) {
    if (!v->is_string())
      return absl::InvalidArgumentError("route.listen: must be a string");
    listen = std::string(v->get_string());
  }
  OMNI_RETURN_IF_ERROR(ParseListen(listen, &s.listen_host, &s.listen_port));
  if (const json::value* v = route.if_contains("journal"); v && v->is_string())
    s.journal_path = std::string(v->get_string());
  if (s.journal_path.empty())
    return absl::InvalidArgumentError(
        "route.journal: the path of the router's SQLite journal is needed");
  OMNI_ASSIGN_OR_RETURN(s.sources, ParseSources(route.if_contains("sources")));
  int64_t offer = 30, email = 5;
  OMNI_RETURN_IF_ERROR(integer("maxBodyBytes", 1, 64 * 1024 * 1024, &s.max_body_bytes));
  OMNI_RETURN_IF_ERROR(integer("offerTimeoutSeconds", 5, 3600, &offer));
  OMNI_RETURN_IF_ERROR(integer("emailLiveMax", 1, 1000, &email));
  s.router.offer_timeout_seconds = static_cast<int>(offer);
  s.router.email_live_max = static_cast<int>(email);
  return s;
}

// ------------------------------------------------------------------------------------ service

struct RouteService::TimerState {
  explicit TimerState(boost::asio::io_context& io) : timer(io) {}

  boost::asio::steady_timer timer;
  absl::Time armed_for = absl::InfiniteFuture();
};

RouteService::RouteService(boost::asio::io_context& io, RouteSettings settings, cti::CtiLink* link,
                           const base::Clock* clock, std::unique_ptr<Journal> journal)
    : io_(io),
      settings_(std::move(settings)),
      link_(link),
      clock_(clock),
      journal_(std::move(journal)),
      router_(settings_.router, clock->Now()),
      timer_(std::make_unique<TimerState>(io)),
      self_(std::make_shared<RouteService*>(this)) {
  link_status_.driver = "ami";
  link_status_.detail = "not started";
}

absl::StatusOr<std::unique_ptr<RouteService>> RouteService::Create(boost::asio::io_context& io,
                                                                   RouteSettings settings,
                                                                   cti::CtiLink* link,
                                                                   const base::Clock* clock) {
  if (link == nullptr || clock == nullptr)
    return absl::InvalidArgumentError("route service needs a CTI link and a clock");
  OMNI_ASSIGN_OR_RETURN(std::unique_ptr<Journal> journal, Journal::Open(settings.journal_path));
  OMNI_ASSIGN_OR_RETURN(std::vector<TaskRecord> unfinished, journal->LoadUnfinished());
  OMNI_ASSIGN_OR_RETURN(auto finished, journal->FinishedCounts());
  auto service = std::unique_ptr<RouteService>(
      new RouteService(io, std::move(settings), link, clock, std::move(journal)));
  OMNI_LOG(kInfo, "routing", "journal ", service->settings_.journal_path, ": ", unfinished.size(),
           " unfinished interactions to resume");
  service->router_.Restore(std::move(unfinished), finished);
  return service;
}

RouteService::~RouteService() { Stop(); }

absl::Status RouteService::Start() {
  if (started_)
    return absl::FailedPreconditionError("route service already started");
  connect::HttpServerOptions options;
  options.bind_address = settings_.listen_host;
  options.port = settings_.listen_port;
  options.max_body_bytes = settings_.max_body_bytes;
  options.max_connections = 256;
  options.extra_headers = {"X-Omnibridge-Signature", "X-Zendesk-Webhook-Signature",
                           "X-Zendesk-Webhook-Signature-Timestamp"};
  OMNI_ASSIGN_OR_RETURN(server_, connect::HttpServer::Create(io_, options, this));
  OMNI_RETURN_IF_ERROR(link_->Start(this));
  started_ = true;
  OMNI_LOG(kInfo, "routing", "listening on ", settings_.listen_host, ":", server_->port(), " with ",
           settings_.sources.size(), " source(s)");
  return absl::OkStatus();
}

void RouteService::Stop() {
  while (!journal_batch_.empty())
    FlushJournal();
  if (self_) {
    self_.reset();  // late completions find nothing
  }
  if (link_ != nullptr && started_)
    link_->Stop();
  started_ = false;
  if (timer_)
    timer_->timer.cancel();
  server_.reset();
}

uint16_t RouteService::port() const { return server_ ? server_->port() : 0; }

const Source* RouteService::FindSource(std::string_view name) const {
  for (const Source& s : settings_.sources) {
    if (s.name == name)
      return &s;
  }
  return nullptr;
}

// ----------------------------------------------------------------------------------------- HTTP

std::optional<HttpResponse> RouteService::OnHeaders(const HttpRequest& request) {
  // Refuse what will be refused anyway before reading a body.
  if (request.path.starts_with(kWebhookPrefix)) {
    if (request.method != "POST")
      return ErrorResponse(405, "webhooks are POST requests");
    if (FindSource(std::string_view(request.path).substr(kWebhookPrefix.size())) == nullptr) {
      ++stats_.rejected;
      return ErrorResponse(404, "unknown source");
    }
    return std::nullopt;
  }
  if (request.path == "/" || request.path == "/v1/status") {
    if (request.method != "GET" && request.method != "HEAD")
      return ErrorResponse(405, "method not allowed");
    return std::nullopt;
  }
  return ErrorResponse(404, "not found");
}

void RouteService::OnRequest(HttpRequest request, connect::HttpResponder responder) {
  responder.Respond(Handle(request));
}

HttpResponse RouteService::Handle(const HttpRequest& request) {
  if (request.path.starts_with(kWebhookPrefix)) {
    if (request.method != "POST")
      return ErrorResponse(405, "webhooks are POST requests");
    const Source* source = FindSource(std::string_view(request.path).substr(kWebhookPrefix.size()));
    if (source == nullptr) {
      ++stats_.rejected;
      return ErrorResponse(404, "unknown source");
    }
    HttpResponse r = Webhook(*source, request);
    if (r.status >= 400)
      ++stats_.rejected;
    return r;
  }
  if (request.method != "GET" && request.method != "HEAD")
    return ErrorResponse(405, "method not allowed");
  if (request.path == "/v1/status")
    return JsonResponse(200, StatusJson());
  if (request.path == "/") {
    HttpResponse r;
    r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; style-src 'unsafe-inline'");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.body = StatusHtml();
    return r;
  }
  return ErrorResponse(404, "not found");
}

HttpResponse RouteService::Webhook(const Source& source, const HttpRequest& request) {
  if (static_cast<int64_t>(request.body.size()) > settings_.max_body_bytes)
    return ErrorResponse(413, Cat("request body over ", settings_.max_body_bytes, " bytes"));
  const std::string* signature = request.Header("x-omnibridge-signature");
  const std::string* authorization = request.Header("authorization");
  const absl::Time now = clock_->Now();
  const std::string* zendesk_signature = request.Header("x-zendesk-webhook-signature");
  const std::string* zendesk_timestamp = request.Header("x-zendesk-webhook-signature-timestamp");
  const bool zendesk_signed = source.kind == SourceKind::kZendesk &&
                              source.auth == AuthMode::kSignature && signature == nullptr &&
                              zendesk_signature != nullptr;
  absl::Status verified =
      zendesk_signed
          ? auth_.VerifyZendesk(source, *zendesk_signature,
                                zendesk_timestamp ? *zendesk_timestamp : std::string_view(),
                                request.body, now)
          : auth_.Verify(source, signature ? *signature : std::string_view(),
                         authorization ? *authorization : std::string_view(), request.body, now);
  if (absl::Status s = verified; !s.ok()) {
    OMNI_LOG(kInfo, "routing", "webhook ", source.name, " from ", request.peer,
             " refused: ", s.message());
    return ErrorResponse(HttpStatusFor(s), s.message());
  }
  absl::StatusOr<Intake> intake = ParsePayload(source.kind, request.body);
  if (!intake.ok())
    return ErrorResponse(400, intake.status().message());

  TaskRecord rec;
  rec.interaction_id = InteractionIdFor(source.name, intake->crm_id);
  rec.source = source.name;
  rec.crm_id = intake->crm_id;
  rec.channel = intake->channel;
  rec.queue = source.QueueFor(intake->channel);
  rec.subject = std::move(intake->subject);
  rec.customer_name = std::move(intake->customer_name);
  rec.customer_address = std::move(intake->customer_address);
  rec.url = std::move(intake->url);
  rec.data_json = std::move(intake->data_json);
  // A work item the CRM already closed is journaled (so its id stays answered) but not routed.
  rec.state = intake->closed ? TaskState::kWithdrawn : TaskState::kPending;
  rec.created = rec.updated = now;

  std::string existing;
  absl::StatusOr<bool> inserted = journal_->Insert(rec, &existing);
  if (!inserted.ok()) {
    OMNI_LOG(kError, "routing", "journal: ", inserted.status().message());
    return ErrorResponse(503, "journal unavailable; retry later");
  }
  if (!*inserted) {
    ++stats_.duplicates;
    if (intake->closed) {
      RouterEffects effects;
      (void)router_.Close(existing, now, effects);
      Apply(std::move(effects));
    }
    return JsonResponse(200, json::object{{"interactionId", Js(existing)}});
  }
  ++stats_.accepted;
  OMNI_LOG(kInfo, "routing", "accepted ", rec.channel, " ", rec.interaction_id, " from ",
           source.name, " for queue ", rec.queue);
  const std::string id = rec.interaction_id;
  if (!intake->closed) {
    RouterEffects effects;
    router_.Admit(std::move(rec), now, effects);
    Apply(std::move(effects));
  }
  return JsonResponse(202, json::object{{"interactionId", Js(id)}});
}

// --------------------------------------------------------------------------------- router I/O

void RouteService::Apply(RouterEffects effects) {
  // State changes are committed once per turn of the loop, in one transaction, not once per
  // event: a resync or a burst of AMI events would otherwise cost one commit each. Commands need
  // not wait for that commit: after a crash, the resync finds a virtual call the journal still
  // calls pending (and takes it as live), and a second Originate with the same ChannelId fails
  // while the first lives.
  if (!effects.journal.empty()) {
    if (journal_batch_.empty()) {
      std::weak_ptr<RouteService*> weak = self_;
      boost::asio::post(io_, [weak] {
        if (auto self = weak.lock())
          (*self)->FlushJournal();
      });
    }
    journal_batch_.insert(journal_batch_.end(), std::make_move_iterator(effects.journal.begin()),
                          std::make_move_iterator(effects.journal.end()));
  }
  for (RouterCommand& command : effects.commands) {
    std::weak_ptr<RouteService*> weak = self_;
    auto shared = std::make_shared<RouterCommand>(std::move(command));
    link_->Execute(shared->command, [weak, shared](absl::Status status) {
      auto self = weak.lock();
      if (!self)
        return;
      RouteService* service = *self;
      if (std::holds_alternative<cti::RouteTask>(shared->command)) {
        if (status.ok())
          ++service->stats_.route_requests_ok;
        else
          ++service->stats_.route_requests_failed;
      }
      RouterEffects next;
      service->router_.OnCommandDone(*shared, status, service->clock_->Now(), next);
      service->Apply(std::move(next));
    });
  }
  ArmTimer();
}

void RouteService::FlushJournal() {
  // At most kFlushChunk updates per transaction, the rest at the next turn: a long commit would
  // keep the loop from reading AMI, and Asterisk drops a reader that stalls for its writetimeout
  // (100 ms by default).
  constexpr size_t kFlushChunk = 1000;
  std::vector<JournalUpdate> batch;
  if (journal_batch_.size() <= kFlushChunk) {
    batch = std::move(journal_batch_);
    journal_batch_.clear();
  } else {
    batch.assign(std::make_move_iterator(journal_batch_.begin()),
                 std::make_move_iterator(journal_batch_.begin() + kFlushChunk));
    journal_batch_.erase(journal_batch_.begin(), journal_batch_.begin() + kFlushChunk);
    std::weak_ptr<RouteService*> weak = self_;
    boost::asio::post(io_, [weak] {
      if (auto self = weak.lock())
        (*self)->FlushJournal();
    });
  }
  if (absl::Status s = journal_->Apply(batch); !s.ok())
    OMNI_LOG(kError, "routing", s.message());
}

void RouteService::ArmTimer() {
  const absl::Time deadline = router_.NextDeadline();
  if (deadline == absl::InfiniteFuture() || deadline == timer_->armed_for)
    return;
  timer_->armed_for = deadline;
  const absl::Duration wait = std::max(deadline - clock_->Now(), absl::ZeroDuration());
  timer_->timer.expires_after(absl::ToChronoMilliseconds(wait) + std::chrono::milliseconds(1));
  std::weak_ptr<RouteService*> weak = self_;
  timer_->timer.async_wait([weak](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self)
      return;
    RouteService* service = *self;
    service->timer_->armed_for = absl::InfiniteFuture();
    RouterEffects effects;
    service->router_.OnTimer(service->clock_->Now(), effects);
    service->Apply(std::move(effects));
  });
}

void RouteService::OnLinkStatus(const cti::LinkStatus& status) {
  link_status_ = status;
  RouterEffects effects;
  router_.OnLinkStatus(status, clock_->Now(), effects);
  Apply(std::move(effects));
}

void RouteService::OnEvent(const cti::CtiEvent& event) {
  RouterEffects effects;
  router_.OnEvent(event, clock_->Now(), effects);
  if (!effects.journal.empty() || !effects.commands.empty())
    Apply(std::move(effects));
}

// ------------------------------------------------------------------------------------- status

json::object RouteService::StatusJson() const {
  json::object out;
  out["link"] = json::object{{"state", Js(cti::LinkStateName(link_status_.state))},
                             {"driver", Js(link_status_.driver)},
                             {"detail", Js(link_status_.detail)}};
  json::array queues;
  for (const auto& [queue, f] : router_.Figures()) {
    queues.push_back(json::object{{"queue", Js(queue)},
                                  {"pending", f.pending},
                                  {"queued", f.queued},
                                  {"offered", f.offered},
                                  {"assigned", f.assigned},
                                  {"completed", f.completed},
                                  {"withdrawn", f.withdrawn},
                                  {"failed", f.failed}});
  }
  out["queues"] = std::move(queues);
  json::array items;
  // Ids, states and agents only: no subjects or customers on an unauthenticated page.
  for (const TaskRecord& r : router_.Items(kStatusItems)) {
    items.push_back(json::object{{"interactionId", Js(r.interaction_id)},
                                 {"source", Js(r.source)},
                                 {"crmId", Js(r.crm_id)},
                                 {"channel", Js(r.channel)},
                                 {"queue", Js(r.queue)},
                                 {"state", Js(TaskStateName(r.state))},
                                 {"agent", Js(r.agent)},
                                 {"attempts", r.attempts},
                                 {"created", IsoTime(r.created)},
                                 {"updated", IsoTime(r.updated)}});
  }
  out["interactions"] = std::move(items);
  out["accepted"] = stats_.accepted;
  out["duplicates"] = stats_.duplicates;
  out["rejected"] = stats_.rejected;
  out["routeRequests"] = stats_.route_requests_ok;
  out["routeRequestsFailed"] = stats_.route_requests_failed;
  return out;
}

std::string RouteService::StatusHtml() const {
  std::string h =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"5\"><title>Omnibridge router</title>"
      "<style>body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}"
      "table{border-collapse:collapse;margin:.5em 0 1.5em}"
      "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
      "th{background:#f3f3f3}.up{color:#070}.down{color:#b00}</style></head><body>"
      "<h1>Omnibridge router</h1>";
  const std::string state(cti::LinkStateName(link_status_.state));
  absl::StrAppend(&h, "<p>ACD link: <b class=\"", state == "up" ? "up" : "down", "\">",
                  HtmlEscape(state), "</b>");
  if (!link_status_.detail.empty())
    absl::StrAppend(&h, " (", HtmlEscape(link_status_.detail), ")");
  absl::StrAppend(&h, " · accepted ", stats_.accepted, " · duplicates ", stats_.duplicates,
                  " · rejected ", stats_.rejected, "</p>");
  h += "<h2>Queues</h2><table><tr><th>queue</th><th>pending</th><th>queued</th><th>offered</th>"
       "<th>assigned</th><th>completed</th><th>withdrawn</th><th>failed</th></tr>";
  for (const auto& [queue, f] : router_.Figures()) {
    absl::StrAppend(&h, "<tr><td>", HtmlEscape(queue), "</td><td>", f.pending, "</td><td>",
                    f.queued, "</td><td>", f.offered, "</td><td>", f.assigned, "</td><td>",
                    f.completed, "</td><td>", f.withdrawn, "</td><td>", f.failed, "</td></tr>");
  }
  h += "</table><h2>Interactions</h2><table><tr><th>interaction</th><th>source</th>"
       "<th>CRM id</th><th>channel</th><th>queue</th><th>state</th><th>agent</th>"
       "<th>updated</th></tr>";
  for (const TaskRecord& r : router_.Items(kStatusItems)) {
    absl::StrAppend(&h, "<tr><td>", HtmlEscape(r.interaction_id), "</td><td>", HtmlEscape(r.source),
                    "</td><td>", HtmlEscape(r.crm_id), "</td><td>", HtmlEscape(r.channel),
                    "</td><td>", HtmlEscape(r.queue), "</td><td>",
                    HtmlEscape(TaskStateName(r.state)), "</td><td>", HtmlEscape(r.agent),
                    "</td><td>", HtmlEscape(IsoTime(r.updated)), "</td></tr>");
  }
  h += "</table></body></html>\n";
  return h;
}

}  // namespace omnibridge::routing
