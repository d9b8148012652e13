#include "media/srtp/crypto_attribute.h"

#include <sodium.h>

#include <algorithm>
#include <array>

#include "core/base64.h"
#include "media/sip/text.h"

namespace verbatim::media::srtp {
namespace {

using sip::IEquals;
using sip::IsDigit;

Status Fail(CryptoError e, std::string_view detail) { return sip::ParseFailure("crypto", e, detail); }

struct SuiteName {
  std::string_view name;
  CryptoSuite suite;
};
constexpr std::array<SuiteName, 8> kSuiteNames = {{
    {"AES_CM_128_HMAC_SHA1_80", CryptoSuite::kAesCm128HmacSha1_80},
    {"AES_CM_128_HMAC_SHA1_32", CryptoSuite::kAesCm128HmacSha1_32},
    {"AES_256_CM_HMAC_SHA1_80", CryptoSuite::kAes256CmHmacSha1_80},
    {"AES_256_CM_HMAC_SHA1_32", CryptoSuite::kAes256CmHmacSha1_32},
    {"AEAD_AES_128_GCM", CryptoSuite::kAeadAes128Gcm},
    {"AEAD_AES_256_GCM", CryptoSuite::kAeadAes256Gcm},
    // Written before RFC 6188 named them (FreeSWITCH, some phones).
    {"AES_CM_256_HMAC_SHA1_80", CryptoSuite::kAes256CmHmacSha1_80},
    {"AES_CM_256_HMAC_SHA1_32", CryptoSuite::kAes256CmHmacSha1_32},
}};

bool IsSuiteChar(char c) { return sip::IsAlpha(c) || IsDigit(c) || c == '_'; }

bool IsBase64Char(char c) { return sip::IsAlpha(c) || IsDigit(c) || c == '+' || c == '/'; }

// Digits only, at most `max_digits`, value <= max.
std::optional<uint64_t> Decimal(std::string_view s, size_t max_digits, uint64_t max) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v <= max ? std::optional<uint64_t>(v) : std::nullopt;
}

// key-salt: base64 (RFC 4648 §4). Some senders leave out the '=' padding.
Status DecodeKeySalt(std::string_view text, CryptoSuite suite, std::string& out) {
  const size_t want = MasterKeyBytes(suite) + MasterSaltBytes(suite);
  std::string_view body = text;
  while (!body.empty() && body.back() == '=') body.remove_suffix(1);
  if (body.empty() || text.size() - body.size() > 2)
    return Fail(CryptoError::kBadKey, "the key is not base64");
  for (char c : body)
    if (!IsBase64Char(c)) return Fail(CryptoError::kBadKey, "the key is not base64");
  std::string padded(body);
  padded.append((4 - padded.size() % 4) % 4, '=');
  auto decoded = Base64Decode(padded);
  sodium_memzero(padded.data(), padded.size());
  if (!decoded) return Fail(CryptoError::kBadKey, "the key is not base64");
  const size_t got = decoded->size();
  out = std::move(*decoded);
  if (got != want) {
    sodium_memzero(out.data(), out.size());
    out.clear();
    return Fail(CryptoError::kBadKey, "the key and salt of " + std::string(ToString(suite)) + " are " +
                                          std::to_string(want) + " bytes, not " + std::to_string(got));
  }
  return Status::Ok();
}

// lifetime = ["2^"] 1*DIGIT
Status ParseLifetime(std::string_view text, uint64_t& out) {
  std::optional<uint64_t> v;
  if (text.size() > 2 && text[0] == '2' && text[1] == '^') {
    auto exponent = Decimal(text.substr(2), 2, 48);
    if (exponent) v = uint64_t{1} << *exponent;
  } else {
    v = Decimal(text, 15, kMaxKeyLifetime);
  }
  if (!v || *v == 0)
    return Fail(CryptoError::kBadLifetime, "the lifetime must be 2^n or a number of packets, 1 to 2^48");
  out = *v;
  return Status::Ok();
}

// mki = mki-value ":" mki-length; the value is sent big-endian in mki-length bytes.
Status ParseMki(std::string_view text, std::string& out) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos)
    return Fail(CryptoError::kBadMki, "the MKI must be '<value>:<length in bytes>'");
  auto length = Decimal(text.substr(colon + 1), 3, kMaxMkiBytes);
  auto value = Decimal(text.substr(0, colon), 19, UINT64_MAX);
  if (!length || *length == 0 || !value)
    return Fail(CryptoError::kBadMki, "the MKI must be '<value>:<length>', the length 1 to 128 bytes");
  if (*length < 8 && (*value >> (8 * *length)) != 0)
    return Fail(CryptoError::kBadMki, "the MKI value does not fit in its length");
  out.assign(*length, '\0');
  uint64_t v = *value;
  for (size_t i = 0; i < *length && v != 0; ++i, v >>= 8) out[*length - 1 - i] = static_cast<char>(v & 0xff);
  return Status::Ok();
}

