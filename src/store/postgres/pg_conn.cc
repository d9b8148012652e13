#include "store/postgres/pg_conn.h"

#include <charconv>
#include <cstring>

#include "store/store_errors.h"

namespace verbatim::store::pg {

// ---------------------------------------------------------------- Params

void Params::AddNull() {
  values_.emplace_back(std::nullopt);
  formats_.push_back(0);
}

void Params::AddText(std::string_view v) {
  if (v.find('\0') != std::string_view::npos && error_.ok()) {
    error_ =
        Status::InvalidArgument("bad.request", "A text value contains a NUL character, which the store cannot keep.");
  }
  values_.emplace_back(std::string(v));
  formats_.push_back(0);
}

void Params::AddBinary(std::string_view v) {
  values_.emplace_back(std::string(v));
  formats_.push_back(1);
}

// ---------------------------------------------------------------- Row, Rows

bool Row::IsNull(int col) const { return PQgetisnull(res_, row_, col) != 0; }

int64_t Row::Int(int col) const {
  const char* p = PQgetvalue(res_, row_, col);
  int64_t v = 0;
  std::from_chars(p, p + PQgetlength(res_, row_, col), v);
  return v;
}

std::optional<int64_t> Row::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

bool Row::Bool(int col) const { return PQgetvalue(res_, row_, col)[0] == 't'; }

TimePoint Row::Time(int col) const { return FromUnixMillis(Int(col)); }

std::optional<TimePoint> Row::OptTime(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Time(col);
}

std::string Row::Text(int col) const {
  return std::string(PQgetvalue(res_, row_, col), static_cast<size_t>(PQgetlength(res_, row_, col)));
}

std::string Row::Bytes(int col) const {
  if (IsNull(col)) return {};
  size_t n = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res_, row_, col)), &n);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

int64_t Rows::affected() const {
  if (!res_) return 0;
  const char* n = PQcmdTuples(res_.get());
  int64_t v = 0;
  std::from_chars(n, n + std::strlen(n), v);
  return v;
}

// ---------------------------------------------------------------- Conn

namespace {

void IgnoreNotice(void*, const char*) {}  // "relation already exists, skipping" and the like

bool IsConnectionSqlState(std::string_view s) {
  return s.substr(0, 2) == "08" || s == "57P01" || s == "57P02" || s == "57P03";
}

}  // namespace

Result<std::unique_ptr<Conn>> Conn::Connect(const ConnectOptions& opts, std::string* detail) {
  const std::string connect_timeout = std::to_string(opts.connect_timeout_s);
  const std::string tcp_user_timeout = std::to_string(opts.tcp_user_timeout.count());
  // Our defaults come before "dbname" (the URL, expanded in place), so that
  // the URL's own parameters override them; client_encoding comes after: the
  // store reads and writes UTF-8 whatever the URL says.
  const char* keys[] = {
      "connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval", "keepalives_count",
      "tcp_user_timeout", "application_name", "dbname",          "client_encoding",     nullptr};
  const char* values[] = {connect_timeout.c_str(), "1",    "10",   "3", "3", tcp_user_timeout.c_str(), "verbatim",
                          opts.url.c_str(),        "UTF8", nullptr};
  PGconn* raw = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (raw == nullptr) return Status::Internal("postgres: out of memory while connecting");
  std::unique_ptr<Conn> conn(new Conn(raw));
  if (PQstatus(raw) != CONNECTION_OK) {
    if (detail) *detail = PQerrorMessage(raw);
    return StoreUnavailable("The database cannot be reached.");
  }
  PQsetNoticeProcessor(raw, IgnoreNotice, nullptr);
  // Constant text: our own numbers, not input.
  const std::string setup =
      "SET TIME ZONE 'UTC'; SET statement_timeout = " + std::to_string(opts.statement_timeout.count()) +
      "; SET idle_in_transaction_session_timeout = 60000";
  if (Status s = conn->Script(setup); !s.ok()) {
    if (detail) *detail = conn->last_error();
    return s;
  }
  return conn;
}

Conn::~Conn() { PQfinish(conn_); }

Status Conn::Failure(const PGresult* res, std::string_view sql) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  const char* constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : nullptr;
  last_constraint_ = constraint ? constraint : "";
  last_error_ = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
  while (!last_error_.empty() && (last_error_.back() == '\n' || last_error_.back() == ' ')) last_error_.pop_back();

  if (res == nullptr || PQstatus(conn_) != CONNECTION_OK || IsConnectionSqlState(last_sqlstate_)) {
    broken_ = true;
    return StoreUnavailable("The database connection was lost.");
  }
  // 57014 query_canceled (statement_timeout), 55P03 lock_not_available (lock_timeout).
  if (last_sqlstate_ == "57014" || last_sqlstate_ == "55P03")
    return StoreUnavailable("The database did not answer in time.");
  if (last_sqlstate_ == "53300") return StoreUnavailable("The database has no free connection.");
  if (last_sqlstate_ == "22021" || last_sqlstate_ == "22P05" || last_sqlstate_ == "54000") {
    return Status::InvalidArgument("bad.request",
                                   "A value contains bytes the store cannot keep (invalid UTF-8, or too long).");
  }
  std::string where(sql.substr(0, 80));
  if (sql.size() > 80) where += "...";
  return Status::Internal("postgres " + last_sqlstate_ + ": " + last_error_ + " (in: " + where + ")");
}

