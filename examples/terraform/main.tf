# verbatim as code: the clients of a recording integration, a custom role, an
# AudioHook integration and the organization settings. See README.md here and
# docs/terraform/ for every attribute.
terraform {
  required_providers {
    verbatim = { source = "verbatim/verbatim" }
  }
}

# endpoint, client_id and client_secret come from VERBATIM_ENDPOINT,
# VERBATIM_CLIENT_ID and VERBATIM_CLIENT_SECRET (an admin client).
provider "verbatim" {}

# The acceptance story's client. Remove "recording:control" and `terraform plan`
# fails with the 403 it would get: missing.scope on recording:recording:start.
resource "verbatim_oauth_client" "recording_api" {
  name        = "recording-api-client"
  description = "The CRM starts and stops recordings of its calls"
  scopes      = ["recording:control", "recording:read", "conversation:read"]
  roles       = ["Recording Controller"]
  expected_actions = [
    "recording:recording:start",
    "recording:recording:stop",
    "recording:recording:view",
    "conversation:conversation:view",
  ]
}

resource "verbatim_role" "supervisor" {
  name        = "Supervisor"
  description = "Listens to recordings and reads who did what"
  permissions = ["recording:recording:view", "recording:media:download", "audit:event:view"]
}

resource "verbatim_oauth_client" "supervisor_app" {
  name             = "supervisor-app"
  scopes           = ["recording:read", "audit:read"]
  roles            = [verbatim_role.supervisor.name]
  expected_actions = ["recording:media:download", "audit:event:view"]
}

resource "verbatim_audiohook_integration" "genesys" {
  name = "genesys-audiohook"
}

resource "verbatim_organization_settings" "org" {
  retention_days = 365
}

data "verbatim_role" "controller" {
  name = "Recording Controller"
}

data "verbatim_effective_access" "supervisor_app" {
  client_id = verbatim_oauth_client.supervisor_app.id
}

data "verbatim_access_check" "recording_api_can_start" {
  principal = verbatim_oauth_client.recording_api.id
  action    = "recording:recording:start"
}

# Checked after every plan and apply, against the server as it is.
check "recording_api_can_start" {
  assert {
    condition     = data.verbatim_access_check.recording_api_can_start.allowed
    error_message = join("\n", data.verbatim_access_check.recording_api_can_start.fix)
  }
}

output "recording_api_client_id" {
  value = verbatim_oauth_client.recording_api.client_id
}

output "recording_api_client_secret" {
  value     = verbatim_oauth_client.recording_api.client_secret
  sensitive = true
}

output "supervisor_app_can" {
  value = data.verbatim_effective_access.supervisor_app.effective_permissions
}

output "recording_controller_permissions" {
  value = data.verbatim_role.controller.permissions
}

output "audiohook_api_key" {
  value     = verbatim_audiohook_integration.genesys.api_key
  sensitive = true
}
