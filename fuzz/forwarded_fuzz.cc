// libFuzzer target: the client address behind trusted proxies (transports/http/forwarded.h).
// The first input byte picks the header kind and how many field lines the
// rest is split into (at '\n'); the rest is the header, also parsed as a
// --trusted-proxies list. Invariants: nothing crashes; at most max_hops hops;
// a hop parsed as an address re-parses to itself; a peer that is not trusted
// is always its own client address (a stranger's header is never read); the
// resolved address is the peer or one the header named.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "transports/http/forwarded.h"

using namespace verbatim::api;  // NOLINT: fuzz harness

namespace {

[[noreturn]] void Fail(const char* what, std::string_view in) {
  std::fprintf(stderr, "forwarded_fuzz invariant violated: %s\n  input (%zu bytes): %.*s\n", what, in.size(),
               static_cast<int>(std::min<size_t>(in.size(), 2000)), in.data());
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ForwardedHeader kind = (data[0] & 1) ? ForwardedHeader::kForwarded : ForwardedHeader::kXForwardedFor;
  const size_t max_hops = 1 + (data[0] >> 1) % 8;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string_view> lines;
  for (std::string_view rest = in;;) {
    size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }

  const std::vector<Hop> hops = kind == ForwardedHeader::kForwarded ? ForwardedHopsNearestFirst(lines, max_hops)
                                                                     : XForwardedForHopsNearestFirst(lines, max_hops);
  if (hops.size() > max_hops) Fail("more hops than max_hops", in);
  for (size_t i = 0; i < hops.size(); ++i) {
    if (hops[i].kind != Hop::Kind::kAddress) {
      if (i + 1 != hops.size()) Fail("parsing went on past a hop without an address", in);
      continue;
    }
    const std::string text = hops[i].address.to_string();
    auto again = ParseIpNetwork(text);
    if (!again.ok() || again->base != hops[i].address) Fail("a hop address does not re-parse to itself", in);
    if (hops[i].address != CanonicalAddress(hops[i].address)) Fail("a hop address is not canonical", in);
  }

  // Trust everything: the answer is the peer or an address the header named.
  const IpAddress peer = boost::asio::ip::make_address("10.0.0.1");
  const TrustedProxies all(std::vector<IpNetwork>{*ParseIpNetwork("0.0.0.0/0"), *ParseIpNetwork("::/0")});
  ClientAddress c = ResolveClientAddress(peer, lines, kind, all);
  bool named = c.address == peer && !c.forwarded;
  const std::vector<Hop> every = kind == ForwardedHeader::kForwarded
                                     ? ForwardedHopsNearestFirst(lines, kMaxForwardedHops)
                                     : XForwardedForHopsNearestFirst(lines, kMaxForwardedHops);
  for (const Hop& h : every) named = named || (h.kind == Hop::Kind::kAddress && h.address == c.address);
  if (!named) Fail("the client address is neither the peer nor a hop", in);

  // A stranger's header is never read.
  const TrustedProxies only_ten(std::vector<IpNetwork>{*ParseIpNetwork("10.0.0.0/8")});
  const IpAddress stranger = boost::asio::ip::make_address("192.0.2.1");
  ClientAddress s = ResolveClientAddress(stranger, lines, kind, only_ten);
  if (s.forwarded || s.address != stranger) Fail("a stranger chose its address", in);

  // The same bytes as a --trusted-proxies list: an error or networks that print and re-parse.
  auto list = TrustedProxies::Parse(in);
  if (list.ok()) {
    for (const IpNetwork& n : list->networks()) {
      auto back = ParseIpNetwork(n.ToString());
      if (!back.ok() || back->base != n.base || back->prefix != n.prefix) Fail("a network does not round-trip", in);
      if (!n.Contains(n.base)) Fail("a network does not contain its base", in);
    }
  }
  return 0;
}
