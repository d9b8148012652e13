// Binding a database to its key-encryption key (docs/secrets-at-rest.md).
//
// Every process that reads or writes sealed secrets (serve, init, keys rotate)
// starts with OpenSecretsAtRest: it loads the key file (creating it only for a
// database that holds nothing sealed yet), proves it is the database's key
// against the stored key check, and seals what an older verbatim left in the
// clear (PEM signing keys; integration secrets under the in-database
// "integration-key") in one transaction, deleting that old key.
// RotateKeyEncryptionKey re-seals everything under a new key file.
//
// Here rather than in core/ because it knows the store and the legacy formats
// of two modules (oauth keys, api integrations); the CLI calls it.
#pragma once

#include <memory>
#include <string>

#include "core/kek_file.h"
#include "core/secret_box.h"
#include "core/status.h"
#include "store/store.h"

namespace verbatim::api {

// The server secret that encrypted integration secrets before the
// key-encryption key existed; deleted by the migration.
inline constexpr char kLegacyIntegrationKeyName[] = "integration-key";

struct SecretsAtRestOptions {
  std::string kek_path;  // the key file
  std::string db_name;   // names the database in error messages
  // Create the key file when it is missing and the database holds nothing
  // sealed (a fresh install, or one written before secrets were sealed).
  bool create_if_fresh = true;
  KekLock lock = KekLock::kShared;
};

struct SecretsAtRest {
  std::shared_ptr<const SecretBox> box;
  FileLock lock;                   // keep while the key is in use
  bool created = false;            // the key file was created now
  bool finished_rotation = false;  // an interrupted `kek rotate` was completed
  int migrated = 0;                // legacy values sealed now
};

// Errors (exit 2 in the CLI), each message saying what to do:
//   NotFound "kek.missing": no key file, and the database holds sealed secrets;
//   FailedPrecondition "kek.mismatch": the key is not the database's;
//   and OpenKekFile's kek.insecure, kek.malformed, kek.locked.
Result<SecretsAtRest> OpenSecretsAtRest(store::Store& store, const SecretsAtRestOptions& opts);

struct KekRotation {
  std::string old_key_id;
  std::string new_key_id;
  int resealed = 0;
};

// `verbatim kek rotate`: writes a new key to <kek_path>.next, re-seals every
// sealed value and the key check under it in one transaction, then renames
// the new file over the old one. Needs the key file exclusively (no server
// running). A crash between the commit and the rename is finished by the next
// OpenSecretsAtRest.
Result<KekRotation> RotateKeyEncryptionKey(store::Store& store, const SecretsAtRestOptions& opts);

}  // namespace verbatim::api
