#include "pbx.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "boost/json.hpp"

#include "base/log.h"
#include <regex.h>

namespace omnibridge::pbxsim {
namespace {

constexpr char kLog[] = "pbx";

absl::string_view StateDesc(int state) {
  static constexpr absl::string_view kDesc[] = {
      "Down", "Rsrvd", "OffHook",         "Dialing",  "Ring",   "Ringing",
      "Up",   "Busy",  "Dialing Offhook", "Pre-ring", "Unknown"};
  if (state < 0 || state > 10)
    return "Unknown";
  return kDesc[state];
}

absl::string_view CauseText(int cause) {
  switch (cause) {
    case 16:
      return "Normal Clearing";
    case 17:
      return "User busy";
    case 18:
      return "No user responding";
    case 19:
      return "User alerting, no answer";
    case 21:
      return "Call Rejected";
    case 26:
      return "Answered elsewhere";
    case 34:
      return "Circuit/channel congestion";
    default:
      return "Unknown";
  }
}

std::string FormatTimestamp(absl::Time t) {
  int64_t micros = absl::ToUnixMicros(t);
  return absl::StrFormat("%d.%06d", micros / 1'000'000, micros % 1'000'000);
}

int Seconds(absl::Duration d) { return static_cast<int>(absl::ToInt64Seconds(d)); }

struct LocalTarget {
  std::string exten;
  std::string context;
};

// "Local/<exten>@<context>[/options]" -> exten and context.
std::optional<LocalTarget> ParseLocal(absl::string_view channel) {
  if (!absl::StartsWithIgnoreCase(channel, "Local/"))
    return std::nullopt;
  absl::string_view rest = channel.substr(6);
  size_t slash = rest.find('/');
  if (slash != absl::string_view::npos)
    rest = rest.substr(0, slash);
  size_t at = rest.find('@');
  if (at == absl::string_view::npos || at == 0 || at + 1 == rest.size())
    return std::nullopt;
  return LocalTarget{std::string(rest.substr(0, at)), std::string(rest.substr(at + 1))};
}

// The Custom device that the reference dialplan ([agents], [omnibridge-task] -> [agent-ring])
// drives for a member leg; other contexts get a device named after the Local interface.
std::string MemberDevice(const LocalTarget& target) {
  if (target.context == "agents")
    return absl::StrCat("Custom:phone-", target.exten);
  if (target.context == "omnibridge-task")
    return absl::StrCat("Custom:digital-", target.exten);
  return absl::StrCat("Local/", target.exten, "@", target.context);
}

bool IsPhoneNumber(absl::string_view s) {
  if (s.empty())
    return false;
  bool digit = false;
  for (char c : s) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digit = true;
    } else if (absl::string_view("+*#-(). ").find(c) == absl::string_view::npos) {
      return false;
    }
  }
  return digit;
}

// ast_shrink_phone_number(): drops ( ) - . and blanks, keeps a leading '+'.
std::string ShrinkNumber(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '(' || c == ')' || c == '-' || c == '.' || c == ' ' || c == '\t')
      continue;
    if (c == '+' && !out.empty())
      continue;
    out.push_back(c);
  }
  return out;
}

// ast_callerid_parse() + the shrinking Originate applies (quirk 9).
void ParseCallerId(absl::string_view text, std::string* num, std::string* name) {
  num->clear();
  name->clear();
  text = absl::StripAsciiWhitespace(text);
  size_t lt = text.rfind('<');
  size_t gt = text.rfind('>');
  if (lt != absl::string_view::npos && gt != absl::string_view::npos && gt > lt) {
    *num = ShrinkNumber(text.substr(lt + 1, gt - lt - 1));
    absl::string_view n = absl::StripAsciiWhitespace(text.substr(0, lt));
    if (n.size() >= 2 && n.front() == '"' && n.back() == '"')
      n = n.substr(1, n.size() - 2);
    *name = std::string(n);
  } else if (IsPhoneNumber(text)) {
    *num = ShrinkNumber(text);
  } else {
    absl::string_view n = text;
    if (n.size() >= 2 && n.front() == '"' && n.back() == '"')
      n = n.substr(1, n.size() - 2);
    *name = std::string(n);
  }
}

std::string PercentEncode(absl::string_view in) {
  std::string out;
  for (unsigned char c : in) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

std::string Duration(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  return absl::StrFormat("%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
}

absl::string_view RoleName(int role) {
  static constexpr absl::string_view kNames[] = {"customer", "queueCaller", "memberOne",
                                                 "memberTwo"};
  return kNames[role];
}

AmiMessage ListStart(const AmiMessage& action, absl::string_view message) {
  AmiMessage m = MakeResponse(action, "Success");
  m.Add("EventList", "start");
  m.Add("Message", message);
  return m;
}

AmiMessage ListComplete(const AmiMessage& action, absl::string_view event, size_t items) {
  AmiMessage m;
  m.Add("Event", event);
  if (auto id = action.Find("ActionID"); id && !id->empty())
    m.Add("ActionID", *id);
  m.Add("EventList", "Complete");
  m.Add("ListItems", absl::StrCat(items));
  return m;
}

void AddActionId(AmiMessage* m, const AmiMessage& action) {
  if (auto id = action.Find("ActionID"); id && !id->empty())
    m->Add("ActionID", *id);
}

}  // namespace

absl::string_view DeviceStateName(int state) {
  static constexpr absl::string_view kNames[] = {"UNKNOWN", "NOT_INUSE", "INUSE",
                                                 "BUSY",    "INVALID",   "UNAVAILABLE",
                                                 "RINGING", "RINGINUSE", "ONHOLD"};
  if (state < 0 || state > 8)
    return "UNKNOWN";
  return kNames[state];
}

Pbx::Pbx(SimConfig config, const base::Clock* clock, Scheduler* scheduler, EventSink* sink,
         QueueLog* queue_log)
    : config_(std::move(config)),
      clock_(clock),
      scheduler_(scheduler),
      sink_(sink),
      queue_log_(queue_log),
      start_time_(clock->Now()),
      rng_(std::random_device{}()) {
  InitQueues();
}

Pbx::~Pbx() {
  for (auto& [id, call] : calls_) {
    scheduler_->Cancel(call.retry_timer);
    scheduler_->Cancel(call.duration_timer);
    for (Attempt& a : call.ringing) {
      scheduler_->Cancel(a.timeout_timer);
      scheduler_->Cancel(a.answer_timer);
    }
  }
  scheduler_->Cancel(kick_timer_);
}

void Pbx::InitQueues() {
  queues_.clear();
  int64_t login = absl::ToUnixSeconds(start_time_);
  for (const QueueConfig& qc : config_.queues) {
    Queue q;
    q.cfg = qc;
    for (const MemberConfig& mc : qc.members) {
      Member m;
      m.cfg = mc;
      m.login_time = login;
      q.members.push_back(std::move(m));
    }
    queues_.push_back(std::move(q));
  }
}

bool Pbx::HandlesAction(absl::string_view a) {
  for (absl::string_view name :
       {"Originate", "Hangup", "Redirect", "QueuePause", "QueueAdd", "QueueRemove", "QueueStatus",
        "QueueSummary", "CoreShowChannels", "Status", "Setvar", "Getvar", "DBPut", "DBGet", "DBDel",
        "BlindTransfer", "Command"}) {
    if (absl::EqualsIgnoreCase(a, name))
      return true;
  }
  return false;
}

bool Pbx::IsQueueAction(absl::string_view a) {
  for (absl::string_view name :
       {"QueuePause", "QueueAdd", "QueueRemove", "QueueStatus", "QueueSummary", "QueueLog",
        "QueuePenalty", "QueueMemberRingInUse", "QueueReload", "QueueReset", "QueueRule",
        "QueueChangePriorityCaller", "QueueWithdrawCaller"}) {
    if (absl::EqualsIgnoreCase(a, name))
      return true;
  }
  return false;
}

std::vector<AmiMessage> Pbx::HandleAction(const AmiMessage& a) {
  std::string name = absl::AsciiStrToLower(a.Get("Action"));
  if (name == "originate")
    return ActionOriginate(a);
  if (name == "hangup")
    return ActionHangup(a);
  if (name == "redirect")
    return ActionRedirect(a);
  if (name == "queuepause")
    return ActionQueuePause(a);
  if (name == "queueadd")
    return ActionQueueAdd(a);
  if (name == "queueremove")
    return ActionQueueRemove(a);
  if (name == "queuestatus")
    return ActionQueueStatus(a);
  if (name == "queuesummary")
    return ActionQueueSummary(a);
  if (name == "coreshowchannels")
    return ActionCoreShowChannels(a);
  if (name == "status")
    return ActionStatus(a);
  if (name == "setvar")
    return ActionSetvar(a);
  if (name == "getvar")
    return ActionGetvar(a);
  if (name == "dbput" || name == "dbget" || name == "dbdel")
    return ActionDb(a, name);
  if (name == "blindtransfer")
    return ActionBlindTransfer(a);
  if (name == "command")
    return ActionCommand(a);
  return {MakeResponse(a, "Error", "Invalid/unknown command")};
}

// ---------------------------------------------------------------------------------- events

AmiMessage Pbx::NewEvent(absl::string_view name, absl::string_view event_class) const {
  AmiMessage m;
  m.Add("Event", name);
  m.Add("Privilege", absl::StrCat(event_class, ",all"));
  if (config_.timestampevents)
    m.Add("Timestamp", FormatTimestamp(clock_->Now()));
  return m;
}

void Pbx::AddSnapshot(AmiMessage* m, const Channel& ch, absl::string_view prefix) const {
  auto add = [&](absl::string_view key, absl::string_view value) {
    m->Add(absl::StrCat(prefix, key), value);
  };
  add("Channel", ch.name);
  add("ChannelState", absl::StrCat(ch.state));
  add("ChannelStateDesc", StateDesc(ch.state));
  add("CallerIDNum", ch.cid_num);
  add("CallerIDName", ch.cid_name);
  add("ConnectedLineNum", ch.conn_num);
  add("ConnectedLineName", ch.conn_name);
  add("Language", "en");
  add("AccountCode", ch.accountcode);
  add("Context", ch.context);
  add("Exten", ch.exten);
  add("Priority", absl::StrCat(ch.priority));
  add("Uniqueid", ch.uniqueid);
  add("Linkedid", ch.linkedid);
  for (const std::string& var : config_.channelvars) {
    add("ChanVariable", absl::StrCat(var, "=", GetVar(ch, var)));
  }
}

void Pbx::AddMemberBlock(AmiMessage* m, const Queue& q, const Member& mem) const {
  m->Add("Queue", q.cfg.name);
  m->Add("MemberName", mem.cfg.membername);
  m->Add("Interface", mem.cfg.interface);
  m->Add("StateInterface", mem.cfg.state_interface);
  m->Add("Membership", mem.dynamic ? "dynamic" : "static");
  m->Add("Penalty", absl::StrCat(mem.cfg.penalty));
  m->Add("CallsTaken", absl::StrCat(mem.calls_taken));
  m->Add("LastCall", absl::StrCat(mem.last_call));
  m->Add("LastPause", absl::StrCat(mem.last_pause));
  m->Add("LoginTime", absl::StrCat(mem.login_time));
  m->Add("InCall", mem.in_call ? "1" : "0");
  m->Add("Status", absl::StrCat(MemberStatus(mem)));
  m->Add("Paused", mem.paused ? "1" : "0");
  m->Add("PausedReason", mem.paused_reason);
  m->Add("Ringinuse", q.cfg.ringinuse ? "1" : "0");
  m->Add("Wrapuptime", absl::StrCat(q.cfg.wrapuptime_seconds));
}

void Pbx::Publish(const AmiMessage& m, absl::string_view event_class) {
  if (sink_ != nullptr)
    sink_->Publish(m, event_class);
}

void Pbx::ChannelEvent(absl::string_view name, const Channel& ch) {
  AmiMessage m = NewEvent(name, "call");
  AddSnapshot(&m, ch, "");
  Publish(m, "call");
}

void Pbx::TwoChannelEvent(absl::string_view name, const Channel* ch, const Channel& dest,
                          std::vector<std::pair<std::string, std::string>> extra) {
  AmiMessage m = NewEvent(name, "call");
  if (ch != nullptr)
    AddSnapshot(&m, *ch, "");
  AddSnapshot(&m, dest, "Dest");
  for (auto& [k, v] : extra)
    m.Add(k, v);
  Publish(m, "call");
}

void Pbx::QueueEvent(absl::string_view name, const Call& call, const Attempt& attempt,
                     std::vector<std::pair<std::string, std::string>> extra, bool bare) {
  AmiMessage m = NewEvent(name, "agent");
  if (!bare) {
    if (const Channel* caller = FindChannel(call.caller))
      AddSnapshot(&m, *caller, "");
    if (const Channel* dest = FindChannel(attempt.one))
      AddSnapshot(&m, *dest, "Dest");
  }
  m.Add("Queue", call.queue);
  m.Add("Interface", attempt.interface);
  std::string membername = attempt.interface;
  if (Queue* q = FindQueue(call.queue)) {
    if (Member* mem = FindMember(*q, attempt.interface))
      membername = mem->cfg.membername;
  }
  m.Add("MemberName", membername);
  for (auto& [k, v] : extra)
    m.Add(k, v);
  Publish(m, "agent");
}

void Pbx::LogQueue(absl::string_view callid, absl::string_view queue, absl::string_view agent,
                   absl::string_view event, std::vector<std::string> data) {
  if (queue_log_ != nullptr)
    queue_log_->Write(clock_->Now(), callid, queue, agent, event, data);
}

// -------------------------------------------------------------------------------- channels

Pbx::Channel* Pbx::FindChannel(absl::string_view name) {
  auto it = channels_.find(std::string(name));
  return it == channels_.end() ? nullptr : it->second.get();
}

const Pbx::Channel* Pbx::FindChannel(absl::string_view name) const {
  auto it = channels_.find(std::string(name));
  return it == channels_.end() ? nullptr : it->second.get();
}

Pbx::Channel* Pbx::FindByUniqueid(absl::string_view uniqueid) {
  for (auto& [name, ch] : channels_) {
    if (ch->uniqueid == uniqueid)
      return ch.get();
  }
  return nullptr;
}

Pbx::Channel& Pbx::CreateChannel(std::string name, std::string uniqueid, std::string linkedid,
                                 int state, std::string context, std::string exten, Role role) {
  auto ch = std::make_unique<Channel>();
  ch->name = std::move(name);
  ch->uniqueid = std::move(uniqueid);
  ch->linkedid = std::move(linkedid);
  ch->state = state;
  ch->context = std::move(context);
  ch->exten = std::move(exten);
  ch->role = role;
  ch->created = clock_->Now();
  Channel& ref = *ch;
  channels_[ref.name] = std::move(ch);
  return ref;
}

void Pbx::SetState(Channel& ch, int state) {
  ch.state = state;
  ChannelEvent("Newstate", ch);
}

void Pbx::SetVar(Channel& ch, absl::string_view raw_name, absl::string_view value, bool event) {
  absl::string_view name = raw_name;
  bool inherit = false;
  while (absl::ConsumePrefix(&name, "_"))
    inherit = true;
  bool found = false;
  for (auto& [k, v] : ch.vars) {
    if (k == name) {
      v = std::string(value);
      found = true;
    }
  }
  if (!found)
    ch.vars.emplace_back(std::string(name), std::string(value));
  if (inherit)
    ch.inheritable.insert(std::string(name));
  if (event) {
    AmiMessage m = NewEvent("VarSet", "dialplan");
    AddSnapshot(&m, ch, "");
    m.Add("Variable", raw_name);
    m.Add("Value", value);
    Publish(m, "dialplan");
  }
}

std::string Pbx::GetVar(const Channel& ch, absl::string_view name) const {
  for (const auto& [k, v] : ch.vars) {
    if (k == name)
      return v;
  }
  return "";
}

void Pbx::HangupChannel(absl::string_view name, int cause) {
  Channel* ch = FindChannel(name);
  if (ch == nullptr)
    return;
  AmiMessage m = NewEvent("Hangup", "call");
  AddSnapshot(&m, *ch, "");
  m.Add("Cause", absl::StrCat(cause));
  m.Add("Cause-txt", CauseText(cause));
  Publish(m, "call");
  channels_.erase(std::string(name));
}

std::string Pbx::NextUniqueid() {
  return absl::StrCat(absl::ToUnixSeconds(clock_->Now()), ".", uniqueid_counter_++);
}

std::string Pbx::NextLocalSuffix() { return absl::StrFormat("%08x", local_counter_++); }

std::string Pbx::NewBridgeId() {
  uint64_t a = rng_(), b = rng_();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                         b >> 48, b & 0xffffffffffffULL);
}

