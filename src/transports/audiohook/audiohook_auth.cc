#include "transports/audiohook/audiohook_auth.h"

#include <boost/beast/http/field.hpp>

#include "transports/http/integration_secrets.h"
#include "core/log.h"

namespace verbatim::api {
namespace {

constexpr const char* kAction = "media:stream:ingest";

std::string Header(const RawRequest& req, std::string_view name) {
  auto it = req.find(boost::beast::string_view(name.data(), name.size()));
  return it == req.end() ? std::string() : std::string(it->value());
}

authz::TokenProblem TokenProblemOf(SignatureProblem p) {
  switch (p) {
    case SignatureProblem::kNone: return authz::TokenProblem::kNone;
    case SignatureProblem::kUnsigned: return authz::TokenProblem::kMissing;
    case SignatureProblem::kMalformed:
    case SignatureProblem::kKeyMismatch:
    case SignatureProblem::kMissingComponent:
    case SignatureProblem::kUnsupported: return authz::TokenProblem::kMalformed;
    case SignatureProblem::kNotYetValid:
    case SignatureProblem::kExpired: return authz::TokenProblem::kExpired;
    case SignatureProblem::kBadAlgorithm:
    case SignatureProblem::kUnknownKey:
    case SignatureProblem::kMismatch:
    case SignatureProblem::kReplayed: return authz::TokenProblem::kSignature;
  }
  return authz::TokenProblem::kSignature;
}

std::string SignatureFix(SignatureProblem p) {
  switch (p) {
    case SignatureProblem::kNone:
    case SignatureProblem::kUnsigned:
      return "Sign the upgrade request with an HTTP message signature (HMAC-SHA256 keyed by the base64-decoded "
             "clientSecret of the integration), as AudioHook clients do, or send 'Authorization: Bearer <token>' "
             "with scope media:ingest.";
    case SignatureProblem::kMalformed:
    case SignatureProblem::kKeyMismatch:
    case SignatureProblem::kMissingComponent:
    case SignatureProblem::kUnsupported:
      return "Sign as the AudioHook client does: Signature-Input: sig1=(\"@request-target\" \"@authority\" "
             "\"audiohook-organization-id\" \"audiohook-session-id\" \"audiohook-correlation-id\" \"x-api-key\");"
             "keyid=\"<X-API-KEY>\";nonce=\"<random, 22+ chars>\";alg=\"hmac-sha256\";created=<unix time>;"
             "expires=<created+30>, and send every covered header.";
    case SignatureProblem::kNotYetValid:
    case SignatureProblem::kExpired:
      return "Sign every connection attempt afresh and check the client's clock: 'created' must be within 10 s of "
             "the server's time.";
    case SignatureProblem::kBadAlgorithm:
      return "Sign with alg=\"hmac-sha256\".";
    case SignatureProblem::kUnknownKey:
      return "Send the apiKey that POST /api/v2/media/integrations returned; an administrator lists the "
             "integrations with GET /api/v2/media/integrations.";
    case SignatureProblem::kMismatch:
      return "Key the HMAC with the base64-decoded clientSecret of this integration and sign the header values "
             "exactly as sent; if the secret was lost, an administrator must create a new integration.";
    case SignatureProblem::kReplayed:
      return "Use a fresh random nonce for every connection attempt.";
  }
  return "Sign the request again.";
}

// The token-layer failure of `d`, reworded for the signature scheme.
void ExplainSignatureFailure(authz::Decision& d, const SignatureCheck& c) {
  auto& l = d.layer(authz::Layer::kToken);
  l.detail = c.detail;
  if (!c.field.empty()) l.extra["claim"] = c.field;
  l.extra["scheme"] = "audiohook-signature";
  l.extra["signatureProblem"] = ToString(c.problem);
  d.message_template = "The AudioHook request signature was rejected ({problem}): {detail}";
  d.params = {{"problem", ToString(c.problem)}, {"detail", c.detail}};
  d.message = "The AudioHook request signature was rejected (" + std::string(ToString(c.problem)) + "): " + c.detail;
  d.fix = {SignatureFix(c.problem)};
}

}  // namespace

UpgradeAuth AudioHookAuthenticator::Authenticate(const RawRequest& req, const std::string& resource) {
  const std::string authorization = Header(req, "Authorization");
  if (authorization.empty() && !Header(req, "X-API-KEY").empty()) return Signature(req, resource);

  UpgradeAuth out;
  out.scheme = authorization.empty() ? "none" : "bearer";
  out.token = app_.tokens().CheckAuthorization(authorization);
  authz::Request r = app_.MakeAuthzRequest(out.token, kAction, resource);
  auto catalog = app_.directory().Roles();
  r.role_catalog = *catalog;
  out.principal = r.principal;
  out.decision = authz::Evaluate(r);
  if (authorization.empty()) {
    out.decision.fix.push_back(
        "Or connect as an AudioHook integration: send its X-API-KEY and an HTTP message signature "
        "(POST /api/v2/media/integrations creates one).");
  }
  return out;
}

UpgradeAuth AudioHookAuthenticator::Signature(const RawRequest& req, const std::string& resource) {
  SignedRequest sr;
  sr.method = std::string(req.method_string());
  sr.authority = Header(req, "Host");
  sr.target = std::string(req.target());
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    sr.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  std::optional<store::MediaIntegration> integration;
  const TimePoint now = app_.clock().Now();
  SignatureCheck check = verifier_.Verify(
      sr, [&](const std::string& key) { return KeyFor(key, integration); }, now);

  UpgradeAuth out;
  out.scheme = "audiohook-signature";
  authz::Request r;
  r.action = kAction;
  r.resource = resource;
  if (check.ok() && integration) {
    authz::Principal p;
    p.type = "integration";
    p.id = integration->id;
    p.name = integration->name;
    p.allowed_scopes = {"media:ingest"};
    for (const auto& id : integration->role_ids)
      if (auto role = app_.directory().FindRoleById(id)) p.roles.push_back(*role);
    out.token.subject = out.token.client_id = integration->id;
    out.token.scopes = {"media:ingest"};
    out.token.issued_at = FromUnixSeconds(check.params.created.value_or(ToUnixSeconds(now)));
    out.token.expires_at = FromUnixSeconds(
        check.params.expires.value_or(ToUnixSeconds(out.token.issued_at) + verifier_.options().max_skew_seconds));
    r.principal = p;
    out.principal = std::move(p);
  } else {
    out.token.problem = TokenProblemOf(check.problem);
    out.token.claim = check.field;
    out.token.detail = check.detail;
  }
  r.token = out.token;
  auto catalog = app_.directory().Roles();
  r.role_catalog = *catalog;
  out.decision = authz::Evaluate(r);
  if (!check.ok()) {
    ExplainSignatureFailure(out.decision, check);
  } else {
    out.decision.layer(authz::Layer::kToken).detail =
        "Valid AudioHook request signature of integration '" + integration->name + "'.";
    out.decision.layer(authz::Layer::kToken).extra["scheme"] = "audiohook-signature";
  }
  return out;
}

std::optional<std::string> AudioHookAuthenticator::KeyFor(const std::string& api_key,
                                                          std::optional<store::MediaIntegration>& found) {
  auto integration = app_.store().GetIntegrationByApiKey(api_key);
  if (!integration.ok()) {
    if (integration.status().code() != "integration.not.found")
      Log(LogLevel::kError, "integration lookup failed", {{"error", integration.status().message()}});
    return std::nullopt;
  }
  auto secret = OpenIntegrationSecret(app_.secrets(), *integration);
  if (!secret.ok()) {
    Log(LogLevel::kError, "integration secret unreadable",
        {{"integrationId", integration->id}, {"error", secret.status().message()}});
    return std::nullopt;
  }
  found = std::move(*integration);
  return std::move(*secret);
}

}  // namespace verbatim::api
