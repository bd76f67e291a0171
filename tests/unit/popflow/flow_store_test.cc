#include "popflow/flow_store.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "base/log.h"
#include "popflow/flow.h"

namespace omnibridge::popflow {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::SizeIs;

json::value FlowWithMessage(std::string_view name, std::string_view message) {
  return json::parse(absl::StrCat(
      R"({"schema":"omnibridge.popflow/1","name":")", Av(name),
      R"(","trigger":{"event":"interaction.offered"},"start":"a","nodes":[{"id":"a","kind":"toast","message":")",
      Av(message), R"("}]})"));
}

std::string MessageOf(const Flow& flow) {
  return std::string(flow.Find("a")->Tpl("message")->source());
}

class PopflowStoreTest : public ::testing::Test {
 protected:
  PopflowStoreTest() {
    base::SetLogToStderr(false);
    store_ = *FlowStore::Open(&storage_, &clock_);
  }

  base::FakeClock clock_;
  MemoryFlowStorage storage_;
  std::unique_ptr<FlowStore> store_;
};

TEST_F(PopflowStoreTest, DeployPublishesImmutableVersionsAndRollsBack) {
  ASSERT_EQ(*store_->Deploy(FlowWithMessage("Pop", "one"), nullptr), 1);
  clock_.Advance(absl::Minutes(1));
  ASSERT_EQ(*store_->Deploy(FlowWithMessage("Pop", "two"), nullptr), 2);
  auto active = store_->ActiveFlows();
  ASSERT_THAT(active, SizeIs(1));
  EXPECT_EQ(MessageOf(*active[0]), "two");
  EXPECT_EQ(active[0]->version(), 2);

  ASSERT_TRUE(store_->Rollback("Pop", 1).ok());
  active = store_->ActiveFlows();
  EXPECT_EQ(MessageOf(*active[0]), "one");
  EXPECT_EQ(active[0]->version(), 1);
  // v2 is still there, unchanged.
  EXPECT_EQ(store_->Get("Pop", 2)->at("nodes").as_array()[0].at("message"), "two");
  EXPECT_EQ(store_->Rollback("Pop", 9).code(), absl::StatusCode::kNotFound);

  auto list = store_->List();
  ASSERT_THAT(list, SizeIs(1));
  EXPECT_EQ(list[0].active_version, 1);
  ASSERT_THAT(list[0].versions, SizeIs(2));
  EXPECT_EQ(list[0].versions[1].published_at - list[0].versions[0].published_at, absl::Minutes(1));
  EXPECT_EQ(list[0].trigger_event, "interaction.offered");
}

TEST_F(PopflowStoreTest, DraftsMayBeIncompleteButDoNotRun) {
  std::vector<Diagnostic> diags;
  json::value draft = json::parse(
      R"({"schema":"omnibridge.popflow/1","name":"WIP","trigger":{"event":"interaction.offered"},"start":"a","nodes":[{"id":"a","kind":"toast"}]})");
  ASSERT_TRUE(store_->SaveDraft(draft, &diags).ok());
  EXPECT_FALSE(diags.empty());
  EXPECT_TRUE(store_->ActiveFlows().empty());
  EXPECT_EQ(store_->Get("WIP", 0)->at("name"), "WIP");
  diags.clear();
  auto published = store_->Publish("WIP", &diags);
  EXPECT_EQ(published.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(published.status().message()), HasSubstr("node 'a', field 'message'"));
  EXPECT_FALSE(store_->SaveDraft(json::parse(R"({"nodes":[]})"), nullptr).ok());
}

TEST_F(PopflowStoreTest, FailedDeployKeepsTheStoredDraft) {
  ASSERT_TRUE(store_->SaveDraft(FlowWithMessage("Pop", "draft"), nullptr).ok());
  json::value bad = FlowWithMessage("Pop", "{{");
  EXPECT_FALSE(store_->Deploy(bad, nullptr).ok());
  EXPECT_EQ(store_->Get("Pop", 0)->at("nodes").as_array()[0].at("message"), "draft");
}

