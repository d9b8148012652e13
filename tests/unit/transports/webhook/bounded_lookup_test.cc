// BoundedLookup (transports/webhook/bounded_lookup.h): a lookup that hangs is
// given up on at its deadline, and hanging lookups cannot pile up past the bound.
#include "transports/webhook/bounded_lookup.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>

namespace verbatim::webhook {
namespace {

using namespace std::chrono_literals;
namespace ip = boost::asio::ip;

// A resolver that answers only once released: a DNS server that hangs. Held
// by shared_ptr: an abandoned lookup's thread may still be inside it when the
// test that made it ends.
class Gate : public std::enable_shared_from_this<Gate> {
 public:
  BoundedLookup::Resolve Resolver() {
    return [self = shared_from_this()](const std::string&, uint16_t port) -> Result<BoundedLookup::Endpoints> {
      std::unique_lock lock(self->mu_);
      self->cv_.wait(lock, [&] { return self->open_; });
      return BoundedLookup::Endpoints{{ip::make_address("192.0.2.7"), port}};
    };
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(BoundedLookup, AnswersWithinTheDeadline) {
  BoundedLookup lookup(
      [](const std::string&, uint16_t port) -> Result<BoundedLookup::Endpoints> {
        return BoundedLookup::Endpoints{{ip::make_address("192.0.2.1"), port}};
      },
      4);
  auto r = lookup.Run("hooks.example", 443, 5s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].port(), 443);
  EXPECT_TRUE(lookup.WaitIdle(5s));
}

TEST(BoundedLookup, NamesWhyALookupFailed) {
  BoundedLookup failing(
      [](const std::string& host, uint16_t) -> Result<BoundedLookup::Endpoints> {
        return Status::FailedPrecondition("webhook.target.unresolvable", "cannot resolve " + host + ": NXDOMAIN");
      },
      4);
  auto r = failing.Run("nowhere.example", 443, 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "webhook.target.unresolvable");
  EXPECT_NE(r.status().message().find("NXDOMAIN"), std::string::npos);
  BoundedLookup empty([](const std::string&, uint16_t) { return Result<BoundedLookup::Endpoints>(BoundedLookup::Endpoints{}); }, 4);
  auto none = empty.Run("void.example", 443, 5s);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no address"), std::string::npos);
}

TEST(BoundedLookup, HangingLookupsTimeOutAndStopAtTheBound) {
  auto gate = std::make_shared<Gate>();
  BoundedLookup lookup(gate->Resolver(), 3);
  for (int i = 0; i < 3; ++i) {
    auto r = lookup.Run("slow.example", 443, 20ms);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("timed out after 20 ms"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(lookup.in_flight(), 3);  // abandoned, still running
  // The fourth does not start a thread: refused at once, saying why.
  auto refused = lookup.Run("slow.example", 443, 5s);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), "webhook.target.unresolvable");
  EXPECT_NE(refused.status().message().find("3 earlier lookups are still waiting"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(lookup.in_flight(), 3);
  // DNS answers: the abandoned threads end, and lookups run again.
  gate->Open();
  ASSERT_TRUE(lookup.WaitIdle(10s));
  EXPECT_EQ(lookup.in_flight(), 0);
  auto again = lookup.Run("slow.example", 443, 5s);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)[0].address().to_string(), "192.0.2.7");
}

TEST(BoundedLookup, AThreadMayOutliveItsLookupObject) {
  auto gate = std::make_shared<Gate>();
  {
    BoundedLookup lookup(gate->Resolver(), 1);
    EXPECT_FALSE(lookup.Run("slow.example", 443, 10ms).ok());
  }  // destroyed while its thread waits on the resolver
  gate->Open();  // the thread finishes into the shared state it holds (ASan checks)
  // Nothing to wait on once the object is gone: a new lookup over the same
  // gate shows the resolver has answered.
  BoundedLookup after(gate->Resolver(), 1);
  EXPECT_TRUE(after.Run("slow.example", 443, 5s).ok());
  EXPECT_TRUE(after.WaitIdle(5s));
}

}  // namespace
}  // namespace verbatim::webhook
