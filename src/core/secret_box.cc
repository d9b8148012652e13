#include "core/secret_box.h"

#include <sodium.h>

#include <cstring>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/ids.h"

namespace verbatim {
namespace {

constexpr std::string_view kVersion = "v1";
constexpr size_t kIdHexChars = 16;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(KeyEncryptionKey::kBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

// What an envelope's text says, before any cryptography.
struct Parsed {
  std::string key_id;
  std::string box;  // nonce || ciphertext || tag
};

bool IsLowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::optional<Parsed> Parse(std::string_view envelope) {
  // "v1:" + 16 hex + ":" + base64url
  const size_t head = kVersion.size() + 1 + kIdHexChars + 1;
  if (envelope.size() <= head || envelope.substr(0, kVersion.size()) != kVersion || envelope[kVersion.size()] != ':' ||
      envelope[head - 1] != ':')
    return std::nullopt;
  std::string_view id = envelope.substr(kVersion.size() + 1, kIdHexChars);
  if (!IsLowerHex(id)) return std::nullopt;
  auto box = Base64UrlDecode(envelope.substr(head));
  if (!box || box->size() < kNonceBytes + kTagBytes) return std::nullopt;
  return Parsed{std::string(id), std::move(*box)};
}

// Associated data: the envelope header and the row the value belongs to.
std::string AssociatedData(std::string_view key_id, std::string_view context) {
  std::string ad = "verbatim-secret-";
  ad.append(kVersion).append(":").append(key_id).append(":").append(context);
  return ad;
}

const unsigned char* U(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

// ---- KeyEncryptionKey -------------------------------------------------------

void KeyEncryptionKey::Free::operator()(unsigned char* p) const { sodium_free(p); }  // zeroes first

KeyEncryptionKey KeyEncryptionKey::Generate() {
  InitRandom();
  std::string raw(kBytes, '\0');
  crypto_aead_xchacha20poly1305_ietf_keygen(reinterpret_cast<unsigned char*>(raw.data()));
  auto k = FromBytes(raw);
  sodium_memzero(raw.data(), raw.size());
  return std::move(k).value();
}

Result<KeyEncryptionKey> KeyEncryptionKey::FromBytes(std::string_view raw) {
  if (raw.size() != kBytes)
    return Status::InvalidArgument("kek.malformed", "a key-encryption key is " + std::to_string(kBytes) +
                                                        " bytes, not " + std::to_string(raw.size()));
  InitRandom();  // sodium_init, needed by sodium_malloc
  auto* p = static_cast<unsigned char*>(sodium_malloc(kBytes));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, raw.data(), kBytes);
  sodium_mprotect_readonly(p);
  // The id is a keyed hash (BLAKE2b) of a constant: it identifies the key
  // without being usable to recover or test guesses of it faster than the key itself.
  constexpr std::string_view kIdLabel = "verbatim key-encryption key id";
  unsigned char id[kIdHexChars / 2];
  crypto_generichash(id, sizeof id, U(kIdLabel), kIdLabel.size(), p, kBytes);
  return KeyEncryptionKey(std::unique_ptr<unsigned char, Free>(p),
                          HexEncode(std::string_view(reinterpret_cast<const char*>(id), sizeof id)));
}

std::string_view KeyEncryptionKey::bytes() const {
  return std::string_view(reinterpret_cast<const char*>(key_.get()), kBytes);
}

// ---- SecretBox ---------------------------------------------------------------

std::string SecretBox::Seal(std::string_view plaintext, std::string_view context) const {
  InitRandom();
  const std::string ad = AssociatedData(key_id(), context);
  std::string box(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonceBytes, &written, U(plaintext), plaintext.size(), U(ad),
                                             ad.size(), nullptr, nonce, U(kek_.bytes()));
  std::string out;
  out.reserve(kVersion.size() + kIdHexChars + 2 + box.size() * 4 / 3 + 4);
  out.append(kVersion).append(":").append(key_id()).append(":").append(Base64UrlEncode(box));
  return out;
}

Result<std::string> SecretBox::Open(std::string_view envelope, std::string_view context) const {
  auto parsed = Parse(envelope);
  if (!parsed)
    return Status::InvalidArgument("secret.malformed",
                                   "the stored value for '" + std::string(context) + "' is not a v1 sealed secret");
  if (parsed->key_id != key_id())
    return Status::FailedPrecondition("secret.wrong.key", "'" + std::string(context) +
                                                              "' is sealed with key-encryption key " + parsed->key_id +
                                                              ", not with the loaded key " + key_id());
  const std::string ad = AssociatedData(parsed->key_id, context);
  const auto* nonce = U(parsed->box);
  const size_t sealed = parsed->box.size() - kNonceBytes;
  std::string out(sealed - kTagBytes, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(out.data()), &len, nullptr,
                                                 nonce + kNonceBytes, sealed, U(ad), ad.size(), nonce,
                                                 U(kek_.bytes())) != 0)
    return Status::FailedPrecondition("secret.tampered",
                                      "the sealed value for '" + std::string(context) +
                                          "' does not verify: it was changed, or belongs to another row");
  out.resize(static_cast<size_t>(len));
  return out;
}

namespace {

// BLAKE2b keyed by the KEK over a label naming the purpose: one subkey per
// purpose, never the KEK itself as an HMAC key.
void MacKey(const KeyEncryptionKey& kek, std::string_view purpose, unsigned char (&key)[crypto_auth_hmacsha256_KEYBYTES]) {
  const std::string label = "verbatim mac key v1:" + std::string(purpose);
  crypto_generichash(key, sizeof key, U(label), label.size(), U(kek.bytes()), KeyEncryptionKey::kBytes);
}

}  // namespace

std::string SecretBox::Mac(std::string_view purpose, std::string_view message) const {
  unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
  MacKey(kek_, purpose, key);
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256(reinterpret_cast<unsigned char*>(out.data()), U(message), message.size(), key);
  sodium_memzero(key, sizeof key);
  return out;
}

bool SecretBox::VerifyMac(std::string_view purpose, std::string_view message, std::string_view mac) const {
  if (mac.size() != crypto_auth_hmacsha256_BYTES) return false;
  unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
  MacKey(kek_, purpose, key);
  const bool ok = crypto_auth_hmacsha256_verify(U(mac), U(message), message.size(), key) == 0;
  sodium_memzero(key, sizeof key);
  return ok;
}

bool SecretBox::IsEnvelope(std::string_view value) { return Parse(value).has_value(); }

std::optional<std::string> SecretBox::KeyIdOf(std::string_view envelope) {
  auto p = Parse(envelope);
  if (!p) return std::nullopt;
  return std::move(p->key_id);
}

}  // namespace verbatim
