#include "transports/http/forwarded.h"

#include <algorithm>
#include <cctype>

namespace verbatim::api {
namespace {

namespace ip = boost::asio::ip;

bool IsTchar(char c) {  // RFC 9110 §5.6.2
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<IpAddress> ParseAddress(std::string_view s, bool v4_only = false, bool v6_only = false) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  // Only what an address is made of: the parser below reads a C string, so a
  // NUL would end the address early ("192.0.2.1\0junk"); no scope ids either.
  if (!std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; }))
    return std::nullopt;
  boost::system::error_code ec;
  IpAddress a = ip::make_address(std::string(s), ec);
  if (ec) return std::nullopt;
  if ((v4_only && !a.is_v4()) || (v6_only && !a.is_v6())) return std::nullopt;
  // A scope id ("fe80::1%eth0") names an interface of the proxy, not a client.
  if (a.is_v6() && a.to_v6().scope_id() != 0) return std::nullopt;
  return CanonicalAddress(a);
}

bool IsPort(std::string_view s) {
  return !s.empty() && s.size() <= 5 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsObfuscated(std::string_view s) {  // RFC 7239 §6.3: "_" 1*( ALPHA / DIGIT / "." / "_" / "-" )
  if (s.size() < 2 || s[0] != '_') return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

// RFC 7239 §6: node = nodename [ ":" node-port ].
Hop ParseNode(std::string_view node) {
  Hop h;
  std::string_view name = node;
  std::string_view port;
  if (!node.empty() && node.front() == '[') {
    size_t close = node.find(']');
    if (close == std::string_view::npos) return h;
    name = node.substr(1, close - 1);
    std::string_view rest = node.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return h;
      port = rest.substr(1);
      if (port.empty()) return h;
    }
    auto a = ParseAddress(name, false, true);
    if (!a) return h;
    if (!port.empty() && !IsPort(port) && !IsObfuscated(port)) return h;
    return {Hop::Kind::kAddress, *a};
  }
  if (size_t colon = node.find(':'); colon != std::string_view::npos) {
    name = node.substr(0, colon);
    port = node.substr(colon + 1);
    if (!IsPort(port) && !IsObfuscated(port)) return h;
  }
  if (IEquals(name, "unknown")) return {Hop::Kind::kUnknown, {}};
  if (IsObfuscated(name)) return {Hop::Kind::kObfuscated, {}};
  auto a = ParseAddress(name, true);  // a bare IPv6 must be bracketed and quoted
  if (!a) return h;
  return {Hop::Kind::kAddress, *a};
}

// Splits `line` at the commas that are not inside a quoted-string, from the
// right, and hands each element to `f` until it returns false. A backslash
// escapes the next character inside quotes (RFC 9110 §5.6.4): scanning
// backwards, a quote is escaped when an odd number of backslashes precede it.
template <class F>
bool ForEachElementFromRight(std::string_view line, F&& f) {
  size_t end = line.size();
  bool in_quote = false;
  for (size_t i = line.size(); i-- > 0;) {
    const char c = line[i];
    if (c == '"') {
      size_t slashes = 0;
      while (slashes < i && line[i - 1 - slashes] == '\\') ++slashes;
      if (slashes % 2 == 0) in_quote = !in_quote;
    } else if (c == ',' && !in_quote) {
      if (!f(line.substr(i + 1, end - i - 1))) return false;
      end = i;
    }
  }
  return f(line.substr(0, end));
}

// A quoted-string's content, unescaped; nullopt if `s` is not exactly one.
std::optional<std::string> Unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  std::string out;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    char c = s[i];
    if (c == '"') return std::nullopt;
    if (c == '\\') {
      if (i + 2 >= s.size()) return std::nullopt;
      c = s[++i];
    }
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') return std::nullopt;
    out += c;
  }
  return out;
}