// key-param = "inline:" key-salt ["|" lifetime] ["|" mki]
Status ParseKeyParam(std::string_view text, CryptoSuite suite, MasterKey& key) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return Fail(CryptoError::kSyntax, "a key parameter must be '<method>:<key>'");
  if (!IEquals(text.substr(0, colon), "inline"))
    return Fail(CryptoError::kBadKeyMethod, "only the inline key method is defined for SRTP");
  std::string_view info = text.substr(colon + 1);
  std::string_view fields[3];
  size_t n = 0;
  for (;;) {
    const size_t bar = info.find('|');
    if (n == 3) return Fail(CryptoError::kSyntax, "a key is '<key>[|<lifetime>][|<mki>:<length>]'");
    fields[n++] = info.substr(0, bar);
    if (bar == std::string_view::npos) break;
    info.remove_prefix(bar + 1);
  }
  VERBATIM_RETURN_IF_ERROR(DecodeKeySalt(fields[0], suite, key.key_salt));
  bool seen_mki = false;
  for (size_t i = 1; i < n; ++i) {
    // An MKI has a ':'; a lifetime never does, and comes first.
    if (fields[i].find(':') != std::string_view::npos) {
      if (seen_mki) return Fail(CryptoError::kSyntax, "a key has at most one MKI");
      VERBATIM_RETURN_IF_ERROR(ParseMki(fields[i], key.mki));
      seen_mki = true;
    } else {
      if (seen_mki || key.lifetime != 0) return Fail(CryptoError::kSyntax, "the lifetime comes before the MKI, once");
      VERBATIM_RETURN_IF_ERROR(ParseLifetime(fields[i], key.lifetime));
    }
  }
  return Status::Ok();
}

Status ParseSessionParam(std::string_view p, CryptoAttribute& a) {
  const size_t eq = p.find('=');
  const std::string_view name = p.substr(0, eq);
  const std::string_view value = eq == std::string_view::npos ? std::string_view() : p.substr(eq + 1);
  const bool has_value = eq != std::string_view::npos;
  if (IEquals(name, "UNENCRYPTED_SRTCP") && !has_value) {
    a.unencrypted_srtcp = true;
    return Status::Ok();
  }
  if ((IEquals(name, "UNENCRYPTED_SRTP") || IEquals(name, "UNAUTHENTICATED_SRTP")) && !has_value)
    return Fail(CryptoError::kRefusedParameter, "a recording must be encrypted and authenticated (" +
                                                    std::string(name) + ")");
  if (IEquals(name, "KDR")) {
    auto kdr = Decimal(value, 2, 24);
    if (!kdr) return Fail(CryptoError::kBadParameter, "KDR is 0 to 24");
    if (*kdr != 0) return Fail(CryptoError::kRefusedParameter, "a key derivation rate (KDR) other than 0");
    return Status::Ok();
  }
  if (IEquals(name, "WSH")) {
    auto wsh = Decimal(value, 10, UINT32_MAX);
    if (!wsh || *wsh < 64 || value.size() < 2) return Fail(CryptoError::kBadParameter, "WSH is a number >= 64");
    a.window_size_hint = static_cast<uint32_t>(std::min<uint64_t>(*wsh, 32767));  // libsrtp2's largest window
    return Status::Ok();
  }
  if (IEquals(name, "FEC_ORDER")) {
    if (!IEquals(value, "FEC_SRTP") && !IEquals(value, "SRTP_FEC"))
      return Fail(CryptoError::kBadParameter, "FEC_ORDER is FEC_SRTP or SRTP_FEC");
    return Status::Ok();  // no FEC here: the order does not matter
  }
  if (IEquals(name, "FEC_KEY") && has_value) return Status::Ok();  // keys for FEC packets, which are not used
  if (!p.empty() && p.front() == '-') return Status::Ok();        // §6.3.7: optional, may be ignored
  return Fail(CryptoError::kUnknownParameter, "a session parameter verbatim does not know");
}

}  // namespace

MasterKey::~MasterKey() {
  if (!key_salt.empty()) sodium_memzero(key_salt.data(), key_salt.size());
}

const char* ToString(CryptoSuite s) {
  switch (s) {
    case CryptoSuite::kAesCm128HmacSha1_80: return "AES_CM_128_HMAC_SHA1_80";
    case CryptoSuite::kAesCm128HmacSha1_32: return "AES_CM_128_HMAC_SHA1_32";
    case CryptoSuite::kAes256CmHmacSha1_80: return "AES_256_CM_HMAC_SHA1_80";
    case CryptoSuite::kAes256CmHmacSha1_32: return "AES_256_CM_HMAC_SHA1_32";
    case CryptoSuite::kAeadAes128Gcm: return "AEAD_AES_128_GCM";
    case CryptoSuite::kAeadAes256Gcm: return "AEAD_AES_256_GCM";
  }
  return "?";
}

