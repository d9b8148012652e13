#include "transports/webhook/webhook_signature.h"

#include <sodium.h>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/ids.h"

namespace verbatim::webhook {

std::string NewWebhookSecret() {
  InitRandom();  // sodium_init, before the first randombytes_buf
  std::string key(kWebhookSecretBytes, '\0');
  randombytes_buf(key.data(), key.size());
  std::string secret(kWebhookSecretPrefix);
  secret += Base64Encode(key);
  sodium_memzero(key.data(), key.size());
  return secret;
}

Result<std::string> SignWebhook(std::string_view secret, std::string_view msg_id, int64_t unix_seconds,
                                std::string_view body) {
  if (secret.substr(0, kWebhookSecretPrefix.size()) != kWebhookSecretPrefix)
    return Status::InvalidArgument("webhook.secret.invalid", "a webhook secret starts with 'whsec_'");
  std::optional<std::string> key = Base64Decode(secret.substr(kWebhookSecretPrefix.size()));
  if (!key)
    return Status::InvalidArgument("webhook.secret.invalid",
                                   "a webhook secret is 'whsec_' followed by base64 (with '=' padding)");
  if (key->size() < kMinWebhookKeyBytes || key->size() > kMaxWebhookKeyBytes) {
    const size_t n = key->size();
    sodium_memzero(key->data(), key->size());
    return Status::InvalidArgument("webhook.secret.invalid", "a webhook secret's key is " +
                                                                 std::to_string(kMinWebhookKeyBytes) + " to " +
                                                                 std::to_string(kMaxWebhookKeyBytes) +
                                                                 " bytes; this one has " + std::to_string(n));
  }
  std::string signed_content;
  signed_content.reserve(msg_id.size() + 22 + body.size());
  signed_content.append(msg_id).append(".").append(std::to_string(unix_seconds)).append(".").append(body);
  std::string mac = HmacSha256(*key, signed_content);
  sodium_memzero(key->data(), key->size());
  return "v1," + Base64Encode(mac);
}

}  // namespace verbatim::webhook
