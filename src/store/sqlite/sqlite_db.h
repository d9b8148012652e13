// Thin RAII layer over the SQLite C API: a connection (Db) that caches its
// prepared statements, and a borrowed statement (Stmt) with typed bind/column
// helpers. Times bind and read as integer unix milliseconds.
//
// Not thread-safe: one Db is used by one thread at a time (SqliteStore's
// writer mutex and reader pool guarantee that).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "core/clock.h"
#include "core/status.h"
#include "store/status_macros.h"
#include "store/store.h"


namespace verbatim::store::sqlite {

// Binds as BLOB (bytes kept exactly, NULs included) instead of TEXT.
struct Blob {
  std::string_view bytes;
};

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

// A prepared statement borrowed from a Db's cache; reset and returned to the
// cache on destruction. A prepare or bind failure is kept and reported by the
// next Step()/Run(), so call sites check errors in one place.
class Stmt {
 public:
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  ~Stmt();

  template <class T>
  Stmt& Bind(int index, const T& v) {  // 1-based, like sqlite3_bind_*
    if constexpr (std::is_same_v<T, std::nullopt_t>) {
      BindNull(index);
    } else if constexpr (std::is_same_v<T, bool>) {
      BindInt64(index, v ? 1 : 0);
    } else if constexpr (std::is_integral_v<T>) {
      BindInt64(index, static_cast<int64_t>(v));
    } else if constexpr (std::is_same_v<T, TimePoint>) {
      BindInt64(index, ToUnixMillis(v));
    } else if constexpr (std::is_same_v<T, Blob>) {
      BindBlob(index, v.bytes);
    } else if constexpr (IsOptional<T>::value) {
      if (v) {
        Bind(index, *v);
      } else {
        BindNull(index);
      }
    } else {
      static_assert(std::is_convertible_v<const T&, std::string_view>, "unsupported bind type");
      BindText(index, std::string_view(v));
    }
    return *this;
  }
  template <class... A>
  Stmt& BindAll(const A&... args) {
    int i = 0;
    (Bind(++i, args), ...);
    return *this;
  }

  Result<bool> Step();  // true: a row is ready to read; false: no (more) rows
  Status Run();         // steps to completion, ignoring any rows

  bool IsNull(int col) const;
  int64_t Int(int col) const;
  std::optional<int64_t> OptInt(int col) const;
  TimePoint Time(int col) const;
  std::optional<TimePoint> OptTime(int col) const;
  std::string Text(int col) const;   // NULL reads as ""
  std::string Bytes(int col) const;  // BLOB (or TEXT) bytes exactly

 private:
  friend class Db;
  Stmt(sqlite3_stmt* stmt, bool* cached_in_use) : stmt_(stmt), cached_in_use_(cached_in_use) {}
  explicit Stmt(Status error) : error_(std::move(error)) {}
  void BindNull(int i);
  void BindInt64(int i, int64_t v);
  void BindText(int i, std::string_view v);
  void BindBlob(int i, std::string_view v);
  void Check(int rc, const char* what);
  Status Failure(const char* what) const;

  sqlite3_stmt* stmt_ = nullptr;
  bool* cached_in_use_ = nullptr;  // the cache entry's flag; null: statement owned, finalized here
  Status error_;                   // first prepare/bind failure
};

struct ConnOptions {
  bool read_only = false;
  SyncMode sync = SyncMode::kNormal;
  int busy_timeout_ms = 5000;
};

enum class TxnKind {
  kRead,   // BEGIN: a consistent snapshot for multi-statement reads
  kWrite,  // BEGIN IMMEDIATE: takes the write lock up front, so no upgrade deadlock
};

class Db {
 public:
  // Opens with WAL (writer only; WAL is persistent in the file), foreign_keys=ON,
  // the given synchronous level and busy timeout.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, const ConnOptions& opts);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // From the cache; a fresh, uncached statement if the cached one is in use
  // (nested use of the same SQL).
  Stmt Prepare(std::string_view sql);
  template <class... A>
  Stmt Query(std::string_view sql, const A&... args) {
    Stmt st = Prepare(sql);
    st.BindAll(args...);
    return st;
  }
  template <class... A>
  Status Exec(std::string_view sql, const A&... args) {
    return Query(sql, args...).Run();
  }
  template <class... A>
  Result<bool> Exists(std::string_view sql, const A&... args) {
    return Query(sql, args...).Step();
  }
  // First column of the first row; the statement is reset before returning.
  template <class... A>
  Result<int64_t> QueryInt(std::string_view sql, const A&... args) {
    Stmt st = Query(sql, args...);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Internal("sqlite: expected a row from " + std::string(sql.substr(0, 80)));
    return st.Int(0);
  }
  // Constant multi-statement SQL only (schema steps); never user input.
  Status ExecScript(const char* sql);

  // Runs `body` between BEGIN and COMMIT; rolls back if it fails.
  Status Transaction(TxnKind kind, const std::function<Status(Db&)>& body);
  // Group commit: runs every body in one write transaction, each inside its
  // own savepoint so that a failing body is rolled back alone. out[i] is
  // body i's status; a failed COMMIT fails every body that had succeeded.
  void GroupTransaction(const std::vector<const std::function<Status(Db&)>*>& bodies, std::vector<Status>& out);

  int64_t Changes() const;  // rows changed by the last INSERT/UPDATE/DELETE
  Status Error(std::string_view what) const;
  sqlite3* raw() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}

  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  sqlite3* db_;
  // Keyed by SQL text; node-based, so &entry.in_use stays valid across inserts.
  std::unordered_map<std::string, Cached, SqlHash, std::equal_to<>> cache_;
};

}  // namespace verbatim::store::sqlite
