// The SDP Security Descriptions attribute (RFC 4568 §9.1, "a=crypto"), for
// SRTP: the untrusted text after "a=crypto:" in, a typed attribute or the
// named reason it is refused out. What verbatim implements and why is in
// docs/sip-trunks.md "SRTP".
//
//   a=crypto:<tag> <crypto-suite> inline:<key||salt base64>[|<lifetime>][|<mki>:<mki-length>] [<session-param>...]
//
// Accepted: the suites of RFC 4568, 6188 and 7714 that libsrtp2 implements
// (AES_CM_128_HMAC_SHA1_80/_32, AES_256_CM_HMAC_SHA1_80/_32, also spelled
// AES_CM_256_…, AEAD_AES_128_GCM, AEAD_AES_256_GCM), suite and key-method
// names in any case (ABNF strings are case-insensitive), base64 with or
// without '=' padding, lifetimes as "2^n" or decimal up to 2^48, one MKI,
// the session parameters UNENCRYPTED_SRTCP, KDR=0, WSH, FEC_ORDER, FEC_KEY
// (FEC is not used), and unknown optional ones ("-" prefix, §6.3.7).
// Refused, each with its own error: other suites (F8, NULL, SEED, ARIA,
// AES_192), several keys (MKI-based rekeying), UNENCRYPTED_SRTP and
// UNAUTHENTICATED_SRTP (a recording must not travel in clear or unsigned),
// KDR other than 0 (libsrtp2 derives keys once), unknown mandatory parameters.
//
// Key material is secret: no error message ever contains any part of the
// key-params or session parameters, only the tag and suite name.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace verbatim::media::srtp {

inline constexpr size_t kMaxCryptoAttributeBytes = 1024;
inline constexpr uint64_t kMaxKeyLifetime = uint64_t{1} << 48;  // RFC 3711 §9.2: SRTP packets per master key
inline constexpr size_t kMaxMkiBytes = 128;                      // RFC 4568 §9.1: mki-length 1-128

enum class CryptoSuite : uint8_t {
  kAesCm128HmacSha1_80,
  kAesCm128HmacSha1_32,
  kAes256CmHmacSha1_80,
  kAes256CmHmacSha1_32,
  kAeadAes128Gcm,
  kAeadAes256Gcm,
};
const char* ToString(CryptoSuite s);  // the registered name: "AES_CM_128_HMAC_SHA1_80"
// Registered names and the pre-RFC 6188 spelling "AES_CM_256_HMAC_SHA1_80/_32"; any case.
std::optional<CryptoSuite> ParseCryptoSuite(std::string_view name);
size_t MasterKeyBytes(CryptoSuite s);   // 16 or 32
size_t MasterSaltBytes(CryptoSuite s);  // 14 (AES-CM), 12 (AEAD, RFC 7714 §12)

// One master key of the inline key method. Secret: wiped when destroyed.
struct MasterKey {
  std::string key_salt;   // master key then master salt, raw bytes
  uint64_t lifetime = 0;  // packets it may protect; 0 = not given (the suite's maximum, 2^48)
  std::string mki;        // the MKI as sent on the wire (value, big-endian, mki-length bytes); empty = none

  MasterKey() = default;
  MasterKey(const MasterKey&) = default;
  MasterKey(MasterKey&&) = default;
  MasterKey& operator=(const MasterKey&) = default;
  MasterKey& operator=(MasterKey&&) = default;
  ~MasterKey();
};

struct CryptoAttribute {
  uint32_t tag = 0;
  CryptoSuite suite = CryptoSuite::kAesCm128HmacSha1_80;
  std::string suite_name;  // as written (the answer names the suite the same way)
  MasterKey key;
  bool unencrypted_srtcp = false;
  uint32_t window_size_hint = 0;  // WSH (64-32767; larger is clamped); 0 = not given
};

enum class CryptoError {
  kSyntax,            // not "<tag> <suite> <key-params> [<session-param>...]", or over 1 KiB
  kBadTag,            // the tag is not 1-9 digits
  kUnsupportedSuite,  // a suite verbatim does not implement
  kBadKeyMethod,      // a key method other than "inline"
  kBadKey,            // not base64, or not the suite's key + salt length
  kBadLifetime,       // not digits or 2^n, zero, or over 2^48
  kBadMki,            // not "<value>:<length>", length 0 or over 128, or a value that does not fit
  kSeveralKeys,       // more than one key (MKI-based rekeying is not supported)
  kRefusedParameter,  // UNENCRYPTED_SRTP, UNAUTHENTICATED_SRTP, KDR other than 0
  kUnknownParameter,  // a mandatory session parameter verbatim does not know (§6.3.7)
  kBadParameter,      // a known session parameter with a malformed value
};
const char* ToString(CryptoError e);  // "unsupported suite"; "?" past the last value
// The Status code is "crypto." + ToString with dots ("crypto.unsupported.suite").
std::optional<CryptoError> CryptoErrorOf(const Status& s);

// `value` is what follows "a=crypto:" (the SDP parser's attribute value).
Result<CryptoAttribute> ParseCryptoAttribute(std::string_view value);

// Our side of an answer: "<tag> <suite as named> inline:<base64 key||salt>",
// plus UNENCRYPTED_SRTCP when set (RFC 4568 §6.3.3: both directions agree).
std::string FormatCryptoAttribute(const CryptoAttribute& a);

}  // namespace verbatim::media::srtp
