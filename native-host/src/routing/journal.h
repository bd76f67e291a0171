// The route mode's journal: every accepted work item and each change of its state, in SQLite
// (WAL). A webhook is answered only after its item is committed here, so a router that crashes or
// restarts loses nothing; (source, CRM id) is unique, so nothing is routed twice.
//
// Durability: WAL with synchronous=NORMAL — a commit survives the router process being killed
// (the test kills it with SIGKILL); after a power loss the last commits can be lost (the CRM's
// webhook retry then brings them back, answered 200 or 202 as fits).
// A new item is committed before its webhook is answered; state changes are committed by the
// route service once per turn of its loop (route_service.cc says why that is safe).
// One Journal per file: the database is opened with an exclusive lock, so a second router on the
// same journal fails at start instead of routing everything twice.
//
// Not thread-safe; lives on the event-loop thread. Calls block on disk I/O (short).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "routing/router.h"

struct sqlite3;
struct sqlite3_stmt;

namespace omnibridge::routing {

class Journal {
 public:
  // Opens or creates the journal at `path` (its directory must exist). kUnavailable when another
  // router holds it; kDataLoss when the file is not a journal.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Commits a new item. true = inserted; false = (source, crm_id) is already there (then
  // `*existing` gets that item's interaction id).
  absl::StatusOr<bool> Insert(const TaskRecord& record, std::string* existing);
  // Commits the updates in one transaction.
  absl::Status Apply(const std::vector<JournalUpdate>& updates);

  // Items not finished yet, oldest first.
  absl::StatusOr<std::vector<TaskRecord>> LoadUnfinished();
  // completed / withdrawn / failed counts per queue.
  absl::StatusOr<std::map<std::string, QueueFigures>> FinishedCounts();
  // One item by id (tests, status).
  absl::StatusOr<TaskRecord> Get(const std::string& interaction_id);
  absl::StatusOr<int64_t> Count();

 private:
  explicit Journal(sqlite3* db) : db_(db) {}

  absl::Status Prepare();
  absl::Status Exec(const char* sql);
  absl::Status Error(const char* what) const;

  sqlite3* db_;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* update_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
};

}  // namespace omnibridge::routing
