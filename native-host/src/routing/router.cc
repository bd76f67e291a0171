#include "routing/router.h"

#include <algorithm>
#include <deque>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"

#include "base/log.h"
#include "routing/webhook.h"

namespace omnibridge::routing {
namespace {

bool InFlight(TaskState s) {
  return s == TaskState::kOriginating || s == TaskState::kQueued || s == TaskState::kOffered ||
         s == TaskState::kAssigned;
}

// An email counts against route.emailLiveMax while it waits in the ACD.
bool EmailWaiting(TaskState s) {
  return s == TaskState::kOriginating || s == TaskState::kQueued || s == TaskState::kOffered;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kPending:
      return "pending";
    case TaskState::kOriginating:
      return "originating";
    case TaskState::kQueued:
      return "queued";
    case TaskState::kOffered:
      return "offered";
    case TaskState::kAssigned:
      return "assigned";
    case TaskState::kCompleted:
      return "completed";
    case TaskState::kWithdrawn:
      return "withdrawn";
    case TaskState::kFailed:
      return "failed";
  }
  return "pending";
}

std::optional<TaskState> ParseTaskState(std::string_view name) {
  for (TaskState s :
       {TaskState::kPending, TaskState::kOriginating, TaskState::kQueued, TaskState::kOffered,
        TaskState::kAssigned, TaskState::kCompleted, TaskState::kWithdrawn, TaskState::kFailed}) {
    if (TaskStateName(s) == name)
      return s;
  }
  return std::nullopt;
}

bool IsFinal(TaskState state) {
  return state == TaskState::kCompleted || state == TaskState::kWithdrawn ||
         state == TaskState::kFailed;
}

struct Router::Impl {
  struct Item {
    TaskRecord rec;
    uint64_t seq = 0;
    absl::Time not_before = absl::InfinitePast();    // pending: earliest routing
    absl::Time confirm_by = absl::InfiniteFuture();  // originating: resend after
    bool command_in_flight = false;                  // RouteTask sent, result not back yet
    bool confirmed = true;                           // seen live during the current resync
    bool withdraw_requested = false;
    std::string leg_a;  // the virtual call's first leg as the platform names it
  };

  using PendingSet = std::set<std::pair<uint64_t, std::string>>;

  RouterOptions options;
  bool link_up = false;
  bool resyncing = false;
  uint64_t next_seq = 1;
  int requests_in_flight = 0;
  absl::flat_hash_map<std::string, Item> items;
  PendingSet pending_now;                            // chat, sms, social (and any non-email)
  std::map<std::string, PendingSet> pending_email;   // by queue
  std::map<std::string, int> email_live;             // by queue
  std::multimap<absl::Time, std::string> deadlines;  // lazily cleaned
  std::deque<TaskRecord> recent_final;               // newest first
  std::map<std::string, QueueFigures> figures;       // per queue, kept up to date
  std::map<uint64_t, std::string> order;             // unfinished items by arrival

  explicit Impl(RouterOptions o) : options(std::move(o)) {}

  void Count(const std::string& queue, TaskState state, int delta) {
    QueueFigures& f = figures[queue];
    switch (state) {
      case TaskState::kPending:
        f.pending += delta;
        break;
      case TaskState::kOriginating:
      case TaskState::kQueued:
        f.queued += delta;
        break;
      case TaskState::kOffered:
        f.offered += delta;
        break;
      case TaskState::kAssigned:
        f.assigned += delta;
        break;
      case TaskState::kCompleted:
        f.completed += delta;
        break;
      case TaskState::kWithdrawn:
        f.withdrawn += delta;
        break;
      case TaskState::kFailed:
        f.failed += delta;
        break;
    }
  }

  PendingSet& PendingFor(const Item& it) {
    return it.rec.channel == "email" ? pending_email[it.rec.queue] : pending_now;
  }

