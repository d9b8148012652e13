// Thin RAII layer over libpq (the PostgreSQL C client): a connection (Conn)
// that prepares each distinct SQL text once and caches it, parameters bound
// by value (never spliced into SQL), and an owned result (Rows) with typed
// column readers. Times are bigint unix milliseconds, as in the SQLite store.
//
// Every failure becomes a Status the store can return as it is:
//   - the connection is gone or the server is shutting down (SQLSTATE class
//     08, 57P01-03), or a statement ran out of time (57014):
//     Unavailable "store.unavailable", and broken() turns true for the
//     connection-level ones, so the pool throws the connection away;
//   - a value PostgreSQL cannot keep (a NUL in text, invalid UTF-8):
//     InvalidArgument "bad.request";
//   - anything else: Internal, with PostgreSQL's message and the SQL's start
//     (server log only: Internal is never shown to clients).
// last_sqlstate() keeps the SQLSTATE for callers that map a specific one
// (23505 unique_violation, 40001 serialization_failure).
//
// Not thread-safe: one Conn is used by one thread at a time (the pool's
// lease guarantees that).
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/status_macros.h"

namespace verbatim::store::pg {

// Binds as bytea (binary format: bytes kept exactly, NULs included).
struct Bytea {
  std::string_view bytes;
};

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

// Parameters of one statement, $1..$n in order. A text value with a NUL byte
// cannot be sent (libpq reads text parameters as C strings and would cut it
// silently): it is kept as an error that the statement reports.
class Params {
 public:
  template <class T>
  Params& Add(const T& v) {
    if constexpr (std::is_same_v<T, std::nullopt_t>) {
      AddNull();
    } else if constexpr (std::is_same_v<T, bool>) {
      AddText(v ? "true" : "false");
    } else if constexpr (std::is_integral_v<T>) {
      AddText(std::to_string(v));
    } else if constexpr (std::is_same_v<T, TimePoint>) {
      AddText(std::to_string(ToUnixMillis(v)));
    } else if constexpr (std::is_same_v<T, Bytea>) {
      AddBinary(v.bytes);
    } else if constexpr (IsOptional<T>::value) {
      if (v) {
        Add(*v);
      } else {
        AddNull();
      }
    } else {
      static_assert(std::is_convertible_v<const T&, std::string_view>, "unsupported parameter type");
      AddText(std::string_view(v));
    }
    return *this;
  }
  template <class... A>
  static Params Of(const A&... args) {
    Params p;
    (p.Add(args), ...);
    return p;
  }

  int size() const { return static_cast<int>(values_.size()); }
  const Status& error() const { return error_; }

 private:
  friend class Conn;
  void AddNull();
  void AddText(std::string_view v);
  void AddBinary(std::string_view v);

  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;  // 0 text, 1 binary
  Status error_;
};

class Rows;

// One row of a Rows, by column index (0-based).
class Row {
 public:
  bool IsNull(int col) const;
  int64_t Int(int col) const;  // NULL or unparsable reads as 0
  std::optional<int64_t> OptInt(int col) const;
  bool Bool(int col) const;  // 't'
  TimePoint Time(int col) const;
  std::optional<TimePoint> OptTime(int col) const;
  std::string Text(int col) const;   // NULL reads as ""
  std::string Bytes(int col) const;  // a bytea column, unescaped

