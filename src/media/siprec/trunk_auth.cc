#include "media/siprec/trunk_auth.h"

#include <sodium.h>

namespace verbatim::media::siprec {
namespace {

constexpr size_t kMaxRemembered = 20000;  // (nonce, nc) pairs; older ones expire with their nonce

std::string RandomKey() {
  std::string key(32, '\0');
  randombytes_buf(key.data(), key.size());
  return key;
}

}  // namespace

TrunkAuthenticator::TrunkAuthenticator(std::chrono::seconds nonce_lifetime, std::function<TimePoint()> now)
    : nonces_(RandomKey(), nonce_lifetime), now_(std::move(now)) {}

std::vector<std::string> TrunkAuthenticator::Challenges(const TrunkDigest& d, bool stale) const {
  std::vector<std::string> out;
  const std::string nonce = nonces_.Issue(now_());
  if (!d.ha1_sha256.empty()) out.push_back(sip::DigestChallenge(sip::DigestAlgorithm::kSha256, d.realm, nonce, stale));
  if (!d.ha1_md5.empty()) out.push_back(sip::DigestChallenge(sip::DigestAlgorithm::kMd5, d.realm, nonce, stale));
  return out;
}

bool TrunkAuthenticator::FirstUse(const std::string& nonce, uint32_t nc, TimePoint now) {
  MutexLock lock(mu_);
  if (seen_.size() >= kMaxRemembered) {
    for (auto it = seen_.begin(); it != seen_.end();) {
      it = now - it->second.second > nonces_.lifetime() ? seen_.erase(it) : std::next(it);
    }
    // Still full of live nonces: a flood of authenticated INVITEs. Refusing a
    // few more is safer than forgetting what was used.
    if (seen_.size() >= kMaxRemembered) return false;
  }
  auto [it, inserted] = seen_.try_emplace(nonce, nc, now);
  if (inserted) return true;
  if (nc <= it->second.first) return false;
  it->second.first = nc;
  return true;
}

DigestVerdict TrunkAuthenticator::Check(const Trunk& trunk, const sip::Message& req) {
  DigestVerdict v;
  const TrunkDigest& d = *trunk.digest;
  std::optional<std::string_view> header;
  // Only credentials for our realm count; a proxy's credentials for another realm may ride along.
  for (std::string_view h : req.headers("Authorization")) {
    auto c = sip::ParseDigestCredentials(h);
    if (!c.ok() || c->realm == d.realm) {
      header = h;
      break;
    }
  }
  if (!header) {
    v.outcome = DigestVerdict::Outcome::kChallenge;
    v.challenges = Challenges(d, false);
    v.why = "no credentials";
    return v;
  }
  auto creds = sip::ParseDigestCredentials(*header);
  if (!creds.ok()) {
    v.outcome = DigestVerdict::Outcome::kFailed;
    v.why = "unusable Authorization: " + creds.status().message();
    return v;
  }
  auto fail = [&](std::string why) {
    v.outcome = DigestVerdict::Outcome::kFailed;
    v.why = std::move(why);
    return v;
  };
  if (!creds->qop_auth) return fail("credentials without qop=auth");
  if (creds->username != d.username) return fail("unknown username");
  if (creds->uri != req.request_uri) return fail("digest uri differs from the Request-URI");
  const std::string& ha1 = creds->algorithm == sip::DigestAlgorithm::kSha256 ? d.ha1_sha256 : d.ha1_md5;
  if (ha1.empty()) return fail(std::string("algorithm ") + sip::ToString(creds->algorithm) + " not offered");
  const TimePoint now = now_();
  const auto nonce = nonces_.Verify(creds->nonce, now);
  if (nonce == sip::DigestNonces::Check::kInvalid) {
    // Not ours (or from before a restart): challenge again rather than refuse.
    v.outcome = DigestVerdict::Outcome::kChallenge;
    v.challenges = Challenges(d, false);
    v.why = "nonce not issued by this server";
    return v;
  }
  if (!sip::DigestResponseMatches(*creds, ha1, req.method)) return fail("wrong response (password)");
  if (nonce == sip::DigestNonces::Check::kStale) {
    v.outcome = DigestVerdict::Outcome::kStale;
    v.challenges = Challenges(d, true);
    v.why = "stale nonce";
    return v;
  }
  if (!FirstUse(creds->nonce, creds->nonce_count, now)) return fail("nonce count replayed");
  v.outcome = DigestVerdict::Outcome::kOk;
  return v;
}

}  // namespace verbatim::media::siprec
