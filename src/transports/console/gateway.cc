#include "transports/console/gateway.h"

#include "authz/catalog.h"
#include "core/base64.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"
#include "oauth/client_secret.h"
#include "oauth/form.h"
#include "service/console_client.h"
#include "transports/http/app.h"
#include "transports/http/respond.h"
#include "transports/http/sign_in_page.h"

namespace verbatim::console {

const char kConsoleCsp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

namespace {

namespace http = api::http;
using api::HttpResponse;

constexpr std::string_view kSessionCookie = "verbatim_console";
constexpr std::string_view kLoginCookie = "verbatim_console_login";
constexpr std::string_view kApiPrefix = "/console/api/";
constexpr std::string_view kAssetPrefix = "/console/assets/";
// An access token this close to its expiry is renewed before use, so it
// cannot expire between here and the API.
constexpr std::chrono::seconds kRenewBefore{60};
// From /console/login to /console/callback.
constexpr std::chrono::seconds kLoginTimeout{600};

// The login cookie: the PKCE verifier and the start time, sealed (secret_box.h)
// under a context naming the `state`, so it opens only for the sign-in it
// started. Nothing is kept on the server until the callback, so a flood of
// /console/login evicts nobody, and any node sharing the key can finish it.
std::string LoginContext(std::string_view state) { return "console-login:" + std::string(state); }

struct StartedLogin {
  std::string code_verifier;
  int64_t started_at = 0;  // Unix seconds
};

std::optional<StartedLogin> OpenLogin(const SecretBox& box, std::string_view cookie, std::string_view state) {
  if (cookie.empty() || state.empty()) return std::nullopt;
  auto plain = box.Open(cookie, LoginContext(state));
  if (!plain.ok()) return std::nullopt;
  const size_t space = plain->find(' ');
  if (space == std::string::npos) return std::nullopt;
  StartedLogin l;
  l.code_verifier = plain->substr(0, space);
  l.started_at = std::strtoll(plain->c_str() + space + 1, nullptr, 10);
  return l;
}

void PageHeaders(HttpResponse& res) {
  res.set("Content-Security-Policy", kConsoleCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
  res.set("Cross-Origin-Opener-Policy", "same-origin");
  res.set("Cross-Origin-Resource-Policy", "same-origin");
}

HttpResponse SeeOther(std::string location) {
  HttpResponse res{http::status::see_other, 11};
  res.set(http::field::location, std::move(location));
  res.set(http::field::cache_control, "no-store");
  PageHeaders(res);
  return res;
}

HttpResponse ErrorPage(int status, std::string_view title, std::string_view detail) {
  HttpResponse res = api::SignInErrorPage(status, title, detail, "/console/login", "Sign in again");
  res.set(http::field::cache_control, "no-store");
  return res;
}

HttpResponse JsonError(int status, std::string_view code, std::string_view message) {
  HttpResponse res = api::ErrorResponse(status, code, message, NewContextId());
  res.set(http::field::cache_control, "no-store");
  PageHeaders(res);
  return res;
}

HttpResponse MethodNotAllowed(std::string_view allow) {
  HttpResponse res = JsonError(405, "method.not.allowed", "Use " + std::string(allow) + " on this console path.");
  res.set(http::field::allow, allow);
  return res;
}

std::string OriginOf(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, url.find('/', scheme_end + 3)));
}

// A field of a JSON object body, "" when absent or not a string.
std::string JsonField(const HttpResponse& res, const char* name) {
  auto o = ParseJsonObject(res.body());
  if (!o.ok()) return "";
  auto v = GetString(*o, name);
  return v.ok() && *v ? **v : "";
}

// What a refused token request says, for the person: the description, or the error code.
std::string TokenErrorText(const HttpResponse& res) {
  std::string d = JsonField(res, "error_description");
  return d.empty() ? JsonField(res, "error") : d;
}

struct TokenGrant {
  std::string access_token;
  std::chrono::seconds expires_in{0};
  std::string refresh_token;
};

std::optional<TokenGrant> ParseGrant(const HttpResponse& res) {
  if (res.result_int() != 200) return std::nullopt;
  auto o = ParseJsonObject(res.body());
  if (!o.ok()) return std::nullopt;
  TokenGrant g;
  auto access = GetString(*o, "access_token");
  auto refresh = GetString(*o, "refresh_token");
  auto exp = o->find("expires_in");
  if (!access.ok() || !*access || exp == o->end() || !exp->value().is_int64()) return std::nullopt;
  g.access_token = **access;
  g.expires_in = std::chrono::seconds(exp->value().as_int64());
  if (refresh.ok() && *refresh) g.refresh_token = **refresh;
  return g;
}

}  // namespace

