// AudioHook integration credentials. Unlike OAuth client secrets (stored as
// hashes), an integration's client secret must stay usable: it is the HMAC key
// of the request signature. So it is stored sealed under the key-encryption
// key (core/secret_box.h), bound to the integration's id
// (docs/secrets-at-rest.md).
//
// Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/secret_box.h"
#include "core/status.h"
#include "store/model.h"

namespace verbatim::api {

struct NewIntegration {
  store::MediaIntegration record;  // secret_encrypted set; not yet stored
  std::string client_secret;       // base64 of 32 random bytes: shown once
};

// Fresh id, API key (32 base64url chars) and secret for `name`. Give `id` to
// keep an existing integration's id (the secret is bound to it).
NewIntegration MakeIntegration(const SecretBox& secrets, std::string name, std::vector<std::string> role_ids,
                               TimePoint now, std::string id = {});

// The raw secret (the HMAC key) of a stored integration.
Result<std::string> OpenIntegrationSecret(const SecretBox& secrets, const store::MediaIntegration& m);

}  // namespace verbatim::api
