// Where a webhook may be sent: URL parsing and the SSRF check.
//
// A webhook URL is chosen by an API caller, and the server then connects to it
// from inside the operator's network. Unless the operator allows private
// targets (--webhook-allow-private, docs/webhooks.md), every address a host
// resolves to must be a public unicast address: loopback, private, link-local
// (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast and
// reserved ranges are refused, including IPv4 hidden in IPv6 (::ffff:a.b.c.d,
// NAT64, 6to4) and odd IPv4 spellings ("2130706433", "0x7f.1").
//
// Pure functions, safe from any thread; ResolveWebhookTarget blocks for at
// most its timeout.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace verbatim::webhook {

inline constexpr size_t kMaxWebhookUrlLength = 2048;

struct WebhookUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 literal without brackets
  uint16_t port = 0;   // the scheme's default when the URL names none
  std::string target;  // path + query; "/" when the URL has neither
};

// An absolute http(s) URL of at most kMaxWebhookUrlLength printable ASCII
// characters, with a host, an optional port 1..65535, no user:pass@ and no
// #fragment. InvalidArgument "webhook.url.invalid" says which rule failed.
Result<WebhookUrl> ParseWebhookUrl(std::string_view url);

// scheme://host[:port] without the path and query: what messages and logs
// name (a receiver's URL may carry a secret in its path or query).
std::string WebhookOrigin(const WebhookUrl& url);
// The URL back as text: "https://[2001:db8::1]:8443/hook?a=1"; the port only
// when it is not the scheme's default.
std::string FormatWebhookUrl(const WebhookUrl& url);

// Why `a` may not receive webhooks unless private targets are allowed, as a
// short phrase ("loopback", "unspecified", "private", "link-local",
// "carrier-grade NAT", "multicast", "reserved"); nullopt when it may.
std::optional<std::string> ForbiddenAddressReason(const boost::asio::ip::address& a);

// A timeout as people read it in messages: "10 s", "1.5 s", "300 ms".
std::string DescribeTimeout(std::chrono::milliseconds timeout);

// The endpoints `url` may be connected to: its host resolved (IP literals in
// any spelling without DNS), each address checked. One forbidden address
// refuses the whole target (a name that resolves to a public and a private
// address must not be a coin toss): FailedPrecondition
// "webhook.target.forbidden", whose message names the address, the reason and
// the server flag that allows it. A host that does not resolve within
// `timeout`: FailedPrecondition "webhook.target.unresolvable".
Result<std::vector<boost::asio::ip::tcp::endpoint>> ResolveWebhookTarget(const WebhookUrl& url, bool allow_private,
                                                                         std::chrono::milliseconds timeout);

}  // namespace verbatim::webhook