Gateway::Gateway(api::App& app, GatewayOptions opts)
    : app_(app),
      assets_(std::move(opts.assets_dir)),
      sessions_(app.clock(), opts.sessions),
      secure_cookies_(app.config().issuer.rfind("https://", 0) == 0),
      issuer_origin_(OriginOf(app.config().issuer)) {
  if (assets_.from_disk())
    Log(LogLevel::kWarn, "console assets served from a directory (VERBATIM_CONSOLE_ASSETS_DIR)", {});
}

bool Gateway::Claims(std::string_view path) { return path == "/console" || path.rfind("/console/", 0) == 0; }

void Gateway::Handle(std::shared_ptr<const api::OwnedRequest> req, api::Responder respond) {
  const api::HttpRequest& r = req->view;
  const std::string_view path = r.path;
  const bool read = r.method() == "GET" || r.method() == "HEAD";
  if (path.rfind(kApiPrefix, 0) == 0) return Proxy(std::move(req), std::move(respond));
  if (path == "/console/logout") {
    if (r.method() != "POST") return respond(MethodNotAllowed("POST"));
    return Logout(std::move(req), std::move(respond));
  }
  if (!read) return respond(MethodNotAllowed("GET"));
  if (path == "/console/callback") return Callback(std::move(req), std::move(respond));
  if (path == "/console/login") return respond(Login(r));
  if (path == "/console/session") return respond(SessionInfo(r));
  if (path == "/console/catalog") return respond(Catalog());
  if (path.rfind(kAssetPrefix, 0) == 0) return respond(Asset(r, path.substr(kAssetPrefix.size())));
  respond(Page(r));
}

std::shared_ptr<Session> Gateway::SessionOf(const api::HttpRequest& req) {
  return sessions_.Find(api::CookieValue(req.header("Cookie"), kSessionCookie));
}

std::string Gateway::SessionCookie(std::string_view value, bool clear) const {
  // Path=/console: the cookie never travels with API calls made by other
  // software on this origin; SameSite=Strict: never with another site's request.
  return std::string(kSessionCookie) + "=" + std::string(value) + "; Path=/console; HttpOnly; SameSite=Strict" +
         (secure_cookies_ ? "; Secure" : "") + (clear ? "; Max-Age=0" : "");
}

std::string Gateway::LoginCookie(std::string_view value, bool clear) const {
  return std::string(kLoginCookie) + "=" + std::string(value) + "; Path=/console; HttpOnly; SameSite=Strict" +
         (secure_cookies_ ? "; Secure" : "") + (clear ? "; Max-Age=0" : "; Max-Age=" + std::to_string(kLoginTimeout.count()));
}

HttpResponse Gateway::SignedOut(std::string message) const {
  HttpResponse res = JsonError(401, "console.signed.out", message);
  res.insert(http::field::set_cookie, SessionCookie("", true));
  return res;
}

// --- the page -------------------------------------------------------------

HttpResponse Gateway::Page(const api::HttpRequest& req) {
  if (!SessionOf(req)) return SeeOther("/console/login");
  auto index = assets_.Find("index.html");
  if (!index) return JsonError(500, "internal", "The console's index.html is missing from this build.");
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, index->content_type);
  res.set(http::field::cache_control, "no-store");
  PageHeaders(res);
  res.body() = std::move(index->bytes);
  return res;
}

HttpResponse Gateway::Asset(const api::HttpRequest& req, std::string_view path) {
  auto a = assets_.Find(path);
  if (!a) return JsonError(404, "not.found", "The console has no file '" + std::string(path.substr(0, 100)) + "'.");
  HttpResponse res{http::status::ok, 11};
  // Revalidated on every load (cheap: 304), so an upgraded server's page is never mixed with an old one.
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::etag, a->etag);
  PageHeaders(res);
  if (req.header("If-None-Match") == a->etag) {
    res.result(http::status::not_modified);
    return res;
  }
  res.set(http::field::content_type, a->content_type);
  res.body() = std::move(a->bytes);
  return res;
}

// --- signing in and out -----------------------------------------------------

