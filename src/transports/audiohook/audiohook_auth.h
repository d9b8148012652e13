// Who may open an AudioHook WebSocket: decided on the HTTP upgrade request,
// before the 101, so a denial is an ordinary error response (docs/api.md §3).
//
// Two schemes, both ending in the authz engine with action
// "media:stream:ingest":
//   - `Authorization: Bearer <token>`: the token's scopes and its client's roles,
//     exactly as for any API route;
//   - AudioHook: `X-API-KEY` names a media integration and an HTTP message
//     signature (transports/audiohook/http_signature.h) proves the integration's secret. The
//     integration acts like a client holding scope media:ingest with its own
//     roles (default Media Ingest). Signature failures are token-layer failures
//     (401 token.missing / token.malformed / token.expired / token.signature)
//     whose message and fix speak of the signature, not of a bearer token.
//
// Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "transports/http/app.h"
#include "transports/audiohook/http_signature.h"

namespace verbatim::api {

struct UpgradeAuth {
  authz::Decision decision;
  std::optional<authz::Principal> principal;
  authz::TokenCheck token;
  std::string scheme;  // "bearer" | "audiohook-signature" | "none"
};

class AudioHookAuthenticator {
 public:
  explicit AudioHookAuthenticator(App& app, VerifyOptions opts = {}) : app_(app), verifier_(std::move(opts)) {}

  UpgradeAuth Authenticate(const RawRequest& req, const std::string& resource);

 private:
  UpgradeAuth Signature(const RawRequest& req, const std::string& resource);
  std::optional<std::string> KeyFor(const std::string& api_key, std::optional<store::MediaIntegration>& found);

  App& app_;
  SignatureVerifier verifier_;  // thread-safe (its nonce cache locks)
};

}  // namespace verbatim::api
