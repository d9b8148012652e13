// The RFC 6749 §5.1 success body of the token endpoint, written by append:
//   {"access_token":…,"token_type":"Bearer","expires_in":N,"scope":"a b"}
// Same members, order and bytes as serializing the equivalent json::object
// (tests/unit/oauth/jwt_text_test.cc), without building one per grant.
#pragma once

#include <string>

#include "oauth/token_service.h"

namespace verbatim::oauth {

std::string TokenResponseJson(const IssuedToken& t);

}  // namespace verbatim::oauth
