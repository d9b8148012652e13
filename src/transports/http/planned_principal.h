// The principal an authorization simulation is about, for
// POST /api/v2/authorization/check and POST /api/v2/authorization/effective-access:
//   "<client id>" | {"clientId": "…"}                  an existing client as stored
//   {"userId": "…", "clientId"?: "…"}                   a person through a client (default: the console's)
//   {"name"?, "scopes"?, "roles"?, "clientId"?}         a planned client: these scopes
//                                                       and roles (names or ids) instead
//                                                       of the stored ones, or a client
//                                                       that does not exist yet
// Planned principals let terraform-provider-verbatim ask the engine, at plan
// time, what a client will be able to do (docs/terraform/index.md). Nothing is
// stored; resolving only reads the directory.
#pragma once

#include <optional>
#include <string>

#include "transports/http/app.h"

namespace verbatim::api {

struct SimulatedPrincipal {
  authz::Principal principal;  // roles resolved; allowed_scopes = the client's (planned) scopes
  std::string client_id;       // empty for a client that does not exist yet; a user's: the one it signs in through
  std::string user_id;         // a person (principal.type "user")
  int token_validity_seconds = 3600;
  bool planned = false;        // scopes/roles come from the request
};

// True when `principal` is the planned-client form (an object with scopes, roles or name).
bool IsPlannedPrincipal(const json::value& principal);
// True for a person: {"userId", "clientId"?} (clientId defaults to the admin
// console's client, service/console_client.h).
bool IsUserPrincipal(const json::value& principal);
// Resolves a person; a 400 naming principal.userId / principal.clientId when either is unknown.
std::optional<SimulatedPrincipal> ResolveUser(App& app, RequestContext& ctx, const json::object& principal,
                                              HttpResponse& out);

// Call only after the caller is authorized to simulate: it says which clients
// and roles exist. nullopt with a 400 `bad.request` in `out` (field
// "principal", "principal.scopes" or "principal.roles") when malformed or
// naming a client, scope or role that does not exist.
std::optional<SimulatedPrincipal> ResolvePrincipal(App& app, RequestContext& ctx, const json::value& principal,
                                                   HttpResponse& out);

// POST /api/v2/authorization/effective-access.
void RegisterEffectiveAccessRoute(App& app, Router& r);

}  // namespace verbatim::api
