#include "oauth/token_service.h"

#include <sodium.h>

#include <algorithm>

#include "authz/catalog.h"
#include "oauth/client_cutoff.h"
#include "core/ids.h"

namespace verbatim::oauth {

Result<store::SigningKey> NewSigningKey(const SecretBox& secrets, TimePoint now) {
  auto pair = SigningKeyPair::Generate();
  if (!pair.ok()) return pair.status();
  store::SigningKey k;
  k.kid = pair->kid();
  k.alg = "ES256";
  std::string pem = pair->PrivatePem();
  k.private_key_sealed = secrets.Seal(pem, store::SealedContext(store::SealedKind::kSigningKey, k.kid));
  sodium_memzero(pem.data(), pem.size());
  k.public_jwk_json = ToJson(pair->PublicJwk());
  k.created_at = now;
  return k;
}

Result<SigningKeyPair> OpenSigningKey(const SecretBox& secrets, const store::SigningKey& k) {
  auto pem = secrets.Open(k.private_key_sealed, store::SealedContext(store::SealedKind::kSigningKey, k.kid));
  if (!pem.ok()) return Status::Internal("signing key " + k.kid + " does not open: " + pem.status().message());
  auto pair = SigningKeyPair::FromPrivatePem(*pem);
  sodium_memzero(pem->data(), pem->size());
  if (!pair.ok()) return Status::Internal("signing key " + k.kid + " is unreadable: " + pair.status().message());
  if (pair->kid() != k.kid) return Status::Internal("signing key " + k.kid + " holds the private key of " + pair->kid());
  return pair;
}

TokenService::TokenService(store::Store& store, const Clock& clock, TokenServiceOptions opts)
    : store_(store), clock_(clock), opts_(std::move(opts)), cache_(opts_.cache_capacity) {
  verify_opts_.issuer = opts_.issuer;
  verify_opts_.audience = opts_.audience;
  verify_opts_.leeway = opts_.leeway;
}

Status TokenService::Init() {
  if (!opts_.secrets) return Status::Internal("TokenService needs the key-encryption key (options.secrets)");
  auto keys = store_.ListKeys();
  if (!keys.ok()) return keys.status();
  if (keys->empty()) {
    auto k = NewSigningKey(*opts_.secrets, clock_.Now());
    if (!k.ok()) return k.status();
    VERBATIM_RETURN_IF_ERROR(store_.InsertKey(*k));
  }
  VERBATIM_RETURN_IF_ERROR(LoadKeys());
  return ReloadRevocations();
}

std::shared_ptr<const TokenService::KeyState> TokenService::Keys() const { return keys_.load(); }

Status TokenService::LoadKeys() {
  auto keys = store_.ListKeys();
  if (!keys.ok()) return keys.status();
  auto state = std::make_shared<KeyState>();
  const TimePoint now = clock_.Now();
  json::array jwks;
  for (const auto& k : *keys) {
    bool published = !k.publish_until || *k.publish_until > now;
    if (!k.retired_at) {
      auto pair = OpenSigningKey(*opts_.secrets, k);
      if (!pair.ok()) return pair.status();
      state->active = std::make_shared<SigningKeyPair>(std::move(*pair));  // newest non-retired wins
    }
    if (!published) continue;
    auto jwk = ParseJsonObject(k.public_jwk_json);
    if (!jwk.ok()) return Status::Internal("signing key " + k.kid + " has a corrupt JWK");
    auto vk = VerificationKey::FromJwk(*jwk);
    if (!vk.ok()) return Status::Internal("signing key " + k.kid + ": " + vk.status().message());
    state->verify.Add(std::move(*vk));
    jwks.emplace_back(std::move(*jwk));
  }
  if (!state->active) return Status::Internal("no active signing key");
  state->jwks["keys"] = std::move(jwks);
  keys_.store(std::move(state));
  cache_.Clear();
  return Status::Ok();
}

Status TokenService::ReloadRevocations() {
  auto revoked = store_.ListRevoked(clock_.Now());
  if (!revoked.ok()) return revoked.status();
  WriterLock lock(revoked_mu_);
  for (const auto& r : *revoked) revoked_.emplace(r.jti, r.expires_at);
  return Status::Ok();
}

Status TokenService::ReloadKeys() {
  MutexLock lock(rotate_mu_);
  return LoadKeys();
}

Result<std::string> TokenService::RotateKey() {
  MutexLock lock(rotate_mu_);
  const TimePoint now = clock_.Now();
  auto k = NewSigningKey(*opts_.secrets, now);
  if (!k.ok()) return k.status();
  VERBATIM_RETURN_IF_ERROR(store_.RotateKeys(*k, now, now + opts_.max_token_lifetime + opts_.leeway));
  VERBATIM_RETURN_IF_ERROR(LoadKeys());
  return k->kid;
}

json::object TokenService::Jwks() const { return Keys()->jwks; }
std::string TokenService::ActiveKid() const { return Keys()->active->kid(); }

Result<IssuedToken> TokenService::Issue(const store::OAuthClient& client, std::vector<std::string> scopes) {
  // Each thread refills the same claims: once their strings have grown, a
  // grant copies into them without allocating (docs/performance.md "Grants").
  thread_local AccessTokenClaims c;
  Address(c, client.id, client.id, std::move(scopes));
  c.session_id.clear();
  c.auth_time.reset();
  // Whole seconds: JWT dates are integers, and exp must not round up past the
  // lifetime. After the client's token cutoff even within its second.
  c.issued_at = IssuedAtFor(client, clock_.Now());
  return Sign(c, client.access_token_validity_seconds);
}

Result<IssuedToken> TokenService::IssueForUser(const store::OAuthClient& client, const store::User& user,
                                               std::vector<std::string> scopes, const std::string& session_id,
                                               TimePoint auth_time) {
  AccessTokenClaims c;
  Address(c, user.id, client.id, std::move(scopes));
  c.session_id = session_id;
  c.auth_time = FromUnixSeconds(ToUnixSeconds(auth_time));
  c.issued_at = IssuedAtFor(client, user, clock_.Now());
  return Sign(c, client.access_token_validity_seconds);
}

void TokenService::Address(AccessTokenClaims& c, const std::string& subject, const std::string& client_id,
                           std::vector<std::string> scopes) const {
  c.issuer = opts_.issuer;
  c.subject = subject;
  c.audience = opts_.audience;
  c.client_id = client_id;
  c.org = opts_.org_id;
  c.scopes = std::move(scopes);
}

Result<IssuedToken> TokenService::Sign(AccessTokenClaims& c, int64_t validity_seconds) {
  c.jti = NewUuid();
  c.expires_at = c.issued_at + std::chrono::seconds(validity_seconds);
  auto jwt = SignAccessToken(*Keys()->active, c);
  if (!jwt.ok()) return jwt.status();
  return IssuedToken{std::move(*jwt), c.jti, std::move(c.scopes), validity_seconds, c.expires_at};
}

authz::TokenCheck TokenService::CheckAuthorization(std::string_view header) {
  authz::TokenCheck missing;
  missing.problem = authz::TokenProblem::kMissing;
  missing.claim = "Authorization";
  if (header.empty()) {
    missing.detail = "the request has no Authorization header.";
    return missing;
  }
  size_t sp = header.find(' ');
  std::string scheme(header.substr(0, sp));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (scheme != "bearer" || sp == std::string_view::npos) {
    missing.detail = "the Authorization header uses scheme '" + std::string(header.substr(0, std::min<size_t>(sp, 16))) +
                     "', not Bearer.";
    return missing;
  }
  std::string_view token = header.substr(sp + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) {
    missing.detail = "the Authorization header has the Bearer scheme but no token.";
    return missing;
  }
  return CheckToken(token);
}

authz::TokenCheck TokenService::CheckToken(std::string_view token) { return Inspect(token).check; }

TokenInspection TokenService::Inspect(std::string_view token) {
  const TimePoint now = clock_.Now();
  TokenInspection out;
  if (auto hit = cache_.Lookup(token, now)) {
    out.check = hit->check;
    out.token = hit->token;
  } else {
    auto keys = Keys();
    VerifyResult r = VerifyAccessToken(token, keys->verify, verify_opts_, now);
    if (r.check.problem == authz::TokenProblem::kSignature && r.check.claim == "kid") {
      // Maybe another process rotated keys: reload (rate-limited) and retry once.
      MaybeReloadForUnknownKid();
      auto fresh = Keys();
      if (fresh != keys) r = VerifyAccessToken(token, fresh->verify, verify_opts_, now);
    }
    if (r.check.ok()) cache_.Insert(token, r);
    out.check = std::move(r.check);
    out.token = std::move(r.token);
  }
  if (out.check.ok() && IsRevoked(out.check.jti)) {
    out.check.problem = authz::TokenProblem::kRevoked;
    out.check.claim = "jti";
    out.check.detail = "token " + out.check.jti + " was revoked.";
  } else if (out.check.ok() && !out.check.session_id.empty() && IsRevoked(out.check.session_id)) {
    out.check.problem = authz::TokenProblem::kRevoked;
    out.check.claim = "sid";
    out.check.detail = "the sign-in " + out.check.session_id +
                       " it came from was ended (signed out, revoked, or a refresh token was used twice).";
  }
  return out;
}

void TokenService::MaybeReloadForUnknownKid() {
  const int64_t now_ms = ToUnixMillis(clock_.Now());
  int64_t last = last_kid_reload_ms_.load();
  if (now_ms - last < 1000) return;  // unknown kids are cheap for attackers to send
  if (!last_kid_reload_ms_.compare_exchange_strong(last, now_ms)) return;
  (void)ReloadKeys();
}

Status TokenService::Revoke(const std::string& jti, TimePoint expires_at) {
  VERBATIM_RETURN_IF_ERROR(store_.RevokeToken({jti, expires_at}));
  WriterLock lock(revoked_mu_);
  revoked_[jti] = expires_at;
  return Status::Ok();
}

Status TokenService::RevokeSession(const std::string& session_id) {
  return Revoke(session_id, clock_.Now() + opts_.max_token_lifetime + opts_.leeway);
}

bool TokenService::IsRevoked(const std::string& jti) const {
  ReaderLock lock(revoked_mu_);
  return revoked_.count(jti) != 0;
}

Status TokenService::PurgeExpiredRevocations() {
  const TimePoint cutoff = clock_.Now() - opts_.leeway;
  {
    WriterLock lock(revoked_mu_);
    std::erase_if(revoked_, [&](const auto& kv) { return kv.second < cutoff; });
  }
  return store_.PurgeRevoked(cutoff);
}

}  // namespace verbatim::oauth
