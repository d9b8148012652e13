// /oauth/authorize: the authorization code flow's front half (RFC 6749 §4.1.1,
// RFC 7636, RFC 9700 §2.1; docs/users.md "Sign-in"). GET shows the sign-in
// form; POST checks the password and redirects back to the client with a
// one-time code.
//
// Until the client and its redirect URI are known to be registered, nothing
// redirects (RFC 6749 §4.1.2.1: no open redirector); afterwards every error
// goes back to the client with `state` and `iss` (RFC 9207). The POST runs the
// same checks again: the form's hidden fields are the request, as untrusted
// as the query was.
#include <algorithm>

#include "authz/catalog.h"
#include "core/crypto.h"
#include "oauth/client_secret.h"
#include "oauth/form.h"
#include "oauth/password_hash.h"
#include "oauth/pkce.h"
#include "transports/http/app.h"
#include "transports/http/oauth_client_auth.h"
#include "transports/http/sign_in_audit.h"
#include "transports/http/sign_in_page.h"

namespace verbatim::api {
namespace {

constexpr size_t kMaxUsernameBytes = 256;
constexpr size_t kMaxStateBytes = 1024;

// The parameters of the authorization request that travel through the form.
constexpr const char* kRequestParams[] = {"response_type", "client_id",      "redirect_uri",         "scope",
                                          "state",         "code_challenge", "code_challenge_method"};

// An authorization request that passed every check.
struct ValidRequest {
  std::shared_ptr<const store::OAuthClient> client;
  std::string redirect_uri;
  std::vector<std::string> scopes;
};

// The outcome of checking a request: valid, or the response that refuses it.
struct Checked {
  std::optional<ValidRequest> ok;
  HttpResponse refusal;
};

std::string OriginOf(std::string_view uri) {
  size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return "";
  size_t end = uri.find_first_of("/?#", scheme_end + 3);
  return std::string(uri.substr(0, end));
}

// The client's redirect URI with `params` added to its query.
std::string RedirectTo(std::string_view redirect_uri, const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out(redirect_uri);
  char sep = out.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    out += sep;
    out += k + "=" + oauth::PercentEncode(v);
    sep = '&';
  }
  return out;
}

HttpResponse SeeOther(const std::string& location) {
  HttpResponse res{http::status::see_other, 11};
  res.set(http::field::location, location);
  res.set(http::field::cache_control, "no-store");
  res.set("Referrer-Policy", "no-referrer");
  return res;
}

// An error the client hears about (RFC 6749 §4.1.2.1), with state and iss.
HttpResponse ErrorToClient(App& app, const std::string& redirect_uri, const oauth::Form& q, std::string_view error,
                           std::string description) {
  std::vector<std::pair<std::string, std::string>> p = {{"error", std::string(error)},
                                                        {"error_description", std::move(description)}};
  if (const std::string* state = q.Find("state")) p.emplace_back("state", *state);
  p.emplace_back("iss", app.config().issuer);
  app.metrics().Inc("verbatim_sign_in_errors_total", {{"error", std::string(error)}});
  return SeeOther(RedirectTo(redirect_uri, p));
}

Checked Check(App& app, const oauth::Form& q) {
  Checked out;
  auto page = [&](std::string detail) {
    app.metrics().Inc("verbatim_sign_in_errors_total", {{"error", "invalid_request"}});
    out.refusal = SignInErrorPage(400, "This sign-in link cannot be used", detail);
    return std::move(out);
  };
  // 1. The client and where to send the person back: until both are known
  //    good, nothing redirects.
  const std::string client_id = q.Get("client_id");
  if (client_id.empty()) return page("The request names no client (parameter client_id).");
  auto client = client_id.size() <= kMaxClientIdBytes ? app.directory().FindClientShared(client_id) : nullptr;
  if (!client) return page("No application with this client_id is registered here.");
  if (!client->enabled) return page("Application '" + client->name + "' is disabled.");
  const auto& grants = client->allowed_grant_types;
  if (std::find(grants.begin(), grants.end(), "authorization_code") == grants.end())
    return page("Application '" + client->name + "' is not registered for sign-in (grant type authorization_code).");
  std::string redirect_uri = q.Get("redirect_uri");
  if (redirect_uri.empty()) {
    if (client->redirect_uris.size() != 1)
      return page("The request has no redirect_uri, and application '" + client->name +
                  "' registered more than one, so it must say which.");
    redirect_uri = client->redirect_uris.front();
  } else if (std::none_of(client->redirect_uris.begin(), client->redirect_uris.end(),
                          [&](const std::string& r) { return oauth::RedirectUriMatches(r, redirect_uri); })) {
    return page("The redirect_uri is not one application '" + client->name +
                "' registered (they are matched exactly; a loopback address may use any port).");
  }
  // 2. Everything else is the client's to hear about.
  auto to_client = [&](std::string_view error, std::string description) {
    out.refusal = ErrorToClient(app, redirect_uri, q, error, std::move(description));
    return std::move(out);
  };
  if (q.Get("state").size() > kMaxStateBytes)
    return to_client("invalid_request", "state is longer than " + std::to_string(kMaxStateBytes) + " bytes.");
  if (q.Get("response_type") != "code")
    return to_client("unsupported_response_type", "Only response_type=code is supported.");
  const std::string method = q.Get("code_challenge_method");
  if (q.Get("code_challenge").empty())
    return to_client("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256.");
  if (method != "S256") return to_client("invalid_request", "code_challenge_method must be S256 (plain is not offered).");
  if (!oauth::IsValidCodeChallenge(q.Get("code_challenge")))
    return to_client("invalid_request", "code_challenge must be 43 base64url characters (SHA-256 of the verifier).");
  std::vector<std::string> scopes;
  if (q.Get("scope").find_first_not_of(' ') == std::string::npos) {
    scopes = client->allowed_scopes;  // RFC 6749 §3.3: a documented default
  } else {
    scopes = SplitScopes(q.Get("scope"));
    for (const auto& s : scopes)
      if (std::find(client->allowed_scopes.begin(), client->allowed_scopes.end(), s) == client->allowed_scopes.end())
        return to_client("invalid_scope", "Scope '" + s.substr(0, 64) + "' is not allowed for application '" +
                                              client->name + "'.");
  }
  out.ok = ValidRequest{std::move(client), std::move(redirect_uri), std::move(scopes)};
  return out;
}

std::string NewCsrfToken() { return oauth::NewClientSecret(); }

SignInForm FormFor(App& app, const oauth::Form& q, const ValidRequest& v) {
  SignInForm f;
  f.client_name = v.client->name;
  f.scopes = v.scopes;
  for (const char* p : kRequestParams)
    if (const std::string* value = q.Find(p)) f.hidden.emplace_back(p, *value);
  f.csrf = NewCsrfToken();
  f.form_action_origin = OriginOf(v.redirect_uri);
  f.secure_cookie = app.config().issuer.rfind("https://", 0) == 0;
  return f;
}

HttpResponse Show(App& app, RequestContext& ctx) {
  auto q = oauth::ParseForm(ctx.http.query);
  if (!q.ok()) return SignInErrorPage(400, "This sign-in link cannot be used", q.status().message());
  Checked c = Check(app, *q);
  if (!c.ok) return std::move(c.refusal);
  return SignInPage(FormFor(app, *q, *c.ok));
}

HttpResponse SignIn(App& app, RequestContext& ctx) {
  if (!IsFormContentType(ctx.http.header("Content-Type")))
    return SignInErrorPage(415, "This sign-in cannot be used", "The form must be sent as application/x-www-form-urlencoded.");
  auto form = oauth::ParseForm(ctx.http.body());
  if (!form.ok()) return SignInErrorPage(400, "This sign-in cannot be used", form.status().message());
  // The form must come from our own page: its cookie (SameSite=Strict, so not
  // sent with a post from another site) matches the field.
  const std::string cookie = SignInCsrfCookie(ctx.http.header("Cookie"));
  const std::string field = form->Get("csrf");
  if (cookie.empty() || field.empty() || !ConstantTimeEquals(cookie, field)) {
    app.metrics().Inc("verbatim_sign_in_errors_total", {{"error", "csrf"}});
    NoteSignIn(app, ctx, {"oauth:session:create", nullptr, nullptr, false, 403, "signin.csrf",
                          "The sign-in form was not posted from this server's own page (CSRF cookie missing or "
                          "different)."});
    return SignInErrorPage(403, "This sign-in form expired",
                           "The form was not sent from this server's own sign-in page (or its cookie expired). "
                           "Go back to the application and start the sign-in again.");
  }
  Checked c = Check(app, *form);
  if (!c.ok) return std::move(c.refusal);
  const ValidRequest& v = *c.ok;
  SignInForm page = FormFor(app, *form, v);

  const std::string username = form->Get("username").substr(0, kMaxUsernameBytes);
  const std::string password = form->Get("password");
  page.username = username;
  if (auto wait = app.login_throttle().Blocked(username, ctx.http.remote_ip)) {
    app.metrics().Inc("verbatim_sign_in_errors_total", {{"error", "throttled"}});
    NoteSignIn(app, ctx, {"oauth:session:create", v.client.get(), nullptr, false, 429, "too.many.requests",
                          "Too many failed sign-ins for this username or from this address."});
    page.error = "Too many failed sign-ins for this username or from this address. Try again in " +
                 std::to_string(wait->count()) + " s.";
    HttpResponse res = SignInPage(page, 429);
    res.set(http::field::retry_after, std::to_string(wait->count()));
    return res;
  }
  // The store, not the directory's snapshot: `verbatim users password` in
  // another process changes the hash without telling this one.
  std::optional<store::User> user;
  if (auto found = app.directory().FindUserByUsername(username)) {
    auto fresh = app.store().GetUser(found->id);
    if (fresh.ok()) user = std::move(*fresh);
    else if (fresh.status().kind() != Status::Kind::kNotFound) return app.Fail(ctx, fresh.status());
  }
  // Argon2id runs in full either way: an unknown username answers no faster.
  bool password_ok = false;
  if (user && password.size() <= oauth::kMaxPasswordBytes)
    password_ok = oauth::VerifyPassword(password, user->password_hash);
  else
    oauth::VerifyAgainstNothing(password);
  if (!password_ok) {
    app.login_throttle().CountFailure(username, ctx.http.remote_ip);
    app.metrics().Inc("verbatim_sign_in_errors_total", {{"error", "wrong_credentials"}});
    NoteSignIn(app, ctx, {"oauth:session:create", v.client.get(), nullptr, false, 401, "signin.failed",
                          "Wrong username or password."});
    page.error = "The username or password is incorrect.";
    return SignInPage(page, 200);
  }
  if (!user->enabled) {  // said only to someone who knows the password
    app.metrics().Inc("verbatim_sign_in_errors_total", {{"error", "disabled"}});
    NoteSignIn(app, ctx, {"oauth:session:create", v.client.get(), &*user, false, 403, "user.disabled",
                          "User '" + user->username + "' is disabled."});
    page.error = "User '" + user->username + "' is disabled; an administrator can enable it.";
    return SignInPage(page, 403);
  }
  // Fail closed: a sign-in the audit log cannot record does not happen.
  if (!app.audit().available())
    return SignInErrorPage(503, "Sign-in is unavailable",
                           "The audit log cannot record right now, so nobody can sign in; try again shortly.");
  NoteSignIn(app, ctx, {"oauth:session:create", v.client.get(), &*user, true, 303, "",
                        "User '" + user->username + "' entered the right password."});
  oauth::CodeRequest req;
  req.client_id = v.client->id;
  req.user_id = user->id;
  req.redirect_uri = v.redirect_uri;
  req.scopes = v.scopes;
  req.code_challenge = form->Get("code_challenge");
  req.auth_time = app.clock().Now();
  auto code = app.sign_ins().IssueCode(req);
  if (!code.ok() && code.status().kind() == Status::Kind::kNotFound) {
    // Deleted while the password was being checked: for the user, as if it had never existed.
    if (code.status().code() != "user.not.found")
      return SignInErrorPage(400, "This sign-in cannot be used", "Application '" + v.client->name + "' was just deleted.");
    page.error = "The username or password is incorrect.";
    return SignInPage(page, 200);
  }
  if (!code.ok()) return app.Fail(ctx, code.status());
  app.metrics().Inc("verbatim_sign_ins_total", {});
  std::vector<std::pair<std::string, std::string>> p = {{"code", *code}};
  if (const std::string* state = form->Find("state")) p.emplace_back("state", *state);
  p.emplace_back("iss", app.config().issuer);
  return SeeOther(RedirectTo(v.redirect_uri, p));
}

}  // namespace

void RegisterSignInRoutes(App& app, Router& r) {
  r.Add({"GET", "/oauth/authorize", Access::kPublic, "", [&app](RequestContext& c) { return Show(app, c); }});
  // Argon2id and a store write: never on an I/O thread.
  r.Add({"POST", "/oauth/authorize", Access::kPublic, "", [&app](RequestContext& c) { return SignIn(app, c); },
         [](const HttpRequest&) { return true; }});
}

}  // namespace verbatim::api
