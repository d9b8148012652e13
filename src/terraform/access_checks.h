// Plan-time explanations: what a planned OAuth client will be able to do,
// decided by verbatim's own engine and rendered as Terraform diagnostics.
//
// The provider decides nothing itself. For a client as planned (its name,
// scopes and roles, and its id when it exists) it asks
//   POST /api/v2/authorization/effective-access  → scopes no role can ever use
//   POST /api/v2/authorization/check             → per expected action: allow,
//                                                  or the 403 and its fix
// with a planned principal (docs/terraform/index.md). The token, scope and
// permission layers are evaluated; the resource layer (which conversation,
// in which state) exists only per request, and the diagnostic says so.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "terraform/admin_api.h"
#include "terraform/diagnostics.h"

namespace verbatim::terraform {

// How plan-time checks report a denial: an error stops the plan (default); a
// warning lets it through (e.g. to destroy: `terraform destroy` runs a normal
// plan first); off asks nothing. Provider attribute `access_checks`.
enum class AccessCheckMode { kError, kWarning, kOff };

struct PlannedClient {
  std::string name;       // for messages
  std::string client_id;  // set when the client exists (a what-if on it)
  std::vector<std::string> scopes;
  std::vector<std::string> roles;  // names or ids, as configured
  std::vector<std::string> expected_actions;
};

// Warnings for unusable scopes; an error per expected action that would be
// denied; a warning when a role does not exist yet (made in the same apply:
// the check runs again when Terraform re-plans during apply).
Diagnostics CheckPlannedClient(AdminApi& api, const PlannedClient& client,
                               AccessCheckMode mode = AccessCheckMode::kError);

// Renders the simulator's answer for one denied expected action:
// summary "recording-api-client will get 403 missing.scope on
// recording:recording:start: add scope recording:control", detail with the
// engine's message, its layers and its fix.
Diagnostic RenderDenial(const std::string& client_name, const std::string& action, const json::value& check);

// Renders one entry of effective-access's `scopeUse` whose `usable` is empty.
Diagnostic RenderUnusableScope(const std::string& client_name, const json::value& scope_use);

}  // namespace verbatim::terraform
