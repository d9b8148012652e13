// SIP digest authentication, server side (RFC 3261 §22.4, RFC 8760): MD5 and
// SHA-256, qop "auth" or none. The server keeps per user only HA1 =
// H(username:realm:password) for each algorithm, never the password.
//
// Nonces are server-generated and stateless: base64url(issue time ‖ random ‖
// HMAC-SHA256(key, time ‖ random)), valid for a fixed lifetime, so a restart
// or a forged nonce is "invalid" and an old one "stale" (RFC 3261 §22.4: a
// stale nonce with a right digest gets a new challenge with stale=true).
// Replays of a (nonce, nc) pair are refused by the caller (siprec/trunk_auth.h).
//
// Thread-safety: plain values and pure functions; DigestNonces is immutable
// after construction.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace verbatim::media::sip {

enum class DigestAlgorithm { kMd5, kSha256 };
const char* ToString(DigestAlgorithm a);  // "MD5" | "SHA-256" (the algorithm= token)

inline constexpr size_t kMaxDigestHeaderBytes = 4096;
inline constexpr size_t kMaxDigestParamBytes = 1024;

enum class DigestError {
  kNotDigest,             // the scheme is not "Digest"
  kBadSyntax,             // not a list of name=value auth-params
  kDuplicateParam,        // a parameter given twice
  kMissingParam,          // username, realm, nonce, uri or response absent (cnonce/nc with qop)
  kUnsupportedAlgorithm,  // not MD5 or SHA-256 (the -sess variants included)
  kUnsupportedQop,        // a qop other than "auth" (auth-int) or userhash=true
  kTooLong,               // header over 4 KiB or a value over 1 KiB
  kBadNonceCount,         // nc is not 8 hex digits
};
const char* ToString(DigestError e);  // "missing param"; "?" past the last value
// The Status code is "digest." + ToString with dots ("digest.missing.param").
std::optional<DigestError> DigestErrorOf(const Status& s);

// The credentials of an Authorization (or Proxy-Authorization) header.
struct DigestCredentials {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;       // digest-uri as sent
  std::string response;  // hex, as sent
  std::string cnonce;
  std::string opaque;
  std::string nc;  // 8 hex digits as sent ("" without qop)
  uint32_t nonce_count = 0;
  bool qop_auth = false;                              // qop=auth (false: RFC 2069 compatibility, no qop)
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;  // absent = MD5
};
Result<DigestCredentials> ParseDigestCredentials(std::string_view header_value);

// Lowercase hex HA1 = H(username ":" realm ":" password).
std::string DigestHa1Hex(DigestAlgorithm algorithm, std::string_view username, std::string_view realm,
                         std::string_view password);
// The request-digest the credentials must carry for `method` given the stored
// HA1, compared in constant time (the response's hex case is ignored).
bool DigestResponseMatches(const DigestCredentials& c, std::string_view ha1_hex, std::string_view method);
// A WWW-Authenticate value: Digest realm="…", nonce="…", algorithm=…, qop="auth"[, stale=true].
std::string DigestChallenge(DigestAlgorithm algorithm, std::string_view realm, std::string_view nonce, bool stale);

class DigestNonces {
 public:
  enum class Check { kValid, kStale, kInvalid };

  // `key`: at least 32 random bytes; nonces made with another key are invalid.
  DigestNonces(std::string key, std::chrono::seconds lifetime);
  std::string Issue(TimePoint now) const;
  // kStale: made by us, older than the lifetime (or dated in the future by
  // more than a clock step); kInvalid: not made by us with this key.
  Check Verify(std::string_view nonce, TimePoint now) const;
  std::chrono::seconds lifetime() const { return lifetime_; }

 private:
  const std::string key_;
  const std::chrono::seconds lifetime_;
};

}  // namespace verbatim::media::sip