// ---------------------------------------------------------------------- devices and members

int Pbx::DeviceStateOf(absl::string_view device) const {
  if (absl::StartsWith(device, "hint:")) {
    auto it = config_.hints.find(std::string(device.substr(5)));
    if (it == config_.hints.end())
      return kDevInvalid;
    bool ring = false, inuse = false, busy = false, hold = false;
    for (absl::string_view part : absl::StrSplit(it->second, '&', absl::SkipEmpty())) {
      switch (DeviceStateOf(absl::StripAsciiWhitespace(part))) {
        case kDevRinging:
          ring = true;
          break;
        case kDevInUse:
          inuse = true;
          break;
        case kDevBusy:
          busy = true;
          break;
        case kDevOnHold:
          hold = true;
          break;
        case kDevRingInUse:
          ring = inuse = true;
          break;
        default:
          break;
      }
    }
    if (ring && (inuse || busy || hold))
      return kDevRingInUse;
    if (ring)
      return kDevRinging;
    if (inuse)
      return kDevInUse;
    if (hold)
      return kDevOnHold;
    if (busy)
      return kDevBusy;
    return kDevNotInUse;
  }
  std::string key(device);
  if (absl::StartsWithIgnoreCase(key, "Local/")) {
    if (auto target = ParseLocal(key))
      key = MemberDevice(*target);
  }
  auto it = devices_.find(key);
  return it == devices_.end() ? kDevNotInUse : it->second;
}

int Pbx::MemberStatus(const Member& mem) const { return DeviceStateOf(mem.cfg.state_interface); }

std::vector<int> Pbx::SnapshotStatuses() const {
  std::vector<int> out;
  for (const Queue& q : queues_) {
    for (const Member& m : q.members)
      out.push_back(MemberStatus(m));
  }
  return out;
}

void Pbx::PublishMemberStatusChanges(const std::vector<int>& before) {
  size_t i = 0;
  for (const Queue& q : queues_) {
    for (const Member& mem : q.members) {
      int now = MemberStatus(mem);
      if (i < before.size() && before[i] != now) {
        // One event per queue the state interface belongs to (quirk 2).
        AmiMessage m = NewEvent("QueueMemberStatus", "agent");
        AddMemberBlock(&m, q, mem);
        Publish(m, "agent");
      }
      ++i;
    }
  }
}

void Pbx::SetDevice(const std::string& device, int state) {
  std::vector<int> before = SnapshotStatuses();
  int old = DeviceStateOf(device);
  devices_[device] = state;
  if (old != state) {
    AmiMessage m = NewEvent("DeviceStateChange", "call");
    m.Add("Device", device);
    m.Add("State", DeviceStateName(state));
    Publish(m, "call");
  }
  PublishMemberStatusChanges(before);
  ScheduleKick();
}

Pbx::Queue* Pbx::FindQueue(absl::string_view name) {
  for (Queue& q : queues_) {
    if (q.cfg.name == name)
      return &q;
  }
  return nullptr;
}

Pbx::Member* Pbx::FindMember(Queue& q, absl::string_view interface) {
  for (Member& m : q.members) {
    if (absl::EqualsIgnoreCase(m.cfg.interface, interface))
      return &m;
  }
  return nullptr;
}

bool Pbx::MemberAvailable(const Queue& q, const Member& mem, const Call& call) const {
  if (mem.paused)
    return false;
  if (call.tried.count(mem.cfg.interface) > 0)
    return false;
  // One offer per member interface at a time, whatever its state interface says.
  for (const auto& [id, other] : calls_) {
    for (const Attempt& a : other.ringing) {
      if (a.interface == mem.cfg.interface)
        return false;
    }
    if (other.agent && other.agent->interface == mem.cfg.interface)
      return false;
  }
  int status = MemberStatus(mem);
  if (status == kDevInvalid || status == kDevUnavailable)
    return false;
  if (!q.cfg.ringinuse && status != kDevNotInUse && status != kDevUnknown)
    return false;
  if (q.cfg.wrapuptime_seconds > 0 && mem.last_call > 0 &&
      absl::ToUnixSeconds(clock_->Now()) - mem.last_call < q.cfg.wrapuptime_seconds) {
    return false;
  }
  return true;
}

std::string Pbx::AgentOfInterface(absl::string_view interface) const {
  auto target = ParseLocal(interface);
  return target ? target->exten : std::string(interface);
}

// ---------------------------------------------------------------------------------- the ACD