  void Journal(const Item& it, RouterEffects& out) {
    out.journal.push_back(JournalUpdate{it.rec.interaction_id, it.rec.state, it.rec.agent,
                                        it.rec.attempts, it.rec.updated});
  }

  // Every state change goes through here: counters, pending sets, journal, final items.
  void SetState(Item& it, TaskState state, absl::Time now, RouterEffects& out) {
    const TaskState old = it.rec.state;
    if (old == state)
      return;
    if (it.rec.channel == "email") {
      if (EmailWaiting(old))
        --email_live[it.rec.queue];
      if (EmailWaiting(state))
        ++email_live[it.rec.queue];
    }
    if (old == TaskState::kPending)
      PendingFor(it).erase({it.seq, it.rec.interaction_id});
    Count(it.rec.queue, old, -1);
    Count(it.rec.queue, state, +1);
    it.rec.state = state;
    it.rec.updated = now;
    if (state == TaskState::kPending)
      MakeReadyOrWait(it, now);
    Journal(it, out);
    OMNI_LOG(kDebug, "routing", it.rec.interaction_id, " ", TaskStateName(old), " -> ",
             TaskStateName(state), it.rec.agent.empty() ? "" : " agent ", it.rec.agent);
    if (IsFinal(state)) {
      OMNI_LOG(kInfo, "routing", it.rec.interaction_id, " (", it.rec.channel, ", ", it.rec.queue,
               ") ", TaskStateName(state));
      order.erase(it.seq);
      recent_final.push_front(it.rec);
      while (recent_final.size() > options.recent_final_kept)
        recent_final.pop_back();
      const std::string id = it.rec.interaction_id;
      items.erase(id);  // `it` dangles from here
    }
  }

  // A pending item is in its pending set only once it may be routed, so that Dispatch never walks
  // items that wait for a retry; those wait in `deadlines` and OnTimer brings them back.
  void MakeReadyOrWait(Item& it, absl::Time now) {
    if (it.not_before > now) {
      PendingFor(it).erase({it.seq, it.rec.interaction_id});
      deadlines.emplace(it.not_before, it.rec.interaction_id);
    } else {
      PendingFor(it).insert({it.seq, it.rec.interaction_id});
    }
  }

  void SetAgent(Item& it, std::string agent) { it.rec.agent = std::move(agent); }

  // A virtual call that ended, or never came up: route it again later, or give up.
  void Requeue(Item& it, absl::Time now, RouterEffects& out, bool count_against_max = true,
               absl::Duration delay = absl::InfiniteDuration()) {
    it.command_in_flight = false;
    it.confirm_by = absl::InfiniteFuture();
    it.leg_a.clear();
    if (count_against_max && it.rec.attempts >= options.max_attempts) {
      OMNI_LOG(kWarning, "routing", it.rec.interaction_id, " not routed after ", it.rec.attempts,
               " attempts");
      return SetState(it, TaskState::kFailed, now, out);
    }
    it.rec.agent.clear();
    if (delay == absl::InfiniteDuration())
      delay = count_against_max ? options.retry_delay : absl::ZeroDuration();
    it.not_before = now + delay;
    if (it.rec.state == TaskState::kPending)
      return MakeReadyOrWait(it, now);
    SetState(it, TaskState::kPending, now, out);
  }

  bool MayOriginate() const { return requests_in_flight < options.max_requests_in_flight; }

  void Originate(Item& it, absl::Time now, RouterEffects& out) {
    ++requests_in_flight;
    ++it.rec.attempts;
    it.command_in_flight = true;
    it.confirm_by = absl::InfiniteFuture();
    it.confirmed = true;
    cti::RouteTask task;
    task.task_id = it.rec.interaction_id;
    task.queue = it.rec.queue;
    task.channel = it.rec.channel;
    task.crm_url = it.rec.url;
    task.subject = it.rec.subject;
    task.customer = CustomerLine(it.rec.customer_name, it.rec.customer_address);
    task.offer_timeout_seconds = options.offer_timeout_seconds;
    SetState(it, TaskState::kOriginating, now, out);
    out.commands.push_back(RouterCommand{it.rec.interaction_id, std::move(task)});
  }

