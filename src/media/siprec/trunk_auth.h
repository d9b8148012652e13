// Digest authentication of INVITEs from trunks that have credentials
// (RFC 3261 §22.4 as the UAS: 401 + WWW-Authenticate, RFC 8760 SHA-256 then
// MD5). The nonce is ours (sip/digest.h: time-limited, HMAC-checked); a
// (nonce, nc) pair is accepted once, so a captured INVITE cannot be replayed
// as a new one. qop=auth is required: we always offer it, so a client that
// answers without it is not following RFC 3261 §22.4 and gets a refusal.
//
// Thread-safe (one mutex around the replay window).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "media/sip/digest.h"
#include "media/sip/message.h"
#include "media/siprec/trunks.h"

namespace verbatim::media::siprec {

struct DigestVerdict {
  enum class Outcome {
    kOk,         // right credentials, fresh nonce
    kChallenge,  // no credentials for our realm: 401 with a challenge
    kStale,      // right credentials on an expired nonce: 401 with stale=true
    kFailed,     // wrong user, realm, uri or response, replayed nc, unusable header: 403
  };
  Outcome outcome = Outcome::kChallenge;
  std::vector<std::string> challenges;  // WWW-Authenticate values for 401s (SHA-256 first)
  std::string why;                      // for the log only: never sent to the peer
};

class TrunkAuthenticator {
 public:
  // The nonce key is random per process: after a restart clients are simply challenged again.
  explicit TrunkAuthenticator(
      std::chrono::seconds nonce_lifetime = std::chrono::seconds(300),
      std::function<TimePoint()> now = [] { return SystemClock::Instance().Now(); });

  // `trunk` must have digest credentials.
  DigestVerdict Check(const Trunk& trunk, const sip::Message& request);

 private:
  std::vector<std::string> Challenges(const TrunkDigest& d, bool stale) const;
  bool FirstUse(const std::string& nonce, uint32_t nc, TimePoint now);

  const sip::DigestNonces nonces_;
  const std::function<TimePoint()> now_;

  Mutex mu_;
  std::map<std::string, std::pair<uint32_t, TimePoint>> seen_ GUARDED_BY(mu_);  // nonce → highest nc accepted, first use
};

}  // namespace verbatim::media::siprec
