#include "routing/router.h"

#include <deque>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace omnibridge::routing {
namespace {

using cti::ChannelEvent;
using cti::MemberCallEvent;

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : router_(Options(), now_) {}

  static RouterOptions Options() {
    RouterOptions o;
    o.email_live_max = 2;
    o.max_attempts = 3;
    return o;
  }

  TaskRecord Item(std::string id, std::string channel = "chat", std::string queue = "digital") {
    TaskRecord r;
    r.interaction_id = std::move(id);
    r.source = "crm";
    r.crm_id = r.interaction_id;
    r.channel = std::move(channel);
    r.queue = std::move(queue);
    r.subject = "Order, 42";
    r.customer_name = "Dana";
    r.customer_address = "dana@example.com";
    r.url = "https://crm.example.test/case/42";
    r.created = now_;
    return r;
  }

  RouterEffects Up() {
    RouterEffects out;
    router_.OnLinkStatus({cti::LinkState::kUp, "ami", ""}, now_, out);
    return out;
  }

  RouterEffects Admit(TaskRecord r) {
    RouterEffects out;
    router_.Admit(std::move(r), now_, out);
    return out;
  }

  // Completes every command of `fx` with `status`.
  RouterEffects Done(const RouterEffects& fx, absl::Status status = absl::OkStatus()) {
    RouterEffects out;
    for (const RouterCommand& c : fx.commands)
      router_.OnCommandDone(c, status, now_, out);
    return out;
  }

  RouterEffects Channel(ChannelEvent::Kind kind, const std::string& uniqueid,
                        const std::string& linkedid, const std::string& name = "") {
    ChannelEvent e;
    e.kind = kind;
    e.channel.uniqueid = uniqueid;
    e.channel.linkedid = linkedid;
    e.channel.channel = name;
    RouterEffects out;
    router_.OnEvent(e, now_, out);
    return out;
  }

  // The virtual call of `id` comes up (both legs).
  void Live(const std::string& id) {
    names_.push_back(absl::StrCat("Local/digital@omnibridge-task-0000", id, ";1"));
    uids_.push_back(id + "-a");
    uids_.push_back(id + "-b");
    Channel(ChannelEvent::Kind::kCreated, uids_[uids_.size() - 2], uids_[uids_.size() - 2],
            names_.back());
    Channel(ChannelEvent::Kind::kCreated, uids_.back(), uids_[uids_.size() - 2]);
  }

  RouterEffects Member(MemberCallEvent::Kind kind, const std::string& id,
                       const std::string& agent) {
    strings_.push_back(id + "-b");
    strings_.push_back(id + "-a");
    strings_.push_back(agent);
    MemberCallEvent e;
    e.kind = kind;
    e.caller.uniqueid = strings_[strings_.size() - 3];
    e.caller.linkedid = strings_[strings_.size() - 2];
    e.queue = "digital";
    e.member_name = strings_.back();
    RouterEffects out;
    router_.OnEvent(e, now_, out);
    return out;
  }

  TaskState StateOf(const std::string& id) {
    const TaskRecord* r = router_.Find(id);
    EXPECT_NE(r, nullptr) << id;
    return r ? r->state : TaskState::kFailed;
  }

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  Router router_;
  std::deque<std::string> names_, uids_, strings_;
};

TEST_F(RouterTest, WaitsForTheLinkThenOriginatesTheVirtualCall) {
  RouterEffects fx = Admit(Item("ob-1"));
  EXPECT_TRUE(fx.commands.empty());
  EXPECT_EQ(StateOf("ob-1"), TaskState::kPending);
  fx = Up();
  ASSERT_EQ(fx.commands.size(), 1u);
  const auto* task = std::get_if<cti::RouteTask>(&fx.commands[0].command);
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->task_id, "ob-1");
  EXPECT_EQ(task->queue, "digital");
  EXPECT_EQ(task->channel, "chat");
  EXPECT_EQ(task->customer, "Dana <dana@example.com>");
  EXPECT_EQ(task->subject, "Order, 42");
  EXPECT_EQ(task->crm_url, "https://crm.example.test/case/42");
  EXPECT_EQ(task->offer_timeout_seconds, 30);
  ASSERT_EQ(fx.journal.size(), 1u);
  EXPECT_EQ(fx.journal[0].state, TaskState::kOriginating);
  EXPECT_EQ(fx.journal[0].attempts, 1);
}

