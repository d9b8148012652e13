// Values sealed under the key-encryption key (docs/secrets-at-rest.md): the
// one pass that binds a database to a key and rotates the key. The store
// never sees a key or a plaintext: `plan.reseal` does the cryptography, inside
// the transaction, so no row can change between reading and rewriting it.
//
// Serialization across nodes: kResealLock orders two passes (the second then
// finds the key check changed), and the sealed tables are locked against
// writers (SHARE ROW EXCLUSIVE: reads go on) so that no value sealed under the
// old key is added while the pass runs.
//
// Unlike SQLite's secure_delete there is no way to zero what a pass replaces
// in PostgreSQL's files: the old row versions stay until VACUUM reclaims them,
// and in the WAL and its archives. They are sealed under the previous key (a
// PostgreSQL database never held a plaintext key: sealing predates it), so
// they are as safe as the previous key file (docs/secrets-at-rest.md).
#include "store/postgres/pg_migrations.h"
#include "store/postgres/postgres_store.h"
#include "store/store_errors.h"

namespace verbatim::store {

using pg::Bytea;
using pg::Conn;
using pg::Rows;

namespace {

// Every sealed column. A new one (e.g. SIP trunk credentials) is one more row.
struct SealedColumn {
  SealedKind kind;
  const char* select;  // id, value
  const char* update;  // value, id
  bool bytea;          // the column is bytea (else text)
};
constexpr SealedColumn kSealedColumns[] = {
    {SealedKind::kSigningKey, "SELECT kid, private_key_pem FROM signing_keys ORDER BY seq",
     "UPDATE signing_keys SET private_key_pem = $1 WHERE kid = $2", false},
    {SealedKind::kIntegrationSecret, "SELECT id, secret_encrypted FROM media_integrations ORDER BY seq",
     "UPDATE media_integrations SET secret_encrypted = $1 WHERE id = $2", true},
    {SealedKind::kWebhookSecret, "SELECT id, secret_encrypted FROM webhooks ORDER BY created_at, id",
     "UPDATE webhooks SET secret_encrypted = $1 WHERE id = $2", true},
};

}  // namespace

Result<int> PostgresStore::ResealSecrets(const ResealPlan& plan) {
  int rewritten = 0;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    rewritten = 0;
    VERBATIM_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock($1)", pg::kResealLock));
    VERBATIM_RETURN_IF_ERROR(
        conn.Script("LOCK TABLE signing_keys, media_integrations, server_secrets IN SHARE ROW EXCLUSIVE MODE"));
    {
      STORE_ASSIGN_OR_RETURN(
          Rows rows, conn.Query("SELECT value FROM server_secrets WHERE name = $1", std::string(kKeyCheckSecretName)));
      std::optional<std::string> stored;
      if (!rows.empty()) stored = rows[0].Bytes(0);
      if (stored != plan.expected_check) return KekCheckChanged();
    }
    for (const SealedColumn& col : kSealedColumns) {
      STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(col.select));
      for (int i = 0; i < rows.size(); ++i) {
        const SealedValue v{col.kind, rows[i].Text(0), col.bytea ? rows[i].Bytes(1) : rows[i].Text(1)};
        STORE_ASSIGN_OR_RETURN(std::string next, plan.reseal(v));
        if (next == v.value) continue;
        VERBATIM_RETURN_IF_ERROR(col.bytea ? conn.Exec(col.update, Bytea{next}, v.id)
                                           : conn.Exec(col.update, next, v.id));
        ++rewritten;
      }
    }
    for (const auto& name : plan.drop_secrets)
      VERBATIM_RETURN_IF_ERROR(conn.Exec("DELETE FROM server_secrets WHERE name = $1", name));
    return conn.Exec(
        "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = "
        "excluded.value",
        std::string(kKeyCheckSecretName), Bytea{plan.new_check});
  }));
  return rewritten;
}

}  // namespace verbatim::store