// One forwarded-element (RFC 7239 §4): pairs separated by ';'.
Hop ParseForwardedElement(std::string_view element) {
  element = TrimOws(element);
  std::optional<std::string> for_value;
  size_t i = 0;
  while (i <= element.size()) {
    // The next pair ends at a ';' outside quotes.
    size_t j = i;
    bool in_quote = false;
    for (; j < element.size(); ++j) {
      if (in_quote && element[j] == '\\') {
        ++j;
        continue;
      }
      if (element[j] == '"') in_quote = !in_quote;
      if (element[j] == ';' && !in_quote) break;
    }
    if (in_quote) return {};
    std::string_view pair = TrimOws(element.substr(i, std::min(j, element.size()) - i));
    i = j + 1;
    if (pair.empty()) continue;  // [ forwarded-pair ] is optional
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return {};
    std::string_view name = pair.substr(0, eq);
    std::string_view raw = pair.substr(eq + 1);
    if (!std::all_of(name.begin(), name.end(), IsTchar)) return {};
    std::string value;
    if (!raw.empty() && raw.front() == '"') {
      auto unq = Unquote(raw);
      if (!unq) return {};
      value = std::move(*unq);
    } else {
      if (raw.empty() || !std::all_of(raw.begin(), raw.end(), IsTchar)) return {};
      value = std::string(raw);
    }
    if (IEquals(name, "for")) {
      if (for_value) return {};  // RFC 7239 §4: each parameter at most once
      for_value = std::move(value);
    }
  }
  if (!for_value) return {Hop::Kind::kMissing, {}};
  return ParseNode(*for_value);
}

Hop ParseXffElement(std::string_view element) {
  element = TrimOws(element);
  if (IEquals(element, "unknown")) return {Hop::Kind::kUnknown, {}};
  if (!element.empty() && element.front() == '[') return ParseNode(element);
  if (auto a = ParseAddress(element)) return {Hop::Kind::kAddress, *a};
  // "192.0.2.1:4711" (some proxies add the port)
  size_t colon = element.find(':');
  if (colon != std::string_view::npos && element.find(':', colon + 1) == std::string_view::npos &&
      IsPort(element.substr(colon + 1))) {
    if (auto a = ParseAddress(element.substr(0, colon), true)) return {Hop::Kind::kAddress, *a};
  }
  return {};
}

template <class ParseElement>
std::vector<Hop> HopsNearestFirst(std::span<const std::string_view> lines, size_t max_hops, ParseElement parse) {
  std::vector<Hop> hops;
  for (size_t l = lines.size(); l-- > 0 && hops.size() < max_hops;) {
    bool more = ForEachElementFromRight(lines[l], [&](std::string_view element) {
      // RFC 9110 §5.6.1: empty list elements are ignored.
      if (TrimOws(element).empty()) return true;
      hops.push_back(parse(element));
      return hops.size() < max_hops && hops.back().kind == Hop::Kind::kAddress;
    });
    if (!more) break;
  }
  return hops;
}

}  // namespace