TEST_F(RouterTest, FollowsDeclineAcceptComplete) {
  Up();
  RouterEffects fx = Admit(Item("ob-1"));
  Done(fx);
  Live("ob-1");
  EXPECT_EQ(StateOf("ob-1"), TaskState::kQueued);
  Member(MemberCallEvent::Kind::kOffered, "ob-1", "Agent/1001");
  EXPECT_EQ(StateOf("ob-1"), TaskState::kOffered);
  EXPECT_EQ(router_.Find("ob-1")->agent, "Agent/1001");
  Member(MemberCallEvent::Kind::kNoAnswer, "ob-1", "Agent/1001");
  EXPECT_EQ(StateOf("ob-1"), TaskState::kQueued);
  Member(MemberCallEvent::Kind::kOffered, "ob-1", "Agent/1002");
  fx = Member(MemberCallEvent::Kind::kConnected, "ob-1", "Agent/1002");
  EXPECT_EQ(StateOf("ob-1"), TaskState::kAssigned);
  ASSERT_EQ(fx.journal.size(), 1u);
  EXPECT_EQ(fx.journal[0].agent, "Agent/1002");
  fx = Member(MemberCallEvent::Kind::kCompleted, "ob-1", "Agent/1002");
  EXPECT_EQ(StateOf("ob-1"), TaskState::kCompleted);
  EXPECT_EQ(router_.unfinished_count(), 0u);
  EXPECT_EQ(router_.Figures()["digital"].completed, 1);
  // The virtual call's hangups after completion change nothing.
  fx = Channel(ChannelEvent::Kind::kHangup, "ob-1-b", "ob-1-a");
  EXPECT_TRUE(fx.commands.empty());
  EXPECT_TRUE(fx.journal.empty());
}

TEST_F(RouterTest, EmailIsFedJustInTime) {
  Up();
  int originated = 0;
  for (int i = 0; i < 5; ++i)
    originated += Admit(Item(absl::StrCat("ob-e", i), "email")).commands.size();
  EXPECT_EQ(originated, 2);  // email_live_max
  EXPECT_EQ(router_.Figures()["digital"].pending, 3);
  // A chat is not held back by the email backlog.
  EXPECT_EQ(Admit(Item("ob-c", "chat")).commands.size(), 1u);
  // Email 0 is accepted by an agent: a slot frees, email 2 goes.
  Live("ob-e0");
  Member(MemberCallEvent::Kind::kOffered, "ob-e0", "Agent/1001");
  RouterEffects fx = Member(MemberCallEvent::Kind::kConnected, "ob-e0", "Agent/1001");
  ASSERT_EQ(fx.commands.size(), 1u);
  EXPECT_EQ(fx.commands[0].interaction_id, "ob-e2");
  // Another queue has its own slots.
  EXPECT_EQ(Admit(Item("ob-x", "email", "other")).commands.size(), 1u);
}

TEST_F(RouterTest, RoutesAgainWhenTheVirtualCallEndsUnansweredAndGivesUpAfterMaxAttempts) {
  Up();
  RouterEffects fx = Admit(Item("ob-1"));
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_EQ(fx.commands.size(), 1u) << attempt;
    Done(fx);
    Live("ob-1");
    fx = Channel(ChannelEvent::Kind::kHangup, "ob-1-b", "ob-1-a");
    EXPECT_TRUE(fx.commands.empty());  // not before retry_delay
    if (attempt < 3) {
      EXPECT_EQ(StateOf("ob-1"), TaskState::kPending);
      now_ += absl::Seconds(2);
      EXPECT_LE(router_.NextDeadline(), now_);
      fx = RouterEffects();
      router_.OnTimer(now_, fx);
    }
  }
  EXPECT_EQ(StateOf("ob-1"), TaskState::kFailed);
}