Pbx::Call* Pbx::FindCall(int id) {
  auto it = calls_.find(id);
  return it == calls_.end() ? nullptr : &it->second;
}

void Pbx::ScheduleKick() {
  if (kick_pending_)
    return;
  kick_pending_ = true;
  kick_timer_ = scheduler_->After(absl::ZeroDuration(), [this] {
    kick_pending_ = false;
    kick_timer_ = 0;
    Kick();
  });
}

void Pbx::Kick() {
  for (size_t qi = 0; qi < queues_.size(); ++qi) {
    std::vector<int> callers = queues_[qi].callers;
    for (int id : callers) {
      Call* call = FindCall(id);
      if (call != nullptr && call->waiting && call->ringing.empty() && call->retry_timer == 0) {
        TryOffer(*call);
      }
    }
  }
}

void Pbx::TryOffer(Call& call) {
  Queue* q = FindQueue(call.queue);
  if (q == nullptr || !call.waiting || !call.ringing.empty())
    return;
  std::vector<size_t> avail;
  for (size_t i = 0; i < q->members.size(); ++i) {
    if (MemberAvailable(*q, q->members[i], call))
      avail.push_back(i);
  }
  if (avail.empty()) {
    if (!call.tried.empty() && call.retry_timer == 0) {
      // The round is over: like app_queue, wait `retry` seconds and start a new one.
      int id = call.id;
      call.retry_timer = scheduler_->After(absl::Seconds(q->cfg.retry_seconds), [this, id] {
        Call* c = FindCall(id);
        if (c == nullptr)
          return;
        c->retry_timer = 0;
        c->tried.clear();
        TryOffer(*c);
      });
    }
    return;
  }
  switch (q->cfg.strategy) {
    case Strategy::kRingAll:
      for (size_t i : avail)
        RingMember(call, *q, q->members[i]);
      break;
    case Strategy::kRrMemory: {
      size_t n = q->members.size();
      size_t pick = avail.front();
      for (size_t k = 0; k < n; ++k) {
        size_t idx = (q->rr_next + k) % n;
        if (std::find(avail.begin(), avail.end(), idx) != avail.end()) {
          pick = idx;
          break;
        }
      }
      q->rr_next = pick + 1;
      RingMember(call, *q, q->members[pick]);
      break;
    }
    case Strategy::kLeastRecent: {
      size_t pick = avail.front();
      for (size_t i : avail) {
        if (q->members[i].last_call < q->members[pick].last_call)
          pick = i;
      }
      RingMember(call, *q, q->members[pick]);
      break;
    }
  }
}

void Pbx::RingMember(Call& call, Queue& q, Member& mem) {
  Channel* caller = FindChannel(call.caller);
  auto target = ParseLocal(mem.cfg.interface);
  if (caller == nullptr || !target)
    return;
  std::string base =
      absl::StrCat("Local/", target->exten, "@", target->context, "-", NextLocalSuffix());
  Channel& one = CreateChannel(base + ";1", NextUniqueid(), caller->linkedid, 0, target->context,
                               target->exten, Role::kMemberOne);
  Channel& two = CreateChannel(base + ";2", NextUniqueid(), caller->linkedid, 4, target->context,
                               target->exten, Role::kMemberTwo);
  one.peer = two.name;
  two.peer = one.name;
  one.call_id = two.call_id = call.id;
  one.device = two.device = MemberDevice(*target);
  one.application = "AppDial2";
  one.app_data = "(Outgoing Line)";
  ChannelEvent("Newchannel", one);
  ChannelEvent("Newchannel", two);
  // app_queue copies the caller's inheritable variables to the member channel, and Local copies
  // them on to ;2.
  for (const auto& [k, v] : caller->vars) {
    if (caller->inheritable.count(k) == 0)
      continue;
    for (Channel* leg : {&one, &two}) {
      leg->vars.emplace_back(k, v);
      leg->inheritable.insert(k);
    }
  }
  for (Channel* leg : {&one, &two}) {
    leg->cid_num = leg->conn_num = caller->cid_num;
    leg->cid_name = leg->conn_name = caller->cid_name;
  }
  one.exten = caller->exten;  // quirk 8: DestExten is the caller's extension
  two.context = "agent-ring";
  two.exten = "s";
  two.priority = 8;
  two.application = "Wait";
  two.app_data = "86400";

  Attempt att;
  att.interface = mem.cfg.interface;
  att.one = one.name;
  att.two = two.name;
  att.started = clock_->Now();
  QueueEvent("AgentCalled", call, att, {});
  TwoChannelEvent("DialBegin", caller, one, {{"DialString", mem.cfg.interface}});
  SetState(one, 5);

  int id = call.id;
  std::string iface = mem.cfg.interface;
  att.timeout_timer = scheduler_->After(absl::Seconds(q.cfg.timeout_seconds), [this, id, iface] {
    if (Call* c = FindCall(id)) {
      for (Attempt& a : c->ringing) {
        if (a.interface == iface)
          a.timeout_timer = 0;
      }
    }
    RingNoAnswer(id, iface, /*timeout=*/true, 16);
  });
  std::optional<int> answer_after = call.answer_after;
  if (!answer_after) {
    auto it = db_.find(absl::StrCat("ob-autoanswer/", target->exten));
    int seconds = 0;
    if (it != db_.end() && absl::SimpleAtoi(it->second, &seconds) && seconds >= 0) {
      answer_after = seconds;
    }
  }
  if (answer_after) {
    att.answer_timer = scheduler_->After(absl::Seconds(*answer_after), [this, id, iface] {
      if (Call* c = FindCall(id)) {
        for (Attempt& a : c->ringing) {
          if (a.interface == iface)
            a.answer_timer = 0;
        }
      }
      AnswerAttempt(id, iface);
    });
  }
  call.ringing.push_back(att);
  SetDevice(one.device, kDevRinging);
}

void Pbx::AnswerAttempt(int call_id, const std::string& interface) {
  Call* call = FindCall(call_id);
  if (call == nullptr || !call->waiting)
    return;
  auto it = std::find_if(call->ringing.begin(), call->ringing.end(),
                         [&](const Attempt& a) { return a.interface == interface; });
  if (it == call->ringing.end())
    return;
  Attempt att = *it;
  call->ringing.erase(it);
  scheduler_->Cancel(att.timeout_timer);
  scheduler_->Cancel(att.answer_timer);
  Channel* caller = FindChannel(call->caller);
  Channel* one = FindChannel(att.one);
  Channel* two = FindChannel(att.two);
  Queue* q = FindQueue(call->queue);
  if (caller == nullptr || one == nullptr || two == nullptr || q == nullptr)
    return;

  // [agent-answer]: the device goes INUSE, then Answer().
  SetDevice(one->device, kDevInUse);
  two->context = "agent-answer";
  two->exten = AgentOfInterface(interface);
  two->priority = 3;
  SetState(*two, 6);
  SetState(*one, 6);
  TwoChannelEvent("DialEnd", caller, *one, {{"DialStatus", "ANSWER"}});

  // Ringall losers: two DialEnd CANCEL and Hangup cause 26 (quirk 4).
  std::vector<Attempt> losers = std::move(call->ringing);
  call->ringing.clear();
  for (Attempt& l : losers) {
    scheduler_->Cancel(l.timeout_timer);
    scheduler_->Cancel(l.answer_timer);
    Channel* l1 = FindChannel(l.one);
    if (l1 == nullptr)
      continue;
    std::string device = l1->device;
    TwoChannelEvent("DialEnd", caller, *l1, {{"DialStatus", "CANCEL"}});
    TwoChannelEvent("DialEnd", caller, *l1, {{"DialStatus", "CANCEL"}});
    HangupChannel(l.one, 26);
    SetDevice(device, kDevNotInUse);
    HangupChannel(l.two, 26);
  }

  if (call->moh) {
    ChannelEvent("MusicOnHoldStop", *caller);
    call->moh = false;
  }
  auto pos_it = std::find(q->callers.begin(), q->callers.end(), call->id);
  int position = static_cast<int>(pos_it - q->callers.begin()) + 1;
  if (pos_it != q->callers.end())
    q->callers.erase(pos_it);
  AmiMessage leave = NewEvent("QueueCallerLeave", "agent");
  AddSnapshot(&leave, *caller, "");
  leave.Add("Queue", q->cfg.name);
  leave.Add("Position", absl::StrCat(position));
  leave.Add("Count", absl::StrCat(q->callers.size()));
  Publish(leave, "agent");

  call->waiting = false;
  call->connected = clock_->Now();
  int hold = Seconds(call->connected - call->joined);
  int ring = Seconds(call->connected - att.started);
  QueueEvent("AgentConnect", *call, att,
             {{"HoldTime", absl::StrCat(hold)}, {"RingTime", absl::StrCat(ring)}});
  Member* mem = FindMember(*q, interface);
  LogQueue(caller->uniqueid, q->cfg.name, mem ? mem->cfg.membername : interface, "CONNECT",
           {absl::StrCat(hold), one->uniqueid, absl::StrCat(ring)});
  if (mem != nullptr)
    mem->in_call = true;

  call->bridge = NewBridgeId();
  auto bridge_event = [&](absl::string_view name, int count, const Channel* ch) {
    AmiMessage m = NewEvent(name, "call");
    m.Add("BridgeUniqueid", call->bridge);
    m.Add("BridgeType", "basic");
    m.Add("BridgeTechnology", "simple_bridge");
    m.Add("BridgeCreator", "<unknown>");
    m.Add("BridgeName", "<unknown>");
    m.Add("BridgeNumChannels", absl::StrCat(count));
    m.Add("BridgeVideoSourceMode", "none");
    if (ch != nullptr)
      AddSnapshot(&m, *ch, "");
    Publish(m, "call");
  };
  bridge_event("BridgeCreate", 0, nullptr);
  one->bridge = call->bridge;
  bridge_event("BridgeEnter", 1, one);
  caller->bridge = call->bridge;
  bridge_event("BridgeEnter", 2, caller);
  call->agent = att;

  if (call->duration) {
    call->duration_timer = scheduler_->After(absl::Seconds(*call->duration), [this, call_id] {
      Call* c = FindCall(call_id);
      if (c == nullptr)
        return;
      c->duration_timer = 0;
      CustomerHangup(call_id, c->customer, 16);
    });
  }
  ScheduleKick();
}

