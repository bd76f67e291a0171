// The simulated Asterisk: channels, Local channel pairs, app_queue's ACD and the reference
// dialplan of shared/fixtures/ami/asterisk-22 (from-test, omnibridge-task, agents, agent-ring,
// agent-answer). It is pure logic: time comes from a Clock, timers from a Scheduler, AMI events
// leave through an EventSink, so tests can drive it without sockets.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/json/array.hpp"

#include "ami_message.h"
#include "base/clock.h"
#include "config.h"
#include "queue_log.h"
#include "scheduler.h"

namespace omnibridge::pbxsim {

// Role: receives every event the PBX raises. `event_class` is the first Privilege class
// ("call", "agent", "dialplan", "system") so that sessions can apply their event masks.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Publish(const AmiMessage& event, absl::string_view event_class) = 0;
};

// Device states as app_queue reports them in QueueMemberStatus' Status.
enum DeviceState : int {
  kDevUnknown = 0,
  kDevNotInUse = 1,
  kDevInUse = 2,
  kDevBusy = 3,
  kDevInvalid = 4,
  kDevUnavailable = 5,
  kDevRinging = 6,
  kDevRingInUse = 7,
  kDevOnHold = 8,
};

absl::string_view DeviceStateName(int state);

// A call placed through the control port or a scenario (not through AMI Originate).
struct CallRequest {
  std::string from = "+15551230001";
  std::string name = "Test Caller";
  std::string to;                 // DNIS: the queue caller's extension; default: the queue name
  std::string queue;              // default: "support" for voice, "digital" otherwise
  std::string channel = "voice";  // voice | chat | email | sms | social ...
  std::string interaction_id;     // digital: default itx-<n>
  std::string subject;
  std::string customer;
  std::string crm_url;
  int offer_timeout = 0;            // OB_OFFER_TIMEOUT; 0 = the queue's member timeout
  std::optional<int> answer_after;  // seconds; the rung member answers by itself
  std::optional<int> duration;      // seconds after connect until the customer hangs up
};

struct CallInfo {
  std::string uniqueid;  // the queue caller (;2) Uniqueid, queue_log's callid
  std::string linkedid;
  std::string channel;  // the customer leg (;1)
  std::string queue_channel;
};

class Pbx {
 public:
  Pbx(SimConfig config, const base::Clock* clock, Scheduler* scheduler, EventSink* sink,
      QueueLog* queue_log);
  ~Pbx();
  Pbx(const Pbx&) = delete;
  Pbx& operator=(const Pbx&) = delete;

  // True for actions this class answers (the session handles login, events, filters, ...).
  static bool HandlesAction(absl::string_view action);
  // Actions that need app_queue, answered "Invalid/unknown command" while booting (quirk 13).
  static bool IsQueueAction(absl::string_view action);

  // Runs one AMI action and returns the packets for the requesting session, in order. Events
  // it raises go to the sink (the AMI server sends them after these packets).
  std::vector<AmiMessage> HandleAction(const AmiMessage& action);

  // Control port.
  absl::StatusOr<CallInfo> PlaceCall(const CallRequest& request);
  absl::Status HangupLinkedid(absl::string_view linkedid);
  absl::Status HangupChannelByName(absl::string_view channel);
  // `agent` is "1001" or a MemberName/Interface: the agent's ringing member leg answers.
  absl::Status AnswerAgent(absl::string_view agent);
  absl::Status HoldAgent(absl::string_view agent, bool hold);
  boost::json::array MembersJson() const;
  boost::json::array ChannelsJson() const;
  // Hangs up every channel and restores the configured members, pauses and database.
  void Reset();

  absl::Time start_time() const { return start_time_; }

  const SimConfig& config() const { return config_; }

 private:
  enum class Role { kCustomer, kQueueCaller, kMemberOne, kMemberTwo };

