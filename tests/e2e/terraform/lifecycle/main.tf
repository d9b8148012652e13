# The e2e lifecycle: clients, a custom role, an integration and the
# organization settings, plus the three data sources. The provider reads its
# endpoint and admin credentials from VERBATIM_ENDPOINT, VERBATIM_CLIENT_ID and
# VERBATIM_CLIENT_SECRET.
terraform {
  required_providers {
    verbatim = { source = "verbatim/verbatim" }
  }
}

provider "verbatim" {}

resource "verbatim_role" "supervisor" {
  name        = "Supervisor"
  description = "Listens to recordings"
  permissions = ["recording:recording:view", "recording:media:download"]
}

resource "verbatim_oauth_client" "api" {
  name             = "recording-api-client"
  scopes           = ["recording:control", "recording:read"]
  roles            = ["Recording Controller"]
  expected_actions = ["recording:recording:start", "recording:recording:stop"]
}

# Its role is created in the same run: the plan can only warn, and the check
# runs when Terraform plans the client again during apply.
resource "verbatim_oauth_client" "supervisor_app" {
  name             = "supervisor-app"
  description      = "The supervisors' desktop"
  scopes           = ["recording:read"]
  roles            = [verbatim_role.supervisor.name]
  expected_actions = ["recording:media:download"]
}

resource "verbatim_audiohook_integration" "genesys" {
  name = "genesys-audiohook"
}

resource "verbatim_organization_settings" "org" {
  retention_days = 365
  pause_behavior = "skip"
}

data "verbatim_role" "controller" {
  name = "recording controller"
}

data "verbatim_access_check" "api_can_start" {
  principal = verbatim_oauth_client.api.id
  action    = "recording:recording:start"
}

data "verbatim_effective_access" "supervisor_app" {
  client_id = verbatim_oauth_client.supervisor_app.id
}

output "api_client_id" {
  value = verbatim_oauth_client.api.client_id
}

output "api_client_secret" {
  value     = verbatim_oauth_client.api.client_secret
  sensitive = true
}

output "controller_permissions" {
  value = data.verbatim_role.controller.permissions
}

output "api_can_start" {
  value = data.verbatim_access_check.api_can_start.allowed
}

output "supervisor_app_permissions" {
  value = data.verbatim_effective_access.supervisor_app.effective_permissions
}

output "integration_api_key" {
  value     = verbatim_audiohook_integration.genesys.api_key
  sensitive = true
}
