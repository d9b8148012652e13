// A bounded pool of PostgreSQL connections with reconnection back-off.
//
// Acquire() hands out an idle connection, or opens a new one while fewer than
// `size` exist, or waits (up to acquire_timeout) for one to come back. While
// the database is down it fails fast: after a failed connect no thread tries
// again before the back-off (backoff_first, doubling to backoff_max) has
// passed, and every Acquire() meanwhile returns Unavailable
// "store.unavailable" at once, so request threads never queue behind
// connection attempts. A connection that broke is thrown away, and with it
// every idle one opened before (after a database restart they are all dead);
// the next Acquire() opens a fresh one.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/mutex.h"
#include "store/postgres/pg_conn.h"

namespace verbatim::store::pg {

struct PoolOptions {
  ConnectOptions connect;
  int size = 8;
  std::chrono::milliseconds acquire_timeout{5000};  // all `size` connections busy: wait this long, then refuse
  std::chrono::milliseconds backoff_first{100};
  std::chrono::milliseconds backoff_max{2000};
};

class Pool {
 public:
  explicit Pool(PoolOptions opts);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A connection on loan; it goes back to the pool (or, broken, away) when the
  // lease ends.
  class Lease {
   public:
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Conn& operator*() const { return *conn_; }
    Conn* operator->() const { return conn_.get(); }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Conn> conn, uint64_t generation)
        : pool_(pool), conn_(std::move(conn)), generation_(generation) {}
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
    uint64_t generation_;
  };

  Result<Lease> Acquire();

  struct Stats {
    uint64_t connects = 0;          // connections opened
    uint64_t connect_failures = 0;  // attempts that failed
    uint64_t broken = 0;            // connections found broken in use
    int open = 0;                   // leased, idle or being opened
    bool reachable = true;          // the last connect attempt succeeded
  };
  Stats stats() const;

 private:
  struct Idle {
    std::unique_ptr<Conn> conn;
    uint64_t generation;
  };
  void Release(std::unique_ptr<Conn> conn, uint64_t generation);

  // Constant after construction.
  const PoolOptions opts_;

  mutable Mutex mu_;
  std::condition_variable returned_;
  std::vector<Idle> idle_ GUARDED_BY(mu_);
  int open_ GUARDED_BY(mu_) = 0;
  // Bumped when a connection breaks: connections of older generations are
  // not reused.
  uint64_t generation_ GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point next_attempt_ GUARDED_BY(mu_){};  // no connect before this
  std::chrono::milliseconds backoff_ GUARDED_BY(mu_);
  Stats stats_ GUARDED_BY(mu_);
};

}  // namespace verbatim::store::pg
