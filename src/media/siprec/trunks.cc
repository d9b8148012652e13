#include "media/siprec/trunks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "media/sip/text.h"

namespace verbatim::media::siprec {
namespace {

Status BadNetwork(std::string_view text, std::string why) {
  return Status::InvalidArgument("trunk.bad.network",
                                 "'" + std::string(text.substr(0, 64)) + "' is not a network: " + std::move(why));
}

// Number of the first `prefix` bits of a and b that are equal, compared whole.
bool PrefixEquals(const uint8_t* a, const uint8_t* b, int prefix) {
  const int full = prefix / 8;
  if (std::memcmp(a, b, static_cast<size_t>(full)) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    a.v4 = true;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  a.v4 = false;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
    a.v4 = true;
  }
  return a;
}

bool IpNetwork::Contains(const IpAddress& a) const {
  return a.v4 == base.v4 && PrefixEquals(a.bytes.data(), base.bytes.data(), prefix);
}

std::string IpNetwork::ToString() const { return base.ToString() + "/" + std::to_string(prefix); }

Result<IpNetwork> ParseCidr(std::string_view text) {
  std::string_view t = sip::Trim(text);
  if (t.empty()) return BadNetwork(text, "empty");
  const size_t slash = t.find('/');
  auto address = ParseIpAddress(t.substr(0, slash));
  if (!address) return BadNetwork(text, "expected an IPv4 or IPv6 address, e.g. 192.0.2.0/24 or 2001:db8::/32");
  IpNetwork n;
  n.base = *address;
  const int max = address->v4 ? 32 : 128;
  n.prefix = max;
  if (slash != std::string_view::npos) {
    auto p = sip::ParseDecimal(t.substr(slash + 1), static_cast<uint64_t>(max));
    if (!p || t.size() - slash - 1 > 3)
      return BadNetwork(text, "the prefix length must be 0 to " + std::to_string(max));
    n.prefix = static_cast<int>(*p);
  }
  // Host bits set: refuse rather than widen or narrow what the operator wrote.
  IpNetwork zeroed = n;
  for (int bit = n.prefix; bit < max; ++bit) zeroed.base.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  if (zeroed.base.bytes != n.base.bytes)
    return BadNetwork(text, "host bits are set past /" + std::to_string(n.prefix) + "; did you mean " +
                                zeroed.ToString() + " or " + n.base.ToString() + "/" + std::to_string(max) + "?");
  return n;
}

const char* ToString(SipTransport t) {
  switch (t) {
    case SipTransport::kUdp:
      return "udp";
    case SipTransport::kTcp:
      return "tcp";
    case SipTransport::kTls:
      return "tls";
  }
  return "?";
}

std::optional<SipTransport> ParseSipTransport(std::string_view s) {
  for (SipTransport t : {SipTransport::kUdp, SipTransport::kTcp, SipTransport::kTls})
    if (sip::IEquals(s, ToString(t))) return t;
  return std::nullopt;
}

const char* ToString(RtpSource s) {
  switch (s) {
    case RtpSource::kOffer:
      return "offer";
    case RtpSource::kLatch:
      return "latch";
  }
  return "?";
}

std::optional<RtpSource> ParseRtpSource(std::string_view s) {
  if (s == "offer") return RtpSource::kOffer;
  if (s == "latch") return RtpSource::kLatch;
  return std::nullopt;
}

const char* ToString(SrtpPolicy p) {
  switch (p) {
    case SrtpPolicy::kOff:
      return "off";
    case SrtpPolicy::kOptional:
      return "optional";
    case SrtpPolicy::kRequired:
      return "required";
  }
  return "?";
}

std::optional<SrtpPolicy> ParseSrtpPolicy(std::string_view s) {
  for (SrtpPolicy p : {SrtpPolicy::kOff, SrtpPolicy::kOptional, SrtpPolicy::kRequired})
    if (s == ToString(p)) return p;
  return std::nullopt;
}

bool Trunk::InNetworks(const IpAddress& a) const {
  return std::any_of(networks.begin(), networks.end(), [&](const IpNetwork& n) { return n.Contains(a); });
}

bool IsValidTrunkName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!(sip::IsDigit(name[0]) || sip::IsAlpha(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return sip::IsDigit(c) || sip::IsAlpha(c) || c == '.' || c == '_' || c == '-'; });
}

TrunkTable::TrunkTable(std::vector<Trunk> trunks) {
  std::sort(trunks.begin(), trunks.end(),
            [](const Trunk& a, const Trunk& b) { return sip::ToLower(a.name) < sip::ToLower(b.name); });
  for (auto& t : trunks) trunks_.push_back(std::make_shared<const Trunk>(std::move(t)));
}

std::shared_ptr<const Trunk> TrunkTable::Match(const IpAddress& source) const {
  std::shared_ptr<const Trunk> best;
  int best_prefix = -1;
  for (const auto& t : trunks_) {
    for (const IpNetwork& n : t->networks) {
      if (n.prefix > best_prefix && n.Contains(source)) {
        best = t;
        best_prefix = n.prefix;
      }
    }
  }
  return best;
}

std::shared_ptr<const Trunk> TrunkTable::FindById(std::string_view id) const {
  for (const auto& t : trunks_)
    if (t->id == id) return t;
  return nullptr;
}

}  // namespace verbatim::media::siprec
