#include "transports/siprec/trunk_config.h"

#include <sodium.h>

#include <algorithm>
#include <set>

#include "core/crypto.h"
#include "media/sip/digest.h"

namespace verbatim::api {
namespace {

namespace siprec = media::siprec;
using Error = std::optional<TrunkInputError>;

constexpr size_t kMinPasswordBytes = 12;
constexpr size_t kMaxPasswordBytes = 256;
constexpr const char* kDefaultRealm = "verbatim";

Error Problem(std::string field, std::string message, std::string expected = "") {
  return TrunkInputError{std::move(field), std::move(message), std::move(expected)};
}

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

// Digest usernames and realms travel inside quoted-strings of SIP headers:
// nothing that could end the string or the header.
bool SafeQuoted(std::string_view s) {
  return !s.empty() && s.size() <= 128 && Printable(s) && s.find('"') == std::string_view::npos &&
         s.find('\\') == std::string_view::npos;
}

bool IsAnyAddress(const siprec::IpNetwork& n) { return n.prefix == 0; }

Error ParseLimits(const json::object& o, TrunkInput& out) {
  for (const auto& kv : o) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "maxSessions" && k != "maxChannelsPerSession" && k != "maxBandwidthKbps")
      return Problem("limits", "Unknown field 'limits." + std::string(k.substr(0, 64)) +
                                   "'. Known fields: maxSessions, maxChannelsPerSession, maxBandwidthKbps.");
  }
  for (auto [key, target] :
       {std::pair{"maxSessions", &out.max_sessions}, std::pair{"maxChannelsPerSession", &out.max_channels},
        std::pair{"maxBandwidthKbps", &out.max_bandwidth_kbps}}) {
    auto v = GetInt(o, key);
    if (!v.ok()) return Problem(std::string("limits.") + key, v.status().message(), "integer");
    *target = *v;
  }
  return std::nullopt;
}

Error ParseDigest(const json::object& o, TrunkInput& out) {
  for (const auto& kv : o) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (k != "username" && k != "password" && k != "realm" && k != "algorithms")
      return Problem("digest", "Unknown field 'digest." + std::string(k.substr(0, 64)) +
                                   "'. Known fields: username, password, realm, algorithms.");
  }
  for (auto [key, target] : {std::pair{"username", &out.digest_username}, std::pair{"password", &out.digest_password},
                             std::pair{"realm", &out.digest_realm}}) {
    auto v = GetString(o, key);
    if (!v.ok()) return Problem(std::string("digest.") + key, v.status().message(), "string");
    *target = *v;
  }
  auto algs = GetStringArray(o, "algorithms");
  if (!algs.ok()) return Problem("digest.algorithms", algs.status().message(), "array of SHA-256, MD5");
  out.digest_algorithms = *algs;
  return std::nullopt;
}

