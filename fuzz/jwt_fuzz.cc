// libFuzzer target: RFC 9068 access-token verification (oauth/jwt.h) against a
// fixed KeySet of two trusted keys. The first input byte picks a mode:
//   0  the rest is the token, as is;
//   1  a real token with one segment replaced by the rest (raw text);
//   2  a real token with one segment replaced by base64url(rest), so the
//      fuzzer writes header JSON or signature bytes directly;
//   3  a real token with bytes XORed in (token text or decoded signature);
//   4  header and payload JSON from the input (split at the first NUL), signed
//      with a trusted key, to reach the claim and time checks.
// Invariants: nothing crashes; in modes 0-3 a token is accepted only if it is
// byte for byte one this harness minted (no change to any segment survives
// the signature check); in mode 4 an accepted token has this server's
// iss/aud and is not expired; every rejection names a problem and a claim and
// its detail is bounded printable ASCII that never quotes a whole segment of
// a real token.
// Not covered (no fuzzer finds it by mutation): ECDSA's (r, n-s) twin of a
// real signature verifies too, so each issued token has a second accepted
// spelling with the same claims. Closing that needs low-s signing and
// verification in oauth/es256.cc (a decision, not a parser bug).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/base64.h"
#include "core/json.h"
#include "oauth/jwt.h"

using namespace verbatim;         // NOLINT: fuzz harness
using namespace verbatim::oauth;  // NOLINT: fuzz harness

