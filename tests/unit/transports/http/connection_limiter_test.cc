// Connection caps (transports/http/connection_limiter.h): a global cap, a per-address cap
// keyed by IPv4 address or IPv6 /64, trusted proxies exempt from the latter,
// and places given back when the connection (its Slot) goes.
#include "transports/http/connection_limiter.h"

#include <gtest/gtest.h>

#include <vector>

namespace verbatim::api {
namespace {

IpAddress Ip(const char* s) { return boost::asio::ip::make_address(s); }

TEST(AddressKey, Ipv6CountsByItsSlash64AndMappedIpv4AsIpv4) {
  EXPECT_EQ(AddressKey(Ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey(Ip("2001:db8:1:2:bbbb:cccc:dddd:9")), "2001:db8:1:2::/64");
  EXPECT_NE(AddressKey(Ip("2001:db8:1:3::1")), AddressKey(Ip("2001:db8:1:2::1")));
  EXPECT_EQ(AddressKey(Ip("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(AddressKey(Ip("192.0.2.7")), "192.0.2.7");
}

TEST(ConnectionLimiter, RefusesPastThePerAddressCapButNotOtherAddresses) {
  ConnectionLimiter limiter(100, 2);
  auto a1 = limiter.TryAcquire(Ip("192.0.2.1"), false);
  auto a2 = limiter.TryAcquire(Ip("192.0.2.1"), false);
  ASSERT_TRUE(a1.slot && a2.slot);
  auto a3 = limiter.TryAcquire(Ip("192.0.2.1"), false);
  EXPECT_FALSE(a3.slot);
  EXPECT_EQ(a3.refusal, ConnectionLimiter::Refusal::kPerAddress);
  EXPECT_TRUE(limiter.TryAcquire(Ip("192.0.2.2"), false).slot);
  EXPECT_EQ(limiter.for_address(Ip("192.0.2.1")), 2u);
}

TEST(ConnectionLimiter, OneIpv6SubscriberCannotDodgeTheCapByRotatingItsInterfaceId) {
  ConnectionLimiter limiter(100, 2);
  std::vector<ConnectionLimiter::Slot> held;
  held.push_back(limiter.TryAcquire(Ip("2001:db8:5:6::1"), false).slot);
  held.push_back(limiter.TryAcquire(Ip("2001:db8:5:6::2"), false).slot);
  EXPECT_FALSE(limiter.TryAcquire(Ip("2001:db8:5:6:ffff::3"), false).slot);
  EXPECT_TRUE(limiter.TryAcquire(Ip("2001:db8:5:7::1"), false).slot);
}

TEST(ConnectionLimiter, TheTotalCapAppliesToEveryoneEvenTrustedProxies) {
  ConnectionLimiter limiter(3, 1);
  std::vector<ConnectionLimiter::Slot> held;
  // A trusted proxy is exempt from the per-address cap...
  held.push_back(limiter.TryAcquire(Ip("10.0.0.1"), true).slot);
  held.push_back(limiter.TryAcquire(Ip("10.0.0.1"), true).slot);
  held.push_back(limiter.TryAcquire(Ip("192.0.2.1"), false).slot);
  for (const auto& s : held) ASSERT_TRUE(s);
  // ...not from the total.
  auto refused = limiter.TryAcquire(Ip("10.0.0.1"), true);
  EXPECT_FALSE(refused.slot);
  EXPECT_EQ(refused.refusal, ConnectionLimiter::Refusal::kTotal);
  EXPECT_EQ(limiter.TryAcquire(Ip("192.0.2.9"), false).refusal, ConnectionLimiter::Refusal::kTotal);
  EXPECT_EQ(limiter.total(), 3u);
}

TEST(ConnectionLimiter, ReleasingASlotGivesThePlaceBackAndForgetsIdleAddresses) {
  ConnectionLimiter limiter(2, 1);
  auto a = limiter.TryAcquire(Ip("192.0.2.1"), false);
  ASSERT_TRUE(a.slot);
  auto copy = a.slot;  // an upgraded connection shares its slot
  a.slot.reset();
  EXPECT_EQ(limiter.total(), 1u) << "released only when the last holder goes";
  copy.reset();
  EXPECT_EQ(limiter.total(), 0u);
  EXPECT_EQ(limiter.for_address(Ip("192.0.2.1")), 0u);
  EXPECT_TRUE(limiter.TryAcquire(Ip("192.0.2.1"), false).slot);
}

TEST(ConnectionLimiter, ZeroMeansNoCap) {
  ConnectionLimiter limiter(0, 0);
  std::vector<ConnectionLimiter::Slot> held;
  for (int i = 0; i < 1000; ++i) held.push_back(limiter.TryAcquire(Ip("192.0.2.1"), false).slot);
  for (const auto& s : held) ASSERT_TRUE(s);
  EXPECT_EQ(limiter.total(), 1000u);
}

TEST(ConnectionLimiter, ASlotMayOutliveTheLimiter) {
  ConnectionLimiter::Slot slot;
  {
    ConnectionLimiter limiter(1, 1);
    slot = limiter.TryAcquire(Ip("192.0.2.1"), false).slot;
  }
  slot.reset();  // no use-after-free (ASan would say so)
  SUCCEED();
}

}  // namespace
}  // namespace verbatim::api
