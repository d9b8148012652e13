#include "authz/engine.h"

#include <algorithm>

#include "authz/permission.h"

namespace verbatim::authz {
namespace {

// "a, b or c"
std::string JoinOr(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? " or " : ", ";
    out += items[i];
  }
  return out;
}

std::string JoinComma(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  return out;
}

std::string Capitalized(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string ResourceId(const Decision& d) {
  auto slash = d.resource.find('/');
  return slash == std::string::npos ? d.resource : d.resource.substr(slash + 1);
}

}  // namespace

Decision NewDecision(const Request& req) {
  Decision d;
  d.action = req.action;
  d.resource = req.resource;
  d.layers = {LayerResult{Layer::kToken}, LayerResult{Layer::kScope}, LayerResult{Layer::kPermission},
              LayerResult{Layer::kResource}};
  if (req.principal) {
    PrincipalSummary p{req.principal->type, req.principal->id, req.principal->name, {},
                       req.principal->via_client_id, req.principal->via_client_name};
    for (const auto& r : req.principal->roles) p.roles.push_back(r.name);
    d.principal = std::move(p);
  }
  return d;
}

namespace {

struct TokenText {
  const char* tmpl;
  const char* fix;
};

TokenText TokenTexts(TokenProblem p) {
  switch (p) {
    case TokenProblem::kNone:
    case TokenProblem::kMissing:
      return {"No access token was sent; this API needs 'Authorization: Bearer <access token>'.",
              "Get a token from POST /oauth/token (grant_type=client_credentials) and send it as "
              "'Authorization: Bearer <access token>'."};
    case TokenProblem::kMalformed:
      return {"The access token is malformed: {detail}",
              "Send the access_token exactly as POST /oauth/token returned it, after 'Bearer '."};
    case TokenProblem::kExpired:
      return {"The access token is not valid at this time: {detail}",
              "Request a new token from POST /oauth/token; check that this machine's clock is correct."};
    case TokenProblem::kSignature:
      return {"The access token's signature cannot be verified: {detail}",
              "Use a token issued by this server's POST /oauth/token; only ES256 tokens signed with a key "
              "published at /.well-known/jwks.json are accepted."};
    case TokenProblem::kRevoked:
      return {"The access token has been revoked: {detail}",
              "Request a new token from POST /oauth/token, with the client's current secret (if the client "
              "was deleted or disabled, an administrator must create a new one or enable it)."};
    case TokenProblem::kAudience:
      return {"The access token was not issued for this API: {detail}",
              "Request the token from this server's POST /oauth/token, without a 'resource' parameter or "
              "with this API's resource identifier."};
  }
  return {"The access token was rejected: {detail}", "Request a new token from POST /oauth/token."};
}

bool TokenStage(const Request& req, Decision& d) {
  auto& l = d.layer(Layer::kToken);
  if (req.token.ok() && req.principal) {
    l.outcome = Outcome::kPass;
    const std::string via =
        req.principal->via_client_name.empty() ? "" : " (signed in through client '" + req.principal->via_client_name + "')";
    l.detail = "Valid access token of " + req.principal->type + " '" + req.principal->name + "'" + via +
               ", expires at " + FormatRfc3339(req.token.expires_at) + ".";
    return true;
  }
  TokenProblem problem = req.token.problem;
  std::string detail = req.token.detail;
  std::string claim = req.token.claim;
  if (req.token.ok()) {  // valid signature, but its client is gone
    problem = TokenProblem::kRevoked;
    detail = "the client that requested it no longer exists.";
    claim = "client_id";
  }
  if (detail.empty()) detail = "it was rejected.";
  l.outcome = Outcome::kFail;
  l.code = Code(problem);
  l.detail = detail;
  if (!claim.empty()) l.extra["claim"] = claim;
  TokenText t = TokenTexts(problem);
  Deny(d, 401, l.code, t.tmpl, {{"detail", detail}});
  d.fix.push_back(t.fix);
  return false;
}

bool ScopeStage(const Request& req, Decision& d) {
  auto& l = d.layer(Layer::kScope);
  l.required = ScopesUnlocking(req.action);
  l.granted = req.token.scopes;
  for (const auto& s : req.token.scopes) {
    if (ScopeUnlocks(s, req.action)) {
      l.outcome = Outcome::kPass;
      l.granted_by = s;
      return true;
    }
  }
  l.outcome = Outcome::kFail;
  l.code = "missing.scope";
  l.detail = l.required.empty() ? "No scope unlocks '" + req.action + "'."
                                 : "Scope '" + l.required.front() + "' unlocks '" + req.action +
                                       "'; the token does not carry it.";
  return false;
}

bool PermissionStage(const Request& req, Decision& d) {
  auto& l = d.layer(Layer::kPermission);
  l.required = {req.action};
  for (const auto& role : req.principal->roles) {
    for (const auto& p : role.permissions) {
      if (Covers(p, req.action)) {
        l.outcome = Outcome::kPass;
        l.granted_by = role.name;
        if (p != req.action) l.detail = "Role '" + role.name + "' grants '" + p + "'.";
        return true;
      }
    }
  }
  for (const auto& role : req.principal->roles)
    for (const auto& p : role.permissions)
      if (std::find(l.granted.begin(), l.granted.end(), p) == l.granted.end()) l.granted.push_back(p);
  l.outcome = Outcome::kFail;
  l.code = "missing.permission";
  json::array roles;
  for (const auto& r : req.principal->roles) roles.emplace_back(r.name);
  l.extra["roles"] = std::move(roles);
  return false;
}

// The scope the caller should ask for: one its client may request, if any.
std::string ScopeToRequest(const Request& req) {
  auto needed = ScopesUnlocking(req.action);
  for (const auto& s : needed)
    if (std::find(req.principal->allowed_scopes.begin(), req.principal->allowed_scopes.end(), s) !=
        req.principal->allowed_scopes.end())
      return s;
  return needed.empty() ? std::string() : needed.front();
}

std::string ScopeFix(const Request& req, const std::string& scope) {
  const auto& allowed = req.principal->allowed_scopes;
  bool may = std::find(allowed.begin(), allowed.end(), scope) != allowed.end();
  if (!req.principal->via_client_id.empty()) {  // a person's token: its client bounds the scopes
    const std::string& client = req.principal->via_client_name;
    if (may) return "Sign in again through client '" + client + "' asking for scope '" + scope + "': it may request it.";
    return "An administrator must add scope '" + scope + "' to the allowed scopes of client '" + client +
           "' (PATCH /api/v2/oauth/clients/" + req.principal->via_client_id + "), through which " +
           req.principal->type + " '" + req.principal->name + "' signed in; then sign in again.";
  }
  if (may) return "Request a new token with scope '" + scope + "': this client is allowed to request it.";
  // A planned client (the simulator's what-if, transports/http/planned_principal.h) may have no id yet.
  const std::string where = req.principal->id.empty() ? "" : " (PATCH /api/v2/oauth/clients/" + req.principal->id + ")";
  return "An administrator must add scope '" + scope + "' to the allowed scopes of client '" +
         req.principal->name + "'" + where + "; then request a new token with scope '" + scope + "'.";
}

std::string GrantedScopesText(const std::vector<std::string>& scopes) {
  if (scopes.empty()) return "none";
  std::string out;
  for (size_t i = 0; i < scopes.size(); ++i) {
    if (i > 0) out += ", ";
    out += scopes[i];
    if (const ScopeInfo* info = FindScope(scopes[i])) out += " (" + scopes[i] + " only " + info->summary + ")";
  }
  return out;
}

std::string PermissionFix(const Request& req, const std::vector<std::string>& granting) {
  std::string who = req.principal->type + " '" + req.principal->name + "'";
  std::string roles = granting.empty() ? "a custom role with permission '" + req.action + "'"
                                       : "a role that grants '" + req.action + "' (" + JoinOr(granting) + ")";
  // A planned principal (the simulator's what-if) may have no id yet.
  std::string where;
  if (!req.principal->id.empty())
    where = req.principal->type == "user" ? " (PATCH /api/v2/users/" + req.principal->id + ")"
                                           : " (PATCH /api/v2/oauth/clients/" + req.principal->id + ")";
  return "Assign " + who + " " + roles + where +
         ". A new token will not help: roles are evaluated on every request, so the change applies at once.";
}

}  // namespace

const char* ToString(Layer l) {
  switch (l) {
    case Layer::kToken: return "token";
    case Layer::kScope: return "scope";
    case Layer::kPermission: return "permission";
    case Layer::kResource: return "resource";
  }
  return "token";
}

const char* ToString(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "pass";
    case Outcome::kFail: return "fail";
    case Outcome::kNotEvaluated: return "not-evaluated";
  }
  return "not-evaluated";
}