  void Dispatch(absl::Time now, RouterEffects& out) {
    if (!link_up || resyncing)
      return;
    for (auto pos = pending_now.begin(); pos != pending_now.end() && MayOriginate();) {
      auto found = items.find(pos->second);
      ++pos;  // Originate erases the current entry
      if (found == items.end())
        continue;
      Item& it = found->second;
      if (it.not_before > now)
        continue;
      Originate(it, now, out);
    }
    for (auto& [queue, set] : pending_email) {
      int& live = email_live[queue];
      for (auto pos = set.begin();
           pos != set.end() && live < options.email_live_max && MayOriginate();) {
        auto found = items.find(pos->second);
        ++pos;
        if (found == items.end())
          continue;
        Item& it = found->second;
        if (it.not_before > now)
          continue;
        Originate(it, now, out);
      }
    }
  }

  // The item a channel belongs to: its own legs are <id>-a / <id>-b; member legs share the
  // Linkedid <id>-a; OB_INTERACTION_ID is the fallback.
  Item* ItemOf(const cti::ChannelInfo& ch) {
    auto lookup = [&](std::string_view id) -> Item* {
      auto it = items.find(std::string(id));
      return it == items.end() ? nullptr : &it->second;
    };
    for (std::string_view id : {ch.uniqueid, ch.linkedid}) {
      if (EndsWith(id, "-a") || EndsWith(id, "-b")) {
        if (Item* it = lookup(id.substr(0, id.size() - 2)))
          return it;
      }
    }
    for (const auto& [name, value] : ch.vars) {
      if (name == "OB_INTERACTION_ID" && !value.empty())
        return lookup(value);
    }
    return nullptr;
  }

  bool IsOwnLeg(const Item& it, const cti::ChannelInfo& ch) {
    const std::string& id = it.rec.interaction_id;
    return ch.uniqueid.size() == id.size() + 2 && ch.uniqueid.starts_with(id) &&
           (EndsWith(ch.uniqueid, "-a") || EndsWith(ch.uniqueid, "-b"));
  }

  // The virtual call is live (seen in an event or a resync snapshot).
  void SeenLive(Item& it, absl::Time now, RouterEffects& out) {
    it.confirmed = true;
    if (it.rec.state == TaskState::kOriginating || it.rec.state == TaskState::kPending) {
      it.confirm_by = absl::InfiniteFuture();
      SetState(it, TaskState::kQueued, now, out);
    }
  }

  void CallEnded(Item& it, absl::Time now, RouterEffects& out) {
    if (!InFlight(it.rec.state))
      return;
    if (it.rec.state == TaskState::kAssigned)
      return SetState(it, TaskState::kCompleted, now, out);
    if (it.withdraw_requested)
      return SetState(it, TaskState::kWithdrawn, now, out);
    OMNI_LOG(kInfo, "routing", it.rec.interaction_id, " left the ACD unanswered; routing again");
    Requeue(it, now, out);
  }

  void RequestWithdraw(Item& it, RouterEffects& out) {
    out.commands.push_back(
        RouterCommand{it.rec.interaction_id, cti::WithdrawTask{it.rec.interaction_id, it.leg_a}});
  }

  void OnChannel(const cti::ChannelEvent& e, absl::Time now, RouterEffects& out) {
    Item* it = ItemOf(e.channel);
    if (it == nullptr)
      return;
    using Kind = cti::ChannelEvent::Kind;
    const bool own = IsOwnLeg(*it, e.channel);
    if (e.kind == Kind::kHangup) {
      if (own)
        CallEnded(*it, now, out);
      return;
    }
    if (own && e.channel.uniqueid.ends_with("-a") && !e.channel.channel.empty() &&
        it->leg_a.empty()) {
      it->leg_a = std::string(e.channel.channel);
      if (it->withdraw_requested)
        RequestWithdraw(*it, out);
    }
    SeenLive(*it, now, out);
  }