HttpResponse Gateway::Login(const api::HttpRequest& req) {
  if (SessionOf(req)) return SeeOther("/console/");
  const std::string verifier = oauth::NewClientSecret();  // 43 base64url characters: a valid RFC 7636 verifier
  const std::string challenge = Base64UrlEncode(Sha256(verifier));
  const std::string state = oauth::NewClientSecret();
  const std::string sealed =
      app_.secrets().Seal(verifier + " " + std::to_string(ToUnixSeconds(app_.clock().Now())), LoginContext(state));
  const std::string redirect_uri = service::ConsoleRedirectUri(app_.config().issuer);
  // No scope: the console client's allowed scopes (the sign-in page lists them).
  HttpResponse res = SeeOther("/oauth/authorize?response_type=code&client_id=" +
                              std::string(service::kConsoleClientId) +
                              "&redirect_uri=" + oauth::PercentEncode(redirect_uri) + "&state=" + state +
                              "&code_challenge=" + challenge + "&code_challenge_method=S256");
  // The state is bound to this browser: a code someone else's sign-in
  // produced cannot be planted here (login CSRF, RFC 6749 §10.12).
  res.set(http::field::set_cookie, LoginCookie(sealed));
  return res;
}

void Gateway::Callback(std::shared_ptr<const api::OwnedRequest> req, api::Responder respond) {
  const api::HttpRequest& r = req->view;
  auto fail = [&](int status, std::string_view detail) {
    HttpResponse res = ErrorPage(status, "Signing in to the console did not finish", detail);
    res.set(http::field::set_cookie, LoginCookie("", true));
    respond(std::move(res));
  };
  auto q = oauth::ParseForm(r.query);
  if (!q.ok()) return fail(400, q.status().message());
  auto login = OpenLogin(app_.secrets(), api::CookieValue(r.header("Cookie"), kLoginCookie), q->Get("state"));
  const int64_t now = ToUnixSeconds(app_.clock().Now());
  if (!login || now - login->started_at > kLoginTimeout.count() || now < login->started_at)
    return fail(400, "This sign-in was not started from this browser at " + app_.config().issuer +
                         "/console, or it took longer than 10 minutes.");
  if (!q->Get("error").empty())
    return fail(400, "The sign-in was refused: " + (q->Get("error_description").empty() ? q->Get("error")
                                                                                         : q->Get("error_description")));
  if (q->Get("iss") != app_.config().issuer)  // RFC 9207: the answer must come from this server
    return fail(400, "The sign-in came back from another authorization server.");
  if (q->Get("code").empty()) return fail(400, "The sign-in came back without an authorization code.");

  const std::string form = "grant_type=authorization_code&code=" + oauth::PercentEncode(q->Get("code")) +
                           "&redirect_uri=" + oauth::PercentEncode(service::ConsoleRedirectUri(app_.config().issuer)) +
                           "&code_verifier=" + login->code_verifier +
                           "&client_id=" + std::string(service::kConsoleClientId);
  CallToken(form, r, [this, respond](HttpResponse res) {
    auto grant = ParseGrant(res);
    if (!grant) {
      HttpResponse page = ErrorPage(res.result_int() >= 500 ? 503 : 400, "Signing in to the console did not finish",
                                    "The token endpoint refused the sign-in: " + TokenErrorText(res));
      page.set(http::field::set_cookie, LoginCookie("", true));
      return respond(std::move(page));
    }
    authz::TokenCheck who = app_.tokens().CheckToken(grant->access_token);
    if (!who.ok() || who.session_id.empty()) {
      HttpResponse page = ErrorPage(500, "Signing in to the console did not finish",
                                    "The token this server issued does not check: " + who.detail);
      return respond(std::move(page));
    }
    const TimePoint now = app_.clock().Now();
    const std::string cookie =
        sessions_.Create(who.subject, who.session_id,
                         SessionTokens{grant->access_token, now + grant->expires_in, grant->refresh_token},
                         now + app_.sign_ins().options().session_lifetime);
    HttpResponse done = SeeOther("/console/");
    done.insert(http::field::set_cookie, SessionCookie(cookie));
    done.insert(http::field::set_cookie, LoginCookie("", true));
    respond(std::move(done));
  });
}