  struct Channel {
    std::string name;
    std::string uniqueid;
    std::string linkedid;
    int state = 0;
    std::string cid_num = "<unknown>";
    std::string cid_name = "<unknown>";
    std::string conn_num = "<unknown>";
    std::string conn_name = "<unknown>";
    std::string accountcode;
    std::string context;
    std::string exten;
    int priority = 1;
    // Variables by name without the inheritance underscores, in the order they were set.
    std::vector<std::pair<std::string, std::string>> vars;
    std::set<std::string> inheritable;
    absl::Time created;
    std::string application;
    std::string app_data;
    std::string bridge;
    Role role = Role::kCustomer;
    std::string peer;  // the other half of the Local pair
    int call_id = 0;
    std::string device;  // member legs: the Custom device the reference dialplan drives
  };

  struct Member {
    MemberConfig cfg;
    bool dynamic = false;
    int calls_taken = 0;
    int64_t last_call = 0;
    int64_t last_pause = 0;
    int64_t login_time = 0;
    bool paused = false;
    std::string paused_reason;
    bool in_call = false;
  };

  struct Queue {
    QueueConfig cfg;
    std::vector<Member> members;
    std::vector<int> callers;  // waiting call ids in queue order
    size_t rr_next = 0;
    int completed = 0;
    int abandoned = 0;
    int completed_in_sl = 0;
    int abandoned_in_sl = 0;
    int holdtime = 0;
    int talktime = 0;
  };

  struct Attempt {
    std::string interface;  // the member's interface
    std::string one;
    std::string two;
    absl::Time started;
    Scheduler::TimerId timeout_timer = 0;
    Scheduler::TimerId answer_timer = 0;
  };

  struct Call {
    int id = 0;
    std::string queue;
    std::string customer;  // ;1
    std::string caller;    // ;2, the queue caller
    bool waiting = false;
    bool moh = false;
    std::string url;  // Queue()'s URL argument: ENTERQUEUE data1
    absl::Time joined;
    absl::Time connected;
    int orig_position = 1;
    std::vector<Attempt> ringing;
    std::optional<Attempt> agent;
    std::string bridge;
    std::set<std::string> tried;
    Scheduler::TimerId retry_timer = 0;
    Scheduler::TimerId duration_timer = 0;
    std::optional<int> answer_after;
    std::optional<int> duration;
    std::string originate_action_id;
  };

  struct OriginateRequest {
    std::string channel;  // Local/<exten>@<context>[/n]
    std::string context, exten;
    int priority = 1;
    std::string application, data;
    std::string channel_id, other_channel_id;
    std::string cid_num, cid_name;
    std::string account;
    std::vector<std::pair<std::string, std::string>> variables;  // raw names, e.g. __OB_X
    std::string action_id;
    bool has_action_id = false;
    std::string queue_override;  // control-port calls: the queue for a DNIS extension
    std::optional<int> answer_after, duration;
  };

  // Events.
  AmiMessage NewEvent(absl::string_view name, absl::string_view event_class) const;
  void AddSnapshot(AmiMessage* m, const Channel& ch, absl::string_view prefix) const;
  void AddMemberBlock(AmiMessage* m, const Queue& q, const Member& mem) const;
  void Publish(const AmiMessage& m, absl::string_view event_class);
  void ChannelEvent(absl::string_view name, const Channel& ch);
  void TwoChannelEvent(absl::string_view name, const Channel* ch, const Channel& dest,
                       std::vector<std::pair<std::string, std::string>> extra);
  void QueueEvent(absl::string_view name, const Call& call, const Attempt& attempt,
                  std::vector<std::pair<std::string, std::string>> extra, bool bare = false);
  void LogQueue(absl::string_view callid, absl::string_view queue, absl::string_view agent,
                absl::string_view event, std::vector<std::string> data);

