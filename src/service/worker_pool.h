// A fixed pool of threads for request handlers that block on the store. The
// HTTP threads hand such requests over and go back to reading sockets, so many
// writes can wait on one group commit at once instead of two (one per core).
// Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/mutex.h"

namespace verbatim::service {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queue);
  ~WorkerPool();  // runs what is queued, then joins

  // False when the queue is full (the caller answers 503).
  bool Post(std::function<void()> task);
  size_t queued() const;

 private:
  void Run();

  const size_t max_queue_;
  mutable Mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace verbatim::service