TEST_F(RouterTest, ResendsARequestWhoseCallNeverShowsUp) {
  Up();
  RouterEffects fx = Admit(Item("ob-1"));
  Done(fx);
  now_ += absl::Seconds(11);
  fx = RouterEffects();
  router_.OnTimer(now_, fx);
  EXPECT_EQ(StateOf("ob-1"), TaskState::kPending);
  now_ += absl::Seconds(2);
  fx = RouterEffects();
  router_.OnTimer(now_, fx);
  ASSERT_EQ(fx.commands.size(), 1u);
  EXPECT_EQ(router_.Find("ob-1")->attempts, 2);
}

TEST_F(RouterTest, LinkFailureDoesNotCountAsAnAttemptAndWaitsForTheLink) {
  Up();
  RouterEffects fx = Admit(Item("ob-1"));
  RouterEffects down;
  router_.OnLinkStatus({cti::LinkState::kDown, "ami", "gone"}, now_, down);
  fx = Done(fx, absl::AbortedError("CTI link lost"));
  EXPECT_TRUE(fx.commands.empty());
  EXPECT_EQ(StateOf("ob-1"), TaskState::kPending);
  fx = Up();
  ASSERT_EQ(fx.commands.size(), 1u);
}

TEST_F(RouterTest, ResyncKeepsLiveCallsRoutesLostOnesAndCompletesAssignedOnes) {
  Up();
  for (const char* id : {"ob-live", "ob-lost", "ob-done"}) {
    Done(Admit(Item(id)));
    Live(id);
  }
  Member(MemberCallEvent::Kind::kConnected, "ob-done", "Agent/1002");
  RouterEffects fx;
  router_.OnLinkStatus({cti::LinkState::kConnecting, "ami", ""}, now_, fx);
  router_.OnEvent(cti::ResyncEvent{cti::ResyncEvent::Kind::kBegin, true}, now_, fx);
  Channel(ChannelEvent::Kind::kSnapshot, "ob-live-a", "ob-live-a", "Local/x;1");
  fx = RouterEffects();
  router_.OnEvent(cti::ResyncEvent{cti::ResyncEvent::Kind::kEnd, false}, now_, fx);
  EXPECT_EQ(StateOf("ob-live"), TaskState::kQueued);
  EXPECT_EQ(StateOf("ob-lost"), TaskState::kPending);
  EXPECT_EQ(StateOf("ob-done"), TaskState::kCompleted);
  fx = Up();
  ASSERT_EQ(fx.commands.size(), 1u);
  EXPECT_EQ(fx.commands[0].interaction_id, "ob-lost");
}

TEST_F(RouterTest, RestoredItemsAreReconciledAtTheFirstResync) {
  Router fresh(Options(), now_);
  TaskRecord pending = Item("ob-p"), offered = Item("ob-o"), assigned = Item("ob-a");
  offered.state = TaskState::kOffered;
  assigned.state = TaskState::kAssigned;
  fresh.Restore({pending, offered, assigned}, {{"digital", QueueFigures{.completed = 7}}});
  RouterEffects fx;
  fresh.OnEvent(cti::ResyncEvent{cti::ResyncEvent::Kind::kBegin, false}, now_, fx);
  ChannelEvent snap;
  snap.kind = ChannelEvent::Kind::kSnapshot;
  snap.channel.uniqueid = "ob-o-b";
  snap.channel.linkedid = "ob-o-a";
  fresh.OnEvent(snap, now_, fx);
  fresh.OnEvent(cti::ResyncEvent{cti::ResyncEvent::Kind::kEnd, false}, now_, fx);
  EXPECT_EQ(fresh.Find("ob-o")->state, TaskState::kOffered);
  EXPECT_EQ(fresh.Find("ob-a")->state, TaskState::kCompleted);
  EXPECT_EQ(fresh.Find("ob-p")->state, TaskState::kPending);
  EXPECT_TRUE(fx.commands.empty());  // link not up yet
  fx = RouterEffects();
  fresh.OnLinkStatus({cti::LinkState::kUp, "ami", ""}, now_, fx);
  ASSERT_EQ(fx.commands.size(), 1u);
  EXPECT_EQ(fx.commands[0].interaction_id, "ob-p");
  EXPECT_EQ(fresh.Figures()["digital"].completed, 8);
}

