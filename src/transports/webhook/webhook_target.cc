#include "transports/webhook/webhook_target.h"
#include "transports/webhook/bounded_lookup.h"

#include <arpa/inet.h>

#include <array>
#include <cstdio>

namespace verbatim::webhook {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// ---- URL ----------------------------------------------------------------

Status InvalidUrl(std::string msg) { return Status::InvalidArgument("webhook.url.invalid", std::move(msg)); }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (Lower(s[i]) != prefix[i]) return false;
  return true;
}

bool IsHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

// "8443" -> 8443; nullopt for anything but 1..65535 in decimal digits.
std::optional<uint16_t> ParsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

uint16_t DefaultPort(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

// ---- Address classes --------------------------------------------------------

enum class AddressClass {
  kPublic,
  kLoopback,
  kUnspecified,
  kPrivate,
  kLinkLocal,
  kCarrierGradeNat,
  kMulticast,
  kReserved,
};

// The reason strings are API: messages and tests quote them.
const char* ReasonText(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic: return "";
    case AddressClass::kLoopback: return "loopback";
    case AddressClass::kUnspecified: return "unspecified";
    case AddressClass::kPrivate: return "private";
    case AddressClass::kLinkLocal: return "link-local";
    case AddressClass::kCarrierGradeNat: return "carrier-grade NAT";
    case AddressClass::kMulticast: return "multicast";
    case AddressClass::kReserved: return "reserved";
  }
  return "reserved";
}

struct V4Range {
  uint32_t base;
  int prefix;
  AddressClass cls;
};

// IANA IPv4 special-purpose registry, minus what is meant to be reachable.
constexpr V4Range kV4Ranges[] = {
    {0x00000000, 8, AddressClass::kUnspecified},       // 0.0.0.0/8 "this network"
    {0x7f000000, 8, AddressClass::kLoopback},          // 127.0.0.0/8
    {0x0a000000, 8, AddressClass::kPrivate},           // 10.0.0.0/8
    {0xac100000, 12, AddressClass::kPrivate},          // 172.16.0.0/12
    {0xc0a80000, 16, AddressClass::kPrivate},          // 192.168.0.0/16
    {0xa9fe0000, 16, AddressClass::kLinkLocal},        // 169.254.0.0/16, cloud metadata among them
    {0x64400000, 10, AddressClass::kCarrierGradeNat},  // 100.64.0.0/10
    {0xe0000000, 4, AddressClass::kMulticast},         // 224.0.0.0/4
    {0xf0000000, 4, AddressClass::kReserved},          // 240.0.0.0/4 and 255.255.255.255
    {0xc0000000, 24, AddressClass::kReserved},         // 192.0.0.0/24 IETF protocol assignments
    {0xc0000200, 24, AddressClass::kReserved},         // 192.0.2.0/24 documentation
    {0xc6336400, 24, AddressClass::kReserved},         // 198.51.100.0/24 documentation
    {0xcb007100, 24, AddressClass::kReserved},         // 203.0.113.0/24 documentation
    {0xc6120000, 15, AddressClass::kReserved},         // 198.18.0.0/15 benchmarking
    {0xc0586300, 24, AddressClass::kReserved},         // 192.88.99.0/24 6to4 relay anycast (deprecated)
};

AddressClass ClassifyV4(uint32_t a) {
  for (const V4Range& r : kV4Ranges) {
    const uint32_t mask = r.prefix == 0 ? 0 : ~uint32_t{0} << (32 - r.prefix);
    if ((a & mask) == r.base) return r.cls;
  }
  return AddressClass::kPublic;
}

uint32_t V4At(const std::array<unsigned char, 16>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}

bool ZeroBytes(const std::array<unsigned char, 16>& b, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i)
    if (b[i] != 0) return false;
  return true;
}

