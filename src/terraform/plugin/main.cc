// terraform-provider-verbatim: verbatim's Terraform provider (docs/terraform/).
// Terraform starts it; run by hand it says how to install it.
#include <cstdio>
#include <string_view>

#include "terraform/plugin/plugin_server.h"
#include "terraform/provider.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--version" || a == "-version" || a == "version") {
      std::printf("terraform-provider-verbatim %s (plugin protocol 6)\n", verbatim::terraform::kProviderVersion);
      return 0;
    }
    if (a == "--help" || a == "-h" || a == "help") {
      std::printf(
          "terraform-provider-verbatim %s: verbatim's Terraform provider.\n\n"
          "Terraform starts this binary; it is not run by hand. Install it with a CLI configuration\n"
          "(~/.terraformrc or TF_CLI_CONFIG_FILE):\n\n"
          "  provider_installation {\n"
          "    dev_overrides { \"verbatim/verbatim\" = \"<directory of this binary>\" }\n"
          "    direct {}\n"
          "  }\n\n"
          "then configure it with endpoint, client_id and client_secret (or VERBATIM_ENDPOINT,\n"
          "VERBATIM_CLIENT_ID, VERBATIM_CLIENT_SECRET). See docs/terraform/index.md.\n",
          verbatim::terraform::kProviderVersion);
      return 0;
    }
  }
  return verbatim::terraform::plugin::RunPlugin();
}
