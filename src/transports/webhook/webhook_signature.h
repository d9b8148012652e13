// Standard Webhooks signing: the secret a receiver is given and the
// `webhook-signature` header value of one delivery attempt.
//
// The signed content is "<webhook-id>.<webhook-timestamp>.<body>" and the key
// is the secret's bytes after "whsec_", base64-decoded, so that a receiver can
// check our deliveries with any Standard Webhooks library (docs/webhooks.md).
// Pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace verbatim::webhook {

inline constexpr std::string_view kWebhookSecretPrefix = "whsec_";
inline constexpr size_t kWebhookSecretBytes = 24;  // what NewWebhookSecret draws
// The key lengths the Standard Webhooks specification allows.
inline constexpr size_t kMinWebhookKeyBytes = 24;
inline constexpr size_t kMaxWebhookKeyBytes = 64;

// A new signing secret: "whsec_" + base64 of kWebhookSecretBytes random bytes.
std::string NewWebhookSecret();

// "v1," + base64(HMAC-SHA256(key, msg_id + "." + unix_seconds + "." + body)).
// InvalidArgument "webhook.secret.invalid" when `secret` is not "whsec_"
// followed by padded base64 of kMinWebhookKeyBytes..kMaxWebhookKeyBytes bytes.
Result<std::string> SignWebhook(std::string_view secret, std::string_view msg_id, int64_t unix_seconds,
                                std::string_view body);

}  // namespace verbatim::webhook