void Pbx::RingNoAnswer(int call_id, const std::string& interface, bool timeout, int cause) {
  Call* call = FindCall(call_id);
  if (call == nullptr)
    return;
  auto it = std::find_if(call->ringing.begin(), call->ringing.end(),
                         [&](const Attempt& a) { return a.interface == interface; });
  if (it == call->ringing.end())
    return;
  Attempt att = *it;
  call->ringing.erase(it);
  scheduler_->Cancel(att.timeout_timer);
  scheduler_->Cancel(att.answer_timer);
  Channel* caller = FindChannel(call->caller);
  Channel* one = FindChannel(att.one);
  Queue* q = FindQueue(call->queue);
  if (caller == nullptr || one == nullptr || q == nullptr)
    return;
  std::string device = one->device;
  int ring_ms = static_cast<int>(absl::ToInt64Milliseconds(clock_->Now() - att.started));
  auto no_answer = [&] {
    if (Channel* o = FindChannel(att.one)) {
      TwoChannelEvent("DialEnd", caller, *o, {{"DialStatus", "NOANSWER"}});
    }
    QueueEvent("AgentRingNoAnswer", *call, att, {{"RingTime", absl::StrCat(ring_ms)}});
  };
  if (timeout) {
    no_answer();
    HangupChannel(att.one, 16);
    SetDevice(device, kDevNotInUse);
    HangupChannel(att.two, 16);
  } else {
    // A decline is a hangup of the member leg (quirk 5): its hangup handler frees the device.
    SetDevice(device, kDevNotInUse);
    HangupChannel(att.two, cause);
    no_answer();
    HangupChannel(att.one, 0);
  }
  Member* mem = FindMember(*q, interface);
  LogQueue(caller->uniqueid, q->cfg.name, mem ? mem->cfg.membername : interface, "RINGNOANSWER",
           {absl::StrCat(ring_ms)});
  call->tried.insert(interface);
  if (call->ringing.empty())
    TryOffer(*call);  // the next member is offered at once
}

void Pbx::CompleteMemberStats(Call& call) {
  Queue* q = FindQueue(call.queue);
  if (q == nullptr || !call.agent)
    return;
  if (Member* mem = FindMember(*q, call.agent->interface)) {
    mem->calls_taken++;
    mem->last_call = absl::ToUnixSeconds(clock_->Now());
    mem->in_call = false;
  }
}

void Pbx::FinishQueueStats(Queue& q, int holdtime, int talktime) {
  q.completed++;
  if (holdtime <= q.cfg.servicelevel_seconds)
    q.completed_in_sl++;
  // app_queue's running average, seeded by the first call.
  if (q.completed == 1) {
    q.holdtime = holdtime;
    q.talktime = talktime;
  } else {
    q.holdtime = (q.holdtime * 3 + holdtime) / 4;
    q.talktime = (q.talktime * 3 + talktime) / 4;
  }
}

void Pbx::CustomerHangup(int call_id, absl::string_view hung_channel, int cause) {
  Call* call = FindCall(call_id);
  if (call == nullptr)
    return;
  std::string hung(hung_channel);
  Queue* q = FindQueue(call->queue);
  Channel* caller = FindChannel(call->caller);
  int customer_cause = hung == call->customer ? cause : 16;
  int caller_cause = hung == call->caller ? cause : 16;
  if (call->agent && q != nullptr && caller != nullptr) {
    Attempt att = *call->agent;
    scheduler_->Cancel(call->duration_timer);
    call->duration_timer = 0;
    absl::Time now = clock_->Now();
    int hold = Seconds(call->connected - call->joined);
    int talk = Seconds(now - call->connected);
    std::string device;
    if (Channel* one = FindChannel(att.one))
      device = one->device;
    auto bridge_leave = [&](const std::string& name, int remaining) {
      Channel* ch = FindChannel(name);
      if (ch == nullptr)
        return;
      AmiMessage m = NewEvent("BridgeLeave", "call");
      m.Add("BridgeUniqueid", call->bridge);
      m.Add("BridgeType", "basic");
      m.Add("BridgeTechnology", "simple_bridge");
      m.Add("BridgeCreator", "<unknown>");
      m.Add("BridgeName", "<unknown>");
      m.Add("BridgeNumChannels", absl::StrCat(remaining));
      m.Add("BridgeVideoSourceMode", "none");
      AddSnapshot(&m, *ch, "");
      Publish(m, "call");
      ch->bridge.clear();
    };
    bridge_leave(call->caller, 1);
    CompleteMemberStats(*call);
    bool bare = config_.bare_agent_complete_every > 0 &&
                (++agent_complete_count_ % config_.bare_agent_complete_every) == 0;
    QueueEvent(
        "AgentComplete", *call, att,
        {{"HoldTime", absl::StrCat(hold)}, {"TalkTime", absl::StrCat(talk)}, {"Reason", "caller"}},
        bare);
    Member* mem = FindMember(*q, att.interface);
    LogQueue(caller->uniqueid, q->cfg.name, mem ? mem->cfg.membername : att.interface,
             "COMPLETECALLER",
             {absl::StrCat(hold), absl::StrCat(talk), absl::StrCat(call->orig_position)});
    FinishQueueStats(*q, hold, talk);
    bridge_leave(att.one, 0);
    AmiMessage destroy = NewEvent("BridgeDestroy", "call");
    destroy.Add("BridgeUniqueid", call->bridge);
    destroy.Add("BridgeType", "basic");
    destroy.Add("BridgeTechnology", "simple_bridge");
    destroy.Add("BridgeCreator", "<unknown>");
    destroy.Add("BridgeName", "<unknown>");
    destroy.Add("BridgeNumChannels", "0");
    destroy.Add("BridgeVideoSourceMode", "none");
    Publish(destroy, "call");
    HangupChannel(att.one, 16);
    HangupChannel(call->customer, customer_cause);
    HangupChannel(att.two, 16);
    HangupChannel(call->caller, caller_cause);
    if (!device.empty())
      SetDevice(device, kDevNotInUse);
  } else if (call->waiting && q != nullptr && caller != nullptr) {
    std::vector<Attempt> attempts = std::move(call->ringing);
    call->ringing.clear();
    for (Attempt& a : attempts) {
      scheduler_->Cancel(a.timeout_timer);
      scheduler_->Cancel(a.answer_timer);
      Channel* one = FindChannel(a.one);
      if (one == nullptr)
        continue;
      std::string device = one->device;
      TwoChannelEvent("DialEnd", caller, *one, {{"DialStatus", "CANCEL"}});
      HangupChannel(a.one, 16);
      SetDevice(device, kDevNotInUse);
      HangupChannel(a.two, 16);
    }
    if (call->moh) {
      ChannelEvent("MusicOnHoldStop", *caller);
      call->moh = false;
    }
    auto pos_it = std::find(q->callers.begin(), q->callers.end(), call->id);
    int position = static_cast<int>(pos_it - q->callers.begin()) + 1;
    if (pos_it != q->callers.end())
      q->callers.erase(pos_it);
    int wait = Seconds(clock_->Now() - call->joined);
    AmiMessage abandon = NewEvent("QueueCallerAbandon", "agent");
    AddSnapshot(&abandon, *caller, "");
    abandon.Add("Queue", q->cfg.name);
    abandon.Add("Position", absl::StrCat(position));
    abandon.Add("OriginalPosition", absl::StrCat(call->orig_position));
    abandon.Add("HoldTime", absl::StrCat(wait));
    Publish(abandon, "agent");
    AmiMessage leave = NewEvent("QueueCallerLeave", "agent");
    AddSnapshot(&leave, *caller, "");
    leave.Add("Queue", q->cfg.name);
    leave.Add("Position", absl::StrCat(position));
    leave.Add("Count", absl::StrCat(q->callers.size()));
    Publish(leave, "agent");
    LogQueue(caller->uniqueid, q->cfg.name, "NONE", "ABANDON",
             {absl::StrCat(position), absl::StrCat(call->orig_position), absl::StrCat(wait)});
    q->abandoned++;
    if (wait <= q->cfg.servicelevel_seconds)
      q->abandoned_in_sl++;
    call->waiting = false;
    if (hung == call->caller) {
      HangupChannel(call->caller, caller_cause);
      HangupChannel(call->customer, customer_cause);
    } else {
      HangupChannel(call->customer, customer_cause);
      HangupChannel(call->caller, caller_cause);
    }
  } else {
    HangupChannel(call->customer, customer_cause);
    HangupChannel(call->caller, caller_cause);
  }
  EndCall(call_id);
}

void Pbx::AgentHangup(int call_id, absl::string_view hung_channel, int cause) {
  Call* call = FindCall(call_id);
  if (call == nullptr || !call->agent)
    return;
  Queue* q = FindQueue(call->queue);
  Channel* caller = FindChannel(call->caller);
  if (q == nullptr || caller == nullptr)
    return;
  Attempt att = *call->agent;
  scheduler_->Cancel(call->duration_timer);
  call->duration_timer = 0;
  int hold = Seconds(call->connected - call->joined);
  int talk = Seconds(clock_->Now() - call->connected);
  std::string device;
  if (Channel* one = FindChannel(att.one))
    device = one->device;
  auto bridge_event = [&](absl::string_view name, const std::string& channel, int remaining) {
    AmiMessage m = NewEvent(name, "call");
    m.Add("BridgeUniqueid", call->bridge);
    m.Add("BridgeType", "basic");
    m.Add("BridgeTechnology", "simple_bridge");
    m.Add("BridgeCreator", "<unknown>");
    m.Add("BridgeName", "<unknown>");
    m.Add("BridgeNumChannels", absl::StrCat(remaining));
    m.Add("BridgeVideoSourceMode", "none");
    if (!channel.empty()) {
      Channel* ch = FindChannel(channel);
      if (ch == nullptr)
        return;
      AddSnapshot(&m, *ch, "");
      ch->bridge.clear();
    }
    Publish(m, "call");
  };
  CompleteMemberStats(*call);
  if (!device.empty())
    SetDevice(device, kDevNotInUse);
  HangupChannel(att.two, cause);
  bridge_event("BridgeLeave", att.one, 1);
  QueueEvent(
      "AgentComplete", *call, att,
      {{"HoldTime", absl::StrCat(hold)}, {"TalkTime", absl::StrCat(talk)}, {"Reason", "agent"}});
  Member* mem = FindMember(*q, att.interface);
  LogQueue(caller->uniqueid, q->cfg.name, mem ? mem->cfg.membername : att.interface,
           "COMPLETEAGENT",
           {absl::StrCat(hold), absl::StrCat(talk), absl::StrCat(call->orig_position)});
  FinishQueueStats(*q, hold, talk);
  HangupChannel(att.one, 16);
  bridge_event("BridgeLeave", call->caller, 0);
  bridge_event("BridgeDestroy", "", 0);
  // Queue() returns and the dialplan hangs up the caller, which ends the Local pair.
  HangupChannel(call->caller, 16);
  HangupChannel(call->customer, 16);
  (void)hung_channel;
  EndCall(call_id);
}

