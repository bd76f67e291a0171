// The CTI link: how the host talks to a telephony platform's ACD, whatever the platform.
//
// A driver (cti/ami today; FreeSWITCH ESL or CSTA later) implements CtiLink and turns the
// platform's protocol into the normalised events below; the agent model consumes only these, so
// a second driver needs no change outside its own folder.
//
// Threading: every CtiLink method, every CtiEventSink callback and every Completion runs on the one
// event-loop thread that owns the link. Nothing here is thread-safe, nothing blocks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace omnibridge::cti {

// ---------------------------------------------------------------------------------------------
// Link status

enum class LinkState {
  kConnecting,  // connecting, logging in, waiting for the platform to boot, resynchronising
  kUp,          // logged in and resynchronised: events are live, commands are accepted
  kDown,        // not connected; the driver retries by itself until Stop()
};

std::string_view LinkStateName(LinkState state);  // "connecting" | "up" | "down"

struct LinkStatus {
  LinkState state = LinkState::kDown;
  std::string driver;  // "ami"
  std::string detail;  // why the link is down (for people); empty otherwise

  friend bool operator==(const LinkStatus&, const LinkStatus&) = default;
};

// What the platform can do. A driver reports its gaps here instead of faking them (Asterisk AMI
// has no Hold action, for instance), and the host answers such requests with `not_available`.
struct Capabilities {
  bool queue_login = false;        // QueueLogin / QueueLogout
  bool pause_with_reason = false;  // PauseMember with a reason code
  bool dial = false;
  bool hangup = false;
  bool blind_transfer = false;
  bool attended_transfer = false;
  bool hold = false;  // Hold / Resume
  bool answer = false;
  bool task_routing = false;  // TaskAccept / TaskDecline / TaskComplete
};

// ---------------------------------------------------------------------------------------------
// Commands (host → platform). Values, so the I/O-free agent model can return them as effects.

// Adds `interface` to `queue` as a dynamic member.
struct QueueLogin {
  std::string queue;
  std::string interface;
  std::string member_name;      // optional
  std::string state_interface;  // optional, e.g. "hint:1001@agent-hints"
  bool paused = false;
  std::string reason;  // pause reason when `paused`
};

struct QueueLogout {
  std::string queue;
  std::string interface;
};

// Ready (paused = false) / not ready (paused = true, with a reason) for one member interface.
// An empty `queue` means every queue the interface is a member of.
struct PauseMember {
  std::string interface;
  bool paused = false;
  std::string reason;
  std::string queue;
};

// Places a call from the agent's `endpoint` (a dialable interface) to `number`.
struct Dial {
  std::string endpoint;
  std::string number;
  std::string caller_id;  // optional
};

// Hangs up one channel (the agent's leg of a call).
struct Hangup {
  std::string channel;
};

// Transfers the party bridged with `channel` (the agent's leg) to `target`.
struct Transfer {
  std::string channel;
  std::string target;
  bool attended = false;
};

// Puts the party bridged with `channel` on hold, or takes it off hold.
struct Hold {
  std::string channel;
  bool hold = true;
};

// Answers a ringing offer on the agent's leg `member_channel` (the member channel the ACD dialled,
// as carried by the offer event).
struct Answer {
  std::string member_channel;
  std::string agent_id;
};

// Routing of digital work. `member_channel` is the member leg the ACD dialled (the offer event's
// member channel); how a driver acts on it is the driver's business (AMI: Redirect or Hangup of
// the Local channel's ";2" half, see DESIGN.md).
struct TaskAccept {
  std::string member_channel;
  std::string agent_id;
};

struct TaskDecline {
  std::string member_channel;
};

struct TaskComplete {
  std::string member_channel;
};

// Server side of digital routing (the route mode, DESIGN.md "Digital routing through Asterisk"):
// one virtual call per work item, which the ACD queues and offers like a call. AMI: Originate of
// Local/<queue>@omnibridge-task/n with ChannelId <task_id>-a and OtherChannelId <task_id>-b (so
// the platform refuses a second virtual call for the task while the first lives) and the
// inheritable OB_* variables. Values are plain UTF-8; the driver encodes them as its platform
// needs (AMI percent-encodes url, subject and customer, which Originate would split at commas).
// OK means the platform took the request; whether the virtual call came up shows in the channel
// events that follow (the AMI Originate is asynchronous).
struct RouteTask {
  std::string task_id;  // the interaction id: no commas, semicolons, slashes or spaces
  std::string queue;
  std::string channel;  // chat | email | sms | social
  std::string crm_url;
  std::string subject;
  std::string customer;           // "Name <address>"
  int offer_timeout_seconds = 0;  // the offer's countdown (OB_OFFER_TIMEOUT); 0 = not carried
};

// Ends the virtual call of a routed task (withdrawn, or closed in the CRM). `channel` is the
// virtual call's first leg as the platform named it when known; else the driver finds the leg by
// the task id (AMI: the channel whose Uniqueid is <task_id>-a).
struct WithdrawTask {
  std::string task_id;
  std::string channel;
};

using Command =
    std::variant<QueueLogin, QueueLogout, PauseMember, Dial, Hangup, Transfer, Hold, Answer,
                 TaskAccept, TaskDecline, TaskComplete, RouteTask, WithdrawTask>;

// A short name for logs ("PauseMember", ...).
std::string_view CommandName(const Command& command);

// ---------------------------------------------------------------------------------------------
// Events (platform → host). Normalised across drivers.
//
// Lifetime: events are views. Every std::string_view in an event points into the driver's
// receive buffer and is valid only for the duration of the CtiEventSink::OnEvent call that
// carries it; a sink copies what it keeps.

using VarList = absl::InlinedVector<std::pair<std::string_view, std::string_view>, 8>;