IpAddress CanonicalAddress(const IpAddress& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

bool IpNetwork::Contains(const IpAddress& raw) const {
  const IpAddress a = CanonicalAddress(raw);
  if (a.is_v4() != base.is_v4()) return false;
  if (a.is_v4()) {
    const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    return (a.to_v4().to_uint() & mask) == (base.to_v4().to_uint() & mask);
  }
  const auto x = a.to_v6().to_bytes();
  const auto y = base.to_v6().to_bytes();
  unsigned bits = prefix;
  for (size_t i = 0; i < x.size() && bits > 0; ++i) {
    const unsigned take = std::min(bits, 8u);
    const uint8_t mask = static_cast<uint8_t>(0xff00u >> take);
    if ((x[i] & mask) != (y[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

std::string IpNetwork::ToString() const { return base.to_string() + "/" + std::to_string(prefix); }

Result<IpNetwork> ParseIpNetwork(std::string_view text) {
  text = TrimOws(text);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("config.invalid", "'" + std::string(text.substr(0, 80)) +
                                                         "' is not a network: " + why +
                                                         " (expected CIDR like 10.0.0.0/8 or 2001:db8::/32).");
  };
  const size_t slash = text.find('/');
  auto addr = ParseAddress(text.substr(0, slash));
  if (!addr) return bad("not an IP address");
  IpNetwork net{*addr, addr->is_v4() ? 32u : 128u};
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return bad("the prefix length is not a number");
    unsigned n = static_cast<unsigned>(std::stoul(std::string(p)));
    if (n > net.prefix) return bad("the prefix length is larger than the address");
    net.prefix = n;
  }
  // Host bits set beyond the prefix: 10.0.0.1/8 is probably a typo for /32.
  IpNetwork exact{*addr, addr->is_v4() ? 32u : 128u};
  IpNetwork zeroed = net;
  if (addr->is_v4()) {
    const uint32_t mask = net.prefix == 0 ? 0 : ~uint32_t{0} << (32 - net.prefix);
    zeroed.base = ip::address_v4(addr->to_v4().to_uint() & mask);
  } else {
    auto bytes = addr->to_v6().to_bytes();
    unsigned bits = net.prefix;
    for (auto& b : bytes) {
      const unsigned keep = std::min(bits, 8u);
      b &= static_cast<uint8_t>(0xff00u >> keep);
      bits -= keep;
    }
    zeroed.base = ip::address_v6(bytes);
  }
  if (zeroed.base != exact.base) return bad("bits are set after the prefix (did you mean " + zeroed.ToString() + "?)");
  return net;
}

Result<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  std::vector<IpNetwork> nets;
  while (!TrimOws(list).empty()) {
    const size_t comma = list.find(',');
    auto net = ParseIpNetwork(list.substr(0, comma));
    if (!net.ok()) return net.status();
    nets.push_back(*net);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return TrustedProxies(std::move(nets));
}

bool TrustedProxies::Contains(const IpAddress& a) const {
  return std::any_of(nets_.begin(), nets_.end(), [&](const IpNetwork& n) { return n.Contains(a); });
}

const char* ToString(ForwardedHeader h) {
  switch (h) {
    case ForwardedHeader::kXForwardedFor:
      return "x-forwarded-for";
    case ForwardedHeader::kForwarded:
      return "forwarded";
  }
  return "?";
}

std::optional<ForwardedHeader> ParseForwardedHeaderName(std::string_view name) {
  if (IEquals(name, "x-forwarded-for")) return ForwardedHeader::kXForwardedFor;
  if (IEquals(name, "forwarded")) return ForwardedHeader::kForwarded;
  return std::nullopt;
}

std::vector<Hop> ForwardedHopsNearestFirst(std::span<const std::string_view> lines, size_t max_hops) {
  return HopsNearestFirst(lines, max_hops, ParseForwardedElement);
}

std::vector<Hop> XForwardedForHopsNearestFirst(std::span<const std::string_view> lines, size_t max_hops) {
  return HopsNearestFirst(lines, max_hops, ParseXffElement);
}

ClientAddress ResolveClientAddress(const IpAddress& peer, std::span<const std::string_view> lines,
                                   ForwardedHeader header, const TrustedProxies& trusted) {
  ClientAddress out{CanonicalAddress(peer), false};
  if (trusted.empty() || !trusted.Contains(out.address)) return out;
  const std::vector<Hop> hops = header == ForwardedHeader::kForwarded
                                    ? ForwardedHopsNearestFirst(lines, kMaxForwardedHops)
                                    : XForwardedForHopsNearestFirst(lines, kMaxForwardedHops);
  for (const Hop& hop : hops) {
    // A hop without an address: the trusted proxy that reported it is the
    // nearest address we can vouch for.
    if (hop.kind != Hop::Kind::kAddress) return out;
    out = {hop.address, true};
    if (!trusted.Contains(hop.address)) return out;
  }
  return out;  // every hop is a trusted proxy (or there is none): the leftmost one
}

}  // namespace verbatim::api
