// What a token can do and what a call would do, for the humans asking
// (docs/api.md §6): GET /api/v2/tokens/me and the simulator, over any transport.
#pragma once

#include <string>

#include "authz/engine.h"
#include "core/clock.h"
#include "core/json.h"
#include "store/store.h"

namespace verbatim::service {

// The GET /api/v2/tokens/me document: principal, client, scopes and what they
// unlock, roles, effective permissions, and what each side withholds.
json::object TokenSummaryJson(const authz::Principal& p, const authz::TokenCheck& t, TimePoint now);

// Read-only resource evaluation for the simulator: would this request find
// its conversation, and would the state machine accept the action? Concludes
// the resource layer of an allowed `d`.
void SimulateResource(store::Store& store, authz::Decision& d, const std::string& conversation_id);

// The token `client` would be issued now, for itself or, with `user_id`, for
// that user signing in through it: what the simulator evaluates for an
// existing principal (REST /authorization/check, gRPC Authorization.Check).
// `scopes`: the scopes to assume; nullopt = every scope the client allows.
authz::TokenCheck SimulatedToken(const store::OAuthClient& client, const std::string& user_id,
                                 const std::optional<std::vector<std::string>>& scopes, TimePoint now);

json::object RoleJson(const authz::RoleDef& r);

}  // namespace verbatim::service