Error ApplyDigest(const TrunkInput& in, bool creating, store::SipTrunk& t) {
  if (!in.digest_given) return std::nullopt;
  if (in.digest_null) {
    t.digest_username.clear();
    t.digest_realm.clear();
    t.digest_ha1_md5.clear();
    t.digest_ha1_sha256.clear();
    return std::nullopt;
  }
  const bool had = !t.digest_username.empty() && !creating;
  const std::string username = in.digest_username.value_or(had ? t.digest_username : "");
  const std::string realm = in.digest_realm.value_or(had ? t.digest_realm : kDefaultRealm);
  if (!SafeQuoted(username))
    return Problem("digest.username",
                   "The digest username is required: 1 to 128 printable characters, no '\"' or '\\'.", "string");
  if (!SafeQuoted(realm))
    return Problem("digest.realm", "The digest realm must be 1 to 128 printable characters, no '\"' or '\\'.",
                   "string");
  bool sha256 = true, md5 = true;
  if (in.digest_algorithms) {
    sha256 = md5 = false;
    for (const auto& a : *in.digest_algorithms) {
      if (a == "SHA-256")
        sha256 = true;
      else if (a == "MD5")
        md5 = true;
      else
        return Problem("digest.algorithms", "Unknown digest algorithm '" + a.substr(0, 32) + "'.", "SHA-256, MD5");
    }
    if (!sha256 && !md5) return Problem("digest.algorithms", "Name at least one algorithm.", "SHA-256, MD5");
  } else if (had) {
    sha256 = !t.digest_ha1_sha256.empty();
    md5 = !t.digest_ha1_md5.empty();
  }
  if (!in.digest_password) {
    // HA1 binds username, realm and password: without the password only an algorithm may be dropped.
    const bool same = had && username == t.digest_username && realm == t.digest_realm &&
                      (!sha256 || !t.digest_ha1_sha256.empty()) && (!md5 || !t.digest_ha1_md5.empty());
    if (!same)
      return Problem("digest.password",
                     "The digest password is required when digest credentials are created or their username, realm "
                     "or algorithms change (only hashes of it are kept).",
                     "string");
    if (!sha256) t.digest_ha1_sha256.clear();
    if (!md5) t.digest_ha1_md5.clear();
    return std::nullopt;
  }
  const std::string& password = *in.digest_password;
  if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes || !Printable(password))
    return Problem("digest.password",
                   "The digest password must be " + std::to_string(kMinPasswordBytes) + " to " +
                       std::to_string(kMaxPasswordBytes) + " printable characters.",
                   "string");
  t.digest_username = username;
  t.digest_realm = realm;
  t.digest_ha1_sha256 =
      sha256 ? media::sip::DigestHa1Hex(media::sip::DigestAlgorithm::kSha256, username, realm, password) : "";
  t.digest_ha1_md5 = md5 ? media::sip::DigestHa1Hex(media::sip::DigestAlgorithm::kMd5, username, realm, password) : "";
  return std::nullopt;
}

}  // namespace

Error TrunkInputFromJson(const json::object& body, TrunkInput& out) {
  static const std::set<std::string_view> kKnown = {"name",   "description", "networks", "transports",
                                                    "digest", "limits",      "rtpSource", "srtp"};
  for (const auto& kv : body) {
    std::string_view k(kv.key().data(), kv.key().size());
    if (!kKnown.count(k))
      return Problem(std::string(k.substr(0, 64)),
                     "Unknown field '" + std::string(k.substr(0, 64)) +
                         "'. Known fields: name, description, networks, transports, digest, limits, rtpSource, srtp.");
  }
  for (auto [key, target] : {std::pair{"name", &out.name}, std::pair{"description", &out.description},
                             std::pair{"rtpSource", &out.rtp_source}, std::pair{"srtp", &out.srtp}}) {
    auto v = GetString(body, key);
    if (!v.ok()) return Problem(key, v.status().message(), "string");
    *target = *v;
  }
  for (auto [key, target] : {std::pair{"networks", &out.networks}, std::pair{"transports", &out.transports}}) {
    auto v = GetStringArray(body, key);
    if (!v.ok()) return Problem(key, v.status().message(), "array of strings");
    *target = *v;
  }
  if (auto it = body.find("digest"); it != body.end()) {
    out.digest_given = true;
    if (it->value().is_null()) {
      out.digest_null = true;
    } else if (!it->value().is_object()) {
      return Problem("digest", "Field 'digest' must be an object {username, password, realm?, algorithms?} or null.",
                     "object");
    } else if (auto e = ParseDigest(it->value().as_object(), out)) {
      return e;
    }
  }
  if (auto it = body.find("limits"); it != body.end() && !it->value().is_null()) {
    if (!it->value().is_object())
      return Problem("limits",
                     "Field 'limits' must be an object {maxSessions, maxChannelsPerSession, maxBandwidthKbps}.",
                     "object");
    if (auto e = ParseLimits(it->value().as_object(), out)) return e;
  }
  return std::nullopt;
}