  void OnMemberCall(const cti::MemberCallEvent& e, absl::Time now, RouterEffects& out) {
    using Kind = cti::MemberCallEvent::Kind;
    Item* it = ItemOf(e.caller);
    if (it == nullptr)
      it = ItemOf(e.member);
    std::string agent(e.member_name.empty() ? e.interface : e.member_name);
    if (it == nullptr && e.kind == Kind::kCompleted) {
      // Quirk 12: AgentComplete without channel blocks. The assigned item of that agent in that
      // queue is the one.
      for (auto& [id, candidate] : items) {
        if (candidate.rec.state == TaskState::kAssigned && candidate.rec.queue == e.queue &&
            candidate.rec.agent == agent) {
          it = &candidate;
          break;
        }
      }
    }
    if (it == nullptr)
      return;
    it->confirmed = true;
    switch (e.kind) {
      case Kind::kOffered:
        if (it->rec.state == TaskState::kAssigned)
          return;
        SeenLive(*it, now, out);
        SetAgent(*it, agent);
        if (it->rec.state == TaskState::kOffered) {
          Journal(*it, out);  // another agent: a new offer
          return;
        }
        return SetState(*it, TaskState::kOffered, now, out);
      case Kind::kNoAnswer:
      case Kind::kDumped:
        if (it->rec.state != TaskState::kOffered)
          return;
        SetAgent(*it, "");
        return SetState(*it, TaskState::kQueued, now, out);
      case Kind::kConnected:
        SetAgent(*it, agent);
        if (it->rec.state == TaskState::kPending || it->rec.state == TaskState::kOriginating)
          SeenLive(*it, now, out);
        return SetState(*it, TaskState::kAssigned, now, out);
      case Kind::kCompleted:
        if (!agent.empty())
          SetAgent(*it, agent);
        return SetState(*it, TaskState::kCompleted, now, out);
    }
  }

  void OnQueueCaller(const cti::QueueCallerEvent& e, absl::Time now, RouterEffects& out) {
    Item* it = ItemOf(e.caller);
    if (it == nullptr)
      return;
    if (e.kind == cti::QueueCallerEvent::Kind::kJoined)
      SeenLive(*it, now, out);
  }

