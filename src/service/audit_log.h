// AuditLog: every protected request becomes an AuditEvent. Events are queued
// and committed by one background thread in batches (group commit), so a GET
// costs a queue push, not an fsync. Flush() makes everything recorded so far
// durable and visible (the audit query endpoints call it first, so callers
// always read their own requests). State transitions write their audit event
// inside their own transaction instead.
//
// Fails closed (docs/decisions.md "Audit fails closed"): a batch the store
// refuses is kept and retried with back-off, never dropped. While the writer
// is failing, or while `max_queued` events wait, available() is false and
// the App refuses protected requests (503 audit.unavailable) before doing
// anything. What a kill -9 can still lose: events of reads answered within
// the last batch interval (20 ms), or, while the store is failing, those
// answered before the failure was seen.
//
// Unauthenticated denials go through a DenialAggregator (RecordUnauthenticated)
// so that a flood of garbage costs O(addresses) rows per interval.
//
// Retention: with `retention` > 0 the same thread deletes events older than
// that, in bounded batches, once per `purge_every` (and at start-up), so the
// table stops growing with the request count.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "service/denial_aggregator.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "store/store.h"

namespace verbatim::service {

// Longest request path an audit event keeps; longer ones are cut with a marker.
constexpr size_t kAuditPathMaxBytes = 512;
// `s` if it fits in `max_bytes`, else its first bytes (whole UTF-8 characters)
// followed by "…[truncated, N bytes]".
std::string TruncateForAudit(std::string_view s, size_t max_bytes);

struct AuditLogOptions {
  std::chrono::milliseconds interval{20};  // longest wait before a batch is committed
  std::chrono::hours retention{0};         // 0 = keep every event
  std::chrono::minutes purge_every{60};
  int purge_batch = 5000;                  // events per delete transaction
  int purge_max_batches = 200;             // per round: the writer is shared with the API
  size_t max_queued = 65536;               // events waiting (~1.5 s of the fastest reads): beyond, refuse
  std::chrono::milliseconds retry_first{50};  // back-off after a failed batch, doubling ...
  std::chrono::milliseconds retry_max{2000};  // ... up to this
  std::chrono::seconds stop_grace{10};        // how long Stop() keeps retrying a failing store
  DenialAggregatorOptions aggregation;
};

class AuditLog {
 public:
  AuditLog(store::Store& store, const Clock& clock, AuditLogOptions opts = {});
  ~AuditLog();

  // Queues `e`. Never drops it: the bound is enforced by available(), which
  // the App checks before it does anything for a request.
  void Record(store::AuditEvent e);
  // An unauthenticated denial from `address_key` (AddressKey() of the client):
  // recorded as it is, or counted into its aggregate (see DenialAggregator).
  void RecordUnauthenticated(store::AuditEvent e, std::string_view address_key);
  // Closes the current aggregation interval and waits until every event
  // recorded before the call is committed; false if that took over `timeout`
  // (the store is failing).
  bool Flush(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void Stop();  // flushes (retrying for up to stop_grace) and joins the writer

  // Whether new protected requests may be served: the writer is not failing
  // and fewer than max_queued events wait. Lock-free (every request asks).
  bool available() const {
    return !writer_failing_.load(std::memory_order_relaxed) &&
           queued_.load(std::memory_order_relaxed) < opts_.max_queued;
  }
  struct Health {
    bool available = true;
    bool writer_failing = false;
    bool queue_full = false;
    size_t queued = 0;
    std::chrono::seconds retry_after{0};  // until the writer's next attempt (at least 1 s when unavailable)
  };
  Health health() const;
  uint64_t write_errors() const;   // failed batch commits, each retried
  uint64_t aggregated() const;     // unauthenticated denials folded into an aggregate event
  size_t queued() const { return queued_.load(std::memory_order_relaxed); }
  // One retention round now, on the calling thread: audit events, then
  // change-log entries (docs/changes.md). Returns the audit events deleted.
  int64_t PurgeExpired();

 private:
  void Run();
  void PushLocked(store::AuditEvent e) REQUIRES(mu_);
  void CloseAggregatesLocked(bool force) REQUIRES(mu_);

  // Constant after construction.
  store::Store& store_;
  const Clock& clock_;
  const AuditLogOptions opts_;

  std::chrono::steady_clock::time_point next_purge_;  // writer thread only
  std::vector<store::AuditEvent> inflight_;            // writer thread only: the batch being committed (or retried)

  std::atomic<bool> writer_failing_{false};  // written under mu_, read lock-free
  std::atomic<size_t> queued_{0};            // recorded, not yet committed; written under mu_

  mutable Mutex mu_;
  std::condition_variable wake_;      // writer waits for work
  std::condition_variable committed_; // Flush() waits for progress
  std::deque<store::AuditEvent> queue_ GUARDED_BY(mu_);
  DenialAggregator aggregator_ GUARDED_BY(mu_);
  uint64_t enqueued_ GUARDED_BY(mu_) = 0;     // events ever queued
  uint64_t committed_n_ GUARDED_BY(mu_) = 0;  // events ever committed (or given up at the end of Stop)
  uint64_t errors_ GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point retry_at_ GUARDED_BY(mu_){};  // while failing: the next attempt
  bool writer_done_ GUARDED_BY(mu_) = false;  // the writer has exited (Flush must not wait for it)
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread writer_;
};

// How every transport words a refusal while the audit log cannot record
// (docs/decisions.md "Audit fails closed"):
// "audit-write-failing" or "audit-queue-full" (the explanation's `reason`),
std::string_view AuditUnavailableReason(const AuditLog::Health& h);
// when to retry (at least 1 s),
std::chrono::seconds AuditRetryAfter(const AuditLog::Health& h);
// and the message ("The audit log cannot record requests (...); ... Retry in N s.").
std::string AuditUnavailableMessage(const AuditLog::Health& h);

}  // namespace verbatim::service