Result<std::string> Conn::PrepareCached(std::string_view sql, int nparams) {
  auto it = prepared_.find(std::string(sql));
  if (it != prepared_.end()) return it->second;
  std::string name = "v" + std::to_string(prepared_.size() + 1);
  PGresult* res = PQprepare(conn_, name.c_str(), std::string(sql).c_str(), nparams, nullptr);
  Rows owned(res);
  if (res == nullptr || PQresultStatus(res) != PGRES_COMMAND_OK) return Failure(res, sql);
  prepared_.emplace(std::string(sql), name);
  return name;
}

Result<Rows> Conn::Run(std::string_view sql, const Params& params) {
  if (!params.error().ok()) return params.error();
  STORE_ASSIGN_OR_RETURN(std::string name, PrepareCached(sql, params.size()));
  const int n = params.size();
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  for (int i = 0; i < n; ++i) {
    const auto& v = params.values_[i];
    values[i] = v ? v->data() : nullptr;
    lengths[i] = v ? static_cast<int>(v->size()) : 0;
  }
  PGresult* res = PQexecPrepared(conn_, name.c_str(), n, values.data(), lengths.data(), params.formats_.data(),
                                 /*resultFormat=*/0);
  Rows rows(res);
  const ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Failure(res, sql);
  last_sqlstate_.clear();
  return rows;
}

Result<Rows> Conn::Simple(std::string_view sql) {
  PGresult* res = PQexec(conn_, std::string(sql).c_str());
  Rows rows(res);
  const ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Failure(res, sql);
  last_sqlstate_.clear();
  return rows;
}

Status Conn::Begin(TxnKind kind) {
  switch (kind) {
    case TxnKind::kSingle: return Status::Ok();
    case TxnKind::kRead: return Script("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    case TxnKind::kWrite: return Script("BEGIN");
  }
  return Status::Internal("postgres: unknown transaction kind");
}

Status Conn::Commit() {
  const PGTransactionStatusType st = PQtransactionStatus(conn_);
  if (st == PQTRANS_IDLE) return Status::Ok();  // kSingle: nothing open
  // COMMIT of a failed transaction "succeeds" as a ROLLBACK: never let that pass as a commit.
  if (st == PQTRANS_INERROR) return Status::Internal("postgres: COMMIT of a transaction that had failed");
  return Script("COMMIT");
}

void Conn::Rollback() {
  if (broken() || PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
  // Keep the failure that caused the rollback.
  const std::string state = last_sqlstate_, constraint = last_constraint_, error = last_error_;
  (void)Script("ROLLBACK");
  last_sqlstate_ = state;
  last_constraint_ = constraint;
  last_error_ = error;
}

bool IsRetryableSqlState(std::string_view s) { return s == "40001" || s == "40P01"; }

// ---------------------------------------------------------------- URLs

std::string RedactDatabaseUrl(std::string_view url) {
  std::string out(url);
  const size_t scheme = out.find("://");
  if (scheme == std::string::npos) return "(not a postgresql:// URL)";
  const size_t rest = scheme + 3;
  const size_t query = out.find('?', rest);
  // The last '@' before the query ends the user info (a password may hold '@').
  const size_t at = out.rfind('@', query == std::string::npos ? std::string::npos : query);
  size_t query_start = query;
  if (at != std::string::npos && at >= rest) {
    const size_t colon = out.find(':', rest);
    if (colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, "***");
      if (query_start != std::string::npos) query_start = out.find('?', rest);
    }
  }
  if (query_start == std::string::npos) return out;
  // key=value pairs of the query: hide the values of password-like keys.
  size_t pos = query_start + 1;
  while (pos < out.size()) {
    size_t amp = out.find('&', pos);
    if (amp == std::string::npos) amp = out.size();
    const size_t eq = out.find('=', pos);
    if (eq != std::string::npos && eq < amp) {
      const std::string key = out.substr(pos, eq - pos);
      if (key == "password" || key == "sslpassword") {
        out.replace(eq + 1, amp - eq - 1, "***");
        amp = eq + 4;
      }
    }
    pos = amp + 1;
  }
  return out;
}

Status CheckDatabaseUrl(std::string_view url) {
  if (url.rfind("postgresql://", 0) != 0 && url.rfind("postgres://", 0) != 0) {
    return Status::InvalidArgument("bad.request",
                                   "--database-url must be a PostgreSQL URL: postgresql://USER@HOST:PORT/DATABASE "
                                   "(docs/deployment.md).");
  }
  // libpq's own message may quote the offending part, which can be the
  // password: say what to check instead.
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(std::string(url).c_str(), &err);
  PQfreemem(err);
  if (opts == nullptr) {
    return Status::InvalidArgument("bad.request",
                                   "--database-url is not a valid PostgreSQL URL: check its form "
                                   "(postgresql://USER@HOST:PORT/DATABASE?param=value) and the percent-encoding "
                                   "of special characters in the user name and password (docs/deployment.md).");
  }
  PQconninfoFree(opts);
  return Status::Ok();
}

}  // namespace verbatim::store::pg
