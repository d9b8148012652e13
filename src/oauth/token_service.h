// TokenService: the authorization server's token side. Owns the signing keys
// (persisted in the Store, private keys sealed under the key-encryption key;
// only the active one is ever opened, and only as an OpenSSL key), issues RFC 9068 access tokens, verifies bearer
// tokens (with a bounded cache of verified tokens, as Envoy's jwt_authn has),
// and keeps the revocation set (in memory, backed by the Store).
//
// Thread-safe. Keys are an immutable snapshot swapped atomically on rotation,
// so verification never blocks on a writer.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "authz/token_check.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/secret_box.h"
#include "oauth/jwt.h"
#include "oauth/token_cache.h"
#include "store/store.h"

namespace verbatim::oauth {

struct TokenServiceOptions {
  std::string issuer;    // "http://127.0.0.1:8080"
  std::string audience;  // "{issuer}/api"
  std::string org_id;
  std::chrono::seconds leeway{60};
  size_t cache_capacity = 1 << 16;
  // Longest lifetime any client may give its tokens; a retired key stays
  // published this long after rotation.
  std::chrono::seconds max_token_lifetime{86400};
  // Seals and opens the private keys (docs/secrets-at-rest.md). Required.
  std::shared_ptr<const SecretBox> secrets;
};

struct IssuedToken {
  std::string access_token;
  std::string jti;
  std::vector<std::string> scopes;
  int64_t expires_in = 0;
  TimePoint expires_at;
};

struct TokenInspection {
  authz::TokenCheck check;  // includes revocation
  VerifiedToken token;      // claims, when the signature verified
};

// A fresh ES256 key as the store keeps it, its private key sealed with
// `secrets` (also used by `verbatim keys rotate`).
Result<store::SigningKey> NewSigningKey(const SecretBox& secrets, TimePoint now);
// The private key of a stored key, opened with `secrets`.
Result<SigningKeyPair> OpenSigningKey(const SecretBox& secrets, const store::SigningKey& k);

class TokenService {
 public:
  TokenService(store::Store& store, const Clock& clock, TokenServiceOptions opts);

  // Loads keys (creating the first one if there is none) and revocations.
  Status Init();
  const TokenServiceOptions& options() const { return opts_; }

  // --- keys ---
  Result<std::string> RotateKey();  // returns the new kid
  Status ReloadKeys();              // picks up rotations made by another process
  Status ReloadRevocations();       // picks up revocations made by another process (they only ever add)
  json::object Jwks() const;
  std::string ActiveKid() const;

  // --- issuance ---
  Result<IssuedToken> Issue(const store::OAuthClient& client, std::vector<std::string> scopes);
  // A person's token (docs/users.md "Sign-in"): sub is the user, client_id the
  // client it signed in through, sid the sign-in (RevokeSession refuses it).
  Result<IssuedToken> IssueForUser(const store::OAuthClient& client, const store::User& user,
                                   std::vector<std::string> scopes, const std::string& session_id,
                                   TimePoint auth_time);

  // --- verification ---
  // Parses "Bearer <token>"; missing or another scheme → token.missing.
  authz::TokenCheck CheckAuthorization(std::string_view authorization_header);
  authz::TokenCheck CheckToken(std::string_view token);
  TokenInspection Inspect(std::string_view token);

  // --- revocation ---
  Status Revoke(const std::string& jti, TimePoint expires_at);
  // Refuses every access token of the sign-in `session_id` (their "sid"): the
  // id joins the revocation set for as long as any of them can live.
  Status RevokeSession(const std::string& session_id);
  bool IsRevoked(const std::string& jti) const;
  Status PurgeExpiredRevocations();

 private:
  struct KeyState {
    std::shared_ptr<const SigningKeyPair> active;
    KeySet verify;
    json::object jwks;
  };
  std::shared_ptr<const KeyState> Keys() const;
  Status LoadKeys();
  void MaybeReloadForUnknownKid();
  // Who a token is from, for and about: iss, sub, aud, client_id, org, scope.
  void Address(AccessTokenClaims& c, const std::string& subject, const std::string& client_id,
               std::vector<std::string> scopes) const;
  Result<IssuedToken> Sign(AccessTokenClaims& c, int64_t validity_seconds);

  // Constant after construction.
  store::Store& store_;
  const Clock& clock_;
  const TokenServiceOptions opts_;
  VerifyOptions verify_opts_;

  std::atomic<std::shared_ptr<const KeyState>> keys_;
  Mutex rotate_mu_;  // serializes RotateKey/ReloadKeys
  std::atomic<int64_t> last_kid_reload_ms_{0};
  VerifiedTokenCache cache_;

  mutable SharedMutex revoked_mu_;
  std::unordered_map<std::string, TimePoint> revoked_ GUARDED_BY(revoked_mu_);  // jti → token expiry
};

}  // namespace verbatim::oauth