// One channel (one leg of a call) as the platform describes it.
struct ChannelInfo {
  std::string_view channel;   // platform's channel name (an opaque handle: never parse it)
  std::string_view uniqueid;  // id of this leg
  std::string_view linkedid;  // id of the whole call (the oldest leg's uniqueid)
  int state = -1;             // Q.931-ish channel state; 6 = up, 5 = ringing, 4 = ring, -1 unknown
  std::string_view caller_num;
  std::string_view caller_name;
  std::string_view connected_num;
  std::string_view connected_name;
  std::string_view context;
  std::string_view exten;
  VarList vars;  // channel variables the platform attaches (AMI: ChanVariable)

  bool empty() const { return uniqueid.empty() && channel.empty(); }
};

// A queue member's state (one interface in one queue).
struct MemberEvent {
  enum class Kind {
    kStatus,   // device state or any other change (also every member of a resync snapshot)
    kPause,    // paused / unpaused
    kAdded,    // logged in to the queue
    kRemoved,  // logged out of the queue
  };
  Kind kind = Kind::kStatus;
  std::string_view queue;
  std::string_view interface;
  std::string_view member_name;
  std::string_view state_interface;
  bool paused = false;
  std::string_view reason;  // pause reason (empty when not paused or none given)
  int device_status = 0;    // 0 unknown 1 idle 2 in use 3 busy 4 invalid 5 unavailable 6 ringing
                            // 7 ringing+in use 8 on hold
  bool in_call = false;
  bool snapshot = false;  // part of a resync snapshot (not a live change)
};

// The ACD offering a queued call to a member, and what became of that offer.
struct MemberCallEvent {
  enum class Kind {
    kOffered,    // AMI AgentCalled
    kNoAnswer,   // AMI AgentRingNoAnswer: declined or timed out
    kConnected,  // AMI AgentConnect
    kCompleted,  // AMI AgentComplete
    kDumped,     // AMI AgentDump: the member hung up during the announcement
  };
  Kind kind = Kind::kOffered;
  ChannelInfo caller;  // the queued caller's leg; may be empty (AgentComplete after both legs died)
  ChannelInfo member;  // the leg the ACD dialled to the member; may be empty as above
  std::string_view queue;
  std::string_view interface;
  std::string_view member_name;
  std::string_view reason;  // kCompleted: "caller" | "agent" | "transfer"
  absl::Duration ring_time = absl::ZeroDuration();
  absl::Duration hold_time = absl::ZeroDuration();
  absl::Duration talk_time = absl::ZeroDuration();
};

// A caller entering or leaving a queue.
struct QueueCallerEvent {
  enum class Kind { kJoined, kLeft, kAbandoned };
  Kind kind = Kind::kJoined;
  ChannelInfo caller;
  std::string_view queue;
  int position = 0;
};

// Channel life cycle.
struct ChannelEvent {
  enum class Kind {
    kCreated,   // Newchannel
    kState,     // Newstate (or any snapshot refresh)
    kSnapshot,  // a live channel listed by a resync
    kHangup,
    kHold,
    kUnhold,
    kVarSet,  // var_name / var_value set on the channel
  };
  Kind kind = Kind::kState;
  ChannelInfo channel;
  int cause = 0;              // kHangup: Q.850 cause
  std::string_view var_name;  // kVarSet, without the inheritance prefix "_" / "__"
  std::string_view var_value;
};

// Brackets a resynchronisation after (re)connect: between kBegin and kEnd the driver replays the
// platform's current state (members, live channels) as kSnapshot / snapshot events, interleaved
// with live events. A consumer marks what it knows as unconfirmed at kBegin and forgets at kEnd
// what the snapshot did not confirm, so nothing is lost and nothing is announced twice.
struct ResyncEvent {
  enum class Kind { kBegin, kEnd };
  Kind kind = Kind::kBegin;
  bool platform_restarted = false;  // kBegin: the platform restarted since the last sync (if known)
};

using CtiEvent =
    std::variant<MemberEvent, MemberCallEvent, QueueCallerEvent, ChannelEvent, ResyncEvent>;

// Role: receives what a CtiLink learns. Implemented by the agent session.
class CtiEventSink {
 public:
  virtual ~CtiEventSink() = default;
  // Every change of the link's state (never twice the same status in a row).
  virtual void OnLinkStatus(const LinkStatus& status) = 0;
  // One normalised event; see "Lifetime" above.
  virtual void OnEvent(const CtiEvent& event) = 0;
};

// ---------------------------------------------------------------------------------------------

// Role: a connection to one telephony platform, kept up (reconnect, resync) until Stop().
class CtiLink {
 public:
  // Called exactly once per Execute(), on the loop thread, never from inside Execute() itself.
  // Codes: kUnavailable (link not up), kUnimplemented (not in capabilities()), kInvalidArgument,
  // kResourceExhausted (send queue full), kDeadlineExceeded, kAborted (link lost before the
  // answer), kFailedPrecondition / kNotFound / kUnknown (the platform refused, message says why).
  using Completion = absl::AnyInvocable<void(absl::Status) &&>;

  virtual ~CtiLink() = default;

  // Starts connecting; events and status changes go to `sink` (not owned; must outlive the link
  // or the Stop() call). Calling Start twice is an error (kFailedPrecondition).
  virtual absl::Status Start(CtiEventSink* sink) = 0;
  // Closes the connection, fails pending commands with kAborted, and stops retrying. The sink gets
  // no further callbacks. Idempotent.
  virtual void Stop() = 0;

  virtual LinkStatus status() const = 0;
  virtual const Capabilities& capabilities() const = 0;

  // Issues `command`; `done` gets the platform's verdict.
  virtual void Execute(const Command& command, Completion done) = 0;
};

}  // namespace omnibridge::cti