void Pbx::EndCall(int call_id) {
  Call* call = FindCall(call_id);
  if (call == nullptr)
    return;
  scheduler_->Cancel(call->retry_timer);
  scheduler_->Cancel(call->duration_timer);
  for (Attempt& a : call->ringing) {
    scheduler_->Cancel(a.timeout_timer);
    scheduler_->Cancel(a.answer_timer);
  }
  if (Queue* q = FindQueue(call->queue)) {
    q->callers.erase(std::remove(q->callers.begin(), q->callers.end(), call_id), q->callers.end());
  }
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (it->second->call_id == call_id) {
      it = channels_.erase(it);
    } else {
      ++it;
    }
  }
  calls_.erase(call_id);
  ScheduleKick();
}

void Pbx::HangupRequest(absl::string_view name, int cause) {
  Channel* ch = FindChannel(name);
  if (ch == nullptr)
    return;
  Call* call = FindCall(ch->call_id);
  if (call == nullptr) {
    HangupChannel(name, cause);
    return;
  }
  switch (ch->role) {
    case Role::kCustomer:
    case Role::kQueueCaller:
      CustomerHangup(call->id, name, cause);
      return;
    case Role::kMemberOne:
    case Role::kMemberTwo: {
      if (call->agent && (call->agent->one == name || call->agent->two == name)) {
        AgentHangup(call->id, name, cause);
        return;
      }
      for (const Attempt& a : call->ringing) {
        if (a.one == name || a.two == name) {
          std::string iface = a.interface;
          RingNoAnswer(call->id, iface, /*timeout=*/false, cause);
          return;
        }
      }
      HangupChannel(name, cause);
      return;
    }
  }
}

void Pbx::JoinQueue(int call_id, const std::string& queue) {
  Call* call = FindCall(call_id);
  Queue* q = FindQueue(queue);
  if (call == nullptr || q == nullptr)
    return;
  Channel* caller = FindChannel(call->caller);
  if (caller == nullptr)
    return;
  call->queue = queue;
  q->callers.push_back(call_id);
  int position = static_cast<int>(q->callers.size());
  call->orig_position = position;
  call->joined = clock_->Now();
  call->waiting = true;
  call->tried.clear();
  caller->application = "Queue";
  caller->app_data = absl::StrCat(queue, call->moh ? "," : ",r", ",", call->url, ",,");
  AmiMessage join = NewEvent("QueueCallerJoin", "agent");
  AddSnapshot(&join, *caller, "");
  join.Add("Queue", queue);
  join.Add("Position", absl::StrCat(position));
  join.Add("Count", absl::StrCat(q->callers.size()));
  Publish(join, "agent");
  LogQueue(
      caller->uniqueid, queue, "NONE", "ENTERQUEUE",
      {call->url, caller->cid_num == "<unknown>" ? "" : caller->cid_num, absl::StrCat(position)});
  if (call->moh) {
    AmiMessage moh = NewEvent("MusicOnHoldStart", "call");
    AddSnapshot(&moh, *caller, "");
    moh.Add("Class", q->cfg.musicclass);
    Publish(moh, "call");
  }
  TryOffer(*call);
}

absl::StatusOr<CallInfo> Pbx::StartOriginate(const OriginateRequest& req) {
  auto target = ParseLocal(req.channel);
  if (!target)
    return absl::InvalidArgumentError("only Local/<exten>@<context> is simulated");
  std::string queue;
  bool voice = target->context == "from-test" || target->context == "inbound";
  if (voice) {
    if (!req.queue_override.empty()) {
      queue = req.queue_override;
    } else if (target->exten == "s") {
      queue = "support";
    } else {
      queue = target->exten;
    }
  } else if (target->context == "omnibridge-task") {
    queue = target->exten;
  } else {
    return absl::NotFoundError(absl::StrCat("no dialplan for context ", target->context));
  }
  if (FindQueue(queue) == nullptr) {
    return absl::NotFoundError(absl::StrCat("no queue ", queue));
  }
  std::string id1 = req.channel_id;
  std::string id2 = req.other_channel_id;
  if (!id1.empty() && id2.empty())
    id2 = absl::StrCat(id1, ";2");
  for (const std::string& id : {id1, id2}) {
    if (!id.empty() && FindByUniqueid(id) != nullptr) {
      // A second virtual call for the same interaction fails while the first one lives.
      return absl::AlreadyExistsError(absl::StrCat("uniqueid ", id, " is in use"));
    }
  }
  std::string generated1 = NextUniqueid();
  std::string generated2 = NextUniqueid();
  if (id1.empty())
    id1 = generated1;
  if (id2.empty())
    id2 = generated2;

  std::string base =
      absl::StrCat("Local/", target->exten, "@", target->context, "-", NextLocalSuffix());
  Channel& one =
      CreateChannel(base + ";1", id1, id1, 0, target->context, target->exten, Role::kCustomer);
  Channel& two =
      CreateChannel(base + ";2", id2, id1, 4, target->context, target->exten, Role::kQueueCaller);
  int call_id = next_call_id_++;
  Call& call = calls_[call_id];
  call.id = call_id;
  call.queue = queue;
  call.customer = one.name;
  call.caller = two.name;
  call.moh = voice;
  call.answer_after = req.answer_after;
  call.duration = req.duration;
  one.peer = two.name;
  two.peer = one.name;
  one.call_id = two.call_id = call_id;
  one.application = "AppDial2";
  one.app_data = "(Outgoing Line)";
  ChannelEvent("Newchannel", one);
  ChannelEvent("Newchannel", two);
  for (const auto& [k, v] : req.variables)
    SetVar(one, k, v, true);
  for (const auto& [k, v] : req.variables)
    SetVar(two, k, v, true);
  for (Channel* leg : {&one, &two}) {
    leg->cid_num = leg->conn_num = req.cid_num.empty() ? "<unknown>" : req.cid_num;
    leg->cid_name = leg->conn_name = req.cid_name.empty() ? "<unknown>" : req.cid_name;
    leg->accountcode = req.account;
  }
  std::string dial_string(req.channel.substr(6));
  TwoChannelEvent("DialBegin", nullptr, one, {{"DialString", dial_string}});

  // The ;2 half runs the dialplan: [from-test] sets OB_CHANNEL and answers, [omnibridge-task]
  // answers; both then run Queue().
  if (voice) {
    if (target->exten == "s")
      two.exten = queue;  // Goto(support,1)
    two.priority = 2;
    if (GetVar(two, "OB_CHANNEL").empty())
      SetVar(two, "__OB_CHANNEL", "voice", true);
    two.priority = 3;
  } else {
    two.priority = 2;
  }
  call.url = GetVar(two, "OB_INTERACTION_ID");
  SetState(two, 6);
  SetState(one, 6);

  AmiMessage resp = NewEvent("OriginateResponse", "call");
  if (req.has_action_id)
    resp.Add("ActionID", req.action_id);
  resp.Add("Response", "Success");
  resp.Add("Channel", one.name);
  if (!req.application.empty()) {
    resp.Add("Application", req.application);
    resp.Add("Data", req.data);
  } else {
    resp.Add("Context", req.context);
    resp.Add("Exten", req.exten);
  }
  resp.Add("Reason", "4");
  resp.Add("Uniqueid", one.uniqueid);
  resp.Add("CallerIDNum", one.cid_num);
  resp.Add("CallerIDName", one.cid_name);
  for (const std::string& var : config_.channelvars) {
    resp.Add(absl::StrCat("ChanVariable(", one.name, ")"),
             absl::StrCat(var, "=", GetVar(one, var)));
  }
  Publish(resp, "call");
  TwoChannelEvent("DialEnd", nullptr, one, {{"DialStatus", "ANSWER"}});
  if (req.application.empty()) {
    one.context = req.context;
    one.exten = req.exten;
    one.priority = req.priority + 1;
    one.application = "Wait";
    one.app_data = "86400";
  } else {
    one.application = req.application;
    one.app_data = req.data;
  }
  two.priority = voice ? 4 : 3;
  CallInfo info{two.uniqueid, one.linkedid, one.name, two.name};
  JoinQueue(call_id, queue);
  return info;
}

// ----------------------------------------------------------------------------------- actions

std::vector<AmiMessage> Pbx::ActionOriginate(const AmiMessage& a) {
  OriginateRequest req;
  req.channel = a.Get("Channel");
  if (req.channel.empty())
    return {MakeResponse(a, "Error", "Channel not specified")};
  req.context = a.Get("Context");
  req.exten = a.Get("Exten");
  req.application = a.Get("Application");
  req.data = a.Get("Data");
  std::string priority = a.Get("Priority");
  if (!priority.empty() && !absl::SimpleAtoi(priority, &req.priority)) {
    return {MakeResponse(a, "Error", "Invalid priority")};
  }
  if (req.application.empty() && req.exten.empty()) {
    return {MakeResponse(a, "Error", "Exten not specified")};
  }
  if (req.application.empty() && req.context.empty())
    req.context = "default";
  req.channel_id = a.Get("ChannelId");
  req.other_channel_id = a.Get("OtherChannelId");
  req.account = a.Get("Account");
  ParseCallerId(a.Get("CallerID"), &req.cid_num, &req.cid_name);
  for (const std::string& value : a.GetAll("Variable")) {
    // Originate splits every Variable header at commas (DESIGN.md: values are percent-encoded).
    for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipEmpty())) {
      size_t eq = part.find('=');
      if (eq == absl::string_view::npos || eq == 0)
        continue;
      req.variables.emplace_back(std::string(part.substr(0, eq)), std::string(part.substr(eq + 1)));
    }
  }
  if (auto id = a.Find("ActionID"); id && !id->empty()) {
    req.action_id = *id;
    req.has_action_id = true;
  }
  bool async = AmiTrue(a.Get("Async"));
  auto result = StartOriginate(req);
  if (!result.ok()) {
    OMNI_LOG(kInfo, kLog, "Originate of ", req.channel, " failed: ", result.status().message());
    if (!async)
      return {MakeResponse(a, "Error", "Originate failed")};
    AmiMessage resp = NewEvent("OriginateResponse", "call");
    if (req.has_action_id)
      resp.Add("ActionID", req.action_id);
    resp.Add("Response", "Failure");
    resp.Add("Channel", req.channel);
    if (!req.application.empty()) {
      resp.Add("Application", req.application);
      resp.Add("Data", req.data);
    } else {
      resp.Add("Context", req.context);
      resp.Add("Exten", req.exten);
    }
    resp.Add("Reason", "0");
    resp.Add("Uniqueid", "<null>");
    resp.Add("CallerIDNum", "<unknown>");
    resp.Add("CallerIDName", "<unknown>");
    Publish(resp, "call");
  }
  return {MakeResponse(a, "Success", "Originate successfully queued")};
}

