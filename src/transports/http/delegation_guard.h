// The delegation ceiling at the API (docs/decisions.md "Delegation ceiling"):
// handlers describe what a write would leave behind as an authz::Grant, and
// DenyBeyondCeiling answers 403 `delegation.exceeds.grantor` when the caller
// does not hold all of it. The rule itself is the pure authz/delegation.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "transports/http/app.h"
#include "authz/delegation.h"

namespace verbatim::api {

// What client `after` would hold: its roles' permissions and its allowed
// scopes. With `before` (an edit), also what it holds now: a principal changes
// only clients within its own authority, since a rotated secret, a new role or
// a removed one all act on what the client holds.
authz::Grant ClientGrant(const store::OAuthClient& after, const store::OAuthClient* before,
                         const std::vector<authz::RoleDef>& roles);
// What user `after` would hold: its roles' permissions (a user has no scopes
// of its own; the client it signs in through brings them). With `before`,
// also what it holds now, as for clients.
authz::Grant UserGrant(const store::User& after, const store::User* before, const std::vector<authz::RoleDef>& roles);
// What a custom role would grant; with `current` (an edit or a delete), also
// what it grants now.
authz::Grant RoleGrant(const std::string& name, const std::vector<std::string>& permissions,
                       const std::vector<std::string>* current);
// What an AudioHook integration holds: its roles, and scope media:ingest,
// which every integration's requests carry (transports/audiohook/audiohook_auth.cc).
authz::Grant IntegrationGrant(const std::string& name, const std::vector<std::string>& role_ids,
                              const std::vector<authz::RoleDef>& roles);

// Nullopt when the authorized caller holds everything `grant` hands out;
// otherwise ctx.decision becomes the denial (audited as such) and this is the 403.
std::optional<HttpResponse> DenyBeyondCeiling(App& app, RequestContext& ctx, const authz::Grant& grant);

// App::Fail for a refused directory write, with the fix for the refusals that
// have one (`admin.last`).
HttpResponse FailWrite(App& app, RequestContext& ctx, const Status& s);

}  // namespace verbatim::api
