#include "store/sqlite/sqlite_db.h"

#include <chrono>
#include <thread>
#include <utility>

namespace verbatim::store::sqlite {

// ---------------------------------------------------------------- Stmt

Stmt::Stmt(Stmt&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      cached_in_use_(std::exchange(other.cached_in_use_, nullptr)),
      error_(std::move(other.error_)) {}

Stmt::~Stmt() {
  if (stmt_ == nullptr) return;
  if (cached_in_use_ != nullptr) {
    // Reset also ends the statement's implicit read, so it never pins a snapshot.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *cached_in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

Status Stmt::Failure(const char* what) const {
  sqlite3* db = sqlite3_db_handle(stmt_);
  std::string sql = sqlite3_sql(stmt_);
  if (sql.size() > 80) sql = sql.substr(0, 80) + "...";
  return Status::Internal(std::string("sqlite ") + what + ": " + sqlite3_errmsg(db) + " (" +
                          std::to_string(sqlite3_extended_errcode(db)) + ") in: " + sql);
}

void Stmt::Check(int rc, const char* what) {
  if (rc != SQLITE_OK && error_.ok()) error_ = Failure(what);
}

void Stmt::BindNull(int i) {
  if (stmt_) Check(sqlite3_bind_null(stmt_, i), "bind");
}
void Stmt::BindInt64(int i, int64_t v) {
  if (stmt_) Check(sqlite3_bind_int64(stmt_, i, v), "bind");
}
void Stmt::BindText(int i, std::string_view v) {
  if (stmt_) Check(sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8), "bind");
}
void Stmt::BindBlob(int i, std::string_view v) {
  // A non-null pointer even for empty input, so an empty value is '' and not NULL.
  static const char kEmpty = 0;
  if (stmt_) Check(sqlite3_bind_blob64(stmt_, i, v.empty() ? &kEmpty : v.data(), v.size(), SQLITE_TRANSIENT), "bind");
}

Result<bool> Stmt::Step() {
  if (!error_.ok()) return error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  error_ = Failure("step");
  return error_;
}

Status Stmt::Run() {
  for (;;) {
    STORE_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
std::optional<int64_t> Stmt::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}
TimePoint Stmt::Time(int col) const { return FromUnixMillis(Int(col)); }
std::optional<TimePoint> Stmt::OptTime(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Time(col);
}
std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}
std::string Stmt::Bytes(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (p == nullptr) return {};
  return std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

// ---------------------------------------------------------------- Db

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, const ConnOptions& opts) {
  sqlite3* raw = nullptr;
  // NOMUTEX: SQLite's own per-connection mutex is redundant, we never share a
  // connection between threads at the same time.
  int flags =
      SQLITE_OPEN_NOMUTEX | (opts.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Db> db(new Db(raw));  // owns the handle even on failure, which must be closed too
  if (rc != SQLITE_OK) {
    return Status::Internal("sqlite open '" + path + "': " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, opts.busy_timeout_ms);

  if (!opts.read_only) {
    // Switching a new file to WAL needs an exclusive lock, and SQLite answers
    // BUSY at once (no busy handler: it would deadlock) while another process
    // opens the same new file: try again until the busy timeout.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts.busy_timeout_ms);
    for (;;) {
      Stmt st = db->Prepare("PRAGMA journal_mode=WAL");
      auto row = st.Step();
      if (!row.ok() && (sqlite3_errcode(raw) & 0xff) == SQLITE_BUSY && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // back-off
        continue;
      }
      if (!row.ok()) return row.status();
      if (!*row || st.Text(0) != "wal") return Status::Internal("sqlite: cannot enable WAL on '" + path + "'");
      break;
    }
  }
  // Pragmas take no bound parameters; these are constant strings.
  VERBATIM_RETURN_IF_ERROR(
      db->ExecScript(opts.sync == SyncMode::kFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  VERBATIM_RETURN_IF_ERROR(db->ExecScript("PRAGMA foreign_keys=ON"));
  return db;
}

Db::~Db() {
  for (auto& [sql, c] : cache_) sqlite3_finalize(c.stmt);
  sqlite3_close_v2(db_);
}

Stmt Db::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return Stmt(it->second.stmt, &it->second.in_use);
  }
  const bool cache_it = it == cache_.end();
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), cache_it ? SQLITE_PREPARE_PERSISTENT : 0,
                              &stmt, nullptr);
  if (rc != SQLITE_OK || stmt == nullptr) {
    sqlite3_finalize(stmt);
    return Stmt(Error("prepare '" + std::string(sql.substr(0, 80)) + "'"));
  }
  if (!cache_it) return Stmt(stmt, nullptr);
  auto ins = cache_.emplace(std::string(sql), Cached{stmt, true}).first;
  return Stmt(stmt, &ins->second.in_use);
}

Status Db::ExecScript(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : sqlite3_errmsg(db_);
  sqlite3_free(err);
  return Status::Internal("sqlite exec: " + msg);
}

Status Db::Transaction(TxnKind kind, const std::function<Status(Db&)>& body) {
  VERBATIM_RETURN_IF_ERROR(Exec(kind == TxnKind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN"));
  Status s = body(*this);
  if (s.ok()) {
    s = Exec("COMMIT");
    if (s.ok()) return s;
  }
  // SQLite may already have rolled back on its own (e.g. SQLITE_FULL).
  if (sqlite3_get_autocommit(db_) == 0) (void)Exec("ROLLBACK");
  return s;
}

void Db::GroupTransaction(const std::vector<const std::function<Status(Db&)>*>& bodies, std::vector<Status>& out) {
  out.assign(bodies.size(), Status::Ok());
  Status begin = Exec("BEGIN IMMEDIATE");
  if (!begin.ok()) {
    out.assign(bodies.size(), begin);
    return;
  }
  for (size_t i = 0; i < bodies.size(); ++i) {
    if (sqlite3_get_autocommit(db_) != 0) {  // SQLite aborted the whole transaction
      out[i] = Status::Internal("sqlite: the group transaction was rolled back");
      continue;
    }
    Status s = Exec("SAVEPOINT body");
    if (s.ok()) s = (*bodies[i])(*this);
    if (!s.ok() && sqlite3_get_autocommit(db_) == 0) (void)Exec("ROLLBACK TO body");
    if (sqlite3_get_autocommit(db_) == 0) (void)Exec("RELEASE body");
    out[i] = s;
  }
  if (sqlite3_get_autocommit(db_) != 0) {
    for (auto& s : out)
      if (s.ok()) s = Status::Internal("sqlite: the group transaction was rolled back");
    return;
  }
  Status commit = Exec("COMMIT");
  if (!commit.ok()) {
    if (sqlite3_get_autocommit(db_) == 0) (void)Exec("ROLLBACK");
    for (auto& s : out)
      if (s.ok()) s = commit;
  }
}

int64_t Db::Changes() const { return sqlite3_changes64(db_); }

Status Db::Error(std::string_view what) const {
  return Status::Internal("sqlite " + std::string(what) + ": " + sqlite3_errmsg(db_) + " (" +
                          std::to_string(sqlite3_extended_errcode(db_)) + ")");
}

}  // namespace verbatim::store::sqlite