std::vector<AmiMessage> Pbx::ActionHangup(const AmiMessage& a) {
  std::string name = a.Get("Channel");
  if (name.empty())
    return {MakeResponse(a, "Error", "No channel specified")};
  int cause = 0;
  std::string cause_text = a.Get("Cause");
  if (!cause_text.empty() && !absl::SimpleAtoi(cause_text, &cause))
    cause = 0;
  if (name.size() > 2 && name.front() == '/' && name.back() == '/') {
    std::string pattern = name.substr(1, name.size() - 2);
    regex_t re;
    if (regcomp(&re, pattern.c_str(), REG_EXTENDED | REG_NOSUB) != 0) {
      return {MakeResponse(a, "Error", "Invalid regex")};
    }
    std::vector<std::string> matched;
    for (const auto& [n, ch] : channels_) {
      if (regexec(&re, n.c_str(), 0, nullptr, 0) == 0)
        matched.push_back(n);
    }
    regfree(&re);
    int hung = 0;
    for (const std::string& n : matched) {
      if (FindChannel(n) == nullptr)
        continue;  // gone with an earlier match's call
      HangupRequest(n, cause);
      ++hung;
    }
    AmiMessage m = MakeResponse(a, "Success");
    m.Add("Message", absl::StrCat("Channels hung up: ", hung));
    return {m};
  }
  if (FindChannel(name) == nullptr)
    return {MakeResponse(a, "Error", "No such channel")};
  HangupRequest(name, cause);
  return {MakeResponse(a, "Success", "Channel Hungup")};
}

std::vector<AmiMessage> Pbx::ActionRedirect(const AmiMessage& a) {
  std::string name = a.Get("Channel");
  if (name.empty())
    return {MakeResponse(a, "Error", "Channel not specified")};
  std::string context = a.Get("Context");
  std::string exten = a.Get("Exten");
  int priority = 1;
  if (!absl::SimpleAtoi(a.Get("Priority"), &priority)) {
    return {MakeResponse(a, "Error", "Invalid priority")};
  }
  Channel* ch = FindChannel(name);
  if (ch == nullptr) {
    return {MakeResponse(a, "Error", absl::StrCat("Channel does not exist: ", name))};
  }
  std::vector<AmiMessage> out = {MakeResponse(a, "Success", "Redirect successful")};
  Call* call = FindCall(ch->call_id);
  if (call != nullptr && context == "agent-answer" &&
      (ch->role == Role::kMemberOne || ch->role == Role::kMemberTwo)) {
    for (const Attempt& att : call->ringing) {
      if (att.one == name || att.two == name) {
        std::string iface = att.interface;
        AnswerAttempt(call->id, iface);
        return out;
      }
    }
  }
  // Anything else only moves the channel in the (simulated) dialplan.
  ch->context = context;
  ch->exten = exten;
  ch->priority = priority;
  return out;
}

std::vector<AmiMessage> Pbx::ActionQueuePause(const AmiMessage& a) {
  std::string interface = a.Get("Interface");
  std::string paused_text = a.Get("Paused");
  if (interface.empty())
    return {MakeResponse(a, "Error", "Need 'Interface' parameter.")};
  if (paused_text.empty())
    return {MakeResponse(a, "Error", "Need 'Paused' parameter.")};
  bool paused = AmiTrue(paused_text);
  std::string queue = a.Get("Queue");
  std::string reason = a.Get("Reason");
  std::vector<std::pair<Queue*, Member*>> targets;
  for (Queue& q : queues_) {
    if (!queue.empty() && q.cfg.name != queue)
      continue;
    if (Member* mem = FindMember(q, interface))
      targets.emplace_back(&q, mem);
  }
  if (targets.empty())
    return {MakeResponse(a, "Error", "Interface not found")};
  int64_t now = absl::ToUnixSeconds(clock_->Now());
  for (auto [q, mem] : targets) {
    mem->paused = paused;
    if (paused) {
      mem->paused_reason = reason;
      mem->last_pause = now;
    } else {
      mem->paused_reason.clear();  // asterisk/asterisk#395: unpause clears the reason
    }
    AmiMessage m = NewEvent("QueueMemberPause", "agent");
    AddMemberBlock(&m, *q, *mem);
    Publish(m, "agent");
    LogQueue("NONE", q->cfg.name, mem->cfg.membername, paused ? "PAUSE" : "UNPAUSE", {reason});
  }
  if (queue.empty()) {
    LogQueue("NONE", "NONE", interface, paused ? "PAUSEALL" : "UNPAUSEALL", {""});
  }
  ScheduleKick();
  return {MakeResponse(
      a, "Success", paused ? "Interface paused successfully" : "Interface unpaused successfully")};
}

std::vector<AmiMessage> Pbx::ActionQueueAdd(const AmiMessage& a) {
  std::string queue = a.Get("Queue");
  std::string interface = a.Get("Interface");
  if (queue.empty())
    return {MakeResponse(a, "Error", "'Queue' not specified.")};
  if (interface.empty())
    return {MakeResponse(a, "Error", "'Interface' not specified.")};
  Queue* q = FindQueue(queue);
  if (q == nullptr) {
    return {MakeResponse(a, "Error", "Unable to add interface to queue: No such queue")};
  }
  if (FindMember(*q, interface) != nullptr) {
    return {MakeResponse(a, "Error", "Unable to add interface: Already there")};
  }
  if (!ParseLocal(interface)) {
    return {MakeResponse(a, "Error",
                         "Unable to add interface: pbx-sim simulates Local/<exten>@<context> "
                         "members only")};
  }
  Member mem;
  mem.cfg.interface = interface;
  mem.cfg.membername =
      a.Has("MemberName") && !a.Get("MemberName").empty() ? a.Get("MemberName") : interface;
  mem.cfg.state_interface = a.Has("StateInterface") && !a.Get("StateInterface").empty()
                                ? a.Get("StateInterface")
                                : interface;
  if (!absl::SimpleAtoi(a.Get("Penalty"), &mem.cfg.penalty))
    mem.cfg.penalty = 0;
  mem.dynamic = true;
  mem.paused = AmiTrue(a.Get("Paused"));
  int64_t now = absl::ToUnixSeconds(clock_->Now());
  mem.login_time = now;
  if (mem.paused) {
    mem.paused_reason = a.Get("Reason");
    mem.last_pause = now;
  }
  q->members.push_back(mem);
  AmiMessage m = NewEvent("QueueMemberAdded", "agent");
  AddMemberBlock(&m, *q, q->members.back());
  Publish(m, "agent");
  LogQueue("MANAGER", q->cfg.name, mem.cfg.membername, "ADDMEMBER", {mem.paused ? "PAUSED" : ""});
  ScheduleKick();
  return {MakeResponse(a, "Success", "Added interface to queue")};
}

std::vector<AmiMessage> Pbx::ActionQueueRemove(const AmiMessage& a) {
  std::string queue = a.Get("Queue");
  std::string interface = a.Get("Interface");
  if (queue.empty() || interface.empty()) {
    return {MakeResponse(a, "Error", "Need 'Queue' and 'Interface' parameters.")};
  }
  Queue* q = FindQueue(queue);
  if (q == nullptr) {
    return {MakeResponse(a, "Error", "Unable to remove interface from queue: No such queue")};
  }
  Member* mem = FindMember(*q, interface);
  if (mem == nullptr)
    return {MakeResponse(a, "Error", "Unable to remove interface: Not there")};
  if (!mem->dynamic) {
    return {MakeResponse(a, "Error",
                         absl::StrCat("Unable to remove interface '", interface, "' from queue '",
                                      queue, "': Not a dynamic member"))};
  }
  AmiMessage m = NewEvent("QueueMemberRemoved", "agent");
  AddMemberBlock(&m, *q, *mem);
  Publish(m, "agent");
  LogQueue("MANAGER", q->cfg.name, mem->cfg.membername, "REMOVEMEMBER", {""});
  q->members.erase(q->members.begin() + (mem - q->members.data()));
  return {MakeResponse(a, "Success", "Removed interface from queue")};
}

std::vector<AmiMessage> Pbx::ActionQueueStatus(const AmiMessage& a) {
  std::string queue = a.Get("Queue");
  std::string member = a.Get("Member");
  std::vector<AmiMessage> out = {ListStart(a, "Queue status will follow")};
  size_t items = 0;
  absl::Time now = clock_->Now();
  for (const Queue& q : queues_) {
    if (!queue.empty() && q.cfg.name != queue)
      continue;
    AmiMessage p;
    p.Add("Event", "QueueParams");
    p.Add("Queue", q.cfg.name);
    p.Add("Max", "0");
    p.Add("Strategy", StrategyName(q.cfg.strategy));
    p.Add("Calls", absl::StrCat(q.callers.size()));
    p.Add("Holdtime", absl::StrCat(q.holdtime));
    p.Add("TalkTime", absl::StrCat(q.talktime));
    p.Add("Completed", absl::StrCat(q.completed));
    p.Add("Abandoned", absl::StrCat(q.abandoned));
    p.Add("ServiceLevel", absl::StrCat(q.cfg.servicelevel_seconds));
    double perf = q.completed > 0 ? 100.0 * q.completed_in_sl / q.completed : 0.0;
    int total = q.completed + q.abandoned;
    double perf2 = total > 0 ? 100.0 * (q.completed_in_sl + q.abandoned_in_sl) / total : 0.0;
    p.Add("ServicelevelPerf", absl::StrFormat("%.1f", perf));
    p.Add("ServicelevelPerf2", absl::StrFormat("%.1f", perf2));
    p.Add("Weight", "0");
    AddActionId(&p, a);
    out.push_back(std::move(p));
    ++items;
    for (const Member& mem : q.members) {
      if (!member.empty() && mem.cfg.interface != member && mem.cfg.membername != member) {
        continue;
      }
      AmiMessage m;
      m.Add("Event", "QueueMember");
      m.Add("Queue", q.cfg.name);
      m.Add("Name", mem.cfg.membername);
      m.Add("Location", mem.cfg.interface);
      m.Add("StateInterface", mem.cfg.state_interface);
      m.Add("Membership", mem.dynamic ? "dynamic" : "static");
      m.Add("Penalty", absl::StrCat(mem.cfg.penalty));
      m.Add("CallsTaken", absl::StrCat(mem.calls_taken));
      m.Add("LastCall", absl::StrCat(mem.last_call));
      m.Add("LastPause", absl::StrCat(mem.last_pause));
      m.Add("LoginTime", absl::StrCat(mem.login_time));
      m.Add("InCall", mem.in_call ? "1" : "0");
      m.Add("Status", absl::StrCat(MemberStatus(mem)));
      m.Add("Paused", mem.paused ? "1" : "0");
      m.Add("PausedReason", mem.paused_reason);
      m.Add("Wrapuptime", absl::StrCat(q.cfg.wrapuptime_seconds));
      AddActionId(&m, a);
      out.push_back(std::move(m));
      ++items;
    }
    int position = 0;
    for (int id : q.callers) {
      auto it = calls_.find(id);
      if (it == calls_.end())
        continue;
      const Channel* caller = FindChannel(it->second.caller);
      if (caller == nullptr)
        continue;
      AmiMessage e;
      e.Add("Event", "QueueEntry");
      e.Add("Queue", q.cfg.name);
      e.Add("Position", absl::StrCat(++position));
      e.Add("Channel", caller->name);
      e.Add("Uniqueid", caller->uniqueid);
      e.Add("CallerIDNum", caller->cid_num);
      e.Add("CallerIDName", caller->cid_name);
      e.Add("ConnectedLineNum", caller->conn_num);
      e.Add("ConnectedLineName", caller->conn_name);
      e.Add("Wait", absl::StrCat(Seconds(now - it->second.joined)));
      e.Add("Priority", "0");
      AddActionId(&e, a);
      out.push_back(std::move(e));
      ++items;
    }
  }
  out.push_back(ListComplete(a, "QueueStatusComplete", items));
  return out;
}

