// What authentication found out about a bearer token. Produced by oauth (the
// verifier), consumed by the authz engine's token layer. No I/O here.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"

namespace verbatim::authz {

// Why a token was rejected. Each maps to one stable code (docs/api.md §3, OpenAPI `ErrorCode`) (see Code()).
enum class TokenProblem {
  kNone,
  kMissing,      // token.missing: no Authorization header / not Bearer
  kMalformed,    // token.malformed: not a compact JWS, bad base64url/JSON, missing claims, wrong typ
  kExpired,      // token.expired: exp passed (or nbf not reached) beyond the leeway
  kSignature,    // token.signature: bad signature, alg not allowed (none, HS*, RS*), unknown kid
  kRevoked,      // token.revoked: jti revoked, or its client was deleted
  kAudience,     // token.audience: aud (or iss) is not this server's
};

// "token.missing", ... The strings are API; tests pin them.
const char* Code(TokenProblem p);

struct TokenCheck {
  TokenProblem problem = TokenProblem::kNone;
  std::string claim;   // the field that was wrong: "exp", "nbf", "alg", "kid", "aud", "iss", "typ", "signature", ...
  std::string detail;  // one sentence for humans; never contains the token or any secret

  // Set when problem == kNone.
  std::string subject;    // sub
  std::string client_id;  // client_id claim
  std::string jti;
  std::string session_id;  // sid: set on a person's token (oauth/jwt.h)
  std::vector<std::string> scopes;
  TimePoint issued_at;
  TimePoint expires_at;

  bool ok() const { return problem == TokenProblem::kNone; }
};

}  // namespace verbatim::authz
