// AudioHook integration credentials. Unlike OAuth client secrets (stored as
// hashes), an integration's client secret must stay usable: it is the HMAC key
// of the request signature. So it is kept encrypted at rest with a 32-byte
// server key (libsodium crypto_secretbox, XSalsa20-Poly1305), which lives in
// the store's server_secrets table under "integration-key" and is created on
// first use.
//
// Thread-safe: pure functions plus Store calls.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace verbatim::api {

inline constexpr std::string_view kIntegrationKeyName = "integration-key";

// The server key, created if absent. Two processes racing to create it both
// end up with the one that won (PutSecretIfAbsent, then re-read).
Result<std::string> LoadIntegrationKey(store::Store& store);

// nonce || secretbox(secret); and its inverse (Internal on a wrong key or
// tampered blob).
std::string SealSecret(std::string_view key, std::string_view secret);
Result<std::string> OpenSecret(std::string_view key, std::string_view sealed);

struct NewIntegration {
  store::MediaIntegration record;  // secret_encrypted set; not yet stored
  std::string client_secret;       // base64 of 32 random bytes: shown once
};

// Fresh API key (32 base64url chars) and secret for `name`.
NewIntegration MakeIntegration(std::string_view key, std::string name, std::vector<std::string> role_ids,
                               TimePoint now);

}  // namespace verbatim::api