AddressClass ClassifyV6(const asio::ip::address_v6& a) {
  const std::array<unsigned char, 16> b = a.to_bytes();
  if (ZeroBytes(b, 0, 16)) return AddressClass::kUnspecified;             // ::
  if (ZeroBytes(b, 0, 15) && b[15] == 1) return AddressClass::kLoopback;  // ::1
  // IPv4 carried inside IPv6 reaches the IPv4 host: judge that host.
  if (ZeroBytes(b, 0, 10) && b[10] == 0xff && b[11] == 0xff) return ClassifyV4(V4At(b, 12));  // ::ffff:a.b.c.d
  if (ZeroBytes(b, 0, 12)) return ClassifyV4(V4At(b, 12));                                    // ::a.b.c.d
  if (ZeroBytes(b, 0, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
    return ClassifyV4(V4At(b, 12));  // ::ffff:0:a.b.c.d (SIIT)
  if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    if (ZeroBytes(b, 4, 12)) return ClassifyV4(V4At(b, 12));    // 64:ff9b::/96 NAT64
    if (b[4] == 0 && b[5] == 1) return AddressClass::kPrivate;  // 64:ff9b:1::/48 local NAT64
  }
  if (b[0] == 0x20 && b[1] == 0x02) return ClassifyV4(V4At(b, 2));             // 2002:a.b.c.d::/48 6to4
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::kPrivate;                    // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;    // fec0::/10 site-local (deprecated)
  if (b[0] == 0xff) return AddressClass::kMulticast;                           // ff00::/8
  if ((b[0] & 0xe0) != 0x20) return AddressClass::kReserved;                   // outside 2000::/3 global unicast
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return AddressClass::kReserved;  // 2001:db8::/32
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02) return AddressClass::kReserved;  // 2001::/23, Teredo among them
  if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0) return AddressClass::kReserved;  // 3fff::/20 documentation
  return AddressClass::kPublic;
}

AddressClass Classify(const asio::ip::address& a) {
  return a.is_v4() ? ClassifyV4(a.to_v4().to_uint()) : ClassifyV6(a.to_v6());
}

// ---- Resolution -------------------------------------------------------------

// An IP literal in any spelling getaddrinfo or a browser would accept, so that
// "2130706433", "0x7f.1", "0177.0.0.1" and "127.1" are judged as the address
// they are, without asking DNS.
std::optional<asio::ip::address> LiteralAddress(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::address a = asio::ip::make_address(host, ec);
  if (!ec) return a;
  in_addr v4{};
  if (!host.empty() && inet_aton(host.c_str(), &v4) == 1) return asio::ip::address_v4(ntohl(v4.s_addr));
  return std::nullopt;
}

// Every webhook's lookups share one bound: a hanging resolver costs at most
// this many threads, and later attempts fail fast (and are retried later).
constexpr int kMaxLookupsInFlight = 32;

Result<std::vector<tcp::endpoint>> LookUp(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  static BoundedLookup* const lookups = new BoundedLookup(SystemResolve, kMaxLookupsInFlight);  // never destroyed: threads may outlive main
  return lookups->Run(host, port, timeout);
}

