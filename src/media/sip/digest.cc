#include "media/sip/digest.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <array>

#include "core/base64.h"
#include "core/crypto.h"
#include "media/sip/text.h"

namespace verbatim::media::sip {
namespace {

constexpr size_t kNonceTimeBytes = 8;
constexpr size_t kNonceRandomBytes = 16;
constexpr size_t kNonceMacBytes = 16;
// A nonce dated this far in the future was still made by us (clock stepped back).
constexpr auto kFutureTolerance = std::chrono::seconds(5);

Status Fail(DigestError e, std::string_view detail) { return ParseFailure("digest", e, detail); }

std::string HashHex(DigestAlgorithm a, std::string_view data) {
  if (a == DigestAlgorithm::kSha256) return HexEncode(Sha256(data));
  // MD5 is what RFC 3261 digest is defined with; it is not used for anything else here.
  static EVP_MD* const kMd5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, kMd5, nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

// One auth-param value: a token or a quoted-string (with \-escapes).
Result<std::string> ReadValue(std::string_view& s) {
  std::string out;
  if (!s.empty() && s.front() == '"') {
    size_t i = 1;
    for (; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      if (static_cast<unsigned char>(s[i]) < 0x20 && s[i] != '\t')
        return Fail(DigestError::kBadSyntax, "control character");
      out += s[i];
      if (out.size() > kMaxDigestParamBytes) return Fail(DigestError::kTooLong, "a value over 1 KiB");
    }
    if (i >= s.size()) return Fail(DigestError::kBadSyntax, "unterminated quoted-string");
    s.remove_prefix(i + 1);
    return out;
  }
  size_t n = 0;
  while (n < s.size() && s[n] != ',' && !IsWsp(s[n])) ++n;
  out.assign(s.substr(0, n));
  if (out.empty()) return Fail(DigestError::kBadSyntax, "empty value");
  if (out.size() > kMaxDigestParamBytes) return Fail(DigestError::kTooLong, "a value over 1 KiB");
  for (char c : out)
    if (!IsTokenChar(c) && c != '/' && c != ':' && c != '@' && c != '=')
      return Fail(DigestError::kBadSyntax, "bad token");
  s.remove_prefix(n);
  return out;
}

void SkipWsp(std::string_view& s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
}

std::optional<uint32_t> ParseHex8(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    int d = IsDigit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<uint32_t>(d);
  }
  return v;
}

}  // namespace

const char* ToString(DigestAlgorithm a) {
  switch (a) {
    case DigestAlgorithm::kMd5:
      return "MD5";
    case DigestAlgorithm::kSha256:
      return "SHA-256";
  }
  return "?";
}

const char* ToString(DigestError e) {
  switch (e) {
    case DigestError::kNotDigest:
      return "not digest";
    case DigestError::kBadSyntax:
      return "bad syntax";
    case DigestError::kDuplicateParam:
      return "duplicate param";
    case DigestError::kMissingParam:
      return "missing param";
    case DigestError::kUnsupportedAlgorithm:
      return "unsupported algorithm";
    case DigestError::kUnsupportedQop:
      return "unsupported qop";
    case DigestError::kTooLong:
      return "too long";
    case DigestError::kBadNonceCount:
      return "bad nonce count";
  }
  return "?";
}

std::optional<DigestError> DigestErrorOf(const Status& s) { return ErrorFromStatus<DigestError>("digest", s); }

Result<DigestCredentials> ParseDigestCredentials(std::string_view value) {
  if (value.size() > kMaxDigestHeaderBytes) return Fail(DigestError::kTooLong, "header over 4 KiB");
  std::string_view s = Trim(value);
  std::string_view scheme = NextWord(s);
  if (!IEquals(scheme, "Digest")) return Fail(DigestError::kNotDigest, "the scheme must be Digest");
  DigestCredentials c;
  std::string algorithm, qop, nc, userhash;
  bool seen_username = false, seen_realm = false, seen_nonce = false, seen_uri = false, seen_response = false;
  bool seen_cnonce = false, seen_opaque = false, seen_algorithm = false, seen_qop = false, seen_nc = false,
       seen_userhash = false;
  for (int n = 0;; ++n) {
    SkipWsp(s);
    if (s.empty()) break;
    if (n >= 32) return Fail(DigestError::kBadSyntax, "over 32 parameters");
    size_t eq = 0;
    while (eq < s.size() && IsTokenChar(s[eq])) ++eq;
    std::string name = ToLower(s.substr(0, eq));
    if (name.empty()) return Fail(DigestError::kBadSyntax, "expected a parameter name");
    s.remove_prefix(eq);
    SkipWsp(s);
    if (s.empty() || s.front() != '=') return Fail(DigestError::kBadSyntax, "expected '=' after " + name.substr(0, 32));
    s.remove_prefix(1);
    SkipWsp(s);
    auto v = ReadValue(s);
    if (!v.ok()) return v.status();
    struct Slot {
      const char* name;
      bool* seen;
      std::string* out;
    };
    const Slot slots[] = {{"username", &seen_username, &c.username},
                          {"realm", &seen_realm, &c.realm},
                          {"nonce", &seen_nonce, &c.nonce},
                          {"uri", &seen_uri, &c.uri},
                          {"response", &seen_response, &c.response},
                          {"cnonce", &seen_cnonce, &c.cnonce},
                          {"opaque", &seen_opaque, &c.opaque},
                          {"algorithm", &seen_algorithm, &algorithm},
                          {"qop", &seen_qop, &qop},
                          {"nc", &seen_nc, &nc},
                          {"userhash", &seen_userhash, &userhash}};
    for (const Slot& slot : slots) {
      if (name != slot.name) continue;
      if (*slot.seen) return Fail(DigestError::kDuplicateParam, name);
      *slot.seen = true;
      *slot.out = std::move(*v);
      break;
    }
    // Unknown parameters are extensions (RFC 3261 §25.1 auth-param): ignored.
    SkipWsp(s);
    if (s.empty()) break;
    if (s.front() != ',') return Fail(DigestError::kBadSyntax, "expected ',' between parameters");
    s.remove_prefix(1);
  }
  if (!seen_username || !seen_realm || !seen_nonce || !seen_uri || !seen_response)
    return Fail(DigestError::kMissingParam, "username, realm, nonce, uri and response are required");
  if (!seen_algorithm || IEquals(algorithm, "MD5"))
    c.algorithm = DigestAlgorithm::kMd5;
  else if (IEquals(algorithm, "SHA-256"))
    c.algorithm = DigestAlgorithm::kSha256;
  else
    return Fail(DigestError::kUnsupportedAlgorithm, "MD5 or SHA-256 only");
  if (seen_userhash && IEquals(userhash, "true"))
    return Fail(DigestError::kUnsupportedQop, "userhash is not supported");
  if (seen_qop) {
    if (!IEquals(qop, "auth")) return Fail(DigestError::kUnsupportedQop, "qop=auth only");
    if (!seen_cnonce || !seen_nc) return Fail(DigestError::kMissingParam, "qop=auth needs cnonce and nc");
    auto count = ParseHex8(nc);
    if (!count) return Fail(DigestError::kBadNonceCount, "nc must be 8 hex digits");
    c.qop_auth = true;
    c.nc = nc;
    c.nonce_count = *count;
  }
  return c;
}

std::string DigestHa1Hex(DigestAlgorithm a, std::string_view username, std::string_view realm,
                         std::string_view password) {
  std::string in;
  in.reserve(username.size() + realm.size() + password.size() + 2);
  in.append(username).append(":").append(realm).append(":").append(password);
  std::string out = HashHex(a, in);
  sodium_memzero(in.data(), in.size());
  return out;
}

bool DigestResponseMatches(const DigestCredentials& c, std::string_view ha1_hex, std::string_view method) {
  if (ha1_hex.empty()) return false;
  const std::string ha2 = HashHex(c.algorithm, std::string(method) + ":" + c.uri);
  std::string in(ha1_hex);
  in.append(":").append(c.nonce).append(":");
  if (c.qop_auth) in.append(c.nc).append(":").append(c.cnonce).append(":auth:");
  in.append(ha2);
  const std::string expected = HashHex(c.algorithm, in);
  sodium_memzero(in.data(), in.size());
  return ConstantTimeEquals(expected, ToLower(c.response));
}

std::string DigestChallenge(DigestAlgorithm a, std::string_view realm, std::string_view nonce, bool stale) {
  std::string out = "Digest realm=\"";
  for (char c : realm)
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) out += c;
  out += "\", nonce=\"" + std::string(nonce) + "\", algorithm=" + ToString(a) + ", qop=\"auth\"";
  if (stale) out += ", stale=true";
  return out;
}

