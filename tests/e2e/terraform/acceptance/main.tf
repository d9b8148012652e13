# The acceptance story: a client whose scopes can never start a recording.
# `terraform plan` fails with the 403 it would get and its fix; adding
# "recording:control" to scopes makes the same plan pass.
terraform {
  required_providers {
    verbatim = { source = "verbatim/verbatim" }
  }
}

provider "verbatim" {}

resource "verbatim_oauth_client" "recording_api" {
  name             = "recording-api-client"
  scopes           = ["recording:write"]
  roles            = ["Recording Controller"]
  expected_actions = ["recording:recording:start"]
}

output "client_id" {
  value = verbatim_oauth_client.recording_api.client_id
}

output "client_secret" {
  value     = verbatim_oauth_client.recording_api.client_secret
  sensitive = true
}
