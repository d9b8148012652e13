// SignInGrants: what a person's sign-in leaves behind (docs/users.md
// "Sign-in"): a one-time authorization code (RFC 6749 §4.1, PKCE S256 per
// RFC 7636), then refresh tokens rotated on every use (RFC 9700 §4.14.2).
// Codes and refresh tokens are opaque random strings handed out once and kept
// only as their SHA-256, so a copy of the database signs nobody in.
//
// A sign-in is one family: its id is the "sid" of every access token it
// yields and the family of its refresh tokens. Presenting a used code or a
// rotated refresh token again revokes the family, both halves.
//
// Refusals are Status FailedPrecondition with code "invalid_grant" (or
// kGrantReused for a replay, which also revoked the sign-in) and a message for
// the client's developer (RFC 6749 §5.2 says which error; the message says
// why). Other errors are the store's.
//
// Thread-safe (the store serializes what must be atomic).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "oauth/token_service.h"
#include "store/model.h"
#include "store/store.h"

namespace verbatim::oauth {

inline constexpr std::string_view kGrantReused = "grant.reused";

struct SignInGrantOptions {
  std::chrono::seconds code_lifetime{60};           // RFC 6749 §4.1.2 recommends at most 10 minutes
  std::chrono::seconds session_lifetime{12 * 3600};  // a family's end; rotation does not extend it
};

// What the person approved on the sign-in page.
struct CodeRequest {
  std::string client_id;
  std::string user_id;
  std::string redirect_uri;
  std::vector<std::string> scopes;
  std::string code_challenge;  // S256
  TimePoint auth_time;
};

// A refresh token handed out, and the record it is kept as.
struct IssuedRefresh {
  std::string token;
  store::RefreshToken record;
};

class SignInGrants {
 public:
  SignInGrants(store::Store& store, TokenService& tokens, const Clock& clock, SignInGrantOptions opts = {});

  // A new code for a new sign-in (a new family id).
  Result<std::string> IssueCode(const CodeRequest& req);

  // Redeems `code` for the token request of `client_id`: refused when unknown,
  // expired, issued to another client or redirect URI, or the verifier does
  // not match; a second redemption also revokes what the first one yielded.
  Result<store::AuthorizationCode> RedeemCode(std::string_view code, std::string_view client_id,
                                              std::string_view redirect_uri, std::string_view code_verifier);

  // The first refresh token of the sign-in `code` started.
  Result<IssuedRefresh> StartRefresh(const store::AuthorizationCode& code);

  // Trades `token` of `client_id` for the next one of its family. A token used
  // before, or of a revoked family, revokes the family and is refused.
  Result<IssuedRefresh> RotateRefresh(std::string_view token, std::string_view client_id);

  // Ends the sign-in: its refresh tokens and (by sid) its access tokens.
  Status RevokeFamily(const std::string& family_id);

  // The family of `token` if `client_id` holds it; NotFound otherwise.
  Result<store::RefreshToken> FindRefresh(std::string_view token, std::string_view client_id);

  const SignInGrantOptions& options() const { return opts_; }

 private:
  store::Store& store_;
  TokenService& tokens_;
  const Clock& clock_;
  const SignInGrantOptions opts_;
};

// The SHA-256 (hex) a code or refresh token is kept as.
std::string GrantHash(std::string_view token);

}  // namespace verbatim::oauth
