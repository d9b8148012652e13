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
#include "oauth/client_secret.h"
#include "oauth/form.h"
#include "oauth/token_response.h"

namespace verbatim::api {
namespace {

// Longer than any client id this server issues (UUIDs, 36 bytes).
constexpr size_t kMaxClientIdBytes = 64;

bool IsFormContentType(std::string_view ct) {
  std::string_view media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  constexpr std::string_view kForm = "application/x-www-form-urlencoded";  // lowercase
  return media.size() == kForm.size() && std::equal(media.begin(), media.end(), kForm.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

// Parses the form body and authenticates the client (RFC 6749 §2.3.1: Basic or
// client_id/client_secret in the body, never both). On failure, `error` holds
// the response to send.
struct ClientAuth {
  oauth::Form form;
  std::shared_ptr<const store::OAuthClient> client;  // no copy per grant (api/directory.h)
};

ClientAuth AuthenticateClient(App& app, RequestContext& ctx, HttpResponse& error) {
  ClientAuth out;
  if (!IsFormContentType(ctx.http.header("Content-Type"))) {
    error = OAuthError(400, "invalid_request",
                       "The body must be application/x-www-form-urlencoded (RFC 6749 §4.4.2).", ctx.context_id);
    return out;
  }
  auto form = oauth::ParseForm(ctx.http.body());
  if (!form.ok()) {
    error = OAuthError(400, "invalid_request", form.status().message(), ctx.context_id);
    return out;
  }
  out.form = std::move(*form);

  std::string_view authz_header = ctx.http.header("Authorization");
  const std::string* form_id = out.form.Find("client_id");
  const std::string* form_secret = out.form.Find("client_secret");
  std::string id, secret;
  if (!authz_header.empty()) {
    auto basic = oauth::ParseBasicAuthorization(authz_header);
    if (!basic) {
      error = OAuthError(401, "invalid_client", "The Authorization header is not valid HTTP Basic credentials.",
                         ctx.context_id);
      return out;
    }
    if (form_secret) {
      error = OAuthError(400, "invalid_request",
                         "The client authenticated twice (HTTP Basic and client_secret in the body); use one.",
                         ctx.context_id);
      return out;
    }
    if (form_id && *form_id != basic->client_id) {
      error = OAuthError(400, "invalid_request", "client_id in the body differs from the HTTP Basic client id.",
                         ctx.context_id);
      return out;
    }
    id = std::move(basic->client_id);
    secret = std::move(basic->client_secret);
  } else if (form_id && form_secret) {
    id = *form_id;
    secret = *form_secret;
  } else {
    error = OAuthError(401, "invalid_client",
                       "Client authentication is required: HTTP Basic, or client_id and client_secret in the body.",
                       ctx.context_id);
    return out;
  }

  // Client ids are UUIDs: a longer one is nobody's, and is refused before it
  // can become a rate-limiter key or a lookup (docs/decisions.md "Failed
  // authentications are counted per address and per (client, address)").
  const bool id_too_long = id.size() > kMaxClientIdBytes;
  if (auto blocked = app.AuthBlocked(ctx.http.remote_ip, id_too_long ? std::string_view() : std::string_view(id))) {
    error = app.TooManyRequests(ctx, blocked->retry_after,
                                "Too many failed client authentications from this address (or for this client from "
                                "this address).");
    return out;
  }
  if (id_too_long) {
    app.CountAuthFailure(ctx.http.remote_ip);
    app.metrics().Inc("verbatim_token_errors_total", {{"error", "invalid_client"}});
    error = OAuthError(401, "invalid_client",
                       "Client authentication failed: client_id is longer than any client id (at most " +
                           std::to_string(kMaxClientIdBytes) + " bytes).",
                       ctx.context_id);
    return out;
  }
  auto client = app.directory().FindClientShared(id);
  // Same work whether or not the client exists, so timing reveals nothing.
  static const std::string kNoSuchClientHash(64, '0');
  bool ok = oauth::VerifyClientSecret(secret, client ? client->secret_hash : kNoSuchClientHash);
  if (!client || !ok) {
    // Per (client, address) only for a real client: random ids would only fill the limiter.
    app.CountAuthFailure(ctx.http.remote_ip, client ? std::string_view(id) : std::string_view());
    app.metrics().Inc("verbatim_token_errors_total", {{"error", "invalid_client"}});
    error = OAuthError(401, "invalid_client", "Client authentication failed: unknown client or wrong secret.",
                       ctx.context_id);
    return out;
  }
  out.client = std::move(client);
  return out;
}

std::vector<std::string> SplitScopes(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t sp = s.find(' ', pos);
    if (sp == std::string_view::npos) sp = s.size();
    if (sp > pos) {
      std::string scope(s.substr(pos, sp - pos));
      if (std::find(out.begin(), out.end(), scope) == out.end()) out.push_back(std::move(scope));
    }
    pos = sp + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, const char* sep = " ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

HttpResponse Token(App& app, RequestContext& ctx) {
  const uint64_t epoch = app.directory().CutoffEpoch();  // before the client is looked up (api/directory.h)
  HttpResponse error;
  ClientAuth auth = AuthenticateClient(app, ctx, error);
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
    app.metrics().Inc("verbatim_token_errors_total", {{"error", code}});
    return OAuthError(status, code, description, ctx.context_id);
  };

  const std::string* grant = form.Find("grant_type");
  if (!grant || grant->empty()) return fail(400, "invalid_request", "Parameter 'grant_type' is required.");
  if (*grant != "client_credentials") {
    return fail(400, "unsupported_grant_type",
                "Grant type '" + grant->substr(0, 64) + "' is not supported; this server supports client_credentials.");
  }
  if (std::find(client.allowed_grant_types.begin(), client.allowed_grant_types.end(), *grant) ==
      client.allowed_grant_types.end()) {
    return fail(400, "unauthorized_client",
                "Client '" + client.name + "' may not use grant type '" + *grant +
                    "'; its allowed grant types are: " + Join(client.allowed_grant_types, ", ") + ".");
  }

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
        return fail(400, "invalid_scope",
                    "Scope '" + s + "' is not allowed for client '" + client.name + "'. Allowed scopes: " +
                        (client.allowed_scopes.empty() ? std::string("none") : Join(client.allowed_scopes)) + ".");
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
  // The headers JsonResponse sets, and a body rendered without a JSON tree
  // (docs/performance.md "Grants").
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::pragma, "no-cache");
  res.body() = oauth::TokenResponseJson(*issued);
  return res;
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
  std::optional<store::OAuthClient> owner;
  if (check.ok()) owner = app.directory().FindClient(check.client_id);
  if (owner) oauth::CheckAgainstClient(check, *owner);
  const bool active = check.ok() && owner;

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
  return JsonResponse(200, body);
}

HttpResponse Revoke(App& app, RequestContext& ctx) {
  HttpResponse error;
  ClientAuth auth = AuthenticateClient(app, ctx, error);
  if (!auth.client) return error;
  const std::string* token = auth.form.Find("token");
  if (!token) return OAuthError(400, "invalid_request", "Parameter 'token' is required.", ctx.context_id);
  const std::string* hint = auth.form.Find("token_type_hint");
  if (hint && *hint != "access_token" && *hint != "refresh_token") {
    return OAuthError(400, "unsupported_token_type", "token_type_hint must be access_token.", ctx.context_id);
  }
  auto inspection = app.tokens().Inspect(*token);
  // RFC 7009 §2.2: an invalid or already expired token needs no revocation.
  if (!inspection.check.ok()) return EmptyResponse(200);
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
  r.Add({"POST", "/oauth/token", Access::kPublic, "", [&app](RequestContext& c) { return Token(app, c); }});
  r.Add({"POST", "/oauth/introspect", Access::kPublic, "", [&app](RequestContext& c) { return Introspect(app, c); }});
  r.Add({"POST", "/oauth/revoke", Access::kPublic, "", [&app](RequestContext& c) { return Revoke(app, c); }});
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
           m["grant_types_supported"] = json::array{"client_credentials"};
           m["response_types_supported"] = json::array{};
           m["token_endpoint_auth_methods_supported"] = json::array{"client_secret_basic", "client_secret_post"};
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
