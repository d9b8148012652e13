// The server-rendered pages of /oauth/authorize (docs/users.md "Sign-in"):
// the sign-in form and the page for a request that cannot be answered with a
// redirect. Plain HTML with one inline stylesheet allowed by a per-response
// nonce; no script at all, so the Content-Security-Policy can forbid it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transports/http/http_server.h"

namespace verbatim::api {

struct SignInForm {
  std::string client_name;
  std::vector<std::string> scopes;                            // what the client asks for
  std::vector<std::pair<std::string, std::string>> hidden;    // the authorization request, echoed
  std::string csrf;                                           // echoed in the form and in the cookie
  std::string username;                                       // refilled after a failure
  std::string error;                                          // shown above the form ("" for none)
  std::string form_action_origin;                             // where the redirect after sign-in goes
  bool secure_cookie = false;                                 // the issuer is https
};

// 200 (or `status`) with the form, its CSRF cookie and the headers of
// SecurePageHeaders.
HttpResponse SignInPage(const SignInForm& form, int status = 200);
// A request that must not redirect (unknown client, unregistered
// redirect_uri: RFC 6749 §4.1.2.1): says what is wrong, to the person and to
// the developer reading over their shoulder.
// With `link_href`, the page offers that link (the console's "Sign in again")
// instead of the note for a third-party application's developer.
HttpResponse SignInErrorPage(int status, std::string_view title, std::string_view detail,
                             std::string_view link_href = {}, std::string_view link_text = {});

// The CSRF cookie of the sign-in form, as the browser sends it back ("" if none).
std::string SignInCsrfCookie(std::string_view cookie_header);
// The value of cookie `name` in a Cookie header ("a=1; b=2"), "" if absent.
std::string CookieValue(std::string_view cookie_header, std::string_view name);

std::string HtmlEscape(std::string_view s);

}  // namespace verbatim::api
