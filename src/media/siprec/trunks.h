// SIP trunks: the recording sources the SIPREC server accepts
// (docs/sip-trunks.md). A trunk is a set of source networks (CIDRs, IPv4 and
// IPv6), the transports it may use, optional digest credentials (kept as HA1s
// only), limits, and how RTP sources are checked. TrunkTable answers "which
// trunk, if any, does this source address belong to?": the most specific
// network wins, ties go to the first trunk by name.
//
// Where trunks come from (the admin API, the config file, --dev) is the API
// layer's business; this module only holds the policy values, so that the
// media module stays free of the store (docs/decisions.md "Media capture sits
// behind an interface").
// Thread-safety: plain values; a TrunkTable is immutable once built.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace verbatim::media::siprec {

// An IPv4 or IPv6 address; IPv4-mapped IPv6 (::ffff:a.b.c.d) is IPv4.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4
  bool v4 = true;

  bool operator==(const IpAddress&) const = default;
  std::string ToString() const;
};
// Literal addresses only (no names); an IPv6 zone ("%eth0") or brackets are refused.
std::optional<IpAddress> ParseIpAddress(std::string_view text);

struct IpNetwork {
  IpAddress base;
  int prefix = 32;  // 0-32 (IPv4) or 0-128 (IPv6)

  bool Contains(const IpAddress& a) const;
  std::string ToString() const;  // canonical "192.0.2.0/24"
};
// "192.0.2.0/24", "2001:db8::/32", or a bare address (/32, /128). Host bits
// past the prefix are refused ("10.0.0.5/24" is a typo for /32 or 10.0.0.0/24)
// with InvalidArgument "trunk.bad.network" and a message saying which.
Result<IpNetwork> ParseCidr(std::string_view text);

enum class SipTransport : uint8_t { kUdp = 1, kTcp = 2, kTls = 4 };
const char* ToString(SipTransport t);                             // "udp" | "tcp" | "tls"
std::optional<SipTransport> ParseSipTransport(std::string_view);  // case-insensitive

// Where RTP may come from (docs/sip-trunks.md "RTP sources").
enum class RtpSource {
  kOffer,  // the address the SDP offer names (or, without a usable c=, the SIP source); its first packet fixes the port
  kLatch,  // symmetric RTP behind NAT: the first packet from any address of the trunk's networks
};
const char* ToString(RtpSource s);                          // "offer" | "latch"
std::optional<RtpSource> ParseRtpSource(std::string_view);  // exact

// SRTP (docs/sip-trunks.md "SRTP"): whether the trunk's media may, or must,
// be SRTP keyed with SDES (RFC 4568). SDES keys travel in the SDP, so SRTP is
// accepted over SIP/TLS only, whatever the policy.
enum class SrtpPolicy : uint8_t {
  kOff,       // RTP/SAVP streams are declined
  kOptional,  // RTP/AVP and, over TLS, RTP/SAVP
  kRequired,  // RTP/AVP streams are declined (an offer with nothing else is 488)
};
const char* ToString(SrtpPolicy p);                          // "off" | "optional" | "required"
std::optional<SrtpPolicy> ParseSrtpPolicy(std::string_view);  // exact

struct TrunkDigest {
  std::string username;
  std::string realm;
  std::string ha1_md5;     // lowercase hex; empty = MD5 not offered
  std::string ha1_sha256;  // lowercase hex; empty = SHA-256 not offered
};

// 0 means "no limit of its own" for sessions and bandwidth.
struct TrunkLimits {
  uint32_t max_sessions = 100;
  uint32_t max_channels = 8;           // streams recorded per session; more are declined (port 0)
  uint32_t max_bandwidth_kbps = 2048;  // decoded audio written per session: channels × rate × 16 bit
};
inline constexpr uint32_t kMaxTrunkSessions = 100000;
inline constexpr uint32_t kMaxTrunkChannels = 64;
inline constexpr uint32_t kMaxTrunkBandwidthKbps = 100000;
inline constexpr size_t kMaxTrunkNetworks = 64;

struct Trunk {
  std::string id;  // UUID
  std::string name;
  std::string origin;  // "api" | "config" | "dev": who manages it
  std::vector<IpNetwork> networks;
  uint8_t transports = static_cast<uint8_t>(SipTransport::kUdp) | static_cast<uint8_t>(SipTransport::kTcp);
  std::optional<TrunkDigest> digest;
  TrunkLimits limits;
  RtpSource rtp_source = RtpSource::kOffer;
  SrtpPolicy srtp = SrtpPolicy::kOptional;

  bool Allows(SipTransport t) const { return (transports & static_cast<uint8_t>(t)) != 0; }
  bool InNetworks(const IpAddress& a) const;
  // The conversation owner of sessions from this trunk ("trunk:<id>").
  std::string owner() const { return "trunk:" + id; }
};

// Names: 1-64 of [A-Za-z0-9._-], starting with a letter or digit.
bool IsValidTrunkName(std::string_view name);

class TrunkTable {
 public:
  TrunkTable() = default;
  explicit TrunkTable(std::vector<Trunk> trunks);

  // The trunk whose network contains `source`, most specific prefix first;
  // nullptr if none. Transports are the caller's check (a clearer refusal).
  std::shared_ptr<const Trunk> Match(const IpAddress& source) const;
  std::shared_ptr<const Trunk> FindById(std::string_view id) const;
  const std::vector<std::shared_ptr<const Trunk>>& trunks() const { return trunks_; }
  bool empty() const { return trunks_.empty(); }

 private:
  std::vector<std::shared_ptr<const Trunk>> trunks_;  // by name
};

}  // namespace verbatim::media::siprec
