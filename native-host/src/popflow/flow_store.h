// FlowStore: the agent's flows with their versions (a draft, published versions v1..vN that never
// change, the active one, rollback to any kept version) plus read-only enterprise flows.
//
// Persistence goes through the FlowStorage role so the store stays free of I/O; the host gives
// it DirectoryFlowStorage (popflow/io/directory_storage.h), tests MemoryFlowStorage. One record
// (JSON) per flow. Not thread-safe: event-loop only.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/json.hpp"

#include "base/clock.h"
#include "popflow/popflow.h"

namespace omnibridge::popflow {

// Role: keeps named text records. Keys are [a-z0-9-]{1,64}. Write replaces a record atomically
// (a crash leaves the old or the new record, never half of one).
class FlowStorage {
 public:
  virtual ~FlowStorage() = default;
  virtual absl::StatusOr<std::vector<std::string>> List() = 0;
  virtual absl::StatusOr<std::string> Read(std::string_view key) = 0;
  virtual absl::Status Write(std::string_view key, std::string_view data) = 0;
  virtual absl::Status Remove(std::string_view key) = 0;
};

class MemoryFlowStorage final : public FlowStorage {
 public:
  absl::StatusOr<std::vector<std::string>> List() override;
  absl::StatusOr<std::string> Read(std::string_view key) override;
  absl::Status Write(std::string_view key, std::string_view data) override;
  absl::Status Remove(std::string_view key) override;

  std::map<std::string, std::string>& records() { return records_; }

 private:
  std::map<std::string, std::string> records_;
};

struct FlowVersionInfo {
  int version = 0;
  absl::Time published_at;
};

struct FlowSummary {
  std::string name;
  std::string description;
  std::string trigger_event;
  std::string trigger_name;
  bool enterprise = false;  // read-only, deployed by an administrator
  bool has_draft = false;
  int active_version = 0;  // 0: not deployed (or disabled)
  std::vector<FlowVersionInfo> versions;
};

boost::json::object FlowSummaryToJson(const FlowSummary& s);

struct FlowStoreLimits {
  size_t max_flows = 200;
  size_t max_versions = 50;  // per flow; the oldest inactive version goes first
};

class FlowStore {
 public:
  // Loads every record from `storage` (not owned, must outlive the store). Unreadable or invalid
  // records are skipped and listed in load_errors(), never fatal: one bad file must not stop the
  // agent's other flows.
  static absl::StatusOr<std::unique_ptr<FlowStore>> Open(FlowStorage* storage,
                                                         const base::Clock* clock,
                                                         FlowLimits limits = {},
                                                         FlowStoreLimits store_limits = {});

  // Replaces the enterprise flows (system-wide config or managed storage). Invalid ones are
  // skipped, each with an error in `errors`.
  void SetEnterpriseFlows(const boost::json::array& flows, std::vector<std::string>* errors);

  // Saves a draft (may be incomplete: the designer saves work in progress). Needs an object with
  // a non-empty "name". `diagnostics` receives the validation result of the draft.
  absl::Status SaveDraft(const boost::json::value& flow, std::vector<Diagnostic>* diagnostics);
  // Publishes the draft as the next version and makes it active. Fails (InvalidArgument, with
  // diagnostics) when the draft is invalid.
  absl::StatusOr<int> Publish(std::string_view name, std::vector<Diagnostic>* diagnostics);
  // SaveDraft + Publish: what the designer's Deploy does.
  absl::StatusOr<int> Deploy(const boost::json::value& flow, std::vector<Diagnostic>* diagnostics);
  // Makes an earlier (kept) version the active one.
  absl::Status Rollback(std::string_view name, int version);
  // Stops the flow from running (no active version); versions are kept.
  absl::Status Disable(std::string_view name);
  // Removes a user flow with all its versions.
  absl::Status Delete(std::string_view name);

  std::vector<FlowSummary> List() const;
  // The flow JSON: `version` 0 = the draft, -1 = the active version (else the draft).
  absl::StatusOr<boost::json::object> Get(std::string_view name, int version = -1) const;
  // What the engine runs: enterprise flows, then the active version of each user flow.
  std::vector<std::shared_ptr<const Flow>> ActiveFlows() const;

  const std::vector<std::string>& load_errors() const { return load_errors_; }

  // The storage key of a flow name: a readable slug plus a hash, so any name maps to a safe
  // file name and two names never share one.
  static std::string KeyFor(std::string_view name);

 private:
  struct Version {
    int version = 0;
    absl::Time published_at;
    boost::json::object flow;
    std::shared_ptr<const Flow> compiled;  // only for the active version
  };

  struct Record {
    std::string name;
    std::optional<boost::json::object> draft;
    int active = 0;
    std::vector<Version> versions;
  };

  FlowStore(FlowStorage* storage, const base::Clock* clock, FlowLimits limits,
            FlowStoreLimits store_limits)
      : storage_(storage), clock_(clock), limits_(limits), store_limits_(store_limits) {}

  absl::Status Persist(const Record& record);
  absl::Status Compile(Record& record);
  absl::StatusOr<Record*> Mutable(std::string_view name);
  bool IsEnterprise(std::string_view name) const;

  FlowStorage* storage_;
  const base::Clock* clock_;
  FlowLimits limits_;
  FlowStoreLimits store_limits_;
  std::map<std::string, Record> records_;  // by name
  std::vector<std::shared_ptr<const Flow>> enterprise_;
  std::vector<std::string> load_errors_;
};

}  // namespace omnibridge::popflow