  // Channels.
  Channel* FindChannel(absl::string_view name);
  const Channel* FindChannel(absl::string_view name) const;
  Channel* FindByUniqueid(absl::string_view uniqueid);
  Channel& CreateChannel(std::string name, std::string uniqueid, std::string linkedid, int state,
                         std::string context, std::string exten, Role role);
  void SetState(Channel& ch, int state);
  void SetVar(Channel& ch, absl::string_view raw_name, absl::string_view value, bool event);
  std::string GetVar(const Channel& ch, absl::string_view name) const;
  void HangupChannel(absl::string_view name, int cause);
  std::string NextUniqueid();
  std::string NextLocalSuffix();
  std::string NewBridgeId();

  // Devices and members.
  int DeviceStateOf(absl::string_view device) const;
  void SetDevice(const std::string& device, int state);
  int MemberStatus(const Member& mem) const;
  Queue* FindQueue(absl::string_view name);
  Member* FindMember(Queue& q, absl::string_view interface);
  bool MemberAvailable(const Queue& q, const Member& mem, const Call& call) const;
  void PublishMemberStatusChanges(const std::vector<int>& before);
  std::vector<int> SnapshotStatuses() const;

  // The ACD.
  absl::StatusOr<CallInfo> StartOriginate(const OriginateRequest& req);
  void JoinQueue(int call_id, const std::string& queue);
  void ScheduleKick();
  void Kick();
  void TryOffer(Call& call);
  void RingMember(Call& call, Queue& q, Member& mem);
  void AnswerAttempt(int call_id, const std::string& interface);
  void RingNoAnswer(int call_id, const std::string& interface, bool timeout, int cause);
  void CustomerHangup(int call_id, absl::string_view hung_channel, int cause);
  void AgentHangup(int call_id, absl::string_view hung_channel, int cause);
  void CompleteMemberStats(Call& call);
  void FinishQueueStats(Queue& q, int holdtime, int talktime);
  void EndCall(int call_id);
  void HangupRequest(absl::string_view name, int cause);
  Call* FindCall(int id);
  std::string AgentOfInterface(absl::string_view interface) const;

  // Actions.
  std::vector<AmiMessage> ActionOriginate(const AmiMessage& a);
  std::vector<AmiMessage> ActionHangup(const AmiMessage& a);
  std::vector<AmiMessage> ActionRedirect(const AmiMessage& a);
  std::vector<AmiMessage> ActionQueuePause(const AmiMessage& a);
  std::vector<AmiMessage> ActionQueueAdd(const AmiMessage& a);
  std::vector<AmiMessage> ActionQueueRemove(const AmiMessage& a);
  std::vector<AmiMessage> ActionQueueStatus(const AmiMessage& a);
  std::vector<AmiMessage> ActionQueueSummary(const AmiMessage& a);
  std::vector<AmiMessage> ActionCoreShowChannels(const AmiMessage& a);
  std::vector<AmiMessage> ActionStatus(const AmiMessage& a);
  std::vector<AmiMessage> ActionSetvar(const AmiMessage& a);
  std::vector<AmiMessage> ActionGetvar(const AmiMessage& a);
  std::vector<AmiMessage> ActionDb(const AmiMessage& a, absl::string_view name);
  std::vector<AmiMessage> ActionBlindTransfer(const AmiMessage& a);
  std::vector<AmiMessage> ActionCommand(const AmiMessage& a);

  void InitQueues();

  SimConfig config_;
  const base::Clock* clock_;
  Scheduler* scheduler_;
  EventSink* sink_;
  QueueLog* queue_log_;
  absl::Time start_time_;

  std::map<std::string, std::unique_ptr<Channel>> channels_;
  std::map<int, Call> calls_;
  std::vector<Queue> queues_;
  std::map<std::string, int> devices_;
  std::map<std::string, std::string> globals_;
  std::map<std::string, std::string> db_;  // "family/key" -> value
  uint64_t uniqueid_counter_ = 0;
  uint64_t local_counter_ = 0;
  int next_call_id_ = 1;
  int next_interaction_ = 1;
  int agent_complete_count_ = 0;
  bool kick_pending_ = false;
  Scheduler::TimerId kick_timer_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace omnibridge::pbxsim
