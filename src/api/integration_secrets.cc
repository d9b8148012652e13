#include "api/integration_secrets.h"

#include <sodium.h>

#include "core/base64.h"
#include "core/ids.h"

namespace verbatim::api {

Result<std::string> LoadIntegrationKey(store::Store& store) {
  const std::string name(kIntegrationKeyName);
  auto existing = store.GetSecret(name);
  if (!existing.ok()) return existing.status();
  if (!*existing) {
    InitRandom();
    std::string fresh(crypto_secretbox_KEYBYTES, '\0');
    randombytes_buf(fresh.data(), fresh.size());
    VERBATIM_RETURN_IF_ERROR(store.PutSecretIfAbsent(name, fresh));
    existing = store.GetSecret(name);  // whoever won the race
    if (!existing.ok()) return existing.status();
  }
  if (!*existing || (*existing)->size() != crypto_secretbox_KEYBYTES)
    return Status::Internal("server secret '" + name + "' is missing or not 32 bytes");
  return **existing;
}

std::string SealSecret(std::string_view key, std::string_view secret) {
  InitRandom();
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + secret.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(secret.data()),
                        secret.size(), nonce, reinterpret_cast<const unsigned char*>(key.data()));
  return out;
}

Result<std::string> OpenSecret(std::string_view key, std::string_view sealed) {
  if (key.size() != crypto_secretbox_KEYBYTES ||
      sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return Status::Internal("sealed integration secret is malformed");
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  const size_t box = sealed.size() - crypto_secretbox_NONCEBYTES;
  std::string out(box - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()), nonce + crypto_secretbox_NONCEBYTES, box,
                                 nonce, reinterpret_cast<const unsigned char*>(key.data())) != 0)
    return Status::Internal("integration secret does not decrypt with the server key");
  return out;
}

NewIntegration MakeIntegration(std::string_view key, std::string name, std::vector<std::string> role_ids,
                               TimePoint now) {
  InitRandom();
  std::string raw(32, '\0');
  randombytes_buf(raw.data(), raw.size());
  NewIntegration n;
  n.client_secret = Base64Encode(raw);
  n.record.id = NewUuid();
  n.record.name = std::move(name);
  n.record.api_key = RandomToken(24);
  n.record.secret_encrypted = SealSecret(key, raw);
  n.record.role_ids = std::move(role_ids);
  n.record.created_at = now;
  sodium_memzero(raw.data(), raw.size());
  return n;
}

}  // namespace verbatim::api
