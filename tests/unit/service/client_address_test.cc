#include "service/client_address.h"

#include <gtest/gtest.h>

namespace verbatim::service {
namespace {

TEST(AddressKey, KeepsIpv4) {
  EXPECT_EQ(AddressKey("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(AddressKey("127.0.0.2"), "127.0.0.2");
}

TEST(AddressKey, CountsIpv4MappedIpv6AsIpv4) {
  EXPECT_EQ(AddressKey("::ffff:203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(AddressKey("::ffff:cb00:7107"), "203.0.113.7") << "the same address in hex";
}

TEST(AddressKey, CountsIpv6ByItsSlash64) {
  EXPECT_EQ(AddressKey("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64") << "same /64, same key";
  EXPECT_EQ(AddressKey("2001:DB8:1:2:aaaa::5"), "2001:db8:1:2::/64") << "any spelling";
  EXPECT_NE(AddressKey("2001:db8:1:3::1"), AddressKey("2001:db8:1:2::1")) << "the next /64 is another key";
  EXPECT_EQ(AddressKey("::1"), "::/64");
  EXPECT_EQ(AddressKey("fe80::1%eth0"), "fe80::/64") << "the zone names our interface, not the peer";
}

TEST(AddressKey, KeepsWhatDoesNotParseButBoundsIt) {
  EXPECT_EQ(AddressKey(""), "");
  EXPECT_EQ(AddressKey("unix:/run/verbatim.sock"), "unix:/run/verbatim.sock");
  EXPECT_EQ(AddressKey(std::string(5000, 'x')).size(), 64u);
}

}  // namespace
}  // namespace verbatim::service