std::vector<AmiMessage> Pbx::ActionQueueSummary(const AmiMessage& a) {
  std::string queue = a.Get("Queue");
  std::vector<AmiMessage> out = {ListStart(a, "Queue summary will follow")};
  size_t items = 0;
  absl::Time now = clock_->Now();
  for (const Queue& q : queues_) {
    if (!queue.empty() && q.cfg.name != queue)
      continue;
    int available = 0;
    for (const Member& mem : q.members) {
      int s = MemberStatus(mem);
      if (!mem.paused && (s == kDevNotInUse || s == kDevUnknown))
        ++available;
    }
    int longest = 0;
    for (int id : q.callers) {
      auto it = calls_.find(id);
      if (it != calls_.end())
        longest = std::max(longest, Seconds(now - it->second.joined));
    }
    AmiMessage m;
    m.Add("Event", "QueueSummary");
    m.Add("Queue", q.cfg.name);
    m.Add("LoggedIn", absl::StrCat(q.members.size()));
    m.Add("Available", absl::StrCat(available));
    m.Add("Callers", absl::StrCat(q.callers.size()));
    m.Add("HoldTime", absl::StrCat(q.holdtime));
    m.Add("TalkTime", absl::StrCat(q.talktime));
    m.Add("LongestHoldTime", absl::StrCat(longest));
    AddActionId(&m, a);
    out.push_back(std::move(m));
    ++items;
  }
  out.push_back(ListComplete(a, "QueueSummaryComplete", items));
  return out;
}

std::vector<AmiMessage> Pbx::ActionCoreShowChannels(const AmiMessage& a) {
  std::vector<AmiMessage> out = {ListStart(a, "Channels will follow")};
  absl::Time now = clock_->Now();
  for (const auto& [name, ch] : channels_) {
    AmiMessage m;
    m.Add("Event", "CoreShowChannel");
    AddActionId(&m, a);
    AddSnapshot(&m, *ch, "");
    m.Add("BridgeId", ch->bridge);
    m.Add("Application", ch->application);
    m.Add("ApplicationData", ch->app_data);
    m.Add("Duration", Duration(now - ch->created));
    out.push_back(std::move(m));
  }
  out.push_back(ListComplete(a, "CoreShowChannelsComplete", channels_.size()));
  return out;
}

std::vector<AmiMessage> Pbx::ActionStatus(const AmiMessage& a) {
  std::string filter = a.Get("Channel");
  if (!filter.empty() && FindChannel(filter) == nullptr) {
    return {MakeResponse(a, "Error", "No such channel")};
  }
  std::vector<std::string> variables;
  for (absl::string_view v : absl::StrSplit(a.Get("Variables"), ',', absl::SkipWhitespace())) {
    variables.emplace_back(absl::StripAsciiWhitespace(v));
  }
  std::vector<AmiMessage> out = {ListStart(a, "Channel status will follow")};
  size_t items = 0;
  absl::Time now = clock_->Now();
  for (const auto& [name, ch] : channels_) {
    if (!filter.empty() && name != filter)
      continue;
    AmiMessage m;
    m.Add("Event", "Status");
    m.Add("Privilege", "Call");
    AddSnapshot(&m, *ch, "");
    m.Add("Type", "Local");
    m.Add("DNID", "");
    m.Add("EffectiveConnectedLineNum", ch->conn_num);
    m.Add("EffectiveConnectedLineName", ch->conn_name);
    m.Add("TimeToHangup", "0");
    m.Add("BridgeID", ch->bridge);
    m.Add("Application", ch->application);
    m.Add("Data", ch->app_data);
    m.Add("Nativeformats", "(ulaw)");
    m.Add("Readformat", "ulaw");
    m.Add("Readtrans", "");
    m.Add("Writeformat", "ulaw");
    m.Add("Writetrans", "");
    m.Add("Callgroup", "0");
    m.Add("Pickupgroup", "0");
    m.Add("Seconds", absl::StrCat(Seconds(now - ch->created)));
    for (const std::string& v : variables)
      m.Add("Variable", absl::StrCat(v, "=", GetVar(*ch, v)));
    AddActionId(&m, a);
    out.push_back(std::move(m));
    ++items;
  }
  AmiMessage done = ListComplete(a, "StatusComplete", items);
  done.Add("Items", absl::StrCat(items));
  out.push_back(std::move(done));
  return out;
}

std::vector<AmiMessage> Pbx::ActionSetvar(const AmiMessage& a) {
  std::string variable = a.Get("Variable");
  std::string value = a.Get("Value");
  if (variable.empty())
    return {MakeResponse(a, "Error", "No variable specified")};
  std::string name = a.Get("Channel");
  absl::string_view v = variable;
  if (absl::ConsumePrefix(&v, "DEVICE_STATE(") && absl::ConsumeSuffix(&v, ")")) {
    int state = -1;
    for (int s = 0; s <= 8; ++s) {
      if (absl::EqualsIgnoreCase(DeviceStateName(s), value))
        state = s;
    }
    if (state < 0)
      return {MakeResponse(a, "Error", "Invalid device state")};
    SetDevice(std::string(v), state);
    return {MakeResponse(a, "Success", "Variable Set")};
  }
  if (name.empty()) {
    globals_[variable] = value;
    return {MakeResponse(a, "Success", "Variable Set")};
  }
  Channel* ch = FindChannel(name);
  if (ch == nullptr)
    return {MakeResponse(a, "Error", "No such channel")};
  SetVar(*ch, variable, value, true);
  return {MakeResponse(a, "Success", "Variable Set")};
}

std::vector<AmiMessage> Pbx::ActionGetvar(const AmiMessage& a) {
  std::string variable = a.Get("Variable");
  if (variable.empty())
    return {MakeResponse(a, "Error", "No variable specified")};
  std::string name = a.Get("Channel");
  std::string value;
  absl::string_view v = variable;
  if (absl::ConsumePrefix(&v, "DEVICE_STATE(") && absl::ConsumeSuffix(&v, ")")) {
    value = std::string(DeviceStateName(DeviceStateOf(v)));
  } else if (name.empty()) {
    auto it = globals_.find(variable);
    if (it != globals_.end())
      value = it->second;
  } else {
    Channel* ch = FindChannel(name);
    if (ch == nullptr)
      return {MakeResponse(a, "Error", "No such channel")};
    value = GetVar(*ch, variable);
  }
  AmiMessage m = MakeResponse(a, "Success");
  m.Add("Variable", variable);
  m.Add("Value", value);
  return {m};
}

std::vector<AmiMessage> Pbx::ActionDb(const AmiMessage& a, absl::string_view name) {
  std::string family = a.Get("Family");
  std::string key = a.Get("Key");
  if (family.empty())
    return {MakeResponse(a, "Error", "No family specified.")};
  if (key.empty())
    return {MakeResponse(a, "Error", "No key specified.")};
  std::string db_key = absl::StrCat(family, "/", key);
  if (name == "dbput") {
    db_[db_key] = a.Get("Val");
    return {MakeResponse(a, "Success", "Updated database successfully")};
  }
  auto it = db_.find(db_key);
  if (name == "dbdel") {
    if (it == db_.end())
      return {MakeResponse(a, "Error", "Database entry not found")};
    db_.erase(it);
    return {MakeResponse(a, "Success", "Key deleted successfully")};
  }
  if (it == db_.end())
    return {MakeResponse(a, "Error", "Database entry not found")};
  std::vector<AmiMessage> out = {ListStart(a, "Result will follow")};
  AmiMessage m;
  m.Add("Event", "DBGetResponse");
  m.Add("Family", family);
  m.Add("Key", key);
  m.Add("Val", it->second);
  AddActionId(&m, a);
  out.push_back(std::move(m));
  out.push_back(ListComplete(a, "DBGetComplete", 1));
  return out;
}