Error ApplyTrunkInput(const TrunkInput& in, bool creating, TimePoint now, store::SipTrunk& t) {
  if (creating && !in.name) return Problem("name", "Field 'name' is required.", "string");
  if (in.name) {
    if (!siprec::IsValidTrunkName(*in.name))
      return Problem("name", "A trunk name is 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit.",
                     "string");
    t.name = *in.name;
  }
  if (in.description) {
    if (in.description->size() > 256 || !Printable(*in.description))
      return Problem("description", "Field 'description' is at most 256 printable characters.", "string");
    t.description = *in.description;
  }
  if (creating && !in.networks)
    return Problem("networks", "Field 'networks' is required: the source networks the trunk sends from.",
                   "array of CIDRs, e.g. [\"192.0.2.0/24\"]");
  if (in.networks) {
    if (in.networks->empty() || in.networks->size() > siprec::kMaxTrunkNetworks)
      return Problem("networks", "Give 1 to " + std::to_string(siprec::kMaxTrunkNetworks) + " networks.",
                     "array of CIDRs");
    std::vector<std::string> canonical;
    for (const auto& n : *in.networks) {
      auto parsed = siprec::ParseCidr(n);
      if (!parsed.ok())
        return Problem("networks", parsed.status().message(), "CIDR, e.g. 192.0.2.0/24 or 2001:db8::/32");
      std::string c = parsed->ToString();
      if (std::find(canonical.begin(), canonical.end(), c) == canonical.end()) canonical.push_back(std::move(c));
    }
    t.networks = std::move(canonical);
  }
  if (in.transports) {
    std::vector<std::string> out;
    for (const auto& name : *in.transports) {
      auto tr = siprec::ParseSipTransport(name);
      if (!tr) return Problem("transports", "Unknown transport '" + name.substr(0, 16) + "'.", "udp, tcp, tls");
      std::string n = siprec::ToString(*tr);
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(std::move(n));
    }
    if (out.empty()) return Problem("transports", "Name at least one transport.", "udp, tcp, tls");
    t.transports = std::move(out);
  } else if (creating) {
    t.transports = {"udp", "tcp"};
  }
  if (auto e = ApplyDigest(in, creating, t)) return e;
  struct Bound {
    const std::optional<int64_t>* value;
    int* target;
    const char* field;
    int64_t min, max;
  };
  for (const Bound& b :
       {Bound{&in.max_sessions, &t.max_sessions, "limits.maxSessions", 0, siprec::kMaxTrunkSessions},
        Bound{&in.max_channels, &t.max_channels, "limits.maxChannelsPerSession", 1, siprec::kMaxTrunkChannels},
        Bound{&in.max_bandwidth_kbps, &t.max_bandwidth_kbps, "limits.maxBandwidthKbps", 0,
              siprec::kMaxTrunkBandwidthKbps}}) {
    if (!*b.value) continue;
    if (**b.value < b.min || **b.value > b.max)
      return Problem(b.field,
                     std::string(b.field) + " must be " + std::to_string(b.min) + " to " + std::to_string(b.max) +
                         (b.min == 0 ? " (0 = no limit of the trunk's own)" : "") + ".",
                     "integer");
    *b.target = static_cast<int>(**b.value);
  }
  if (t.max_bandwidth_kbps != 0 && t.max_bandwidth_kbps < 128)
    return Problem("limits.maxBandwidthKbps",
                   "limits.maxBandwidthKbps below 128 leaves room for no channel (8 kHz × 16 bit = 128 kbit/s); use "
                   "0 for no limit.",
                   "integer");
  if (in.rtp_source) {
    if (!siprec::ParseRtpSource(*in.rtp_source))
      return Problem("rtpSource", "Field 'rtpSource' must be 'offer' or 'latch'.", "offer | latch");
    t.rtp_source = *in.rtp_source;
  }
  if (in.srtp) {
    if (!siprec::ParseSrtpPolicy(*in.srtp))
      return Problem("srtp", "Field 'srtp' must be 'off', 'optional' or 'required'.", "off | optional | required");
    t.srtp = *in.srtp;
  }
  // SDES keys travel in the SDP, so SRTP is accepted over SIP/TLS only: a
  // trunk that requires it without TLS could never record.
  if (t.srtp == "required" && std::find(t.transports.begin(), t.transports.end(), "tls") == t.transports.end())
    return Problem("srtp",
                   "srtp 'required' needs the tls transport: SRTP keys (a=crypto) are accepted over SIP/TLS only.",
                   "transports including \"tls\", or srtp 'optional' | 'off'");
  // A trunk open to every address must at least authenticate.
  if (t.digest_username.empty()) {
    for (const auto& n : t.networks) {
      auto parsed = siprec::ParseCidr(n);
      if (parsed.ok() && IsAnyAddress(*parsed))
        return Problem("networks",
                       "A trunk that admits every address (" + n +
                           ") needs digest credentials; narrow the networks "
                           "or add a digest.",
                       "CIDRs narrower than /0, or digest");
    }
  }
  if (creating) t.created_at = now;
  t.updated_at = now;
  return std::nullopt;
}

