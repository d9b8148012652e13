// AuditLog: every protected request becomes an AuditEvent. Events are queued
// and committed by one background thread in batches (group commit), so a GET
// costs a queue push, not an fsync. Flush() makes everything recorded so far
// durable and visible (the audit query endpoints call it first, so callers
// always read their own requests). On a crash, at most the last batch
// interval of events for *reads* is lost; state transitions write their
// audit event inside their own transaction instead.
//
// Retention: with `retention` > 0 the same thread deletes events older than
// that, in bounded batches, once per `purge_every` (and at start-up), so the
// table stops growing with the request count.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "store/store.h"

namespace verbatim::api {

struct AuditLogOptions {
  std::chrono::milliseconds interval{20};  // longest wait before a batch is committed
  std::chrono::hours retention{0};         // 0 = keep every event
  std::chrono::minutes purge_every{60};
  int purge_batch = 5000;                  // events per delete transaction
  int purge_max_batches = 200;             // per round: the writer is shared with the API
};

class AuditLog {
 public:
  AuditLog(store::Store& store, const Clock& clock, AuditLogOptions opts = {});
  ~AuditLog();

  void Record(store::AuditEvent e);
  // Blocks until every event recorded before the call is committed.
  void Flush();
  void Stop();  // flushes and joins the writer
  uint64_t write_errors() const;
  // One retention round now, on the calling thread; returns the events deleted.
  int64_t PurgeExpired();

 private:
  void Run();

  store::Store& store_;
  const Clock& clock_;
  const AuditLogOptions opts_;
  std::chrono::steady_clock::time_point next_purge_;  // writer thread only

  mutable std::mutex mu_;             // guards everything below
  std::condition_variable wake_;      // writer waits for work
  std::condition_variable committed_; // Flush() waits for progress
  std::deque<store::AuditEvent> queue_;
  uint64_t enqueued_ = 0;   // events ever recorded
  uint64_t committed_n_ = 0;  // events ever committed (or dropped after an error)
  uint64_t errors_ = 0;
  bool stop_ = false;
  std::thread writer_;
};

}  // namespace verbatim::api
