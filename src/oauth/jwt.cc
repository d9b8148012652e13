// RFC 9068 access tokens: issuing (compact JWS, ES256) and strict verification.
//
// Verification runs in a fixed order and stops at the first failure:
//   size/shape -> header (alg, forbidden headers, typ) -> kid -> signature
//   -> payload claims -> time (exp, nbf, iat) -> iss/aud.
// Nothing in the payload is parsed before the signature has verified. Each
// failure names one problem code, the claim at fault and a one-sentence detail;
// details quote at most a bounded, sanitized prefix of attacker-supplied values
// and never the token itself.
#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "core/base64.h"
#include "oauth/jwt.h"
#include "oauth/jwt_text.h"

namespace verbatim::oauth {
namespace {

using authz::TokenProblem;

constexpr size_t kMaxKidChars = 128;
constexpr int64_t kMaxLeewaySeconds = 60;                // docs/api.md §2: ≤ 60 s leeway
constexpr int64_t kMaxUnixSeconds = int64_t{1} << 33;    // year 2242: fits system_clock nanoseconds
constexpr size_t kSignatureBytes = 64;
constexpr size_t kSignatureB64Chars = 86;  // base64url of 64 bytes, unpadded
constexpr size_t kMaxQuoted = 64;

VerifyResult Reject(TokenProblem problem, std::string claim, std::string detail) {
  VerifyResult r;
  r.check.problem = problem;
  r.check.claim = std::move(claim);
  r.check.detail = std::move(detail);
  return r;
}

// Attacker-controlled text for a detail: printable ASCII only, bounded.
std::string Sanitize(std::string_view s, size_t max = kMaxQuoted) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string Quote(std::string_view s) { return "'" + Sanitize(s) + "'"; }

// A core/json.h message as the tail of a detail sentence: no trailing period,
// and "it" rather than "Body" (here the document is a token part).
std::string ParseProblem(std::string_view msg) {
  std::string prefix;
  if (msg.substr(0, 5) == "Body ") {
    msg.remove_prefix(5);
    prefix = "it ";
  }
  if (!msg.empty() && msg.back() == '.') msg.remove_suffix(1);
  return prefix + Sanitize(msg, 2 * kMaxQuoted);
}

std::string_view View(const json::string& s) { return {s.data(), s.size()}; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header members whose only use is to make a verifier trust a key, a URL or
// an extension chosen by whoever wrote the token.
struct ForbiddenHeader {
  const char* name;
  const char* why;
};
constexpr std::array<ForbiddenHeader, 8> kForbiddenHeaders = {{
    {"jku", "keys are never fetched from tokens"},
    {"x5u", "keys are never fetched from tokens"},
    {"jwk", "keys embedded in tokens are never trusted"},
    {"x5c", "keys embedded in tokens are never trusted"},
    {"x5t", "certificates are not used to select keys"},
    {"x5t#S256", "certificates are not used to select keys"},
    {"crit", "this server implements no JWS extensions"},
    {"zip", "compressed tokens are not accepted"},
}};

struct Segments {
  std::string header;
  std::string payload;
  std::string signature;
  std::string_view signing_input;  // "header.payload" as received
};

// The checks below return the rejection, or nullopt when the token passes them.

// Splits and base64url-decodes the three parts into `out`.
std::optional<VerifyResult> SplitToken(std::string_view token, Segments& out) {
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Reject(TokenProblem::kMalformed, "token",
                  "it is not a compact JWS: it must have exactly three dot-separated parts.");
  }
  std::string_view parts[3] = {token.substr(0, first), token.substr(first + 1, second - first - 1),
                               token.substr(second + 1)};
  static constexpr const char* kNames[3] = {"header", "payload", "signature"};
  std::string* outs[3] = {&out.header, &out.payload, &out.signature};
  for (int i = 0; i < 3; ++i) {
    // An empty signature is valid JWS syntax (unsecured JWS); it is rejected
    // later with the real reason (alg none, or a signature of the wrong size).
    if (parts[i].empty() && i < 2) {
      return Reject(TokenProblem::kMalformed, kNames[i], std::string("its ") + kNames[i] + " part is empty.");
    }
    auto decoded = Base64UrlDecode(parts[i]);
    if (!decoded) {
      return Reject(TokenProblem::kMalformed, kNames[i],
                    std::string("its ") + kNames[i] + " part is not canonical base64url without padding.");
    }
    *outs[i] = std::move(*decoded);
  }
  out.signing_input = token.substr(0, second);
  return std::nullopt;
}

// alg, forbidden members, typ, kid (into `kid`).
std::optional<VerifyResult> CheckHeader(const json::object& h, std::string& kid) {
  auto alg_it = h.find("alg");
  const json::string* alg = alg_it == h.end() ? nullptr : alg_it->value().if_string();
  if (!alg) {
    return Reject(TokenProblem::kSignature, "alg",
                  "its header has no string alg; this server only issues ES256 tokens.");
  }
  if (*alg != "ES256") {
    return Reject(TokenProblem::kSignature, "alg",
                  "alg " + Quote(View(*alg)) + " is not accepted; this server only issues ES256 tokens.");
  }
  for (const auto& f : kForbiddenHeaders) {
    if (h.contains(f.name)) {
      return Reject(TokenProblem::kMalformed, f.name,
                    std::string("header '") + f.name + "' is not accepted: " + f.why + ".");
    }
  }
  auto typ_it = h.find("typ");
  const json::string* typ = typ_it == h.end() ? nullptr : typ_it->value().if_string();
  if (!typ) {
    return Reject(TokenProblem::kMalformed, "typ", "its header has no typ; access tokens have typ 'at+jwt' (RFC 9068).");
  }
  std::string t = Lower(View(*typ));  // media types are case-insensitive (RFC 9068 §2.1)
  if (t != "at+jwt" && t != "application/at+jwt") {
    return Reject(TokenProblem::kMalformed, "typ",
                  "typ " + Quote(View(*typ)) + " is not the access token type; expected 'at+jwt' (RFC 9068).");
  }
  auto kid_it = h.find("kid");
  if (kid_it == h.end()) {
    return Reject(TokenProblem::kSignature, "kid", "its header has no kid, so no key of this server can verify it.");
  }
  const json::string* k = kid_it->value().if_string();
  if (!k || k->empty() || k->size() > kMaxKidChars) {
    return Reject(TokenProblem::kMalformed, "kid", "its kid must be a non-empty string of at most 128 characters.");
  }
  kid.assign(k->data(), k->size());
  return std::nullopt;
}

std::optional<VerifyResult> RequireString(const json::object& p, const char* name, bool required, std::string& out) {
  auto it = p.find(name);
  if (it == p.end()) {
    if (!required) return std::nullopt;
    return Reject(TokenProblem::kMalformed, name, std::string("it has no '") + name + "' claim.");
  }
  const json::string* s = it->value().if_string();
  if (!s || (required && s->empty())) {
    return Reject(TokenProblem::kMalformed, name, std::string("its '") + name + "' claim must be a non-empty string.");
  }
  out.assign(s->data(), s->size());
  return std::nullopt;
}

// NumericDate as an integer number of seconds; fractions and exponents are refused.
std::optional<VerifyResult> RequireSeconds(const json::object& p, const char* name, bool required,
                                           std::optional<int64_t>& out) {
  auto it = p.find(name);
  if (it == p.end()) {
    if (!required) return std::nullopt;
    return Reject(TokenProblem::kMalformed, name, std::string("it has no '") + name + "' claim.");
  }
  const json::value& v = it->value();
  int64_t n = -1;  // doubles (1.7e9, 1700000000.0) stay -1: boost keeps them apart from integers
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(kMaxUnixSeconds)) {
    n = static_cast<int64_t>(v.get_uint64());
  }
  if (n < 0 || n > kMaxUnixSeconds) {
    return Reject(TokenProblem::kMalformed, name,
                  std::string("its '") + name + "' claim must be an integer number of seconds since 1970.");
  }
  out = n;
  return std::nullopt;
}

std::string At(int64_t unix_seconds) { return FormatRfc3339(FromUnixSeconds(unix_seconds)); }

std::vector<std::string> SplitScopes(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E, at least one.
bool IsScopeToken(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    unsigned char c = static_cast<unsigned char>(ch);
    return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
  });
}

