// Values sealed under the key-encryption key (docs/secrets-at-rest.md): the
// one pass that binds a database to a key, migrates legacy rows and rotates
// the key. The store never sees a key or a plaintext: `plan.reseal` does the
// cryptography, inside the write transaction, so no row can change between
// reading and rewriting it.
//
// What the pass replaces (a PEM in the clear, a value under a retired key)
// must not survive in the file: the pass runs with secure_delete on, so freed
// cell space and pages are zeroed, and truncates the WAL afterwards, so no old
// page image stays in it.
#include "store/sqlite/sqlite_store.h"
#include "store/store_errors.h"

namespace verbatim::store {

using sqlite::Db;
using sqlite::Stmt;

namespace {

// Every sealed column. A new one (e.g. SIP trunk credentials) is one more row.
struct SealedColumn {
  SealedKind kind;
  const char* select;  // id, value
  const char* update;  // value, id
  bool blob;           // bind the value as BLOB (the column's type)
};
constexpr SealedColumn kSealedColumns[] = {
    {SealedKind::kSigningKey, "SELECT kid, private_key_pem FROM signing_keys ORDER BY rowid",
     "UPDATE signing_keys SET private_key_pem = ? WHERE kid = ?", false},
    {SealedKind::kIntegrationSecret, "SELECT id, secret_encrypted FROM media_integrations ORDER BY rowid",
     "UPDATE media_integrations SET secret_encrypted = ? WHERE id = ?", true},
    {SealedKind::kWebhookSecret, "SELECT id, secret_encrypted FROM webhooks ORDER BY rowid",
     "UPDATE webhooks SET secret_encrypted = ? WHERE id = ?", true},
};

}  // namespace

Result<int> SqliteStore::ResealSecrets(const ResealPlan& plan) {
  int rewritten = 0;
  // Not through the group-commit queue: the pass needs the connection's
  // secure_delete flag for itself. write_mu_ orders it with the queue's leaders.
  MutexLock lock(write_mu_);
  auto previous = [&]() -> Result<int64_t> {
    write_mu_.AssertHeld();  // the lambda runs here, under the lock above
    Stmt st = writer_->Prepare("PRAGMA secure_delete");
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    return row ? st.Int(0) : 0;
  }();
  if (!previous.ok()) return previous.status();
  VERBATIM_RETURN_IF_ERROR(writer_->ExecScript("PRAGMA secure_delete = ON"));
  Status pass = writer_->Transaction(sqlite::TxnKind::kWrite, [&](Db& db) -> Status {
    rewritten = 0;
    {
      Stmt st = db.Query("SELECT value FROM server_secrets WHERE name = ?", kKeyCheckSecretName);
      STORE_ASSIGN_OR_RETURN(bool row, st.Step());
      std::optional<std::string> stored;
      if (row) stored = st.Bytes(0);
      if (stored != plan.expected_check)
        return KekCheckChanged();
    }
    for (const SealedColumn& col : kSealedColumns) {
      std::vector<SealedValue> values;  // read all first: no UPDATE under an open SELECT
      {
        Stmt st = db.Query(col.select);
        for (;;) {
          STORE_ASSIGN_OR_RETURN(bool row, st.Step());
          if (!row) break;
          values.push_back(SealedValue{col.kind, st.Text(0), st.Bytes(1)});
        }
      }
      for (const SealedValue& v : values) {
        STORE_ASSIGN_OR_RETURN(std::string next, plan.reseal(v));
        if (next == v.value) continue;
        VERBATIM_RETURN_IF_ERROR(col.blob ? db.Exec(col.update, sqlite::Blob{next}, v.id)
                                          : db.Exec(col.update, next, v.id));
        ++rewritten;
      }
    }
    for (const auto& name : plan.drop_secrets)
      VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM server_secrets WHERE name = ?", name));
    return db.Exec(
        "INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        kKeyCheckSecretName, sqlite::Blob{plan.new_check});
  });
  // Our own constant values, not input.
  (void)writer_->ExecScript(*previous == 0   ? "PRAGMA secure_delete = OFF"
                            : *previous == 2 ? "PRAGMA secure_delete = FAST"
                                             : "PRAGMA secure_delete = ON");
  if (!pass.ok()) return pass;
  // Best effort: a long read elsewhere may keep old frames a little longer;
  // the last connection to close removes the WAL anyway.
  (void)writer_->ExecScript("PRAGMA wal_checkpoint(TRUNCATE)");
  return rewritten;
}

}  // namespace verbatim::store