std::string WithArticle(const std::string& phrase) {
  const bool vowel = !phrase.empty() && std::string_view("aeiou").find(phrase[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + phrase;
}

}  // namespace

Result<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  if (url.empty())
    return InvalidUrl("the webhook URL is empty; give an absolute URL such as https://example.com/hooks");
  if (url.size() > kMaxWebhookUrlLength)
    return InvalidUrl("the webhook URL is " + std::to_string(url.size()) + " characters long; at most " +
                      std::to_string(kMaxWebhookUrlLength) + " are allowed");
  for (size_t i = 0; i < url.size(); ++i) {
    const auto c = static_cast<unsigned char>(url[i]);
    if (c <= 0x20 || c == 0x7f)
      return InvalidUrl("the webhook URL contains a space or control character at position " + std::to_string(i) +
                        "; percent-encode it (a space is %20)");
    if (c >= 0x80)
      return InvalidUrl("the webhook URL contains a non-ASCII character at position " + std::to_string(i) +
                        "; percent-encode it, and write an international host name in its xn-- form");
  }
  WebhookUrl out;
  if (StartsWithNoCase(url, "https://")) {
    out.scheme = "https";
  } else if (StartsWithNoCase(url, "http://")) {
    out.scheme = "http";
  } else {
    return InvalidUrl(
        "the webhook URL must be an absolute URL starting with https:// or http:// (such as "
        "https://example.com/hooks)");
  }
  if (url.find('#') != std::string_view::npos)
    return InvalidUrl(
        "the webhook URL must not contain a fragment ('#...'): it is never sent to the receiver; "
        "remove it");
  std::string_view rest = url.substr(out.scheme.size() + 3);
  const size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos)
    return InvalidUrl(
        "the webhook URL must not contain a user name or password (user:pass@host); receivers "
        "authenticate a webhook by its signature (the webhook-signature header)");

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return InvalidUrl("the webhook URL's host starts an IPv6 address with '[' but has no closing ']'");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return InvalidUrl("the webhook URL has '" + std::string(after) + "' after the IPv6 address; expected ':port'");
      has_port = true;
      port_text = after.substr(1);
    }
    boost::system::error_code ec;
    if (host.find('%') != std::string_view::npos)
      return InvalidUrl("the webhook URL's IPv6 address has a zone ('%...'), which a webhook target may not name");
    asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return InvalidUrl("the webhook URL's host [" + std::string(host) + "] is not a valid IPv6 address");
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos)
      return InvalidUrl(
          "the webhook URL's host looks like an IPv6 address; put it in brackets: "
          "http://[2001:db8::1]:8080/");
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    for (char c : host)
      if (!IsHostNameChar(c))
        return InvalidUrl("the webhook URL's host '" + std::string(host) +
                          "' may contain only letters, digits, '-', '_' and '.' (an IPv6 address goes in "
                          "brackets: http://[2001:db8::1]/)");
    if (host.size() > 253)
      return InvalidUrl("the webhook URL's host is " + std::to_string(host.size()) +
                        " characters long; a host name has at most 253");
  }
  if (host.empty()) return InvalidUrl("the webhook URL has no host; expected https://host/path");
  out.host = ToLower(host);
  out.port = DefaultPort(out.scheme);
  if (has_port) {
    std::optional<uint16_t> port = ParsePort(port_text);
    if (!port)
      return InvalidUrl("the webhook URL's port '" + std::string(port_text) + "' is not a number from 1 to 65535");
    out.port = *port;
  }
  if (target.empty()) {
    out.target = "/";
  } else if (target.front() == '?') {
    out.target = "/" + std::string(target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

std::string WebhookOrigin(const WebhookUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  std::string out = url.scheme + "://" + (v6 ? "[" + url.host + "]" : url.host);
  if (url.port != DefaultPort(url.scheme)) out += ":" + std::to_string(url.port);
  return out;
}

std::string FormatWebhookUrl(const WebhookUrl& url) { return WebhookOrigin(url) + url.target; }

std::optional<std::string> ForbiddenAddressReason(const asio::ip::address& a) {
  const AddressClass c = Classify(a);
  if (c == AddressClass::kPublic) return std::nullopt;
  return std::string(ReasonText(c));
}

std::string DescribeTimeout(std::chrono::milliseconds timeout) {
  const long long ms = timeout.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  if (ms < 1000) return std::to_string(ms) + " ms";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

Result<std::vector<tcp::endpoint>> ResolveWebhookTarget(const WebhookUrl& url, bool allow_private,
                                                        std::chrono::milliseconds timeout) {
  std::vector<tcp::endpoint> endpoints;
  if (std::optional<asio::ip::address> literal = LiteralAddress(url.host)) {
    endpoints.emplace_back(*literal, url.port);
  } else {
    Result<std::vector<tcp::endpoint>> looked_up = LookUp(url.host, url.port, timeout);
    if (!looked_up.ok()) return looked_up.status();
    endpoints = std::move(*looked_up);
  }
  if (allow_private) return endpoints;
  for (const tcp::endpoint& e : endpoints) {
    if (std::optional<std::string> reason = ForbiddenAddressReason(e.address())) {
      return Status::FailedPrecondition(
          "webhook.target.forbidden",
          WebhookOrigin(url) + " resolves to " + e.address().to_string() + ", " + WithArticle(*reason) +
              " address; webhooks may not target loopback, private, link-local or other non-public addresses "
              "(SSRF protection). Start the server with --webhook-allow-private to allow them (docs/webhooks.md).");
    }
  }
  return endpoints;
}

}  // namespace verbatim::webhook