namespace {

// Fixed keys so runs are reproducible (generated for this harness only).
constexpr char kPemA[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgv+NT5zkYTY4UH0Kr\n"
    "VeKpfsRAUbrYKhs3YK87ONQI6fahRANCAARoIk6WGIPum4weIIdD+NKFzROg9YcT\n"
    "uBSwUXO1e1xWZ1Q4Ak1TtyjR007tHslDhJ57yuXQl1ndUlegCJK3f35z\n"
    "-----END PRIVATE KEY-----\n";
constexpr char kPemB[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgE0E8psXi8Rjf3k1f\n"
    "TP/B3so28P4QBEKEi88qjvjqKTehRANCAAQJaJTv4qjVj2D7tZvUq8Nh4AJYelqU\n"
    "OasO5Z/S5Kj9ihvY7utmPXEcLZIK/QznxwjN0O4t8FM00D5vLo8yzCau\n"
    "-----END PRIVATE KEY-----\n";

constexpr int64_t kNowSeconds = 1'700'000'000;
constexpr char kIssuer[] = "https://verbatim.fuzz";
constexpr char kAudience[] = "https://verbatim.fuzz/api";

struct Env {
  std::vector<SigningKeyPair> signers;
  KeySet keys;
  VerifyOptions opts;
  TimePoint now = FromUnixSeconds(kNowSeconds);
  std::vector<std::string> minted;
  std::set<std::string, std::less<>> minted_set;
};
Env* env = nullptr;

[[noreturn]] void Fail(const char* what, std::string_view token, const VerifyResult& r) {
  std::fprintf(stderr, "jwt_fuzz invariant violated: %s\n  token: %.*s\n  problem=%d claim=%s detail=%s\n", what,
               static_cast<int>(token.size()), token.data(), static_cast<int>(r.check.problem),
               r.check.claim.c_str(), r.check.detail.c_str());
  __builtin_trap();
}

std::string Mint(const SigningKeyPair& key, const AccessTokenClaims& c) {
  auto t = SignAccessToken(key, c);
  if (!t.ok()) {
    std::fprintf(stderr, "jwt_fuzz: minting failed: %s\n", t.status().ToString().c_str());
    __builtin_trap();
  }
  return *t;
}

void Init() {
  env = new Env;
  for (const char* pem : {kPemA, kPemB}) {
    auto k = SigningKeyPair::FromPrivatePem(pem);
    if (!k.ok()) __builtin_trap();
    env->keys.Add(VerificationKey::FromKeyPair(*k));
    env->signers.push_back(std::move(*k));
  }
  env->opts.issuer = kIssuer;
  env->opts.audience = kAudience;

  AccessTokenClaims c;
  c.issuer = kIssuer;
  c.subject = "client-1";
  c.audience = kAudience;
  c.client_id = "client-1";
  c.org = "org-1";
  c.jti = "jti-1";
  c.scopes = {"recording:control", "recording:read"};
  c.issued_at = FromUnixSeconds(kNowSeconds - 10);
  c.expires_at = FromUnixSeconds(kNowSeconds + 3600);
  env->minted.push_back(Mint(env->signers[0], c));
  c.scopes = {};
  c.jti = "jti-2";
  c.org = "";
  env->minted.push_back(Mint(env->signers[1], c));
  c.scopes = {"admin:all", "x"};
  c.jti = "jti-3";
  c.issued_at = FromUnixSeconds(kNowSeconds + 30);  // within the leeway
  c.expires_at = FromUnixSeconds(kNowSeconds + 31);
  env->minted.push_back(Mint(env->signers[0], c));
  for (const auto& t : env->minted) {
    auto r = VerifyAccessToken(t, env->keys, env->opts, env->now);
    if (!r.check.ok()) Fail("a freshly minted token is rejected (harness broken)", t, r);
    env->minted_set.insert(t);
  }
}

// `secrets`: segments of a real token (86+ characters) that the detail must
// never contain: quoting is bounded to a 64-byte prefix, so a whole real
// segment in a detail means the token leaked into an error message.
void CheckRejection(std::string_view token, const VerifyResult& r, const std::vector<std::string>& secrets) {
  if (r.check.claim.empty()) Fail("rejection names no claim", token, r);
  const std::string& d = r.check.detail;
  if (d.empty() || d.size() > 1024) Fail("rejection detail empty or unbounded", token, r);
  for (unsigned char ch : d)
    if (ch < 0x20 || ch >= 0x7f) Fail("rejection detail is not printable ASCII", token, r);
  for (const auto& s : secrets)
    if (d.find(s) != std::string::npos) Fail("rejection detail quotes a segment of the token", token, r);
}

VerifyResult Check(std::string_view token, bool must_be_minted, const std::vector<std::string>& secrets = {}) {
  VerifyResult r = VerifyAccessToken(token, env->keys, env->opts, env->now);
  if (!r.check.ok()) {
    CheckRejection(token, r, secrets);
    return r;
  }
  if (must_be_minted && !env->minted_set.contains(token)) Fail("accepted a token that was never signed", token, r);
  const auto& c = r.token.claims;
  if (c.issuer != kIssuer || c.audience != kAudience) Fail("accepted a token for another issuer/audience", token, r);
  if (ToUnixSeconds(c.expires_at) <= kNowSeconds - 60) Fail("accepted an expired token", token, r);
  if (r.check.client_id.empty() || r.check.jti.empty() || r.check.subject.empty()) Fail("accepted empty ids", token, r);
  return r;
}

// The three segments of a real token.
std::vector<std::string> Split(const std::string& t) {
  size_t a = t.find('.');
  size_t b = t.find('.', a + 1);
  return {t.substr(0, a), t.substr(a + 1, b - a - 1), t.substr(b + 1)};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 5;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 0) {
    Check(in, true);
    return 0;
  }
  if (mode == 4) {
    size_t nul = in.find('\0');
    std::string_view header = in.substr(0, nul);
    std::string_view payload = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
    std::string token = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
    const SigningKeyPair& key = env->signers[header.size() % env->signers.size()];
    auto sig = key.Sign(token);
    if (!sig.ok()) __builtin_trap();
    token += "." + Base64UrlEncode(*sig);
    Check(token, false);
    return 0;
  }
  if (in.size() < 2) return 0;
  const std::string& real = env->minted[static_cast<uint8_t>(in[0]) % env->minted.size()];
  const int segment = static_cast<uint8_t>(in[1]) % 3;
  std::string_view rest = in.substr(2);
  std::vector<std::string> seg = Split(real);
  std::vector<std::string> secrets;  // real segments the fuzzer did not replace
  std::string token;
  if (mode == 1 || mode == 2) {
    for (int i = 1; i < 3; ++i)
      if (i != segment) secrets.push_back(seg[i]);
    seg[segment] = mode == 1 ? std::string(rest) : Base64UrlEncode(rest);
    token = seg[0] + "." + seg[1] + "." + seg[2];
  } else {
    // (position: 2 bytes, xor: 1 byte) triples, into the token text or into
    // the decoded signature.
    std::string sig = *Base64UrlDecode(seg[2]);
    token = real;
    std::string& target = segment == 2 ? sig : token;
    for (size_t i = 0; i + 2 < rest.size(); i += 3) {
      size_t pos = (static_cast<size_t>(static_cast<uint8_t>(rest[i])) << 8) | static_cast<uint8_t>(rest[i + 1]);
      target[pos % target.size()] ^= rest[i + 2];
    }
    if (segment == 2) token = seg[0] + "." + seg[1] + "." + Base64UrlEncode(sig);
  }
  Check(token, true, secrets);
  return 0;
}