media::siprec::Trunk ToPolicy(const store::SipTrunk& t, std::string_view origin) {
  siprec::Trunk p;
  p.id = t.id;
  p.name = t.name;
  p.origin = std::string(origin);
  for (const auto& n : t.networks)
    if (auto parsed = siprec::ParseCidr(n); parsed.ok()) p.networks.push_back(*parsed);
  p.transports = 0;
  for (const auto& name : t.transports)
    if (auto tr = siprec::ParseSipTransport(name)) p.transports |= static_cast<uint8_t>(*tr);
  if (!t.digest_username.empty())
    p.digest = siprec::TrunkDigest{t.digest_username, t.digest_realm, t.digest_ha1_md5, t.digest_ha1_sha256};
  p.limits.max_sessions = static_cast<uint32_t>(std::max(0, t.max_sessions));
  p.limits.max_channels = static_cast<uint32_t>(std::max(1, t.max_channels));
  p.limits.max_bandwidth_kbps = static_cast<uint32_t>(std::max(0, t.max_bandwidth_kbps));
  p.rtp_source = siprec::ParseRtpSource(t.rtp_source).value_or(siprec::RtpSource::kOffer);
  p.srtp = siprec::ParseSrtpPolicy(t.srtp).value_or(siprec::SrtpPolicy::kOptional);
  return p;
}

json::object TrunkJson(const store::SipTrunk& t, std::string_view origin) {
  json::object o;
  o["id"] = t.id;
  o["name"] = t.name;
  o["description"] = t.description;
  o["source"] = std::string(origin);
  o["networks"] = ToJsonArray(t.networks);
  o["transports"] = ToJsonArray(t.transports);
  if (t.digest_username.empty()) {
    o["digest"] = nullptr;
  } else {
    json::array algs;
    if (!t.digest_ha1_sha256.empty()) algs.emplace_back("SHA-256");
    if (!t.digest_ha1_md5.empty()) algs.emplace_back("MD5");
    // The password is write-only: say that one is set, nothing more.
    o["digest"] = json::object{{"username", t.digest_username},
                               {"realm", t.digest_realm},
                               {"algorithms", std::move(algs)},
                               {"passwordSet", true}};
  }
  o["limits"] = json::object{{"maxSessions", t.max_sessions},
                             {"maxChannelsPerSession", t.max_channels},
                             {"maxBandwidthKbps", t.max_bandwidth_kbps}};
  o["rtpSource"] = t.rtp_source;
  o["srtp"] = t.srtp;
  o["dateCreated"] = FormatRfc3339(t.created_at);
  o["dateModified"] = FormatRfc3339(t.updated_at);
  return o;
}

std::string ConfigTrunkId(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string h = Sha256("verbatim sip trunk from the config file: " + lower).substr(0, 16);
  h[6] = static_cast<char>((h[6] & 0x0f) | 0x80);  // RFC 9562 version 8 (custom): not random, by design
  h[8] = static_cast<char>((h[8] & 0x3f) | 0x80);
  const std::string hex = HexEncode(h);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

store::SipTrunk DevTrunk(TimePoint now) {
  store::SipTrunk t;
  t.id = ConfigTrunkId("dev:dev-loopback");
  t.name = "dev-loopback";
  t.description = "Implicit trunk of serve --dev: loopback only.";
  t.networks = {"127.0.0.1/32", "::1/128"};
  t.transports = {"udp", "tcp", "tls"};  // TLS only if --sip-tls-listen is on
  t.max_sessions = 0;  // the global limit only: benchmarks run thousands of calls through it
  t.rtp_source = "offer";
  t.created_at = t.updated_at = now;
  return t;
}

}  // namespace verbatim::api
