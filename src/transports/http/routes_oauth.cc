// The authorization server: RFC 6749 token endpoint (client_credentials),
// RFC 7662 introspection, RFC 7009 revocation, RFC 8414 metadata, JWKS.
// Errors here use RFC 6749 §5.2 bodies, because OAuth client libraries parse them.
// Tokens follow their client (oauth/client_cutoff.h): a disabled client gets
// none, and introspection reports a token refused by its client's cutoff as
// inactive.
#include <algorithm>

#include "transports/http/app.h"
#include "authz/catalog.h"
#include "oauth/client_cutoff.h"
#include "transports/http/oauth_client_auth.h"
#include "transports/http/person_grants.h"
#include "oauth/token_response.h"

namespace verbatim::api {
namespace {

std::string Join(const std::vector<std::string>& v, const char* sep = " ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

HttpResponse Token(App& app, RequestContext& ctx) {
  const uint64_t epoch = app.directory().CutoffEpoch();  // before the client is looked up (api/directory.h)
  HttpResponse error;
  ClientAuth auth = AuthenticateClient(app, ctx, error, /*allow_public=*/true);
  if (!auth.client) return error;
  const store::OAuthClient& client = *auth.client;
  if (!client.enabled) {
    // Said only to a caller that proved it holds the secret.
    app.metrics().Inc("verbatim_token_errors_total", {{"error", "invalid_client"}});
    return OAuthError(401, "invalid_client",
                      "Client '" + client.name + "' is disabled; an administrator can enable it with PATCH "
                      "/api/v2/oauth/clients/" + client.id + " {\"enabled\": true}.",
                      ctx.context_id);
  }
  const oauth::Form& form = auth.form;
  if (auto v = app.TakeTokenRequest(client.id); !v.allowed) {
    return app.TooManyRequests(ctx, v.retry_after,
                               "Client '" + client.name + "' requests tokens faster than its limit; reuse a token "
                               "until it is about to expire.");
  }

  auto fail = [&](int status, const char* code, std::string description) {
    return TokenError(app, ctx, status, code, std::move(description));
  };

  const std::string* grant = form.Find("grant_type");
  if (!grant || grant->empty()) return fail(400, "invalid_request", "Parameter 'grant_type' is required.");
  const bool for_person = *grant == "authorization_code" || *grant == "refresh_token";
  if (*grant != "client_credentials" && !for_person) {
    return fail(400, "unsupported_grant_type",
                "Grant type '" + grant->substr(0, 64) +
                    "' is not supported; this server supports client_credentials, authorization_code and "
                    "refresh_token.");
  }
  if (std::find(client.allowed_grant_types.begin(), client.allowed_grant_types.end(), *grant) ==
      client.allowed_grant_types.end()) {
    return fail(400, "unauthorized_client",
                "Client '" + client.name + "' may not use grant type '" + *grant +
                    "'; its allowed grant types are: " + Join(client.allowed_grant_types, ", ") + ".");
  }
  if (for_person) return TokenForPerson(app, ctx, client, form);

  std::vector<std::string> scopes;
  const std::string* requested = form.Find("scope");
  if (!requested || requested->find_first_not_of(' ') == std::string::npos) {
    scopes = client.allowed_scopes;  // RFC 6749 §3.3: a documented default
  } else {
    scopes = SplitScopes(*requested);
    for (const auto& s : scopes) {
      if (!authz::FindScope(s)) {
        std::vector<std::string> known;
        for (const auto& k : authz::AllScopes()) known.push_back(k.name);
        return fail(400, "invalid_scope",
                    "Scope '" + s.substr(0, 64) + "' does not exist. Known scopes: " + Join(known) + ".");
      }
      if (std::find(client.allowed_scopes.begin(), client.allowed_scopes.end(), s) == client.allowed_scopes.end()) {
        app.metrics().Inc("verbatim_token_errors_total", {{"error", "invalid_scope"}});
        // A scope the client had until recently: say who took it away.
        return OAuthError(400, "invalid_scope",
                          "Scope '" + s + "' is not allowed for client '" + client.name + "'. Allowed scopes: " +
                              (client.allowed_scopes.empty() ? std::string("none") : Join(client.allowed_scopes)) +
                              ".",
                          ctx.context_id, authz::HistoryJson(app.history().ScopeRemoved(client.id, s)));
      }
    }
  }
  if (const std::string* resource = form.Find("resource")) {
    if (*resource != app.config().audience) {
      return fail(400, "invalid_target",
                  "Resource '" + resource->substr(0, 200) + "' is not served by this server; use '" +
                      app.config().audience + "' or omit the parameter.");
    }
  }

  auto issued = app.tokens().Issue(client, std::move(scopes));
  if (!issued.ok()) return app.Fail(ctx, issued.status());
  if (!app.directory().NoClientWriteSince(epoch) && !app.directory().StillVouchesFor(client)) {
    // This client changed while its token was signed: it may have been
    // authenticated against the client as it was. Drop it; a retry sees the change.
    app.metrics().Inc("verbatim_token_errors_total", {{"error", "temporarily_unavailable"}});
    HttpResponse busy = OAuthError(503, "temporarily_unavailable",
                                   "Client '" + client.name + "' changed while this token was issued; request a new one.",
                                   ctx.context_id);
    busy.set(http::field::retry_after, "1");
    return busy;
  }
  static const std::string kIssued = "verbatim_tokens_issued_total";
  static const service::Labels kGrantLabel = {{"grant_type", "client_credentials"}};
  app.metrics().Inc(kIssued, kGrantLabel);
  return TokenSuccess(oauth::TokenResponseJson(*issued));
}

// RFC 7662. A client learns about its own tokens; anyone else's need
// oauth:token:introspect, and without it the answer is {"active": false}
// (§2.2: nothing about whether the token exists). Every introspection leaves
// an audit event: who asked about which jti, and whether it was told.
HttpResponse Introspect(App& app, RequestContext& ctx) {
  HttpResponse error;
  ClientAuth auth = AuthenticateClient(app, ctx, error);
  if (!auth.client) return error;
  const store::OAuthClient& caller = *auth.client;
  const std::string* token = auth.form.Find("token");
  if (!token) return OAuthError(400, "invalid_request", "Parameter 'token' is required.", ctx.context_id);

  auto inspection = app.tokens().Inspect(*token);
  auto& check = inspection.check;
  // Inactive too when its client or user no longer vouches for it.
  const std::optional<authz::Principal> owner = app.directory().PrincipalFor(check);
  const bool active = owner.has_value();

  // The caller, as the engine sees a client that authenticated with its
  // secret: it could request any of its allowed scopes.
  authz::Request req;
  req.action = "oauth:token:introspect";
  req.resource = check.jti.empty() ? std::string("token") : "token/" + check.jti;
  req.token.subject = req.token.client_id = caller.id;
  req.token.scopes = caller.allowed_scopes;
  req.token.issued_at = req.token.expires_at = app.clock().Now();
  if (caller.enabled) {
    req.principal = app.directory().PrincipalOf(caller);
  } else {
    req.token.problem = authz::TokenProblem::kRevoked;
    req.token.claim = "client_id";
    req.token.detail = "client '" + caller.name + "' is disabled.";
  }
  auto catalog = app.directory().Roles();
  req.role_catalog = *catalog;
  ctx.principal = req.principal;
  ctx.token = req.token;
  const bool own = active && check.client_id == caller.id;
  ctx.decision = own || !active ? authz::EvaluateTokenOnly(req) : authz::Evaluate(req);
  auto& d = *ctx.decision;
  if (d.layer(authz::Layer::kToken).outcome == authz::Outcome::kPass)
    d.layer(authz::Layer::kToken).detail = "Client '" + caller.name + "' authenticated with its secret.";
  if (d.allowed) {
    authz::ResourceFound(d, !active ? "The token is not active (" + std::string(authz::Code(check.problem)) + ")."
                            : own   ? "The token was issued to the caller itself."
                                    : "The token was issued to client '" + check.client_id + "'.");
  }
  json::object body;
  body["active"] = d.allowed && active;
  if (!d.allowed || !active) return JsonResponse(200, body);

  const auto& c = inspection.token.claims;
  body["scope"] = Join(c.scopes);
  body["client_id"] = c.client_id;
  body["sub"] = c.subject;
  body["aud"] = c.audience;
  body["iss"] = c.issuer;
  body["jti"] = c.jti;
  body["exp"] = ToUnixSeconds(c.expires_at);
  body["iat"] = ToUnixSeconds(c.issued_at);
  body["nbf"] = ToUnixSeconds(c.issued_at);
  body["token_type"] = "Bearer";
  body["org"] = c.org;
  if (owner->type == "user") {  // a person's token (docs/users.md)
    body["username"] = owner->name;
    body["sid"] = c.session_id;
    if (c.auth_time) body["auth_time"] = ToUnixSeconds(*c.auth_time);
  }
  return JsonResponse(200, body);
}

HttpResponse Revoke(App& app, RequestContext& ctx) {
  HttpResponse error;
  ClientAuth auth = AuthenticateClient(app, ctx, error, /*allow_public=*/true);
  if (!auth.client) return error;
  const std::string* token = auth.form.Find("token");
  if (!token) return OAuthError(400, "invalid_request", "Parameter 'token' is required.", ctx.context_id);
  const std::string* hint = auth.form.Find("token_type_hint");
  if (hint && *hint != "access_token" && *hint != "refresh_token") {
    return OAuthError(400, "unsupported_token_type", "token_type_hint must be access_token or refresh_token.",
                      ctx.context_id);
  }
  auto inspection = app.tokens().Inspect(*token);
  if (!inspection.check.ok()) {
    // An opaque refresh token of this client: revoking it ends its sign-in,
    // access tokens included (RFC 7009 §2.1).
    auto refresh = app.sign_ins().FindRefresh(*token, auth.client->id);
    if (refresh.ok()) {
      if (Status s = app.sign_ins().RevokeFamily(refresh->family_id); !s.ok()) return app.Fail(ctx, s);
    } else if (refresh.status().kind() != Status::Kind::kNotFound) {
      return app.Fail(ctx, refresh.status());
    }
    // RFC 7009 §2.2: an invalid or already expired token needs no revocation.
    return EmptyResponse(200);
  }
  if (inspection.check.client_id != auth.client->id) {
    return OAuthError(400, "unauthorized_client", "A client may only revoke its own tokens.", ctx.context_id);
  }
  Status s = app.tokens().Revoke(inspection.check.jti, inspection.check.expires_at);
  if (!s.ok()) return app.Fail(ctx, s);
  return EmptyResponse(200);
}

json::array ScopeNames() {
  json::array a;
  for (const auto& s : authz::AllScopes()) a.emplace_back(s.name);
  return a;
}

}  // namespace

void RegisterOAuthRoutes(App& app, Router& r) {
  // client_credentials stays on the I/O thread (it only signs); a person's
  // grants write to the store, so they go to the worker pool.
  r.Add({"POST", "/oauth/token", Access::kPublic, "", [&app](RequestContext& c) { return Token(app, c); },
         [](const HttpRequest& req) { return req.body().find("grant_type=client_credentials") == std::string::npos; }});
  r.Add({"POST", "/oauth/introspect", Access::kPublic, "", [&app](RequestContext& c) { return Introspect(app, c); }});
  r.Add({"POST", "/oauth/revoke", Access::kPublic, "", [&app](RequestContext& c) { return Revoke(app, c); },
         [](const HttpRequest&) { return true; }});
  r.Add({"GET", "/.well-known/jwks.json", Access::kPublic, "", [&app](RequestContext&) {
           HttpResponse res = JsonResponse(200, app.tokens().Jwks());
           res.set(http::field::cache_control, "public, max-age=60");
           return res;
         }});
  r.Add({"GET", "/.well-known/oauth-authorization-server", Access::kPublic, "", [&app](RequestContext&) {
           const std::string& iss = app.config().issuer;
           json::object m;
           m["issuer"] = iss;
           m["token_endpoint"] = iss + "/oauth/token";
           m["jwks_uri"] = iss + "/.well-known/jwks.json";
           m["introspection_endpoint"] = iss + "/oauth/introspect";
           m["revocation_endpoint"] = iss + "/oauth/revoke";
           m["authorization_endpoint"] = iss + "/oauth/authorize";
           m["grant_types_supported"] = json::array{"client_credentials", "authorization_code", "refresh_token"};
           m["response_types_supported"] = json::array{"code"};
           m["response_modes_supported"] = json::array{"query"};
           m["code_challenge_methods_supported"] = json::array{"S256"};
           m["authorization_response_iss_parameter_supported"] = true;  // RFC 9207
           m["token_endpoint_auth_methods_supported"] =
               json::array{"client_secret_basic", "client_secret_post", "none"};
           m["introspection_endpoint_auth_methods_supported"] =
               json::array{"client_secret_basic", "client_secret_post"};
           m["revocation_endpoint_auth_methods_supported"] = json::array{"client_secret_basic", "client_secret_post"};
           m["scopes_supported"] = ScopeNames();
           m["service_documentation"] = iss + "/api/v2/openapi.json";
           return JsonResponse(200, m);
         }});
  r.Add({"GET", "/.well-known/oauth-protected-resource", Access::kPublic, "", [&app](RequestContext&) {
           json::object m;  // RFC 9728
           m["resource"] = app.config().audience;
           m["authorization_servers"] = json::array{json::value(app.config().issuer)};
           m["scopes_supported"] = ScopeNames();
           m["bearer_methods_supported"] = json::array{"header"};
           return JsonResponse(200, m);
         }});
}

}  // namespace verbatim::api