TEST_F(RouterTest, CloseWithdrawsOrEnds) {
  Up();
  RouterEffects down;
  // Pending (link down) → withdrawn at once.
  router_.OnLinkStatus({cti::LinkState::kDown, "ami", ""}, now_, down);
  Admit(Item("ob-p"));
  RouterEffects fx;
  ASSERT_TRUE(router_.Close("ob-p", now_, fx).ok());
  EXPECT_EQ(StateOf("ob-p"), TaskState::kWithdrawn);
  // Queued → a WithdrawTask naming the first leg; its hangup makes it withdrawn.
  Up();
  Done(Admit(Item("ob-q")));
  Live("ob-q");
  fx = RouterEffects();
  ASSERT_TRUE(router_.Close("ob-q", now_, fx).ok());
  ASSERT_EQ(fx.commands.size(), 1u);
  const auto* w = std::get_if<cti::WithdrawTask>(&fx.commands[0].command);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->channel, names_.back());
  Channel(ChannelEvent::Kind::kHangup, "ob-q-a", "ob-q-a");
  EXPECT_EQ(StateOf("ob-q"), TaskState::kWithdrawn);
  EXPECT_TRUE(absl::IsNotFound(router_.Close("ob-q", now_, fx)));
}

TEST_F(RouterTest, BareAgentCompleteIsMatchedByQueueAndAgent) {
  Up();
  Done(Admit(Item("ob-1")));
  Live("ob-1");
  Member(MemberCallEvent::Kind::kConnected, "ob-1", "Agent/1002");
  MemberCallEvent bare;
  bare.kind = MemberCallEvent::Kind::kCompleted;
  bare.queue = "digital";
  bare.member_name = "Agent/1002";
  RouterEffects fx;
  router_.OnEvent(bare, now_, fx);
  EXPECT_EQ(StateOf("ob-1"), TaskState::kCompleted);
}

TEST_F(RouterTest, VoiceCallsAreIgnored) {
  Up();
  RouterEffects fx = Channel(ChannelEvent::Kind::kCreated, "1795535033.1", "1795535033.1");
  EXPECT_TRUE(fx.journal.empty());
  fx = Channel(ChannelEvent::Kind::kHangup, "1795535033.1", "1795535033.1");
  EXPECT_TRUE(fx.journal.empty());
}

TEST_F(RouterTest, RoutingRequestsArePacedByTheirAnswers) {
  RouterOptions o = Options();
  o.max_requests_in_flight = 2;
  Router paced(o, now_);
  RouterEffects fx;
  paced.OnLinkStatus({cti::LinkState::kUp, "ami", ""}, now_, fx);
  std::vector<RouterCommand> sent;
  for (int i = 0; i < 5; ++i) {
    RouterEffects admit;
    paced.Admit(Item(absl::StrCat("ob-", i)), now_, admit);
    sent.insert(sent.end(), admit.commands.begin(), admit.commands.end());
  }
  ASSERT_EQ(sent.size(), 2u);
  RouterEffects next;
  paced.OnCommandDone(sent[0], absl::OkStatus(), now_, next);
  ASSERT_EQ(next.commands.size(), 1u);
  EXPECT_EQ(next.commands[0].interaction_id, "ob-2");
  // A full send queue: the item backs off, the slot is free for the next one.
  RouterEffects full;
  paced.OnCommandDone(sent[1], absl::ResourceExhaustedError("AMI send queue is full"), now_, full);
  ASSERT_EQ(full.commands.size(), 1u);
  EXPECT_EQ(full.commands[0].interaction_id, "ob-3");
  EXPECT_EQ(paced.Find("ob-1")->state, TaskState::kPending);
}

}  // namespace
}  // namespace omnibridge::routing
