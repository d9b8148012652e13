#include "transports/http/secrets_at_rest.h"

#include <sodium.h>

#include <algorithm>
#include <filesystem>

namespace verbatim::api {
namespace {

// The key check: this text sealed under the database's key, stored as server
// secret store::kKeyCheckSecretName.
constexpr std::string_view kCheckText = "verbatim key-encryption key check v1";
constexpr std::string_view kCheckContext = "kek-check";

std::string PendingPath(const std::string& kek_path) { return kek_path + ".next"; }

struct Wiped {
  std::string s;
  ~Wiped() { sodium_memzero(s.data(), s.size()); }
};

// What the database holds, read before the key is loaded.
struct DbState {
  std::optional<std::string> check;
  std::optional<std::string> legacy_key;
  std::vector<store::SigningKey> keys;
  std::vector<store::MediaIntegration> integrations;

  // Anything sealed under some key-encryption key: a new key would not open it.
  bool HasSealed() const {
    return check ||
           std::any_of(keys.begin(), keys.end(),
                       [](const auto& k) { return SecretBox::IsEnvelope(k.private_key_sealed); }) ||
           std::any_of(integrations.begin(), integrations.end(),
                       [](const auto& m) { return SecretBox::IsEnvelope(m.secret_encrypted); });
  }
  // Rows from before secrets were sealed.
  bool HasLegacy() const {
    return legacy_key ||
           std::any_of(keys.begin(), keys.end(),
                       [](const auto& k) { return !SecretBox::IsEnvelope(k.private_key_sealed); }) ||
           std::any_of(integrations.begin(), integrations.end(),
                       [](const auto& m) { return !SecretBox::IsEnvelope(m.secret_encrypted); });
  }
  // The id of the key the database is sealed with, as far as it says.
  std::string SealedKeyId() const {
    if (check)
      if (auto id = SecretBox::KeyIdOf(*check)) return *id;
    for (const auto& k : keys)
      if (auto id = SecretBox::KeyIdOf(k.private_key_sealed)) return *id;
    for (const auto& m : integrations)
      if (auto id = SecretBox::KeyIdOf(m.secret_encrypted)) return *id;
    return "unknown";
  }
};

Result<DbState> ReadState(store::Store& store) {
  DbState s;
  auto check = store.GetSecret(store::kKeyCheckSecretName);
  if (!check.ok()) return check.status();
  s.check = std::move(*check);
  auto legacy = store.GetSecret(kLegacyIntegrationKeyName);
  if (!legacy.ok()) return legacy.status();
  s.legacy_key = std::move(*legacy);
  auto keys = store.ListKeys();
  if (!keys.ok()) return keys.status();
  s.keys = std::move(*keys);
  auto integrations = store.ListIntegrations();
  if (!integrations.ok()) return integrations.status();
  s.integrations = std::move(*integrations);
  return s;
}

bool OpensCheck(const SecretBox& box, const std::string& check) {
  auto text = box.Open(check, kCheckContext);
  return text.ok() && *text == kCheckText;
}

Status Missing(const SecretsAtRestOptions& o, const DbState& state) {
  if (!state.HasSealed())
    return Status::NotFound("kek.missing", "The key-encryption key file " + o.kek_path +
                                               " does not exist. `verbatim init` and `verbatim serve` create it for a "
                                               "new database (docs/secrets-at-rest.md).");
  return Status::NotFound(
      "kek.missing",
      "The key-encryption key file " + o.kek_path + " does not exist, but the database " + o.db_name +
          " holds secrets sealed with key-encryption key " + state.SealedKeyId() +
          ". Restore that file from your backup, or point --key-encryption-key-file "
          "(VERBATIM_KEY_ENCRYPTION_KEY_FILE) at it. verbatim does not create a new key for this database: a new "
          "key could not open its secrets (docs/secrets-at-rest.md).");
}

Status Mismatch(const SecretsAtRestOptions& o, const std::string& loaded_id, const std::string& sealed_id) {
  return Status::FailedPrecondition(
      "kek.mismatch", "The key-encryption key in " + o.kek_path + " (key id " + loaded_id +
                          ") does not match the database " + o.db_name + ", whose secrets are sealed with key id " +
                          sealed_id +
                          ". Start with the key file this database was created with (--key-encryption-key-file, "
                          "VERBATIM_KEY_ENCRYPTION_KEY_FILE); see docs/secrets-at-rest.md.");
}

// Secrets of AudioHook integrations before the key-encryption key:
// nonce || crypto_secretbox(secret), keyed by server secret "integration-key".
Result<std::string> OpenLegacyIntegrationSecret(std::string_view key, std::string_view sealed) {
  if (key.size() != crypto_secretbox_KEYBYTES ||
      sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return Status::Internal("malformed");
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  const size_t box = sealed.size() - crypto_secretbox_NONCEBYTES;
  std::string out(box - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()), nonce + crypto_secretbox_NONCEBYTES, box,
                                 nonce, reinterpret_cast<const unsigned char*>(key.data())) != 0)
    return Status::Internal("does not decrypt with the legacy integration key");
  return out;
}

// Seals one value that an older verbatim stored; keeps (after checking) one
// that is sealed already.
Result<std::string> SealLegacy(const SecretBox& box, const DbState& state, const SecretsAtRestOptions& o,
                               const store::SealedValue& v) {
  const std::string context = store::SealedContext(v.kind, v.id);
  if (SecretBox::IsEnvelope(v.value)) {
    auto opened = box.Open(v.value, context);
    if (!opened.ok() && opened.status().code() == "secret.wrong.key")
      return Mismatch(o, box.key_id(), *SecretBox::KeyIdOf(v.value));
    if (opened.ok()) sodium_memzero(opened->data(), opened->size());
    return v.value;  // a tampered value stays as it is: its use fails, and says so
  }
  switch (v.kind) {
    case store::SealedKind::kSigningKey:
      if (v.value.rfind("-----BEGIN ", 0) != 0)
        return Status::Internal("signing key " + v.id + " is neither sealed nor a PEM private key");
      return box.Seal(v.value, context);
    case store::SealedKind::kIntegrationSecret: {
      if (!state.legacy_key)
        return Status::Internal("the secret of media integration " + v.id +
                                " is not sealed, and the legacy integration key is gone");
      auto raw = OpenLegacyIntegrationSecret(*state.legacy_key, v.value);
      if (!raw.ok()) return Status::Internal("the secret of media integration " + v.id + " " + raw.status().message());
      Wiped plain{std::move(*raw)};
      return box.Seal(plain.s, context);
    }
    case store::SealedKind::kWebhookSecret:  // webhooks came after sealing: never stored in the clear
      return Status::Internal("the signing secret of webhook " + v.id + " is not sealed");
  }
  return Status::Internal("unknown sealed value kind");
}

Result<SecretsAtRest> OpenOnce(store::Store& store, const SecretsAtRestOptions& o) {
  auto state = ReadState(store);
  if (!state.ok()) return state.status();
  SecretsAtRest out;

  auto file = OpenKekFile(o.kek_path, o.lock);
  if (!file.ok() && file.status().code() == "kek.missing") {
    if (!o.create_if_fresh || state->HasSealed()) return Missing(o, *state);
    file = CreateKekFile(o.kek_path);
    if (file.ok()) {
      out.created = true;
    } else if (file.status().code() == "kek.exists") {
      file = OpenKekFile(o.kek_path, o.lock);  // another process created it first
    }
  }
  if (!file.ok()) return file.status();
  auto box = std::make_shared<SecretBox>(std::move(file->key));
  out.lock = std::move(file->lock);

  const std::string pending = PendingPath(o.kek_path);
  if (state->check && !OpensCheck(*box, *state->check)) {
    // `kek rotate` may have committed the database under <file>.next and
    // stopped before renaming it: finish that rename.
    auto next = OpenKekFile(pending, o.lock);
    if (next.ok()) {
      auto next_box = std::make_shared<SecretBox>(std::move(next->key));
      if (OpensCheck(*next_box, *state->check)) {
        VERBATIM_RETURN_IF_ERROR(RenameKekFile(pending, o.kek_path));
        box = std::move(next_box);
        out.lock = std::move(next->lock);  // same inode, now at kek_path
        out.finished_rotation = true;
      }
    }
    if (!out.finished_rotation) return Mismatch(o, box->key_id(), state->SealedKeyId());
  } else if (state->check) {
    // A <file>.next next to a key that opens the database is a rotation that
    // never committed. Nobody rotates now: we hold the key file's lock.
    std::error_code ec;
    std::filesystem::remove(pending, ec);
  }

  if (!state->check || state->HasLegacy()) {
    store::ResealPlan plan;
    plan.expected_check = state->check;
    plan.new_check = state->check ? *state->check : box->Seal(kCheckText, kCheckContext);
    if (state->legacy_key) plan.drop_secrets.push_back(kLegacyIntegrationKeyName);
    const DbState& st = *state;
    const SecretBox& b = *box;
    plan.reseal = [&](const store::SealedValue& v) { return SealLegacy(b, st, o, v); };
    auto n = store.ResealSecrets(plan);
    if (!n.ok()) return n.status();
    out.migrated = *n;
  }
  out.box = std::move(box);
  return out;
}

}  // namespace

