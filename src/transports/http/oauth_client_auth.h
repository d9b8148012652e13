// What every form-posting OAuth endpoint (token, introspection, revocation)
// does first: read the application/x-www-form-urlencoded body and
// authenticate the client (RFC 6749 §2.3.1), with the failure throttling of
// docs/decisions.md "Failed authentications are counted per address and per
// (client, address)".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "oauth/form.h"
#include "store/model.h"
#include "transports/http/context.h"

namespace verbatim::api {

class App;

// Longer than any client id this server issues (UUIDs, 36 bytes): a longer
// one is nobody's and is refused before it becomes a lookup or a limiter key.
inline constexpr size_t kMaxClientIdBytes = 64;

bool IsFormContentType(std::string_view content_type);

struct ClientAuth {
  oauth::Form form;
  std::shared_ptr<const store::OAuthClient> client;  // no copy per grant (service/directory.h)
};

// Parses the form body and authenticates the client: HTTP Basic or
// client_id/client_secret in the body, never both. With `allow_public`, a
// public client (docs/users.md: no secret) identifies itself by client_id
// alone (RFC 6749 §3.2.1); a confidential one must still prove its secret.
// On failure `client` is null and `error` holds the RFC 6749 §5.2 response.
ClientAuth AuthenticateClient(App& app, RequestContext& ctx, HttpResponse& error, bool allow_public = false);

// The token endpoint's answers, whatever the grant: a refusal (RFC 6749 §5.2,
// counted in verbatim_token_errors_total), and a success body from
// oauth::TokenResponseJson with the headers §5.1 asks for.
HttpResponse TokenError(App& app, const RequestContext& ctx, int status, const char* code, std::string description);
HttpResponse TokenSuccess(std::string body);

// "a b a" → {a, b}: a scope parameter's scope-tokens, first occurrence kept.
std::vector<std::string> SplitScopes(std::string_view s);

}  // namespace verbatim::api
