#include "routing/journal.h"

#include <sqlite3.h>

#include "base/log.h"
#include "base/status_macros.h"

namespace omnibridge::routing {
namespace {

constexpr int kSchemaVersion = 1;

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS interactions ("
    "  interaction_id TEXT PRIMARY KEY,"
    "  source TEXT NOT NULL,"
    "  crm_id TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  queue TEXT NOT NULL,"
    "  subject TEXT NOT NULL DEFAULT '',"
    "  customer_name TEXT NOT NULL DEFAULT '',"
    "  customer_address TEXT NOT NULL DEFAULT '',"
    "  url TEXT NOT NULL DEFAULT '',"
    "  data TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL,"
    "  agent TEXT NOT NULL DEFAULT '',"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL,"
    "  UNIQUE (source, crm_id));"
    "CREATE INDEX IF NOT EXISTS interactions_state ON interactions (state);";

constexpr char kColumns[] =
    "interaction_id, source, crm_id, channel, queue, subject, customer_name, customer_address, "
    "url, data, state, agent, attempts, created_us, updated_us";

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s, i));
}

void Bind(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

TaskRecord ReadRow(sqlite3_stmt* s) {
  TaskRecord r;
  r.interaction_id = ColumnText(s, 0);
  r.source = ColumnText(s, 1);
  r.crm_id = ColumnText(s, 2);
  r.channel = ColumnText(s, 3);
  r.queue = ColumnText(s, 4);
  r.subject = ColumnText(s, 5);
  r.customer_name = ColumnText(s, 6);
  r.customer_address = ColumnText(s, 7);
  r.url = ColumnText(s, 8);
  r.data_json = ColumnText(s, 9);
  r.state = ParseTaskState(ColumnText(s, 10)).value_or(TaskState::kPending);
  r.agent = ColumnText(s, 11);
  r.attempts = sqlite3_column_int(s, 12);
  r.created = absl::FromUnixMicros(sqlite3_column_int64(s, 13));
  r.updated = absl::FromUnixMicros(sqlite3_column_int64(s, 14));
  return r;
}

// Resets a statement on every path out of a scope.
struct ResetOnExit {
  sqlite3_stmt* s;

  ~ResetOnExit() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

}  // namespace

absl::Status Journal::Error(const char* what) const {
  const int code = sqlite3_extended_errcode(db_);
  std::string message = base::Cat("journal: ", what, ": ", sqlite3_errmsg(db_));
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(base::Cat(message, " (is another router using this journal?)"));
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return absl::DataLossError(message);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status Journal::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    return Error("exec");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message =
        base::Cat("journal ", path, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return absl::UnavailableError(message);
  }
  std::unique_ptr<Journal> journal(new Journal(db));
  sqlite3_busy_timeout(db, 200);
  // Exclusive: the lock is taken by the first write below and kept, so a second router on the
  // same file fails here. WAL in exclusive mode needs no shared memory file.
  OMNI_RETURN_IF_ERROR(journal->Exec("PRAGMA locking_mode=EXCLUSIVE"));
  OMNI_RETURN_IF_ERROR(journal->Exec("PRAGMA journal_mode=WAL"));
  OMNI_RETURN_IF_ERROR(journal->Exec("PRAGMA synchronous=NORMAL"));
  OMNI_RETURN_IF_ERROR(journal->Exec("BEGIN IMMEDIATE"));
  absl::Status schema = journal->Exec(kSchema);
  if (schema.ok())
    schema = journal->Exec(base::Cat("PRAGMA user_version=", kSchemaVersion).c_str());
  if (!schema.ok()) {
    (void)journal->Exec("ROLLBACK");
    return schema;
  }
  OMNI_RETURN_IF_ERROR(journal->Exec("COMMIT"));
  OMNI_RETURN_IF_ERROR(journal->Prepare());
  return journal;
}

absl::Status Journal::Prepare() {
  auto prep = [&](const std::string& sql, sqlite3_stmt** out) -> absl::Status {
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, out, nullptr) !=
        SQLITE_OK)
      return Error("prepare");
    return absl::OkStatus();
  };
  OMNI_RETURN_IF_ERROR(prep(base::Cat("INSERT INTO interactions (", kColumns,
                                      ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                                      "ON CONFLICT DO NOTHING"),
                            &insert_));
  OMNI_RETURN_IF_ERROR(
      prep("SELECT interaction_id FROM interactions WHERE source = ? AND crm_id = ?", &find_));
  OMNI_RETURN_IF_ERROR(
      prep("UPDATE interactions SET state = ?, agent = ?, attempts = ?, "
           "updated_us = ? WHERE interaction_id = ?",
           &update_));
  OMNI_RETURN_IF_ERROR(prep("BEGIN", &begin_));
  OMNI_RETURN_IF_ERROR(prep("COMMIT", &commit_));
  return absl::OkStatus();
}