Result<SecretsAtRest> OpenSecretsAtRest(store::Store& store, const SecretsAtRestOptions& opts) {
  // Another process binding the same fresh database at the same moment wins
  // the key check's compare-and-set; read its result and check against it.
  for (int attempt = 1;; ++attempt) {
    auto r = OpenOnce(store, opts);
    if (r.ok() || r.status().code() != "kek.check.changed" || attempt == 3) return r;
  }
}

Result<KekRotation> RotateKeyEncryptionKey(store::Store& store, const SecretsAtRestOptions& opts) {
  SecretsAtRestOptions o = opts;
  o.lock = KekLock::kExclusive;
  o.create_if_fresh = false;
  auto current = OpenSecretsAtRest(store, o);  // bound, migrated, and ours alone
  if (!current.ok()) return current.status();
  auto check = store.GetSecret(store::kKeyCheckSecretName);
  if (!check.ok()) return check.status();
  if (!*check) return Status::Internal("the database has no key check after binding it");

  const std::string pending = PendingPath(o.kek_path);
  VERBATIM_RETURN_IF_ERROR(WriteKekFile(pending, KeyEncryptionKey::Generate()));
  auto written = OpenKekFile(pending, KekLock::kExclusive);  // read back: what the next start will load
  if (!written.ok()) return written.status();
  const SecretBox next(std::move(written->key));
  const SecretBox& old = *current->box;

  store::ResealPlan plan;
  plan.expected_check = *check;
  plan.new_check = next.Seal(kCheckText, kCheckContext);
  plan.reseal = [&](const store::SealedValue& v) -> Result<std::string> {
    const std::string context = store::SealedContext(v.kind, v.id);
    auto plain = old.Open(v.value, context);
    if (!plain.ok()) return Status::Internal(plain.status().message() + "; nothing was rotated");
    Wiped p{std::move(*plain)};
    return next.Seal(p.s, context);
  };
  auto n = store.ResealSecrets(plan);
  if (!n.ok()) {
    std::error_code ec;
    std::filesystem::remove(pending, ec);
    return n.status();
  }
  if (Status s = RenameKekFile(pending, o.kek_path); !s.ok())
    return Status::Internal("The database is now sealed with the new key in " + pending + ", but " + s.message() +
                            ". The next start of verbatim finishes the rename.");
  return KekRotation{old.key_id(), next.key_id(), *n};
}

}  // namespace verbatim::api
