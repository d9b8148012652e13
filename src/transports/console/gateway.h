// The admin console's backend-for-frontend (docs/console.md). Everything
// under /console:
//
//   /console/login      starts a sign-in: PKCE verifier kept here, the browser
//                       sent to /oauth/authorize as any OAuth client would be
//   /console/callback   trades the code for tokens at /oauth/token and opens
//                       a session: an HttpOnly SameSite=Strict cookie
//   /console/session    who is signed in, and the CSRF token for writes
//   /console/catalog    the engine's scopes and permissions, for the page's choices
//   /console/logout     ends the session and revokes its sign-in
//   /console/assets/…   the page's static files (assets.h)
//   /console/api/…      the REST API /api/…, called with the session's token
//   /console/…          the page itself (index.html), or the sign-in
//
// The gateway is an OAuth client of this very server, in process: its token
// requests and API calls go through App::HandleAsync like any other request,
// so every decision, explanation, audit event and limit is the API's own.
// The browser never sees a token.
//
// Thread-safe; continuations may run on an I/O thread or a worker.
#pragma once

#include <memory>
#include <string>

#include "transports/console/assets.h"
#include "transports/console/sessions.h"
#include "transports/http/http_server.h"

namespace verbatim::api {
class App;
}

namespace verbatim::console {

struct GatewayOptions {
  std::string assets_dir;  // serve the page from here instead of the embedded copy ("" = embedded)
  SessionLimits sessions;
};

// The Content-Security-Policy of every console response.
extern const char kConsoleCsp[];

class Gateway {
 public:
  Gateway(api::App& app, GatewayOptions opts = {});

  // True for "/console" and everything under "/console/".
  static bool Claims(std::string_view path);
  void Handle(std::shared_ptr<const api::OwnedRequest> req, api::Responder respond);

  ConsoleSessions& sessions() { return sessions_; }

 private:
  using HttpResponse = api::HttpResponse;

  HttpResponse Page(const api::HttpRequest& req);
  HttpResponse Asset(const api::HttpRequest& req, std::string_view path);
  HttpResponse Login(const api::HttpRequest& req);
  HttpResponse SessionInfo(const api::HttpRequest& req);
  HttpResponse Catalog() const;
  void Callback(std::shared_ptr<const api::OwnedRequest> req, api::Responder respond);
  void Logout(std::shared_ptr<const api::OwnedRequest> req, api::Responder respond);
  void Proxy(std::shared_ptr<const api::OwnedRequest> req, api::Responder respond);

  std::shared_ptr<Session> SessionOf(const api::HttpRequest& req);
  // Why a write must not be forwarded (CSRF), or "" when it may.
  std::string RefuseWrite(const api::HttpRequest& req, const Session& s) const;
  // Calls `then` with a current access token of `s`, refreshing it first when
  // it is about to expire (one refresh at a time per session).
  void WithAccessToken(const std::shared_ptr<Session>& s, const api::HttpRequest& origin,
                       std::function<void(const Renewal&)> then);
  // A request to this server's own App, from the address `origin` came from.
  void CallApp(api::RawRequest raw, const api::HttpRequest& origin, api::Responder then);
  void CallToken(std::string form, const api::HttpRequest& origin, api::Responder then);

  HttpResponse SignedOut(std::string message) const;
  std::string SessionCookie(std::string_view value, bool clear = false) const;
  std::string LoginCookie(std::string_view value, bool clear = false) const;

  api::App& app_;
  const Assets assets_;
  ConsoleSessions sessions_;
  const bool secure_cookies_;
  const std::string issuer_origin_;
};

}  // namespace verbatim::console