std::optional<CryptoSuite> ParseCryptoSuite(std::string_view name) {
  for (const auto& s : kSuiteNames)
    if (IEquals(s.name, name)) return s.suite;
  return std::nullopt;
}

size_t MasterKeyBytes(CryptoSuite s) {
  switch (s) {
    case CryptoSuite::kAesCm128HmacSha1_80:
    case CryptoSuite::kAesCm128HmacSha1_32:
    case CryptoSuite::kAeadAes128Gcm: return 16;
    case CryptoSuite::kAes256CmHmacSha1_80:
    case CryptoSuite::kAes256CmHmacSha1_32:
    case CryptoSuite::kAeadAes256Gcm: return 32;
  }
  return 0;
}

size_t MasterSaltBytes(CryptoSuite s) {
  switch (s) {
    case CryptoSuite::kAesCm128HmacSha1_80:
    case CryptoSuite::kAesCm128HmacSha1_32:
    case CryptoSuite::kAes256CmHmacSha1_80:
    case CryptoSuite::kAes256CmHmacSha1_32: return 14;
    case CryptoSuite::kAeadAes128Gcm:
    case CryptoSuite::kAeadAes256Gcm: return 12;
  }
  return 0;
}

const char* ToString(CryptoError e) {
  switch (e) {
    case CryptoError::kSyntax: return "syntax";
    case CryptoError::kBadTag: return "bad tag";
    case CryptoError::kUnsupportedSuite: return "unsupported suite";
    case CryptoError::kBadKeyMethod: return "bad key method";
    case CryptoError::kBadKey: return "bad key";
    case CryptoError::kBadLifetime: return "bad lifetime";
    case CryptoError::kBadMki: return "bad mki";
    case CryptoError::kSeveralKeys: return "several keys";
    case CryptoError::kRefusedParameter: return "refused parameter";
    case CryptoError::kUnknownParameter: return "unknown parameter";
    case CryptoError::kBadParameter: return "bad parameter";
  }
  return "?";
}

std::optional<CryptoError> CryptoErrorOf(const Status& s) { return sip::ErrorFromStatus<CryptoError>("crypto", s); }

Result<CryptoAttribute> ParseCryptoAttribute(std::string_view value) {
  if (value.size() > kMaxCryptoAttributeBytes) return Fail(CryptoError::kSyntax, "over 1 KiB");
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u >= 0x7f) return Fail(CryptoError::kSyntax, "control or non-ASCII character");
  }
  std::string_view rest = value;
  const std::string_view tag = sip::NextWord(rest);
  const std::string_view suite = sip::NextWord(rest);
  const std::string_view key_params = sip::NextWord(rest);
  if (key_params.empty()) return Fail(CryptoError::kSyntax, "expected '<tag> <crypto-suite> inline:<key>'");

  CryptoAttribute a;
  auto t = Decimal(tag, 9, 999'999'999);
  if (!t) return Fail(CryptoError::kBadTag, "the tag is 1 to 9 digits");
  a.tag = static_cast<uint32_t>(*t);
  if (suite.size() > 64 || !std::all_of(suite.begin(), suite.end(), IsSuiteChar))
    return Fail(CryptoError::kSyntax, "a crypto suite is letters, digits and '_'");
  auto known = ParseCryptoSuite(suite);
  if (!known) {
    return Fail(CryptoError::kUnsupportedSuite,
                std::string(suite) +
                    " (supported: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, "
                    "AES_256_CM_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM)");
  }
  a.suite = *known;
  a.suite_name = std::string(suite);
  if (key_params.find(';') != std::string_view::npos)
    return Fail(CryptoError::kSeveralKeys, "one master key per attribute (MKI-based rekeying is not supported)");
  VERBATIM_RETURN_IF_ERROR(ParseKeyParam(key_params, a.suite, a.key));
  for (std::string_view p = sip::NextWord(rest); !p.empty(); p = sip::NextWord(rest))
    VERBATIM_RETURN_IF_ERROR(ParseSessionParam(p, a));
  return a;
}

std::string FormatCryptoAttribute(const CryptoAttribute& a) {
  std::string out = std::to_string(a.tag) + " " + (a.suite_name.empty() ? ToString(a.suite) : a.suite_name) +
                    " inline:" + Base64Encode(a.key.key_salt);
  if (a.unencrypted_srtcp) out += " UNENCRYPTED_SRTCP";
  return out;
}

}  // namespace verbatim::media::srtp
