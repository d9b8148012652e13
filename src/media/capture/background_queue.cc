#include "media/capture/background_queue.h"

namespace verbatim::media::capture {

BackgroundQueue::BackgroundQueue() : thread_([this] { Run(); }) {}

BackgroundQueue::~BackgroundQueue() { Shutdown(); }

void BackgroundQueue::Post(Task task) {
  {
    MutexLock lock(mu_);
    if (!stopping_) {
      tasks_.push_back(std::move(task));
      ++posted_;
      work_.notify_one();
      return;
    }
  }
  task();  // after Shutdown: still done, on the caller
}

void BackgroundQueue::Drain() {
  if (std::this_thread::get_id() == thread_.get_id()) return;
  MutexLock lock(mu_);
  const uint64_t target = posted_;
  done_.wait(lock.native(), [&] { mu_.AssertHeld(); return finished_ >= target; });
}

void BackgroundQueue::Shutdown() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  work_.notify_one();
  if (thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) thread_.join();
}

size_t BackgroundQueue::pending() const {
  MutexLock lock(mu_);
  return static_cast<size_t>(posted_ - finished_);
}

void BackgroundQueue::Run() {
  MutexLock lock(mu_);
  for (;;) {
    work_.wait(lock.native(), [&] { mu_.AssertHeld(); return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping, and everything posted has run
    Task task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.Unlock();
    task();
    task = nullptr;  // what it captured goes now, not with the next task
    lock.Lock();
    ++finished_;
    done_.notify_all();
  }
}

}  // namespace verbatim::media::capture
