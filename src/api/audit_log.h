// AuditLog: every protected request becomes an AuditEvent. Events are queued
// and committed by one background thread in batches (group commit), so a GET
// costs a queue push, not an fsync. Flush() makes everything recorded so far
// durable and visible (the audit query endpoints call it first, so callers
// always read their own requests). On a crash, at most the last batch
// interval of events for *reads* is lost; state transitions write their
// audit event inside their own transaction instead.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store.h"

namespace verbatim::api {

class AuditLog {
 public:
  explicit AuditLog(store::Store& store, std::chrono::milliseconds interval = std::chrono::milliseconds(20));
  ~AuditLog();

  void Record(store::AuditEvent e);
  // Blocks until every event recorded before the call is committed.
  void Flush();
  void Stop();  // flushes and joins the writer
  uint64_t write_errors() const;

 private:
  void Run();

  store::Store& store_;
  const std::chrono::milliseconds interval_;

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
