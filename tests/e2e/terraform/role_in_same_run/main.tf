# A role created in the same run that does not grant what the client is for:
# the plan can only warn (the role does not exist yet); the apply plans the
# client again once the role exists, and stops before creating it.
terraform {
  required_providers {
    verbatim = { source = "verbatim/verbatim" }
  }
}

provider "verbatim" {}

resource "verbatim_role" "viewer" {
  name        = "Viewer Only"
  permissions = ["recording:recording:view"]
}

resource "verbatim_oauth_client" "starter" {
  name             = "starter"
  scopes           = ["recording:control", "recording:read"]
  roles            = [verbatim_role.viewer.name]
  expected_actions = ["recording:recording:start"]
}