DigestNonces::DigestNonces(std::string key, std::chrono::seconds lifetime)
    : key_(std::move(key)), lifetime_(lifetime) {}

std::string DigestNonces::Issue(TimePoint now) const {
  std::string raw(kNonceTimeBytes + kNonceRandomBytes, '\0');
  const uint64_t ms = static_cast<uint64_t>(ToUnixMillis(now));
  for (size_t i = 0; i < kNonceTimeBytes; ++i) raw[i] = static_cast<char>(ms >> (8 * (kNonceTimeBytes - 1 - i)));
  randombytes_buf(raw.data() + kNonceTimeBytes, kNonceRandomBytes);
  raw += HmacSha256(key_, raw).substr(0, kNonceMacBytes);
  return Base64UrlEncode(raw);
}

DigestNonces::Check DigestNonces::Verify(std::string_view nonce, TimePoint now) const {
  if (nonce.size() > 128) return Check::kInvalid;
  auto raw = Base64UrlDecode(nonce);
  if (!raw || raw->size() != kNonceTimeBytes + kNonceRandomBytes + kNonceMacBytes) return Check::kInvalid;
  const std::string_view signed_part = std::string_view(*raw).substr(0, kNonceTimeBytes + kNonceRandomBytes);
  const std::string mac = HmacSha256(key_, signed_part).substr(0, kNonceMacBytes);
  if (!ConstantTimeEquals(mac, std::string_view(*raw).substr(kNonceTimeBytes + kNonceRandomBytes))) {
    return Check::kInvalid;
  }
  uint64_t ms = 0;
  for (size_t i = 0; i < kNonceTimeBytes; ++i) ms = (ms << 8) | static_cast<unsigned char>((*raw)[i]);
  const TimePoint issued = FromUnixMillis(static_cast<int64_t>(ms));
  if (issued > now + kFutureTolerance || now - issued > lifetime_) return Check::kStale;
  return Check::kValid;
}

}  // namespace verbatim::media::sip
