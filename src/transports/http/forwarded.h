// Who is the client? The TCP peer, unless the peer is one of our trusted
// reverse proxies: then the proxy's forwarding header names the client.
//
// Only the header the operator names is read (--forwarded-header): a proxy
// that writes X-Forwarded-For passes a client's own `Forwarded` through
// untouched, and the other way round, so reading both would let a client
// choose its address. The list is walked from the right (the hop nearest to
// us), skipping trusted proxies; the first address that is not a trusted
// proxy is the client. A hop that names no address (RFC 7239 `unknown`, an
// obfuscated `_identifier`, a malformed element, an element without `for=`)
// ends the walk at the trusted proxy that reported it: that proxy is the best
// address we can vouch for. Nothing left of an untrusted hop is ever read, so
// a client cannot spoof its address by sending the header itself.
//
// Pure functions over strings (docs/decisions.md "Client address behind
// trusted proxies"); fuzzed by fuzz/forwarded_fuzz.cc.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace verbatim::api {

using IpAddress = boost::asio::ip::address;

// IPv4-mapped IPv6 (::ffff:192.0.2.1, what a dual-stack socket reports for an
// IPv4 peer) as plain IPv4; anything else unchanged.
IpAddress CanonicalAddress(const IpAddress& a);

// An IP network: `base` with the first `prefix` bits significant.
struct IpNetwork {
  IpAddress base;
  unsigned prefix = 0;
  bool Contains(const IpAddress& a) const;  // compares canonical addresses
  std::string ToString() const;             // "10.0.0.0/8"
};

// "10.0.0.0/8", "2001:db8::/32", or one host ("192.0.2.1", "::1"). Host bits
// set beyond the prefix are refused (a typo more often than an intent).
Result<IpNetwork> ParseIpNetwork(std::string_view text);

class TrustedProxies {
 public:
  TrustedProxies() = default;
  explicit TrustedProxies(std::vector<IpNetwork> nets) : nets_(std::move(nets)) {}
  // "CIDR[,CIDR...]" with optional spaces; "" = nobody is trusted.
  static Result<TrustedProxies> Parse(std::string_view list);

  bool Contains(const IpAddress& a) const;
  bool empty() const { return nets_.empty(); }
  const std::vector<IpNetwork>& networks() const { return nets_; }

 private:
  std::vector<IpNetwork> nets_;
};

enum class ForwardedHeader { kXForwardedFor, kForwarded };
const char* ToString(ForwardedHeader h);  // "x-forwarded-for" | "forwarded"
// The --forwarded-header value; nullopt if it is neither name (case-insensitive).
std::optional<ForwardedHeader> ParseForwardedHeaderName(std::string_view name);

// One hop of a forwarding list, as its header states it.
struct Hop {
  enum class Kind {
    kAddress,     // an IP address (a port, if any, is dropped)
    kUnknown,     // RFC 7239 "unknown"
    kObfuscated,  // RFC 7239 "_identifier"
    kMissing,     // a Forwarded element without for=
    kMalformed,   // not valid syntax
  };
  Kind kind = Kind::kMalformed;
  IpAddress address;  // kAddress only, canonical
};

// The hops of the given header field lines, nearest first (the last element
// of the last line first), at most `max_hops` of them. Each parses only the
// elements it returns, from the right: garbage a client put on the left of a
// list never affects the elements proxies appended after it.
std::vector<Hop> ForwardedHopsNearestFirst(std::span<const std::string_view> lines, size_t max_hops);
std::vector<Hop> XForwardedForHopsNearestFirst(std::span<const std::string_view> lines, size_t max_hops);

struct ClientAddress {
  IpAddress address;
  bool forwarded = false;  // named by the forwarding header (not the TCP peer)
};

// The most hops a request may name before the walk stops (at the last
// trusted proxy): bounds the work per request.
inline constexpr size_t kMaxForwardedHops = 32;

// The client address of a request from `peer` whose `header` field lines are
// `lines` (only consulted when `peer` is trusted).
ClientAddress ResolveClientAddress(const IpAddress& peer, std::span<const std::string_view> lines,
                                   ForwardedHeader header, const TrustedProxies& trusted);

}  // namespace verbatim::api
