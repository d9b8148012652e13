#include "oauth/sign_in_grants.h"

#include "core/crypto.h"
#include "core/ids.h"
#include "oauth/client_secret.h"
#include "oauth/pkce.h"
#include "store/store_errors.h"

namespace verbatim::oauth {
namespace {

Status InvalidGrant(std::string msg) { return Status::FailedPrecondition("invalid_grant", std::move(msg)); }
// A replay: also invalid_grant to the client, and worth an audit event.
Status ReusedGrant(std::string msg) { return Status::FailedPrecondition(std::string(kGrantReused), std::move(msg)); }

// Codes and refresh tokens are as random as client secrets (256 bits) and
// kept the same way.
std::string NewGrantToken() { return NewClientSecret(); }

}  // namespace

std::string GrantHash(std::string_view token) { return HashClientSecret(token); }

SignInGrants::SignInGrants(store::Store& store, TokenService& tokens, const Clock& clock, SignInGrantOptions opts)
    : store_(store), tokens_(tokens), clock_(clock), opts_(opts) {}

Result<std::string> SignInGrants::IssueCode(const CodeRequest& req) {
  std::string code = NewGrantToken();
  store::AuthorizationCode c;
  c.code_hash = GrantHash(code);
  c.client_id = req.client_id;
  c.user_id = req.user_id;
  c.redirect_uri = req.redirect_uri;
  c.scopes = req.scopes;
  c.code_challenge = req.code_challenge;
  c.family_id = NewUuid();
  c.auth_time = req.auth_time;
  c.expires_at = clock_.Now() + opts_.code_lifetime;
  VERBATIM_RETURN_IF_ERROR(store_.InsertAuthorizationCode(c));
  return code;
}

Result<store::AuthorizationCode> SignInGrants::RedeemCode(std::string_view code, std::string_view client_id,
                                                          std::string_view redirect_uri,
                                                          std::string_view code_verifier) {
  const TimePoint now = clock_.Now();
  auto redeemed = store_.RedeemAuthorizationCode(GrantHash(code), now);
  if (!redeemed.ok()) {
    if (redeemed.status().kind() == Status::Kind::kNotFound)
      return InvalidGrant("The authorization code is not known to this server (or expired long ago); sign in again.");
    return redeemed.status();
  }
  const store::AuthorizationCode& c = *redeemed;
  if (c.used_at) {
    // RFC 6749 §4.1.2: a code used twice may have been stolen; what the first
    // use yielded is revoked too.
    VERBATIM_RETURN_IF_ERROR(RevokeFamily(c.family_id));
    return ReusedGrant("The authorization code was already used, at " + FormatRfc3339(*c.used_at) +
                        "; the tokens issued for it are revoked. Sign in again.");
  }
  if (c.client_id != client_id) return InvalidGrant("The authorization code was issued to another client.");
  if (now >= c.expires_at)
    return InvalidGrant("The authorization code expired at " + FormatRfc3339(c.expires_at) + " (codes live " +
                        std::to_string(opts_.code_lifetime.count()) + " s); sign in again.");
  if (redirect_uri.empty())
    return InvalidGrant("Parameter 'redirect_uri' is required: the one the authorization request used.");
  if (c.redirect_uri != redirect_uri)
    return InvalidGrant("redirect_uri differs from the one the authorization request used.");
  if (code_verifier.empty()) return InvalidGrant("Parameter 'code_verifier' (PKCE, RFC 7636) is required.");
  if (!IsValidCodeVerifier(code_verifier))
    return InvalidGrant("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1).");
  if (!VerifyPkce(code_verifier, c.code_challenge))
    return InvalidGrant("code_verifier does not match the code_challenge of the authorization request (S256).");
  return redeemed;
}

Result<IssuedRefresh> SignInGrants::StartRefresh(const store::AuthorizationCode& code) {
  IssuedRefresh out;
  out.token = NewGrantToken();
  store::RefreshToken& r = out.record;
  r.token_hash = GrantHash(out.token);
  r.family_id = code.family_id;
  r.client_id = code.client_id;
  r.user_id = code.user_id;
  r.scopes = code.scopes;
  r.auth_time = code.auth_time;
  r.issued_at = clock_.Now();
  r.expires_at = code.auth_time + opts_.session_lifetime;
  VERBATIM_RETURN_IF_ERROR(store_.InsertRefreshToken(r));
  return out;
}

Result<store::RefreshToken> SignInGrants::FindRefresh(std::string_view token, std::string_view client_id) {
  auto r = store_.GetRefreshToken(GrantHash(token));
  if (!r.ok()) return r.status();
  if (r->client_id != client_id) return store::RefreshNotFound();
  return r;
}

Result<IssuedRefresh> SignInGrants::RotateRefresh(std::string_view token, std::string_view client_id) {
  const TimePoint now = clock_.Now();
  auto current = FindRefresh(token, client_id);
  if (!current.ok()) {
    if (current.status().kind() == Status::Kind::kNotFound)
      return InvalidGrant("The refresh token is not known to this server for this client; sign in again.");
    return current.status();
  }
  if (now >= current->expires_at)
    return InvalidGrant("The sign-in this refresh token belongs to ended at " + FormatRfc3339(current->expires_at) +
                        "; sign in again.");
  IssuedRefresh next;
  next.token = NewGrantToken();
  next.record = *current;
  next.record.token_hash = GrantHash(next.token);
  next.record.issued_at = now;
  next.record.used_at.reset();
  next.record.revoked_at.reset();
  auto old = store_.RotateRefreshToken(current->token_hash, next.record, now);
  if (!old.ok()) return old.status();
  if (old->revoked_at) return InvalidGrant("The sign-in this refresh token belongs to was revoked; sign in again.");
  if (old->used_at) {
    // RFC 9700 §4.14.2: one of two holders of a rotated token is not its owner.
    VERBATIM_RETURN_IF_ERROR(RevokeFamily(old->family_id));
    return ReusedGrant("The refresh token was already used, at " + FormatRfc3339(*old->used_at) +
                        "; its sign-in is revoked (every refresh and access token of it). Sign in again.");
  }
  return next;
}

Status SignInGrants::RevokeFamily(const std::string& family_id) {
  VERBATIM_RETURN_IF_ERROR(store_.RevokeRefreshFamily(family_id, clock_.Now()));
  return tokens_.RevokeSession(family_id);
}

}  // namespace verbatim::oauth
