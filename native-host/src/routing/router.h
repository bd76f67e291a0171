// The router of the route mode, logic without I/O (DESIGN.md "Digital routing through Asterisk").
//
// It keeps every unfinished digital work item, decides when each one becomes a routing request
// (a virtual call, cti::RouteTask) and follows what the ACD does with it (queued, offered to an
// agent, assigned, completed) from the CTI link's normalised events. Inputs: admitted work items,
// CTI events and link status, command results, the clock. Outputs (Effects): journal updates to
// commit, then commands to issue. The I/O part (route_service) commits, issues and calls back.
//
// Rules it implements:
//  - chat, SMS and social are originated at once; email waits in the router and is fed just in
//    time: at most `email_live_max` emails per queue waiting in the ACD (originated, not yet
//    accepted by an agent);
//  - nothing is originated while the link is not up; items wait (journaled) until it is;
//  - after every (re)connect the link's resync says which virtual calls still live: an item whose
//    call is gone is completed when an agent had it, else routed again; a live one is kept;
//  - a virtual call that ends before an agent accepted it (queue timeout, lost originate) is
//    routed again after `retry_delay`, at most `max_attempts` times, then marked failed.
//
// Not thread-safe; lives on the event-loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

#include "cti/cti_link.h"

namespace omnibridge::routing {

enum class TaskState {
  kPending,      // journaled, waiting for the link, an email slot or a retry
  kOriginating,  // routing request sent, virtual call not seen yet
  kQueued,       // virtual call waiting in the ACD queue
  kOffered,      // the ACD is offering it to an agent
  kAssigned,     // an agent accepted it (AgentConnect)
  kCompleted,    // done (the agent completed it, or the CRM closed it after assignment)
  kWithdrawn,    // the CRM closed it before an agent accepted it
  kFailed,       // could not be routed (max_attempts reached)
};

std::string_view TaskStateName(TaskState state);
std::optional<TaskState> ParseTaskState(std::string_view name);
bool IsFinal(TaskState state);

// One work item as the journal keeps it.
struct TaskRecord {
  std::string interaction_id;
  std::string source;
  std::string crm_id;
  std::string channel;  // chat | email | sms | social
  std::string queue;
  std::string subject;
  std::string customer_name;
  std::string customer_address;
  std::string url;
  std::string data_json;
  TaskState state = TaskState::kPending;
  std::string agent;  // MemberName (or interface) of the agent offered / assigned
  int attempts = 0;   // routing requests sent so far
  absl::Time created = absl::UnixEpoch();
  absl::Time updated = absl::UnixEpoch();
};

// A change of one journaled item (state, agent, attempts, time).
struct JournalUpdate {
  std::string interaction_id;
  TaskState state = TaskState::kPending;
  std::string agent;
  int attempts = 0;
  absl::Time updated = absl::UnixEpoch();
};

// A command for the CTI link, and which item it is for (its result comes back through
// Router::OnCommandDone with the same tag).
struct RouterCommand {
  std::string interaction_id;
  cti::Command command;
};

struct RouterEffects {
  std::vector<JournalUpdate> journal;  // commit these first (one transaction)
  std::vector<RouterCommand> commands;
};

struct RouterOptions {
  int offer_timeout_seconds = 30;  // route.offerTimeoutSeconds → OB_OFFER_TIMEOUT
  int email_live_max = 5;          // route.emailLiveMax
  // How long an accepted routing request may stay unseen before it is sent again (Asterisk's
  // Originate is asynchronous; a failed one is only an OriginateResponse).
  absl::Duration confirm_timeout = absl::Seconds(10);
  absl::Duration retry_delay = absl::Seconds(2);
  int max_attempts = 5;
  // Routing requests sent and not yet answered by the platform. Beyond it, items wait in the
  // router: a burst of webhooks becomes a steady stream of Originates instead of a flood that
  // overflows the link's send queue (and the event stream the platform sends back).
  int max_requests_in_flight = 256;
  // Final items kept in memory for the status page (the journal keeps them all).
  size_t recent_final_kept = 200;
};

// Per-queue figures for the status page.
struct QueueFigures {
  int pending = 0;  // in the router (link down, email backlog, retry)
  int queued = 0;   // waiting in the ACD (originating or queued)
  int offered = 0;
  int assigned = 0;
  int64_t completed = 0;
  int64_t withdrawn = 0;
  int64_t failed = 0;
};

class Router {
 public:
  Router(RouterOptions options, absl::Time now);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // At start: the journal's unfinished items (any state) and the counts of finished ones per
  // queue. In-flight items are reconciled with the platform at the first resync.
  void Restore(std::vector<TaskRecord> unfinished,
               const std::map<std::string, QueueFigures>& finished_counts);

  // A new item, already journaled as pending. Routes it when it may.
  void Admit(TaskRecord record, absl::Time now, RouterEffects& out);
  // The CRM closed the item: withdraws it (not yet accepted) or ends it (assigned). kNotFound when
  // the router does not hold it (already finished).
  absl::Status Close(std::string_view interaction_id, absl::Time now, RouterEffects& out);

  void OnLinkStatus(const cti::LinkStatus& status, absl::Time now, RouterEffects& out);
  void OnEvent(const cti::CtiEvent& event, absl::Time now, RouterEffects& out);
  void OnCommandDone(const RouterCommand& command, const absl::Status& status, absl::Time now,
                     RouterEffects& out);
  // Retries and confirmation deadlines. Call at NextDeadline() (or any time).
  void OnTimer(absl::Time now, RouterEffects& out);
  // When OnTimer next has something to do; InfiniteFuture when nothing waits.
  absl::Time NextDeadline() const;

  // Introspection (status page, tests).
  bool link_up() const;
  const TaskRecord* Find(std::string_view interaction_id) const;
  std::map<std::string, QueueFigures> Figures() const;
  // Unfinished items (oldest first), then the most recent finished ones (newest first).
  std::vector<TaskRecord> Items(size_t max) const;
  size_t unfinished_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace omnibridge::routing
