// The token endpoint's grants for a person (docs/users.md "Sign-in"):
// authorization_code with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5) and
// refresh_token with rotation (RFC 6749 §6, RFC 9700 §4.14.2). The access
// token's sub is the user; its scopes are bounded by the client, its
// permissions come from the user's roles.
#pragma once

#include "oauth/form.h"
#include "store/model.h"
#include "transports/http/context.h"

namespace verbatim::api {

class App;

// `client` is authenticated, enabled and allowed the grant in `form`.
HttpResponse TokenForPerson(App& app, RequestContext& ctx, const store::OAuthClient& client, const oauth::Form& form);

}  // namespace verbatim::api