VerifyResult Verify(std::string_view token, const KeySet& keys, const VerifyOptions& opts, TimePoint now) {
  // 1. Size and shape.
  if (token.size() > opts.max_token_bytes) {
    return Reject(TokenProblem::kMalformed, "token",
                  "it is " + std::to_string(token.size()) + " bytes; the limit is " +
                      std::to_string(opts.max_token_bytes) + ".");
  }
  Segments seg;
  if (auto bad = SplitToken(token, seg)) return std::move(*bad);

  // 2. Header, 3. kid.
  auto header = ParseJsonObject(seg.header, JsonLimits{.max_depth = 8});
  if (!header.ok()) {
    return Reject(TokenProblem::kMalformed, "header",
                  "its header is not a strict JSON object: " + ParseProblem(header.status().message()) + ".");
  }
  std::string kid;
  if (auto bad = CheckHeader(*header, kid)) return std::move(*bad);
  const VerificationKey* key = keys.Find(kid);
  if (!key) {
    return Reject(TokenProblem::kSignature, "kid",
                  "kid " + Quote(kid) + " is not one of this server's signing keys (it may have been rotated out).");
  }

  // 4. Signature, before anything in the payload is believed.
  if (seg.signature.size() != kSignatureBytes) {
    return Reject(TokenProblem::kSignature, "signature",
                  "the signature is " + std::to_string(seg.signature.size()) +
                      " bytes; an ES256 signature is exactly 64 bytes (r||s).");
  }
  if (!key->Verify(seg.signing_input, seg.signature)) {
    return Reject(TokenProblem::kSignature, "signature",
                  "the signature does not verify with key " + Quote(kid) + ".");
  }

  // 5. Claims.
  auto payload = ParseJsonObject(seg.payload, JsonLimits{.max_depth = 16});
  if (!payload.ok()) {
    return Reject(TokenProblem::kMalformed, "payload",
                  "its payload is not a strict JSON object: " + ParseProblem(payload.status().message()) + ".");
  }
  const json::object& p = *payload;
  AccessTokenClaims c;
  std::string scope;
  std::optional<int64_t> exp, iat, nbf, auth_time;
  for (auto [name, out] : {std::pair{"iss", &c.issuer}, {"sub", &c.subject}, {"jti", &c.jti},
                           {"client_id", &c.client_id}}) {
    if (auto bad = RequireString(p, name, true, *out)) return std::move(*bad);
  }
  if (auto bad = RequireString(p, "scope", false, scope)) return std::move(*bad);
  if (auto bad = RequireString(p, "org", false, c.org)) return std::move(*bad);
  if (auto bad = RequireString(p, "sid", false, c.session_id)) return std::move(*bad);
  // aud: one string, or an array of strings (RFC 7519 §4.1.3).
  std::vector<std::string_view> auds;
  auto aud_it = p.find("aud");
  bool aud_ok = aud_it != p.end();
  if (aud_ok && aud_it->value().is_string()) {
    auds.push_back(View(aud_it->value().get_string()));
  } else if (aud_ok && aud_it->value().is_array()) {
    for (const auto& a : aud_it->value().get_array()) {
      if (!a.is_string()) {
        aud_ok = false;
        break;
      }
      auds.push_back(View(a.get_string()));
    }
  } else {
    aud_ok = false;
  }
  if (!aud_ok || auds.empty()) {
    return Reject(TokenProblem::kMalformed, "aud", "its 'aud' claim must be a string or an array of strings.");
  }
  if (auto bad = RequireSeconds(p, "exp", true, exp)) return std::move(*bad);
  if (auto bad = RequireSeconds(p, "iat", true, iat)) return std::move(*bad);
  if (auto bad = RequireSeconds(p, "nbf", false, nbf)) return std::move(*bad);
  if (auto bad = RequireSeconds(p, "auth_time", false, auth_time)) return std::move(*bad);

  // 6. Time.
  const int64_t leeway = std::clamp<int64_t>(opts.leeway.count(), 0, kMaxLeewaySeconds);
  const int64_t now_s = ToUnixSeconds(now);
  if (*exp <= now_s - leeway) {
    return Reject(TokenProblem::kExpired, "exp", "it expired at " + At(*exp) + ".");
  }
  if (nbf && *nbf > now_s + leeway) {
    return Reject(TokenProblem::kExpired, "nbf", "it is not valid before " + At(*nbf) + ".");
  }
  if (*iat > now_s + leeway) {
    return Reject(TokenProblem::kMalformed, "iat", "it claims to be issued in the future, at " + At(*iat) + ".");
  }

  // 7. Issuer and audience.
  if (c.issuer != opts.issuer) {
    return Reject(TokenProblem::kAudience, "iss",
                  "it was issued by " + Quote(c.issuer) + ", not by this server (" + Quote(opts.issuer) + ").");
  }
  if (std::find(auds.begin(), auds.end(), std::string_view(opts.audience)) == auds.end()) {
    return Reject(TokenProblem::kAudience, "aud",
                  "its audience does not include this API, " + Quote(opts.audience) + ".");
  }

  VerifyResult r;
  c.audience = opts.audience;
  c.scopes = SplitScopes(scope);
  c.issued_at = FromUnixSeconds(*iat);
  c.expires_at = FromUnixSeconds(*exp);
  if (auth_time) c.auth_time = FromUnixSeconds(*auth_time);
  r.check.subject = c.subject;
  r.check.client_id = c.client_id;
  r.check.jti = c.jti;
  r.check.session_id = c.session_id;
  r.check.scopes = c.scopes;
  r.check.issued_at = c.issued_at;
  r.check.expires_at = c.expires_at;
  r.token.claims = std::move(c);
  r.token.payload = std::move(*payload);
  return r;
}

}  // namespace

