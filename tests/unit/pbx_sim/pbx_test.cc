// Queue logic on a fake clock: no sockets, no sleeping.
#include "pbx.h"

#include <map>

#include "gtest/gtest.h"

#include "config.h"

namespace omnibridge::pbxsim {
namespace {

class FakeScheduler : public Scheduler {
 public:
  explicit FakeScheduler(base::FakeClock* clock) : clock_(clock) {}

  TimerId After(absl::Duration delay, std::function<void()> fn) override {
    TimerId id = next_++;
    timers_[id] = {clock_->Now() + delay, std::move(fn)};
    return id;
  }

  void Cancel(TimerId id) override { timers_.erase(id); }

  // Runs due timers in time order, advancing the clock up to `d` from now.
  void Advance(absl::Duration d) {
    absl::Time end = clock_->Now() + d;
    while (true) {
      auto next = timers_.end();
      for (auto it = timers_.begin(); it != timers_.end(); ++it) {
        if (it->second.first <= end &&
            (next == timers_.end() || it->second.first < next->second.first)) {
          next = it;
        }
      }
      if (next == timers_.end())
        break;
      if (next->second.first > clock_->Now())
        clock_->Set(next->second.first);
      auto fn = std::move(next->second.second);
      timers_.erase(next);
      fn();
    }
    clock_->Set(end);
  }

 private:
  base::FakeClock* clock_;
  TimerId next_ = 1;
  std::map<TimerId, std::pair<absl::Time, std::function<void()>>> timers_;
};

class Recorder : public EventSink {
 public:
  void Publish(const AmiMessage& e, absl::string_view) override { events.push_back(e); }

  std::vector<AmiMessage> Named(absl::string_view name) const {
    std::vector<AmiMessage> out;
    for (const auto& e : events) {
      if (e.Get("Event") == name)
        out.push_back(e);
    }
    return out;
  }

  std::vector<AmiMessage> events;
};

class PbxTest : public ::testing::Test {
 protected:
  PbxTest() : scheduler_(&clock_) {}

  void Start(SimConfig config = DefaultConfig()) {
    pbx_ = std::make_unique<Pbx>(config, &clock_, &scheduler_, &sink_, &log_);
  }

  std::vector<AmiMessage> Act(std::vector<std::pair<std::string, std::string>> headers) {
    AmiMessage a;
    for (auto& [k, v] : headers)
      a.Add(k, v);
    auto out = pbx_->HandleAction(a);
    scheduler_.Advance(absl::ZeroDuration());
    return out;
  }

  static std::string Leg2(std::string ch) {
    ch.back() = '2';
    return ch;
  }

