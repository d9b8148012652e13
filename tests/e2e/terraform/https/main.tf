# The provider over https: a data source is enough to prove the connection,
# the token request and the server's certificate check.
terraform {
  required_providers {
    verbatim = { source = "verbatim/verbatim" }
  }
}

provider "verbatim" {}

data "verbatim_role" "auditor" {
  name = "Auditor"
}

output "auditor_id" {
  value = data.verbatim_role.auditor.id
}