std::vector<std::string> RolesGranting(std::span<const RoleDef> catalog, std::string_view permission) {
  if (catalog.empty()) catalog = BuiltinRoles();
  std::vector<std::string> out;
  for (const auto& role : catalog) {
    for (const auto& p : role.permissions) {
      if (Covers(p, permission)) {
        out.push_back(role.name);
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> EffectivePermissions(std::span<const RoleDef> roles, std::span<const std::string> scopes) {
  std::vector<std::string> out;
  for (const auto& known : KnownPermissions()) {
    bool by_scope = std::any_of(scopes.begin(), scopes.end(),
                                [&](const std::string& s) { return ScopeUnlocks(s, known.permission); });
    if (!by_scope) continue;
    bool by_role = std::any_of(roles.begin(), roles.end(), [&](const RoleDef& r) {
      return std::any_of(r.permissions.begin(), r.permissions.end(),
                         [&](const std::string& p) { return Covers(p, known.permission); });
    });
    if (by_role) out.push_back(known.permission);
  }
  return out;
}

Decision EvaluateTokenOnly(const Request& req) {
  Decision d = NewDecision(req);
  if (!TokenStage(req, d)) return d;
  d.allowed = true;
  d.layer(Layer::kScope).outcome = Outcome::kPass;
  d.layer(Layer::kScope).detail = "Any valid token may do this.";
  d.layer(Layer::kScope).granted = req.token.scopes;
  d.layer(Layer::kPermission).outcome = Outcome::kPass;
  d.layer(Layer::kPermission).detail = "Any valid token may do this.";
  return d;
}

Decision Evaluate(const Request& req) {
  Decision d = NewDecision(req);
  if (!TokenStage(req, d)) return d;

  // Both layers always run so that a caller missing both learns both at once.
  bool scope_ok = ScopeStage(req, d);
  bool perm_ok = PermissionStage(req, d);
  if (scope_ok && perm_ok) {
    d.allowed = true;
    return d;
  }

  const std::string label = ActionLabel(req.action);
  const std::string who_type = Capitalized(req.principal->type);
  const std::string scope = ScopeToRequest(req);
  std::vector<std::string> granting;
  if (!perm_ok) {
    granting = RolesGranting(req.role_catalog, req.action);
    json::array arr;
    for (const auto& r : granting) arr.emplace_back(r);
    d.layer(Layer::kPermission).extra["grantingRoles"] = std::move(arr);
    d.layer(Layer::kPermission).detail = "No role of " + req.principal->type + " '" + req.principal->name +
                                         "' grants '" + req.action + "'.";
  }
  if (!scope_ok) {
    d.insufficient_scopes = d.layer(Layer::kScope).required;
    d.fix.push_back(ScopeFix(req, scope));
  }
  if (!perm_ok) d.fix.push_back(PermissionFix(req, granting));

  if (!scope_ok && !perm_ok) {
    Deny(d, 403, "missing.permissions",
         "The access token lacks scope '{scope}' and {principalType} '{principal}' has no role granting "
         "permission '{permission}'; both are required to {action}. Roles that grant it: {roles}.",
         {{"scope", scope},
          {"principalType", req.principal->type},
          {"principal", req.principal->name},
          {"permission", req.action},
          {"action", label},
          {"roles", granting.empty() ? "none" : JoinComma(granting)}});
  } else if (!scope_ok) {
    Deny(d, 403, "missing.scope",
         "The access token lacks scope '{scope}', required to {action}. Its scopes are: {grantedScopes}.",
         {{"scope", scope}, {"action", label}, {"grantedScopes", GrantedScopesText(req.token.scopes)}});
  } else {
    Deny(d, 403, "missing.permission",
         "{principalType} '{principal}' has no role granting permission '{permission}', required to {action}. "
         "Roles that grant it: {roles}. A new token will not help: roles are checked on every request.",
         {{"principalType", who_type},
          {"principal", req.principal->name},
          {"permission", req.action},
          {"action", label},
          {"roles", granting.empty() ? "none" : JoinComma(granting)}});
  }
  return d;
}

void ResourceFound(Decision& d, std::string detail) {
  auto& l = d.layer(Layer::kResource);
  l.outcome = Outcome::kPass;
  l.detail = std::move(detail);
}

void ResourceNotFound(Decision& d, std::string_view kind, std::string_view id) {
  auto& l = d.layer(Layer::kResource);
  l.outcome = Outcome::kFail;
  l.code = std::string(kind) + ".not.found";
  l.detail = Capitalized(std::string(kind)) + " '" + std::string(id) + "' does not exist.";
  Deny(d, 404, l.code, "{kind} '{id}' was not found.", {{"kind", Capitalized(std::string(kind))}, {"id", std::string(id)}});
  d.fix.push_back("Check the " + std::string(kind) + " id" +
                  (kind == "conversation" ? "; GET /api/v2/conversations lists conversations." : "."));
}

void ConversationEnded(Decision& d, std::string_view conversation_id, TimePoint ended_at) {
  auto& l = d.layer(Layer::kResource);
  l.outcome = Outcome::kFail;
  l.code = "conversation.ended";
  const std::string ended = FormatRfc3339(ended_at);
  l.detail = "The conversation is disconnected since " + ended + ".";
  l.extra["state"] = "disconnected";
  l.extra["endedAt"] = ended;
  Deny(d, 409, l.code, "Conversation '{conversationId}' ended at {endedAt}; it can no longer be changed.",
       {{"conversationId", std::string(conversation_id)}, {"endedAt", ended}});
  d.fix.push_back(
      "Nothing can start, stop, pause or resume a recording after its conversation ended. The recording made "
      "so far stays available at GET /api/v2/recordings/conversations/" +
      std::string(conversation_id) + ".");
}

void InvalidTransition(Decision& d, RecordingState state, RecordingAction action) {
  auto& l = d.layer(Layer::kResource);
  l.outcome = Outcome::kFail;
  l.code = "recording.invalid.transition";
  auto allowed = AllowedActions(state);
  std::vector<std::string> names;
  json::array arr;
  for (auto a : allowed) {
    names.emplace_back(ToString(a));
    arr.emplace_back(ToString(a));
  }
  l.detail = std::string("The recording is ") + ToString(state) + ".";
  l.extra["state"] = ToString(state);
  l.extra["allowedActions"] = std::move(arr);
  Deny(d, 409, l.code, "Cannot {action} a recording that is {state}. Allowed actions: {allowedActions}.",
       {{"action", ToString(action)}, {"state", ToString(state)}, {"allowedActions", JoinComma(names)}});
  std::string fix = "Use ";
  const std::string base = "POST /api/v2/recordings/conversations/" + ResourceId(d) + "/actions/";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) fix += " or ";
    fix += base + names[i];
  }
  d.fix.push_back(fix + ".");
}

}  // namespace verbatim::authz
