// The RFC 6749 §5.1 success body of the token endpoint, written by append:
//   {"access_token":…,"token_type":"Bearer","expires_in":N,"scope":"a b"}
// Same members, order and bytes as serializing the equivalent json::object
// (tests/unit/oauth/jwt_text_test.cc), without building one per grant.
#pragma once

#include <string>
#include <string_view>

#include "oauth/token_service.h"

namespace verbatim::oauth {

// With a refresh token (a person's grants), "refresh_token" follows "scope".
std::string TokenResponseJson(const IssuedToken& t, std::string_view refresh_token = {});

}  // namespace verbatim::oauth
