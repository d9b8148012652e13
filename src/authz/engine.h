// The decision engine: pure functions from facts to a Decision. No sockets, no
// SQL, no clock: everything it needs is in the Request, so a decision can be
// recomputed offline (`verbatim explain`) and tested exhaustively.
//
// Two phases, because the resource must not be looked up before the caller is
// known to be allowed to ask about it (docs/api.md §2):
//   Decision d = Evaluate(req);          // token, scope, permission
//   if (d.allowed) { load resource; ResourceFound/NotFound/Ended/InvalidTransition(d, ...); }
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "authz/catalog.h"
#include "authz/decision.h"
#include "authz/token_check.h"
#include "core/clock.h"
#include "core/recording_state.h"

namespace verbatim::authz {

struct Principal {
  std::string type = "client";  // "client" | "user"
  std::string id;
  std::string name;
  std::vector<RoleDef> roles;                // resolved roles (built-in and custom)
  std::vector<std::string> allowed_scopes;   // what its OAuth client may request
  // A user acts through the client it signed in with: that client's allowed
  // scopes bound the token, so a scope fix is made on it.
  std::string via_client_id;
  std::string via_client_name;
};

struct Request {
  std::string action;    // the concrete permission the operation needs
  std::string resource;  // "conversation/<id>", "client/<id>", ... ("" if none)
  TokenCheck token;
  std::optional<Principal> principal;  // required when token.ok()
  // Every role of the organization (built-in + custom), to name the roles that
  // would grant a missing permission. May be empty.
  std::span<const RoleDef> role_catalog;
};

// Token → scope → permission. Scope and permission are both evaluated whenever
// the token is valid, so both failures are reported together. The resource
// layer is left not-evaluated.
Decision Evaluate(const Request& req);

// Requests that need only a valid token (GET /tokens/me, own-token checks).
Decision EvaluateTokenOnly(const Request& req);

// Resource stage, called only on an allowed decision.
void ResourceFound(Decision& d, std::string detail = "");

// A decision not yet evaluated: `req`'s action, resource and principal, all
// four layers not-evaluated. Evaluate starts from it; so do decisions made
// outside the engine (the sign-in's audit events, transports/http/sign_in_audit.h).
Decision NewDecision(const Request& req);
void ResourceNotFound(Decision& d, std::string_view kind, std::string_view id);  // 404 <kind>.not.found
void ConversationEnded(Decision& d, std::string_view conversation_id, TimePoint ended_at);  // 409
void InvalidTransition(Decision& d, RecordingState state, RecordingAction action);         // 409

// Roles in `catalog` that grant `permission`, sorted by name.
std::vector<std::string> RolesGranting(std::span<const RoleDef> catalog, std::string_view permission);
// Permissions of `roles` ∩ permissions unlocked by `scopes`, over KnownPermissions().
std::vector<std::string> EffectivePermissions(std::span<const RoleDef> roles, std::span<const std::string> scopes);

}  // namespace verbatim::authz
