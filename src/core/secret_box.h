// Secrets at rest: a key-encryption key (KEK) kept outside the database, and
// the envelope every stored secret is sealed in (docs/secrets-at-rest.md).
//
//   envelope = "v1:" <key id, 16 hex> ":" base64url(nonce[24] || ciphertext || tag[16])
//
// AEAD is libsodium's XChaCha20-Poly1305 (IETF): a random 192-bit nonce per
// value is safe for any number of values under one key. The associated data
// binds each ciphertext to the envelope version, the key id and a caller's
// `context` naming the row it belongs to ("signing-key:<kid>",
// "integration:<id>"), so a ciphertext copied into another row, or under
// another key id, does not open. The key id is a keyed hash of the key: it
// says which key sealed a value (rotation, a clear "wrong key" error) and
// reveals nothing about the key.
//
// Lives in core because every module that stores a secret uses it (oauth
// signing keys, api integration secrets, SIP trunk credentials) and it needs
// nothing but libsodium.
//
// Thread-safety: both classes are immutable after construction.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace verbatim {

// 256 random bits in libsodium guarded memory (mlocked, zeroed when freed,
// read-only after construction). Move-only: there is one copy of the key.
class KeyEncryptionKey {
 public:
  static constexpr size_t kBytes = 32;

  static KeyEncryptionKey Generate();
  // InvalidArgument "kek.malformed" unless exactly kBytes.
  static Result<KeyEncryptionKey> FromBytes(std::string_view raw);

  KeyEncryptionKey(KeyEncryptionKey&&) noexcept = default;
  KeyEncryptionKey& operator=(KeyEncryptionKey&&) noexcept = default;

  const std::string& id() const { return id_; }  // 16 lowercase hex chars; safe to log
  std::string_view bytes() const;                // for writing the key file only

 private:
  struct Free {
    void operator()(unsigned char* p) const;
  };
  KeyEncryptionKey(std::unique_ptr<unsigned char, Free> key, std::string id)
      : key_(std::move(key)), id_(std::move(id)) {}

  std::unique_ptr<unsigned char, Free> key_;
  std::string id_;
};

class SecretBox {
 public:
  explicit SecretBox(KeyEncryptionKey kek) : kek_(std::move(kek)) {}

  // The envelope of `plaintext`, bound to `context`. Never fails.
  std::string Seal(std::string_view plaintext, std::string_view context) const;

  // The plaintext, or:
  //   InvalidArgument "secret.malformed": not an envelope of a version we know;
  //   FailedPrecondition "secret.wrong.key": sealed under another key id;
  //   FailedPrecondition "secret.tampered": the tag does not verify (changed
  //     bytes, or the envelope belongs to another context/row).
  // Messages name key ids and the context, never key or plaintext bytes.
  Result<std::string> Open(std::string_view envelope, std::string_view context) const;

  const std::string& key_id() const { return kek_.id(); }
  const KeyEncryptionKey& kek() const { return kek_; }

  // A MAC of `message` (HMAC-SHA-256, 32 raw bytes) under a key derived from
  // the KEK for `purpose` alone ("media-url"), so every node holding the same
  // KEK file can check what another signed, and no other use of the KEK can
  // be made to produce it. VerifyMac compares in constant time.
  std::string Mac(std::string_view purpose, std::string_view message) const;
  bool VerifyMac(std::string_view purpose, std::string_view message, std::string_view mac) const;

  // Whether `value` has the envelope's shape (it may still not open).
  static bool IsEnvelope(std::string_view value);
  // The key id an envelope names, if it has the envelope's shape.
  static std::optional<std::string> KeyIdOf(std::string_view envelope);

 private:
  KeyEncryptionKey kek_;
};

}  // namespace verbatim