 private:
  friend class Rows;
  Row(const PGresult* res, int row) : res_(res), row_(row) {}
  const PGresult* res_;
  int row_;
};

// An owned PGresult.
class Rows {
 public:
  Rows() = default;
  explicit Rows(PGresult* res) : res_(res) {}
  int size() const { return res_ ? PQntuples(res_.get()) : 0; }
  bool empty() const { return size() == 0; }
  Row operator[](int i) const { return Row(res_.get(), i); }
  int64_t affected() const;  // rows changed by an INSERT/UPDATE/DELETE

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> res_;
};

struct ConnectOptions {
  std::string url;            // postgresql://…; its own parameters win over the defaults below
  int connect_timeout_s = 3;  // libpq's minimum is 2
  // Per statement, including waits for row locks: a request thread is never
  // held longer than this by the database.
  std::chrono::milliseconds statement_timeout{10'000};
  // A dead peer (a cable pulled, a host gone) is noticed after this long
  // without an answer, instead of the kernel's 15 minutes of retransmissions.
  std::chrono::milliseconds tcp_user_timeout{10'000};
};

enum class TxnKind {
  kSingle,  // one statement on its own (autocommit): no BEGIN/COMMIT round trips
  kRead,    // REPEATABLE READ READ ONLY: one consistent snapshot for multi-statement reads
  kWrite,   // READ COMMITTED; the store takes row or advisory locks where order matters
};

class Conn {
 public:
  // Connects and sets the session up (UTF-8, UTC, statement_timeout).
  // Unavailable "store.unavailable" when the server cannot be reached;
  // `detail` (if given) receives libpq's message for the server log.
  static Result<std::unique_ptr<Conn>> Connect(const ConnectOptions& opts, std::string* detail = nullptr);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs `sql` (prepared once per connection and cached by its text).
  Result<Rows> Run(std::string_view sql, const Params& params);
  template <class... A>
  Result<Rows> Query(std::string_view sql, const A&... args) {
    return Run(sql, Params::Of(args...));
  }
  template <class... A>
  Status Exec(std::string_view sql, const A&... args) {
    return Query(sql, args...).status();
  }
  // Rows changed by an INSERT/UPDATE/DELETE.
  template <class... A>
  Result<int64_t> Affected(std::string_view sql, const A&... args) {
    STORE_ASSIGN_OR_RETURN(Rows rows, Query(sql, args...));
    return rows.affected();
  }
  template <class... A>
  Result<bool> Exists(std::string_view sql, const A&... args) {
    STORE_ASSIGN_OR_RETURN(Rows rows, Query(sql, args...));
    return !rows.empty();
  }
  // First column of the first row.
  template <class... A>
  Result<int64_t> QueryInt(std::string_view sql, const A&... args) {
    STORE_ASSIGN_OR_RETURN(Rows rows, Query(sql, args...));
    if (rows.empty()) return Status::Internal("postgres: expected a row from " + std::string(sql.substr(0, 80)));
    return rows[0].Int(0);
  }
  // Constant SQL only (schema steps, DDL with our own identifiers); never
  // input. Several statements may be separated by ';'. Not prepared: for
  // statements that run once.
  Status Script(std::string_view sql) { return Simple(sql).status(); }
  Result<Rows> Simple(std::string_view sql);

  Status Begin(TxnKind kind);  // kSingle: nothing to do
  Status Commit();
  void Rollback();  // best effort; a broken connection is simply dropped

  bool broken() const { return broken_ || PQstatus(conn_) != CONNECTION_OK; }
  // Idle and outside any transaction: safe to hand to the next caller.
  bool reusable() const { return !broken() && PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  const std::string& last_constraint() const { return last_constraint_; }  // of the last failure, if any
  const std::string& last_error() const { return last_error_; }            // server log only
  PGconn* raw() const { return conn_; }

 private:
  explicit Conn(PGconn* c) : conn_(c) {}
  Result<std::string> PrepareCached(std::string_view sql, int nparams);
  Status Failure(const PGresult* res, std::string_view sql);

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  bool broken_ = false;
  std::string last_sqlstate_;
  std::string last_constraint_;
  std::string last_error_;
};

// True for SQLSTATEs after which the whole transaction may simply run again
// (nothing of it was kept): serialization failures and deadlocks.
bool IsRetryableSqlState(std::string_view sqlstate);

// `url` with its password (user:PASSWORD@, password=…, sslpassword=…)
// replaced by "***": what logs, errors and the CLI may show.
std::string RedactDatabaseUrl(std::string_view url);
// Whether `url` is a PostgreSQL URL libpq accepts (postgresql:// or
// postgres://). InvalidArgument "bad.request" otherwise, saying why without
// repeating the URL.
Status CheckDatabaseUrl(std::string_view url);

}  // namespace verbatim::store::pg
