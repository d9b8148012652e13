#include "transports/http/integration_secrets.h"

#include <sodium.h>

#include "core/base64.h"
#include "core/ids.h"

namespace verbatim::api {

NewIntegration MakeIntegration(const SecretBox& secrets, std::string name, std::vector<std::string> role_ids,
                               TimePoint now, std::string id) {
  InitRandom();
  std::string raw(32, '\0');
  randombytes_buf(raw.data(), raw.size());
  NewIntegration n;
  n.client_secret = Base64Encode(raw);
  n.record.id = id.empty() ? NewUuid() : std::move(id);
  n.record.name = std::move(name);
  n.record.api_key = RandomToken(24);
  n.record.secret_encrypted =
      secrets.Seal(raw, store::SealedContext(store::SealedKind::kIntegrationSecret, n.record.id));
  n.record.role_ids = std::move(role_ids);
  n.record.created_at = now;
  sodium_memzero(raw.data(), raw.size());
  return n;
}

Result<std::string> OpenIntegrationSecret(const SecretBox& secrets, const store::MediaIntegration& m) {
  return secrets.Open(m.secret_encrypted, store::SealedContext(store::SealedKind::kIntegrationSecret, m.id));
}

}  // namespace verbatim::api