Journal::~Journal() {
  for (sqlite3_stmt* s : {insert_, find_, update_, begin_, commit_})
    sqlite3_finalize(s);
  sqlite3_close(db_);
}

absl::StatusOr<bool> Journal::Insert(const TaskRecord& r, std::string* existing) {
  {
    ResetOnExit reset{insert_};
    Bind(insert_, 1, r.interaction_id);
    Bind(insert_, 2, r.source);
    Bind(insert_, 3, r.crm_id);
    Bind(insert_, 4, r.channel);
    Bind(insert_, 5, r.queue);
    Bind(insert_, 6, r.subject);
    Bind(insert_, 7, r.customer_name);
    Bind(insert_, 8, r.customer_address);
    Bind(insert_, 9, r.url);
    Bind(insert_, 10, r.data_json);
    Bind(insert_, 11, std::string(TaskStateName(r.state)));
    Bind(insert_, 12, r.agent);
    sqlite3_bind_int(insert_, 13, r.attempts);
    sqlite3_bind_int64(insert_, 14, absl::ToUnixMicros(r.created));
    sqlite3_bind_int64(insert_, 15, absl::ToUnixMicros(r.updated));
    if (sqlite3_step(insert_) != SQLITE_DONE)
      return Error("insert");
    if (sqlite3_changes(db_) == 1)
      return true;
  }
  ResetOnExit reset{find_};
  Bind(find_, 1, r.source);
  Bind(find_, 2, r.crm_id);
  if (sqlite3_step(find_) == SQLITE_ROW) {
    if (existing != nullptr)
      *existing = ColumnText(find_, 0);
    return false;
  }
  // The id exists under another (source, crm id): only a hash collision does that.
  return absl::AlreadyExistsError("journal: interaction id already used by another work item");
}

absl::Status Journal::Apply(const std::vector<JournalUpdate>& updates) {
  if (updates.empty())
    return absl::OkStatus();
  const bool batch = updates.size() > 1;
  if (batch) {
    ResetOnExit reset{begin_};
    if (sqlite3_step(begin_) != SQLITE_DONE)
      return Error("begin");
  }
  for (const JournalUpdate& u : updates) {
    ResetOnExit reset{update_};
    Bind(update_, 1, std::string(TaskStateName(u.state)));
    Bind(update_, 2, u.agent);
    sqlite3_bind_int(update_, 3, u.attempts);
    sqlite3_bind_int64(update_, 4, absl::ToUnixMicros(u.updated));
    Bind(update_, 5, u.interaction_id);
    if (sqlite3_step(update_) != SQLITE_DONE) {
      absl::Status error = Error("update");
      if (batch)
        (void)Exec("ROLLBACK");
      return error;
    }
  }
  if (batch) {
    ResetOnExit reset{commit_};
    if (sqlite3_step(commit_) != SQLITE_DONE) {
      absl::Status error = Error("commit");
      (void)Exec("ROLLBACK");
      return error;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TaskRecord>> Journal::LoadUnfinished() {
  sqlite3_stmt* s = nullptr;
  const std::string sql =
      base::Cat("SELECT ", kColumns,
                " FROM interactions WHERE state NOT IN ('completed', 'withdrawn', 'failed') "
                "ORDER BY created_us, rowid");
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
    return Error("prepare");
  std::vector<TaskRecord> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    out.push_back(ReadRow(s));
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE)
    return Error("load");
  return out;
}

absl::StatusOr<std::map<std::string, QueueFigures>> Journal::FinishedCounts() {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT queue, state, COUNT(*) FROM interactions WHERE state IN "
                         "('completed', 'withdrawn', 'failed') GROUP BY queue, state",
                         -1, &s, nullptr) != SQLITE_OK)
    return Error("prepare");
  std::map<std::string, QueueFigures> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    QueueFigures& f = out[ColumnText(s, 0)];
    const std::string state = ColumnText(s, 1);
    const int64_t n = sqlite3_column_int64(s, 2);
    if (state == "completed")
      f.completed = n;
    else if (state == "withdrawn")
      f.withdrawn = n;
    else
      f.failed = n;
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE)
    return Error("count");
  return out;
}

absl::StatusOr<TaskRecord> Journal::Get(const std::string& interaction_id) {
  sqlite3_stmt* s = nullptr;
  const std::string sql =
      base::Cat("SELECT ", kColumns, " FROM interactions WHERE interaction_id = ?");
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
    return Error("prepare");
  Bind(s, 1, interaction_id);
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE)
      return absl::NotFoundError("no such interaction");
    return Error("get");
  }
  TaskRecord r = ReadRow(s);
  sqlite3_finalize(s);
  return r;
}

absl::StatusOr<int64_t> Journal::Count() {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM interactions", -1, &s, nullptr) != SQLITE_OK)
    return Error("prepare");
  int64_t n = 0;
  if (sqlite3_step(s) == SQLITE_ROW)
    n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return n;
}

}  // namespace omnibridge::routing