std::vector<AmiMessage> Pbx::ActionBlindTransfer(const AmiMessage& a) {
  std::string name = a.Get("Channel");
  std::string exten = a.Get("Exten");
  std::string context = a.Get("Context");
  if (name.empty())
    return {MakeResponse(a, "Error", "No channel specified")};
  if (exten.empty())
    return {MakeResponse(a, "Error", "No extension specified")};
  Channel* ch = FindChannel(name);
  if (ch == nullptr)
    return {MakeResponse(a, "Error", "No such channel")};
  Call* call = FindCall(ch->call_id);
  if (call == nullptr || !call->agent || ch->bridge.empty()) {
    if (call == nullptr || !call->agent ||
        (ch->role != Role::kMemberTwo && ch->role != Role::kMemberOne)) {
      return {MakeResponse(a, "Error", "Transfer failed")};
    }
  }
  if (context.empty())
    context = ch->context;
  Queue* q = FindQueue(call->queue);
  Channel* caller = FindChannel(call->caller);
  if (q == nullptr || caller == nullptr)
    return {MakeResponse(a, "Error", "Transfer failed")};
  std::vector<AmiMessage> out = {MakeResponse(a, "Success", "Transfer succeeded")};

  Attempt att = *call->agent;
  Channel* one = FindChannel(att.one);
  const Channel* transferer = ch;
  AmiMessage bt = NewEvent("BlindTransfer", "call");
  bt.Add("Result", "Success");
  AddSnapshot(&bt, *transferer, "Transferer");
  AddSnapshot(&bt, *caller, "Transferee");
  bt.Add("BridgeUniqueid", call->bridge);
  bt.Add("BridgeType", "basic");
  bt.Add("BridgeTechnology", "simple_bridge");
  bt.Add("BridgeCreator", "<unknown>");
  bt.Add("BridgeName", "<unknown>");
  bt.Add("BridgeNumChannels", "2");
  bt.Add("BridgeVideoSourceMode", "none");
  bt.Add("IsExternal", "No");
  bt.Add("Context", context);
  bt.Add("Extension", exten);
  Publish(bt, "call");

  int hold = Seconds(call->connected - call->joined);
  int talk = Seconds(clock_->Now() - call->connected);
  std::string device = one ? one->device : "";
  CompleteMemberStats(*call);
  QueueEvent(
      "AgentComplete", *call, att,
      {{"HoldTime", absl::StrCat(hold)}, {"TalkTime", absl::StrCat(talk)}, {"Reason", "transfer"}});
  Member* mem = FindMember(*q, att.interface);
  LogQueue(
      caller->uniqueid, q->cfg.name, mem ? mem->cfg.membername : att.interface, "BLINDTRANSFER",
      {exten, context, absl::StrCat(hold), absl::StrCat(talk), absl::StrCat(call->orig_position)});
  FinishQueueStats(*q, hold, talk);
  scheduler_->Cancel(call->duration_timer);
  call->duration_timer = 0;
  for (const std::string& leg : {att.one, call->caller}) {
    if (Channel* c = FindChannel(leg)) {
      AmiMessage m = NewEvent("BridgeLeave", "call");
      m.Add("BridgeUniqueid", call->bridge);
      m.Add("BridgeType", "basic");
      m.Add("BridgeTechnology", "simple_bridge");
      m.Add("BridgeCreator", "<unknown>");
      m.Add("BridgeName", "<unknown>");
      m.Add("BridgeNumChannels", leg == att.one ? "1" : "0");
      m.Add("BridgeVideoSourceMode", "none");
      AddSnapshot(&m, *c, "");
      Publish(m, "call");
      c->bridge.clear();
    }
  }
  HangupChannel(att.two, 16);
  HangupChannel(att.one, 16);
  if (!device.empty())
    SetDevice(device, kDevNotInUse);
  call->agent.reset();
  call->bridge.clear();
  // The transferee follows the dialplan: a queue reached through [from-test]/[inbound]/
  // [omnibridge-task] queues it again; any other target is not simulated and ends the call.
  bool queue_context =
      context == "from-test" || context == "inbound" || context == "omnibridge-task";
  if (queue_context && FindQueue(exten) != nullptr) {
    caller->context = context;
    caller->exten = exten;
    caller->priority = 1;
    call->moh = context != "omnibridge-task";
    JoinQueue(call->id, exten);
  } else {
    HangupChannel(call->caller, 16);
    HangupChannel(call->customer, 16);
    EndCall(call->id);
  }
  return out;
}

std::vector<AmiMessage> Pbx::ActionCommand(const AmiMessage& a) {
  std::string command = std::string(absl::StripAsciiWhitespace(a.Get("Command")));
  if (command.empty())
    return {MakeResponse(a, "Error", "No command provided")};
  AmiMessage m = MakeResponse(a, "Success", "Command output follows");
  if (command == "core show version") {
    m.Add("Output",
          "Asterisk 22.10.1 built by pbx-sim @ omnibridge on a x86_64 running Linux (simulated)");
  } else {
    m.Add("Output", absl::StrCat("No such command '", command, "' (type 'core show help ", command,
                                 "' for other possible commands)"));
  }
  return {m};
}

// ------------------------------------------------------------------------------ control port

absl::StatusOr<CallInfo> Pbx::PlaceCall(const CallRequest& r) {
  OriginateRequest o;
  ParseCallerId(absl::StrCat("\"", r.name, "\" <", r.from, ">"), &o.cid_num, &o.cid_name);
  o.answer_after = r.answer_after;
  o.duration = r.duration;
  if (r.channel == "voice") {
    std::string queue = r.queue.empty() ? "support" : r.queue;
    if (FindQueue(queue) == nullptr)
      return absl::NotFoundError(absl::StrCat("no queue ", queue));
    std::string exten = r.to.empty() ? queue : r.to;
    o.channel = absl::StrCat("Local/", exten, "@from-test/n");
    o.queue_override = queue;
    o.context = "test-caller";
    o.exten = "s";
    o.priority = 1;
    return StartOriginate(o);
  }
  std::string queue = r.queue.empty() ? "digital" : r.queue;
  Queue* q = FindQueue(queue);
  if (q == nullptr)
    return absl::NotFoundError(absl::StrCat("no queue ", queue));
  std::string id =
      r.interaction_id.empty() ? absl::StrCat("itx-", next_interaction_++) : r.interaction_id;
  o.channel = absl::StrCat("Local/", queue, "@omnibridge-task/n");
  o.application = "Wait";
  o.data = "86400";
  o.channel_id = absl::StrCat(id, "-a");
  o.other_channel_id = absl::StrCat(id, "-b");
  int timeout = r.offer_timeout > 0 ? r.offer_timeout : q->cfg.timeout_seconds;
  o.variables = {{"__OB_INTERACTION_ID", id},
                 {"__OB_CHANNEL", r.channel},
                 {"__OB_CRM_URL", PercentEncode(r.crm_url)},
                 {"__OB_SUBJECT", PercentEncode(r.subject)},
                 {"__OB_CUSTOMER", PercentEncode(r.customer)},
                 {"__OB_OFFER_TIMEOUT", absl::StrCat(timeout)}};
  return StartOriginate(o);
}

absl::Status Pbx::HangupLinkedid(absl::string_view linkedid) {
  for (const auto& [name, ch] : channels_) {
    if (ch->linkedid == linkedid && ch->role == Role::kCustomer) {
      std::string n = name;
      HangupRequest(n, 16);
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("no call with linkedid ", linkedid));
}

absl::Status Pbx::HangupChannelByName(absl::string_view channel) {
  if (FindChannel(channel) == nullptr) {
    return absl::NotFoundError(absl::StrCat("no channel ", channel));
  }
  HangupRequest(std::string(channel), 16);
  return absl::OkStatus();
}

absl::Status Pbx::AnswerAgent(absl::string_view agent) {
  for (auto& [id, call] : calls_) {
    for (const Attempt& att : call.ringing) {
      std::string membername;
      if (Queue* q = FindQueue(call.queue)) {
        if (Member* m = FindMember(*q, att.interface))
          membername = m->cfg.membername;
      }
      if (AgentOfInterface(att.interface) == agent || att.interface == agent ||
          membername == agent) {
        std::string iface = att.interface;
        int call_id = id;
        AnswerAttempt(call_id, iface);
        return absl::OkStatus();
      }
    }
  }
  return absl::NotFoundError(absl::StrCat("no ringing offer for agent ", agent));
}

absl::Status Pbx::HoldAgent(absl::string_view agent, bool hold) {
  for (auto& [id, call] : calls_) {
    if (!call.agent)
      continue;
    if (AgentOfInterface(call.agent->interface) != agent && call.agent->interface != agent) {
      continue;
    }
    Channel* two = FindChannel(call.agent->two);
    Channel* caller = FindChannel(call.caller);
    if (two == nullptr || caller == nullptr)
      break;
    if (hold) {
      AmiMessage h = NewEvent("Hold", "call");
      AddSnapshot(&h, *two, "");
      h.Add("MusicClass", "default");
      Publish(h, "call");
      AmiMessage moh = NewEvent("MusicOnHoldStart", "call");
      AddSnapshot(&moh, *caller, "");
      moh.Add("Class", "default");
      Publish(moh, "call");
    } else {
      ChannelEvent("MusicOnHoldStop", *caller);
      ChannelEvent("Unhold", *two);
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("no connected call for agent ", agent));
}

boost::json::array Pbx::MembersJson() const {
  boost::json::array out;
  for (const Queue& q : queues_) {
    for (const Member& m : q.members) {
      int status = MemberStatus(m);
      out.push_back(boost::json::object{{"queue", q.cfg.name},
                                        {"interface", m.cfg.interface},
                                        {"membername", m.cfg.membername},
                                        {"stateInterface", m.cfg.state_interface},
                                        {"membership", m.dynamic ? "dynamic" : "static"},
                                        {"paused", m.paused},
                                        {"pausedReason", m.paused_reason},
                                        {"status", status},
                                        {"statusText", std::string(DeviceStateName(status))},
                                        {"inCall", m.in_call},
                                        {"callsTaken", m.calls_taken},
                                        {"lastCall", m.last_call}});
    }
  }
  return out;
}

boost::json::array Pbx::ChannelsJson() const {
  boost::json::array out;
  for (const auto& [name, ch] : channels_) {
    boost::json::object vars;
    for (const auto& [k, v] : ch->vars)
      vars[k] = v;
    std::string queue;
    if (auto it = calls_.find(ch->call_id); it != calls_.end())
      queue = it->second.queue;
    out.push_back(boost::json::object{{"channel", ch->name},
                                      {"uniqueid", ch->uniqueid},
                                      {"linkedid", ch->linkedid},
                                      {"state", ch->state},
                                      {"stateDesc", std::string(StateDesc(ch->state))},
                                      {"context", ch->context},
                                      {"exten", ch->exten},
                                      {"callerIdNum", ch->cid_num},
                                      {"callerIdName", ch->cid_name},
                                      {"bridge", ch->bridge},
                                      {"role", std::string(RoleName(static_cast<int>(ch->role)))},
                                      {"queue", queue},
                                      {"variables", std::move(vars)}});
  }
  return out;
}

void Pbx::Reset() {
  std::vector<int> ids;
  for (const auto& [id, call] : calls_)
    ids.push_back(id);
  for (int id : ids) {
    Call* call = FindCall(id);
    if (call == nullptr)
      continue;
    std::vector<std::string> names;
    for (const auto& [name, ch] : channels_) {
      if (ch->call_id == id)
        names.push_back(name);
    }
    for (const std::string& n : names)
      HangupChannel(n, 16);
    EndCall(id);
  }
  std::vector<std::string> rest;
  for (const auto& [name, ch] : channels_)
    rest.push_back(name);
  for (const std::string& n : rest)
    HangupChannel(n, 16);
  devices_.clear();
  db_.clear();
  globals_.clear();
  InitQueues();
  OMNI_LOG(kInfo, kLog, "reset: calls hung up, members and pauses restored");
}

}  // namespace omnibridge::pbxsim