  base::FakeClock clock_;
  FakeScheduler scheduler_;
  Recorder sink_;
  QueueLog log_;
  std::unique_ptr<Pbx> pbx_;
};

TEST_F(PbxTest, RrMemoryTimeoutOffersNextMemberThenRetries) {
  Start();
  CallRequest req;
  req.channel = "chat";
  ASSERT_TRUE(pbx_->PlaceCall(req).ok());
  auto called = sink_.Named("AgentCalled");
  ASSERT_EQ(called.size(), 1u);
  EXPECT_EQ(called[0].Get("Interface"), "Local/1001@omnibridge-task/n");
  scheduler_.Advance(absl::Seconds(30));  // queue digital: timeout 30
  auto rna = sink_.Named("AgentRingNoAnswer");
  ASSERT_EQ(rna.size(), 1u);
  EXPECT_EQ(rna[0].Get("RingTime"), "30000");
  called = sink_.Named("AgentCalled");
  ASSERT_EQ(called.size(), 2u);
  EXPECT_EQ(called[1].Get("Interface"), "Local/1002@omnibridge-task/n");
  scheduler_.Advance(absl::Seconds(30));
  EXPECT_EQ(sink_.Named("AgentCalled").size(), 2u) << "retry waits 1 s after a full round";
  scheduler_.Advance(absl::Seconds(1));
  EXPECT_EQ(sink_.Named("AgentCalled").size(), 3u);
}

TEST_F(PbxTest, PausedAndBusyMembersAreSkippedAcrossVoiceAndDigital) {
  Start();
  Act({{"Action", "QueuePause"}, {"Interface", "Local/1001@omnibridge-task/n"}, {"Paused", "1"}});
  CallRequest voice;
  voice.answer_after = 1;
  ASSERT_TRUE(pbx_->PlaceCall(voice).ok());  // ringall: 1001 and 1002 (voice is not paused)
  EXPECT_EQ(sink_.Named("AgentCalled").size(), 2u);
  scheduler_.Advance(absl::Seconds(1));
  auto connect = sink_.Named("AgentConnect");
  ASSERT_EQ(connect.size(), 1u);
  std::string busy_agent = connect[0].Get("MemberName");
  CallRequest chat;
  chat.channel = "chat";
  sink_.events.clear();
  ASSERT_TRUE(pbx_->PlaceCall(chat).ok());
  auto called = sink_.Named("AgentCalled");
  // 1001 is paused on digital and one agent is busy on voice: at most the other one rings.
  for (const auto& c : called) {
    EXPECT_NE(c.Get("MemberName"), busy_agent);
    EXPECT_NE(c.Get("Interface"), "Local/1001@omnibridge-task/n");
  }
}

TEST_F(PbxTest, RingallLoserGetsCancelTwiceAndCause26) {
  Start();
  CallRequest voice;
  ASSERT_TRUE(pbx_->PlaceCall(voice).ok());
  auto called = sink_.Named("AgentCalled");
  ASSERT_EQ(called.size(), 2u);
  Act({{"Action", "Redirect"},
       {"Channel", Leg2(called[0].Get("DestChannel"))},
       {"Context", "agent-answer"},
       {"Exten", "1001"},
       {"Priority", "1"}});
  int cancels = 0;
  for (const auto& e : sink_.Named("DialEnd")) {
    cancels +=
        e.Get("DialStatus") == "CANCEL" && e.Get("DestChannel") == called[1].Get("DestChannel");
  }
  EXPECT_EQ(cancels, 2);
  bool cause26 = false;
  for (const auto& e : sink_.Named("Hangup")) {
    cause26 |= e.Get("Channel") == called[1].Get("DestChannel") && e.Get("Cause") == "26";
  }
  EXPECT_TRUE(cause26);
}

TEST_F(PbxTest, CallerAbandonWhileWaiting) {
  Start();
  Act({{"Action", "QueuePause"}, {"Interface", "Local/1001@agents/n"}, {"Paused", "1"}});
  Act({{"Action", "QueuePause"}, {"Interface", "Local/1002@agents/n"}, {"Paused", "1"}});
  auto info = pbx_->PlaceCall(CallRequest());
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(sink_.Named("AgentCalled").empty());
  clock_.Advance(absl::Seconds(7));
  ASSERT_TRUE(pbx_->HangupLinkedid(info->linkedid).ok());
  auto abandon = sink_.Named("QueueCallerAbandon");
  ASSERT_EQ(abandon.size(), 1u);
  EXPECT_EQ(abandon[0].Get("HoldTime"), "7");
  ASSERT_FALSE(log_.lines().empty());
  EXPECT_NE(log_.lines().back().find("|ABANDON|1|1|7"), std::string::npos);
}

TEST_F(PbxTest, BareAgentCompleteQuirk) {
  SimConfig config = DefaultConfig();
  config.bare_agent_complete_every = 1;
  Start(config);
  CallRequest voice;
  voice.answer_after = 0;
  voice.duration = 2;
  ASSERT_TRUE(pbx_->PlaceCall(voice).ok());
  scheduler_.Advance(absl::Seconds(3));
  auto complete = sink_.Named("AgentComplete");
  ASSERT_EQ(complete.size(), 1u);
  EXPECT_FALSE(complete[0].Has("Channel"));
  EXPECT_FALSE(complete[0].Has("DestChannel"));
  EXPECT_EQ(complete[0].Get("Reason"), "caller");
  EXPECT_EQ(complete[0].Get("TalkTime"), "2");
}

TEST(PbxConfig, ErrorsNameFileAndKey) {
  auto bad = ParseConfig(R"({"queues":[{"name":"q","strategy":"random"}]})", "sim.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sim.json"), absl::string_view::npos);
  EXPECT_NE(bad.status().message().find("queues[0].strategy"), absl::string_view::npos);
  auto unknown = ParseConfig(R"({"manager":{"bogus":1}})", "x.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("manager.bogus"), absl::string_view::npos);
  auto ok = ParseConfig(R"({"queues":[{"name":"sales","strategy":"leastrecent","members":[
      {"interface":"Local/2001@agents/n","membername":"Agent/2001"}]}]})",
                        "ok.json");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->queues.size(), 1u);
  EXPECT_EQ(ok->queues[0].members[0].state_interface, "Local/2001@agents/n");
  EXPECT_EQ(ok->users[0].username, "harmony");  // unspecified sections keep the defaults
}

}  // namespace
}  // namespace omnibridge::pbxsim
