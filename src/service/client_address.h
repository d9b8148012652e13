// What a client address is counted under, for rate limits and for the
// aggregation of unauthenticated denials (docs/decisions.md "Failed
// authentications are counted per address and per (client, address)").
//
// IPv4 stays as it is; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a
// dual-stack listener reports for IPv4 clients) is its IPv4 address; any
// other IPv6 address is its /64, because one subscriber usually holds a whole
// /64 and could otherwise rotate through 2^64 keys. Anything that does not
// parse (a Unix socket, a test's placeholder) is kept, cut to 64 bytes.
// Pure function, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace verbatim::service {

// "203.0.113.7", "203.0.113.7" for "::ffff:203.0.113.7", "2001:db8:1:2::/64".
std::string AddressKey(std::string_view ip);

}  // namespace verbatim::service
