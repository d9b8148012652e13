#include "media/capture/background_queue.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace verbatim::media::capture {
namespace {

// Appends from any thread.
struct Journal {
  std::mutex mu;
  std::vector<std::string> entries;
  void Add(std::string s) {
    std::lock_guard lock(mu);
    entries.push_back(std::move(s));
  }
  std::vector<std::string> Read() {
    std::lock_guard lock(mu);
    return entries;
  }
};

TEST(BackgroundQueue, RunsTasksInPostOrderOnItsOwnThread) {
  BackgroundQueue q;
  Journal j;
  std::vector<std::thread::id> ran_on;
  for (int i = 0; i < 100; ++i)
    q.Post([&, i] {
      ran_on.push_back(std::this_thread::get_id());
      j.Add(std::to_string(i));
    });
  q.Drain();
  auto e = j.Read();
  ASSERT_EQ(e.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(e[static_cast<size_t>(i)], std::to_string(i));
  for (auto id : ran_on) EXPECT_NE(id, std::this_thread::get_id());
  EXPECT_EQ(q.pending(), 0u);
}

TEST(BackgroundQueue, PostNeverWaitsForARunningTaskAndDrainWaitsForAllBeforeIt) {
  BackgroundQueue q;
  Journal j;
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  q.Post([&] {
    started.set_value();
    released.wait();
    j.Add("slow");
  });
  started.get_future().wait();
  q.Post([&] { j.Add("next"); });  // returns although the queue is busy
  EXPECT_EQ(q.pending(), 2u);
  std::thread drainer([&] {
    q.Drain();
    j.Add("drained");
  });
  release.set_value();
  drainer.join();
  EXPECT_EQ(j.Read(), (std::vector<std::string>{"slow", "next", "drained"}));
}

TEST(BackgroundQueue, ShutdownRunsWhatWasPostedThenPostRunsOnTheCaller) {
  Journal j;
  BackgroundQueue q;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  q.Post([&] { released.wait(); });
  for (int i = 0; i < 10; ++i) q.Post([&, i] { j.Add(std::to_string(i)); });
  release.set_value();
  q.Shutdown();
  EXPECT_EQ(j.Read().size(), 10u) << "nothing posted before Shutdown() is dropped";
  std::thread::id ran_on;
  q.Post([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  q.Drain();  // nothing to wait for
}

TEST(BackgroundQueue, DrainFromATaskDoesNotDeadlock) {
  BackgroundQueue q;
  std::promise<void> done;
  q.Post([&] {
    q.Drain();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace
}  // namespace verbatim::media::capture
