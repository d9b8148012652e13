// BackgroundQueue: one thread that runs posted tasks, one at a time, in the
// order they were posted. The media hub sends it the work that may block on
// the disk or the store (finalizing segment files: fdatasync, rename,
// directory fsync; catalog rows), so that no thread that handles live audio
// ever waits for it.
//
// Ownership: the queue owns its thread; the owner posts tasks that must not
// outlive what they reference (the owner drains or destroys the queue first).
// Shutdown() (and the destructor) runs every task already posted, then joins:
// nothing posted is dropped. A Post() after Shutdown() runs on the caller.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/mutex.h"

namespace verbatim::media::capture {

class BackgroundQueue {
 public:
  using Task = std::function<void()>;

  BackgroundQueue();
  ~BackgroundQueue();  // Shutdown()
  BackgroundQueue(const BackgroundQueue&) = delete;
  BackgroundQueue& operator=(const BackgroundQueue&) = delete;

  // Never waits for a task to run. Tasks must not throw.
  void Post(Task task);
  // Returns once every task posted before the call has run. A no-op on the
  // queue's own thread (a task waiting for itself would never return).
  void Drain();
  // Runs what was posted, then stops the thread. Idempotent; not from two
  // threads at once.
  void Shutdown();
  size_t pending() const;  // posted, not yet finished

 private:
  void Run();

  mutable Mutex mu_;
  std::condition_variable work_;  // a task was posted, or stopping
  std::condition_variable done_;  // a task finished
  std::deque<Task> tasks_ GUARDED_BY(mu_);
  uint64_t posted_ GUARDED_BY(mu_) = 0;
  uint64_t finished_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the state above exists
};

}  // namespace verbatim::media::capture
