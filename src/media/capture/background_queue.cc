#include "media/capture/background_queue.h"

namespace verbatim::media::capture {

BackgroundQueue::BackgroundQueue() : thread_([this] { Run(); }) {}

BackgroundQueue::~BackgroundQueue() { Shutdown(); }

void BackgroundQueue::Post(Task task) {
  {
    std::lock_guard lock(mu_);
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
  std::unique_lock lock(mu_);
  const uint64_t target = posted_;
  done_.wait(lock, [&] { return finished_ >= target; });
}

void BackgroundQueue::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_one();
  if (thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) thread_.join();
}

size_t BackgroundQueue::pending() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(posted_ - finished_);
}

void BackgroundQueue::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping, and everything posted has run
    Task task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // what it captured goes now, not with the next task
    lock.lock();
    ++finished_;
    done_.notify_all();
  }
}

}  // namespace verbatim::media::capture