void Gateway::Logout(std::shared_ptr<const api::OwnedRequest> req, api::Responder respond) {
  const api::HttpRequest& r = req->view;
  auto s = SessionOf(r);
  HttpResponse done{http::status::no_content, 11};
  done.set(http::field::set_cookie, SessionCookie("", true));
  done.set(http::field::cache_control, "no-store");
  if (!s) return respond(std::move(done));
  if (std::string why = RefuseWrite(r, *s); !why.empty()) return respond(JsonError(403, "console.csrf", why));
  sessions_.Remove(api::CookieValue(r.header("Cookie"), kSessionCookie));
  std::string refresh;
  {
    MutexLock l(s->mu);
    refresh = s->tokens.refresh_token;
  }
  if (refresh.empty()) return respond(std::move(done));
  // Revoking the refresh token ends the whole sign-in: its access tokens too (docs/users.md).
  api::RawRequest raw{http::verb::post, "/oauth/revoke", 11};
  raw.set(http::field::content_type, "application/x-www-form-urlencoded");
  raw.body() = "token=" + oauth::PercentEncode(refresh) + "&token_type_hint=refresh_token&client_id=" +
               std::string(service::kConsoleClientId);
  raw.prepare_payload();
  CallApp(std::move(raw), r, [respond, done](HttpResponse res) mutable {
    if (res.result_int() != 200)
      Log(LogLevel::kWarn, "console sign-out could not revoke its sign-in", {{"status", res.result_int()}});
    respond(std::move(done));
  });
}

HttpResponse Gateway::SessionInfo(const api::HttpRequest& req) {
  auto s = SessionOf(req);
  if (!s) return SignedOut("Not signed in to the console: open /console/login.");
  auto user = app_.directory().FindUser(s->user_id);
  if (!user) {
    sessions_.Remove(api::CookieValue(req.header("Cookie"), kSessionCookie));
    return SignedOut("The user of this session no longer exists.");
  }
  auto catalog = app_.directory().Roles();
  json::array roles;
  for (const auto& id : user->role_ids) {
    json::object role{{"id", id}, {"name", id}};
    for (const auto& def : *catalog)
      if (def.id == id) role["name"] = def.name;
    roles.emplace_back(std::move(role));
  }
  json::object u{{"id", user->id}, {"username", user->username}, {"displayName", user->display_name}};
  u["roles"] = std::move(roles);
  json::object o{{"user", std::move(u)},
                 {"csrfToken", s->csrf_token},
                 {"expiresAt", FormatRfc3339(s->ends_at)},
                 {"clientId", std::string(service::kConsoleClientId)}};
  HttpResponse res = api::JsonResponse(200, o);
  res.set(http::field::cache_control, "no-store");
  PageHeaders(res);
  return res;
}

HttpResponse Gateway::Catalog() const {
  // The engine's own lists, so the page's choices and labels cannot drift from it.
  json::array scopes, permissions;
  for (const auto& sc : authz::AllScopes()) {
    json::object o{{"name", sc.name}, {"summary", sc.summary}};
    o["unlocks"] = ToJsonArray(sc.unlocks);
    scopes.emplace_back(std::move(o));
  }
  for (const auto& p : authz::KnownPermissions())
    permissions.emplace_back(json::object{{"name", p.permission}, {"label", p.label}});
  HttpResponse res = api::JsonResponse(200, json::object{{"scopes", std::move(scopes)}, {"permissions", std::move(permissions)}});
  res.set(http::field::cache_control, "no-cache");
  PageHeaders(res);
  return res;
}

// --- the API, with the session's token ---------------------------------------

std::string Gateway::RefuseWrite(const api::HttpRequest& req, const Session& s) const {
  // A browser names the page that sent a write; another site's page is refused
  // even before the token is looked at.
  std::string_view origin = req.header("Origin");
  if (!origin.empty() && origin != issuer_origin_)
    return "This write came from another site (Origin " + std::string(origin.substr(0, 200)) +
           "); the console accepts writes from " + issuer_origin_ + " only.";
  std::string_view token = req.header("X-CSRF-Token");
  if (token.empty() || !ConstantTimeEquals(token, s.csrf_token))
    return "Writes through the console must carry the X-CSRF-Token header with the csrfToken of GET "
           "/console/session (docs/console.md).";
  return "";
}

