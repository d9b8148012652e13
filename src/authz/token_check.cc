#include "authz/token_check.h"

namespace verbatim::authz {

const char* Code(TokenProblem p) {
  switch (p) {
    case TokenProblem::kNone: return "";
    case TokenProblem::kMissing: return "token.missing";
    case TokenProblem::kMalformed: return "token.malformed";
    case TokenProblem::kExpired: return "token.expired";
    case TokenProblem::kSignature: return "token.signature";
    case TokenProblem::kRevoked: return "token.revoked";
    case TokenProblem::kAudience: return "token.audience";
  }
  return "token.malformed";
}

}  // namespace verbatim::authz