Result<std::string> SignAccessToken(const SigningKeyPair& key, const AccessTokenClaims& claims) {
  auto invalid = [](std::string msg) { return Status::InvalidArgument("claims.invalid", std::move(msg)); };
  try {
    if (claims.issuer.empty() || claims.subject.empty() || claims.audience.empty() || claims.client_id.empty() ||
        claims.jti.empty()) {
      return invalid("iss, sub, aud, client_id and jti must all be non-empty.");
    }
    if (claims.expires_at <= claims.issued_at) return invalid("exp must be after iat.");
    const int64_t iat = ToUnixSeconds(claims.issued_at);
    const int64_t exp = ToUnixSeconds(claims.expires_at);
    if (iat < 0 || exp > kMaxUnixSeconds) return invalid("iat/exp are out of range.");
    for (const auto& s : claims.scopes) {
      // A space (or worse) inside one scope would come back as other scopes.
      if (!IsScopeToken(s)) return invalid("scope " + Quote(s) + " is not a valid RFC 6749 scope-token.");
    }
    // The payload's JSON in a buffer each thread reuses; the token in one
    // allocation of its final size (docs/performance.md "Grants").
    thread_local std::string payload;
    payload.clear();
    AppendAccessTokenPayload(payload, claims, iat, exp);
    const std::string& header = key.encoded_header();
    const size_t payload_b64 = (payload.size() * 4 + 2) / 3;
    std::string token;
    token.reserve(header.size() + 1 + payload_b64 + 1 + kSignatureB64Chars);
    token += header;
    token += '.';
    AppendBase64Url(token, payload);
    unsigned char sig[kSignatureBytes];
    VERBATIM_RETURN_IF_ERROR(key.SignTo(token, sig));
    token += '.';
    AppendBase64Url(token, std::string_view(reinterpret_cast<const char*>(sig), sizeof sig));
    return token;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("Signing the access token failed: ") + e.what());
  }
}

VerifyResult VerifyAccessToken(std::string_view token, const KeySet& keys, const VerifyOptions& opts, TimePoint now) {
  try {
    return Verify(token, keys, opts, now);
  } catch (const std::exception&) {
    // Only allocation failure can get here; fail closed.
    return Reject(TokenProblem::kMalformed, "token", "it could not be processed.");
  }
}

}  // namespace verbatim::oauth