void Gateway::Proxy(std::shared_ptr<const api::OwnedRequest> req, api::Responder respond) {
  const api::HttpRequest& r = req->view;
  auto s = SessionOf(r);
  if (!s) return respond(SignedOut("Not signed in to the console, or the session ended: open /console/login."));
  if (r.method() != "GET" && r.method() != "HEAD") {
    if (std::string why = RefuseWrite(r, *s); !why.empty()) return respond(JsonError(403, "console.csrf", why));
  }
  WithAccessToken(s, r, [this, req, respond](const Renewal& fresh) {
    const api::HttpRequest& r = req->view;
    const std::string cookie = api::CookieValue(r.header("Cookie"), kSessionCookie);
    if (!fresh.access_token) {
      if (!fresh.sign_in_ended) {
        HttpResponse busy =
            JsonError(503, "unavailable", "The console could not renew its access token: " + fresh.why + " Retry shortly.");
        busy.set(http::field::retry_after, "1");
        return respond(std::move(busy));
      }
      sessions_.Remove(cookie);
      return respond(SignedOut("Your console sign-in ended: " + fresh.why + " Sign in again."));
    }
    api::RawRequest raw = req->raw;
    const std::string path = "/api/" + std::string(r.path.substr(kApiPrefix.size()));
    raw.target(path + (r.query.empty() ? "" : "?" + r.query));
    raw.erase(http::field::cookie);
    raw.erase("X-CSRF-Token");
    raw.set(http::field::authorization, "Bearer " + *fresh.access_token);
    CallApp(std::move(raw), r, [this, respond, cookie](HttpResponse res) {
      // The API refused the session's token itself (revoked, user disabled,
      // roles' cutoff): the session is over, and the API says why.
      if (res.result_int() == 401) {
        sessions_.Remove(cookie);
        return respond(SignedOut("Your console sign-in ended: " + JsonField(res, "message")));
      }
      if (res.find(http::field::cache_control) == res.end()) res.set(http::field::cache_control, "no-store");
      PageHeaders(res);  // whatever the console serves, media and JSON too, falls under its policy
      respond(std::move(res));
    });
  });
}

void Gateway::WithAccessToken(const std::shared_ptr<Session>& s, const api::HttpRequest& origin,
                              std::function<void(const Renewal&)> then) {
  std::string refresh;
  {
    MutexLock l(s->mu);
    if (!s->refreshing && s->tokens.access_expires_at - app_.clock().Now() > kRenewBefore) {
      std::string token = s->tokens.access_token;
      l.Unlock();
      return then(Renewal{std::move(token)});
    }
    s->waiting.push_back(std::move(then));
    if (s->refreshing) return;  // the refresh in flight will call it
    s->refreshing = true;
    refresh = s->tokens.refresh_token;
  }
  auto finish = [this, s](const Renewal& outcome, std::optional<TokenGrant> grant) {
    std::vector<std::function<void(const Renewal&)>> waiting;
    {
      MutexLock l(s->mu);
      if (grant) {
        s->tokens.access_token = grant->access_token;
        s->tokens.access_expires_at = app_.clock().Now() + grant->expires_in;
        if (!grant->refresh_token.empty()) s->tokens.refresh_token = grant->refresh_token;
      }
      s->refreshing = false;
      waiting.swap(s->waiting);
    }
    for (auto& w : waiting) w(outcome);
  };
  if (refresh.empty())
    return finish(Renewal{std::nullopt, true, "the console client may not refresh tokens."}, std::nullopt);
  const std::string form = "grant_type=refresh_token&refresh_token=" + oauth::PercentEncode(refresh) +
                           "&client_id=" + std::string(service::kConsoleClientId);
  CallToken(form, origin, [finish](HttpResponse res) {
    if (auto grant = ParseGrant(res)) {
      Renewal fresh{grant->access_token};  // before the grant moves: argument order is unspecified
      return finish(fresh, std::move(grant));
    }
    const bool ended = res.result_int() == 400 || res.result_int() == 401;
    finish(Renewal{std::nullopt, ended, TokenErrorText(res)}, std::nullopt);
  });
}

void Gateway::CallToken(std::string form, const api::HttpRequest& origin, api::Responder then) {
  api::RawRequest raw{http::verb::post, "/oauth/token", 11};
  raw.set(http::field::content_type, "application/x-www-form-urlencoded");
  raw.body() = std::move(form);
  raw.prepare_payload();
  CallApp(std::move(raw), origin, std::move(then));
}

void Gateway::CallApp(api::RawRequest raw, const api::HttpRequest& origin, api::Responder then) {
  std::string target(raw.target());
  const size_t q = target.find('?');
  std::string path = target.substr(0, q);
  std::string query = q == std::string::npos ? "" : target.substr(q + 1);
  auto owned = std::make_shared<const api::OwnedRequest>(std::move(raw), std::move(path), std::move(query),
                                                         origin.remote_ip, origin.peer_ip);
  app_.HandleAsync(std::move(owned), std::move(then));
}

}  // namespace verbatim::console