  void OnResync(const cti::ResyncEvent& e, absl::Time now, RouterEffects& out) {
    if (e.kind == cti::ResyncEvent::Kind::kBegin) {
      resyncing = true;
      for (auto& [id, it] : items) {
        if (InFlight(it.rec.state) && !it.command_in_flight)
          it.confirmed = false;
      }
      return;
    }
    resyncing = false;
    std::vector<std::string> lost;
    for (auto& [id, it] : items) {
      if (InFlight(it.rec.state) && !it.confirmed && !it.command_in_flight)
        lost.push_back(id);
    }
    for (const std::string& id : lost) {
      auto found = items.find(id);
      if (found == items.end())
        continue;
      Item& it = found->second;
      if (it.rec.state == TaskState::kAssigned || it.withdraw_requested) {
        CallEnded(it, now, out);
      } else {
        OMNI_LOG(kInfo, "routing", id, ": its virtual call is gone (", TaskStateName(it.rec.state),
                 "); routing again");
        Requeue(it, now, out, /*count_against_max=*/false);
      }
    }
  }
};

Router::Router(RouterOptions options, absl::Time) : impl_(std::make_unique<Impl>(options)) {}

Router::~Router() = default;

void Router::Restore(std::vector<TaskRecord> unfinished,
                     const std::map<std::string, QueueFigures>& finished_counts) {
  Impl& m = *impl_;
  for (const auto& [queue, f] : finished_counts) {
    QueueFigures& mine = m.figures[queue];
    mine.completed += f.completed;
    mine.withdrawn += f.withdrawn;
    mine.failed += f.failed;
  }
  std::sort(unfinished.begin(), unfinished.end(),
            [](const TaskRecord& a, const TaskRecord& b) { return a.created < b.created; });
  for (TaskRecord& rec : unfinished) {
    if (IsFinal(rec.state))
      continue;
    Impl::Item it;
    it.seq = m.next_seq++;
    // A routing request whose fate is unknown: the first resync decides.
    if (rec.state == TaskState::kOriginating)
      it.confirmed = false;
    it.rec = std::move(rec);
    const std::string id = it.rec.interaction_id;
    auto [pos, inserted] = m.items.emplace(id, std::move(it));
    if (!inserted)
      continue;
    Impl::Item& item = pos->second;
    m.Count(item.rec.queue, item.rec.state, +1);
    m.order.emplace(item.seq, id);
    if (item.rec.state == TaskState::kPending)
      m.PendingFor(item).insert({item.seq, id});
    if (item.rec.channel == "email" && EmailWaiting(item.rec.state))
      ++m.email_live[item.rec.queue];
  }
}

void Router::Admit(TaskRecord record, absl::Time now, RouterEffects& out) {
  Impl& m = *impl_;
  const std::string id = record.interaction_id;
  if (m.items.contains(id))
    return;
  Impl::Item it;
  it.seq = m.next_seq++;
  it.rec = std::move(record);
  it.rec.state = TaskState::kPending;
  it.not_before = now;
  Impl::Item& item = m.items.emplace(id, std::move(it)).first->second;
  m.Count(item.rec.queue, TaskState::kPending, +1);
  m.order.emplace(item.seq, id);
  m.PendingFor(item).insert({item.seq, id});
  m.Dispatch(now, out);
}

absl::Status Router::Close(std::string_view interaction_id, absl::Time now, RouterEffects& out) {
  Impl& m = *impl_;
  auto found = m.items.find(std::string(interaction_id));
  if (found == m.items.end())
    return absl::NotFoundError("no unfinished interaction with that id");
  Impl::Item& it = found->second;
  if (it.rec.state == TaskState::kPending) {
    m.SetState(it, TaskState::kWithdrawn, now, out);
  } else if (!it.withdraw_requested) {
    it.withdraw_requested = true;
    if (!it.command_in_flight || !it.leg_a.empty())
      m.RequestWithdraw(it, out);
  }
  m.Dispatch(now, out);
  return absl::OkStatus();
}

void Router::OnLinkStatus(const cti::LinkStatus& status, absl::Time now, RouterEffects& out) {
  Impl& m = *impl_;
  const bool up = status.state == cti::LinkState::kUp;
  if (up == m.link_up)
    return;
  m.link_up = up;
  OMNI_LOG(kInfo, "routing", "ACD link ", cti::LinkStateName(status.state),
           status.detail.empty() ? "" : ": ", status.detail);
  if (up)
    m.Dispatch(now, out);
}

void Router::OnEvent(const cti::CtiEvent& event, absl::Time now, RouterEffects& out) {
  Impl& m = *impl_;
  if (const auto* c = std::get_if<cti::ChannelEvent>(&event)) {
    m.OnChannel(*c, now, out);
  } else if (const auto* mc = std::get_if<cti::MemberCallEvent>(&event)) {
    m.OnMemberCall(*mc, now, out);
  } else if (const auto* q = std::get_if<cti::QueueCallerEvent>(&event)) {
    m.OnQueueCaller(*q, now, out);
  } else if (const auto* r = std::get_if<cti::ResyncEvent>(&event)) {
    m.OnResync(*r, now, out);
  } else {
    return;  // member states are the agents' business
  }
  m.Dispatch(now, out);
}

void Router::OnCommandDone(const RouterCommand& command, const absl::Status& status, absl::Time now,
                           RouterEffects& out) {
  Impl& m = *impl_;
  const bool route_task = std::holds_alternative<cti::RouteTask>(command.command);
  if (route_task && m.requests_in_flight > 0)
    --m.requests_in_flight;
  auto found = m.items.find(command.interaction_id);
  if (found == m.items.end()) {
    m.Dispatch(now, out);
    return;
  }
  Impl::Item& it = found->second;
  if (route_task) {
    it.command_in_flight = false;
    if (it.rec.state != TaskState::kOriginating)
      return m.Dispatch(now, out);  // already seen live (events beat the response), or withdrawn
    if (status.ok()) {
      it.confirm_by = now + m.options.confirm_timeout;
      m.deadlines.emplace(it.confirm_by, it.rec.interaction_id);
      return m.Dispatch(now, out);  // a request slot is free
    }
    OMNI_LOG(kWarning, "routing", "routing request for ", it.rec.interaction_id,
             " failed: ", status.message());
    const bool link_problem = absl::IsUnavailable(status) || absl::IsAborted(status) ||
                              absl::IsResourceExhausted(status) || absl::IsDeadlineExceeded(status);
    if (it.withdraw_requested) {
      m.SetState(it, TaskState::kWithdrawn, now, out);
    } else {
      // A full send queue or a slow platform: back off a little rather than spin.
      m.Requeue(it, now, out, /*count_against_max=*/!link_problem,
                link_problem && !absl::IsUnavailable(status) && !absl::IsAborted(status)
                    ? absl::Milliseconds(200)
                    : absl::InfiniteDuration());
    }
  } else if (std::holds_alternative<cti::WithdrawTask>(command.command)) {
    if (absl::IsNotFound(status) && !it.command_in_flight && it.leg_a.empty() &&
        it.rec.state != TaskState::kOriginating) {
      m.CallEnded(it, now, out);  // nothing to hang up: it is gone already
    }
  }
  m.Dispatch(now, out);
}

void Router::OnTimer(absl::Time now, RouterEffects& out) {
  Impl& m = *impl_;
  while (!m.deadlines.empty() && m.deadlines.begin()->first <= now) {
    const std::string id = m.deadlines.begin()->second;
    m.deadlines.erase(m.deadlines.begin());
    auto found = m.items.find(id);
    if (found == m.items.end())
      continue;
    Impl::Item& it = found->second;
    if (it.rec.state == TaskState::kPending && it.not_before <= now) {
      m.PendingFor(it).insert({it.seq, id});
    } else if (it.rec.state == TaskState::kOriginating && !it.command_in_flight &&
               it.confirm_by <= now) {
      OMNI_LOG(kWarning, "routing", "virtual call of ", id, " never showed up; routing again");
      m.Requeue(it, now, out);
    }
  }
  m.Dispatch(now, out);
}

absl::Time Router::NextDeadline() const {
  return impl_->deadlines.empty() ? absl::InfiniteFuture() : impl_->deadlines.begin()->first;
}

bool Router::link_up() const { return impl_->link_up; }

const TaskRecord* Router::Find(std::string_view interaction_id) const {
  auto found = impl_->items.find(std::string(interaction_id));
  if (found != impl_->items.end())
    return &found->second.rec;
  for (const TaskRecord& r : impl_->recent_final) {
    if (r.interaction_id == interaction_id)
      return &r;
  }
  return nullptr;
}

std::map<std::string, QueueFigures> Router::Figures() const { return impl_->figures; }

std::vector<TaskRecord> Router::Items(size_t max) const {
  std::vector<TaskRecord> out;
  for (const auto& [seq, id] : impl_->order) {
    if (out.size() >= max)
      return out;
    auto found = impl_->items.find(id);
    if (found != impl_->items.end())
      out.push_back(found->second.rec);
  }
  for (const TaskRecord& r : impl_->recent_final) {
    if (out.size() >= max)
      break;
    out.push_back(r);
  }
  return out;
}

size_t Router::unfinished_count() const { return impl_->items.size(); }

}  // namespace omnibridge::routing
