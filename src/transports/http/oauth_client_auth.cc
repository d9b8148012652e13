#include "transports/http/oauth_client_auth.h"

#include <algorithm>

#include "oauth/client_secret.h"
#include "transports/http/app.h"

namespace verbatim::api {
bool IsFormContentType(std::string_view ct) {
  std::string_view media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  constexpr std::string_view kForm = "application/x-www-form-urlencoded";  // lowercase
  return media.size() == kForm.size() && std::equal(media.begin(), media.end(), kForm.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

ClientAuth AuthenticateClient(App& app, RequestContext& ctx, HttpResponse& error, bool allow_public) {
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
  bool public_only = false;  // client_id alone: only a public client may do that
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
  } else if (form_id && allow_public) {
    id = *form_id;
    public_only = true;
  } else {
    error = OAuthError(401, "invalid_client",
                       allow_public ? "Client authentication is required: HTTP Basic, client_id and client_secret in "
                                      "the body, or client_id alone for a public client."
                                    : "Client authentication is required: HTTP Basic, or client_id and client_secret "
                                      "in the body.",
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
  if (public_only) {
    // Nothing secret to compare: a public client is who its id says, and the
    // grant it presents (a PKCE-bound code, a refresh token) is the proof.
    if (!client || client->client_type != "public") {
      app.CountAuthFailure(ctx.http.remote_ip);
      app.metrics().Inc("verbatim_token_errors_total", {{"error", "invalid_client"}});
      error = OAuthError(401, "invalid_client",
                         "Client authentication failed: unknown client, or a confidential client without its secret "
                         "(HTTP Basic, or client_secret in the body).",
                         ctx.context_id);
      return out;
    }
    out.client = std::move(client);
    return out;
  }
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

HttpResponse TokenError(App& app, const RequestContext& ctx, int status, const char* code, std::string description) {
  app.metrics().Inc("verbatim_token_errors_total", {{"error", code}});
  return OAuthError(status, code, description, ctx.context_id);
}

HttpResponse TokenSuccess(std::string body) {
  // The headers JsonResponse sets, and a body rendered without a JSON tree
  // (docs/performance.md "Grants").
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::pragma, "no-cache");
  res.body() = std::move(body);
  return res;
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

}  // namespace verbatim::api
