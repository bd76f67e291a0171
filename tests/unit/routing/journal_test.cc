#include "routing/journal.h"

#include <filesystem>

#include "gtest/gtest.h"

#include <unistd.h>

namespace omnibridge::routing {
namespace {

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/omni-journal-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/route.db";
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  static TaskRecord Rec(std::string id, std::string crm_id) {
    TaskRecord r;
    r.interaction_id = std::move(id);
    r.source = "crm";
    r.crm_id = std::move(crm_id);
    r.channel = "chat";
    r.queue = "digital";
    r.subject = "it's \"quoted\"";
    r.created = r.updated = absl::FromUnixMicros(1'800'000'000'123'456);
    return r;
  }

  std::string dir_, path_;
};

TEST_F(JournalTest, InsertIsIdempotentBySourceAndCrmId) {
  auto j = Journal::Open(path_);
  ASSERT_TRUE(j.ok()) << j.status();
  std::string existing;
  EXPECT_EQ(*(*j)->Insert(Rec("ob-1", "A"), &existing), true);
  EXPECT_EQ(*(*j)->Insert(Rec("ob-other", "A"), &existing), false);
  EXPECT_EQ(existing, "ob-1");
  EXPECT_EQ(*(*j)->Count(), 1);
}

TEST_F(JournalTest, SurvivesReopenWithStatesAndCounts) {
  {
    auto j = Journal::Open(path_);
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE(*(*j)->Insert(Rec("ob-1", "A"), nullptr));
    ASSERT_TRUE(*(*j)->Insert(Rec("ob-2", "B"), nullptr));
    ASSERT_TRUE(*(*j)->Insert(Rec("ob-3", "C"), nullptr));
    ASSERT_TRUE((*j)->Apply({{"ob-1", TaskState::kAssigned, "Agent/1002", 1, absl::Now()},
                             {"ob-2", TaskState::kCompleted, "Agent/1001", 2, absl::Now()}})
                    .ok());
  }
  auto j = Journal::Open(path_);
  ASSERT_TRUE(j.ok());
  auto unfinished = (*j)->LoadUnfinished();
  ASSERT_TRUE(unfinished.ok());
  ASSERT_EQ(unfinished->size(), 2u);
  EXPECT_EQ((*unfinished)[0].interaction_id, "ob-1");
  EXPECT_EQ((*unfinished)[0].state, TaskState::kAssigned);
  EXPECT_EQ((*unfinished)[0].agent, "Agent/1002");
  EXPECT_EQ((*unfinished)[0].subject, "it's \"quoted\"");
  EXPECT_EQ((*unfinished)[0].created, absl::FromUnixMicros(1'800'000'000'123'456));
  EXPECT_EQ((*unfinished)[1].state, TaskState::kPending);
  auto counts = (*j)->FinishedCounts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)["digital"].completed, 1);
}

TEST_F(JournalTest, ASecondRouterOnTheSameJournalIsRefused) {
  auto first = Journal::Open(path_);
  ASSERT_TRUE(first.ok());
  auto second = Journal::Open(path_);
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
}

TEST_F(JournalTest, NotAJournal) {
  FILE* f = fopen(path_.c_str(), "w");
  fputs("this is not sqlite, just text long enough to have a header.......................", f);
  fclose(f);
  EXPECT_FALSE(Journal::Open(path_).ok());
}

}  // namespace
}  // namespace omnibridge::routing
