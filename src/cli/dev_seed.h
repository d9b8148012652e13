// `serve --dev`: a demo organization, like Vault's -dev mode. Idempotent over
// restarts: existing demo clients are reused with freshly rotated secrets (the
// old ones cannot be shown again: only hashes are stored).
#pragma once

#include <string>

#include "transports/http/app.h"

namespace verbatim::cli {

struct DevCredentials {
  std::string admin_id, admin_secret;
  std::string crm_id, crm_secret;
  std::string conversation_id;
  std::string audiohook_api_key, audiohook_secret;  // the dev AudioHook integration
  std::string user_name, user_password;             // the demo administrator who signs in
};

Result<DevCredentials> SeedDevOrganization(api::App& app, const std::string& data_dir);
void PrintDevBanner(const DevCredentials& d, const std::string& issuer, const std::string& data_dir);

}  // namespace verbatim::cli