TEST_F(PopflowStoreTest, PersistsAndReloads) {
  ASSERT_TRUE(store_->Deploy(FlowWithMessage("Pop", "one"), nullptr).ok());
  ASSERT_TRUE(store_->Deploy(FlowWithMessage("Pop", "two"), nullptr).ok());
  ASSERT_TRUE(store_->Rollback("Pop", 1).ok());
  ASSERT_TRUE(store_->Deploy(FlowWithMessage("Other / name é", "x"), nullptr).ok());
  ASSERT_TRUE(store_->Disable("Other / name é").ok());
  EXPECT_THAT(storage_.records(), SizeIs(2));

  auto reopened = *FlowStore::Open(&storage_, &clock_);
  EXPECT_TRUE(reopened->load_errors().empty());
  auto active = reopened->ActiveFlows();
  ASSERT_THAT(active, SizeIs(1));
  EXPECT_EQ(MessageOf(*active[0]), "one");
  auto list = reopened->List();
  ASSERT_THAT(list, SizeIs(2));
}

TEST_F(PopflowStoreTest, BadRecordsAreSkippedNotFatal) {
  ASSERT_TRUE(store_->Deploy(FlowWithMessage("Good", "ok"), nullptr).ok());
  storage_.records()["junk"] = "not json";
  storage_.records()[FlowStore::KeyFor("Mismatch")] =
      R"({"schema":"omnibridge.popflow-record/1","name":"Other","versions":[]})";
  auto reopened = *FlowStore::Open(&storage_, &clock_);
  EXPECT_THAT(reopened->load_errors(), SizeIs(2));
  EXPECT_THAT(reopened->ActiveFlows(), SizeIs(1));
}

TEST_F(PopflowStoreTest, KeysAreSafeAndDistinct) {
  EXPECT_EQ(FlowStore::KeyFor("VIP pop").substr(0, 8), "vip-pop-");
  EXPECT_NE(FlowStore::KeyFor("a/b"), FlowStore::KeyFor("a b"));
  std::string k = FlowStore::KeyFor("../../etc/passwd");
  EXPECT_EQ(k.find('/'), std::string::npos);
  EXPECT_EQ(k.find('.'), std::string::npos);
  EXPECT_LE(FlowStore::KeyFor(std::string(300, 'x')).size(), 64u);
}

TEST_F(PopflowStoreTest, EnterpriseFlowsAreReadOnlyAndWin) {
  ASSERT_TRUE(store_->Deploy(FlowWithMessage("Shared", "mine"), nullptr).ok());
  std::vector<std::string> errors;
  json::array enterprise{FlowWithMessage("Shared", "admin"), FlowWithMessage("Broken", "{{"),
                         FlowWithMessage("Corp", "corp")};
  store_->SetEnterpriseFlows(enterprise, &errors);
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_THAT(errors[0], HasSubstr("flow 'Broken'"));
  auto active = store_->ActiveFlows();
  ASSERT_THAT(active, SizeIs(2));
  for (const auto& f : active) {
    EXPECT_TRUE(f->enterprise());
    EXPECT_NE(MessageOf(*f), "mine");
  }
  EXPECT_EQ(store_->Deploy(FlowWithMessage("Corp", "hijack"), nullptr).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Rollback("Shared", 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Delete("Corp").code(), absl::StatusCode::kFailedPrecondition);
  auto list = store_->List();
  ASSERT_THAT(list, SizeIs(2));
  EXPECT_TRUE(list[0].enterprise);
}

TEST_F(PopflowStoreTest, VersionAndFlowCountsAreBounded) {
  FlowStoreLimits limits;
  limits.max_versions = 3;
  limits.max_flows = 2;
  auto store = *FlowStore::Open(&storage_, &clock_, {}, limits);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store->Deploy(FlowWithMessage("A", absl::StrCat("m", i)), nullptr).ok());
  }
  auto list = store->List();
  ASSERT_THAT(list[0].versions, SizeIs(3));
  EXPECT_EQ(list[0].versions[0].version, 3);
  EXPECT_EQ(list[0].active_version, 5);
  ASSERT_TRUE(store->Deploy(FlowWithMessage("B", "b"), nullptr).ok());
  EXPECT_EQ(store->Deploy(FlowWithMessage("C", "c"), nullptr).status().code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(store->Delete("B").ok());
  EXPECT_TRUE(store->Deploy(FlowWithMessage("C", "c"), nullptr).ok());
}

}  // namespace
}  // namespace omnibridge::popflow
