#include "store/postgres/pg_pool.h"

#include <algorithm>

#include "core/log.h"
#include "store/store_errors.h"

namespace verbatim::store::pg {

using SteadyClock = std::chrono::steady_clock;

Pool::Pool(PoolOptions opts) : opts_(std::move(opts)), backoff_(opts_.backoff_first) {}

Pool::~Pool() = default;  // idle connections close with idle_; leases must have ended

Pool::Lease::~Lease() {
  if (conn_) pool_->Release(std::move(conn_), generation_);
}

Result<Pool::Lease> Pool::Acquire() {
  MutexLock lock(mu_);
  const auto deadline = SteadyClock::now() + opts_.acquire_timeout;
  for (;;) {
    while (!idle_.empty()) {
      Idle idle = std::move(idle_.back());
      idle_.pop_back();
      if (idle.generation == generation_) return Lease(this, std::move(idle.conn), idle.generation);
      --open_;  // from before a breakage: closed (outside the lock) as `idle` goes
      lock.Unlock();
      idle.conn.reset();
      lock.Lock();
    }
    if (open_ < opts_.size) {
      if (SteadyClock::now() < next_attempt_) return StoreUnavailable("The database cannot be reached.");
      ++open_;
      const uint64_t generation = generation_;
      lock.Unlock();
      std::string detail;
      auto conn = Conn::Connect(opts_.connect, &detail);
      lock.Lock();
      if (conn.ok()) {
        ++stats_.connects;
        backoff_ = opts_.backoff_first;
        next_attempt_ = {};
        if (!stats_.reachable) Log(LogLevel::kInfo, "database reachable again", {{"see", "docs/deployment.md"}});
        stats_.reachable = true;
        return Lease(this, std::move(*conn), generation);
      }
      --open_;
      ++stats_.connect_failures;
      next_attempt_ = SteadyClock::now() + backoff_;
      if (stats_.reachable) {
        // Once per outage: the next attempts say nothing until one succeeds.
        Log(LogLevel::kError, "database unreachable: store calls fail with store.unavailable until it is back",
            {{"error", detail}, {"retryInMs", backoff_.count()}, {"see", "docs/deployment.md"}});
      }
      backoff_ = std::min(backoff_ * 2, opts_.backoff_max);
      stats_.reachable = false;
      returned_.notify_all();  // waiters re-check: they fail fast too
      return conn.status();
    }
    if (returned_.wait_until(lock.native(), deadline) == std::cv_status::timeout && idle_.empty() && open_ >= opts_.size) {
      return StoreUnavailable("Every database connection is busy.");
    }
  }
}

void Pool::Release(std::unique_ptr<Conn> conn, uint64_t generation) {
  std::vector<Idle> stale;
  {
    MutexLock lock(mu_);
    if (conn->broken()) {
      ++stats_.broken;
      if (generation == generation_) {
        // The first to see this breakage: the other idle connections are as
        // old as this one and are most likely dead too.
        Log(LogLevel::kWarn, "database connection lost; reconnecting", {{"error", conn->last_error()}});
        ++generation_;
        stale.swap(idle_);
        open_ -= static_cast<int>(stale.size());
      }
      --open_;
    } else if (generation != generation_ || !conn->reusable()) {
      --open_;
    } else {
      idle_.push_back(Idle{std::move(conn), generation});
    }
  }
  returned_.notify_all();
  // `conn` (if not kept) and `stale` close here, outside the lock.
}

Pool::Stats Pool::stats() const {
  MutexLock lock(mu_);
  Stats s = stats_;
  s.open = open_;
  return s;
}

}  // namespace verbatim::store::pg
