#include "store/postgres/postgres_store.h"

#include <utility>

#include "core/ids.h"
#include "store/change_diff.h"
#include "store/postgres/pg_changes.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_watch.h"
#include "store/row_codec.h"
#include "store/store_errors.h"

namespace verbatim::store {

using pg::Bytea;
using pg::Conn;
using pg::Row;
using pg::Rows;
using pg::TxnKind;

namespace {

// The single organization and its settings, created by the first open; under
// the migration lock, so that nodes opening a new database at once make one.
Result<std::string> EnsureOrganization(Conn& conn, const Clock& clock) {
  VERBATIM_RETURN_IF_ERROR(conn.Begin(TxnKind::kWrite));
  auto body = [&]() -> Result<std::string> {
    VERBATIM_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock($1)", pg::kMigrationLock));
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT id FROM organizations ORDER BY seq LIMIT 1"));
    if (!rows.empty()) return rows[0].Text(0);
    const std::string org_id = NewUuid();
    VERBATIM_RETURN_IF_ERROR(
        conn.Exec("INSERT INTO organizations (id, name, created_at) VALUES ($1, 'default', $2)", org_id, clock.Now()));
    const OrgSettings defaults;
    VERBATIM_RETURN_IF_ERROR(conn.Exec(
        "INSERT INTO org_settings (org_id, auto_start, pause_behavior, retention_days) VALUES ($1, $2, $3, $4)", org_id,
        defaults.auto_start, defaults.pause_behavior, defaults.retention_days));
    return org_id;
  };
  auto org = body();
  Status s = org.ok() ? conn.Commit() : org.status();
  if (!s.ok()) {
    conn.Rollback();
    return s;
  }
  return org;
}

// Role ids are child rows (position, role_id), written from and read as a
// JSON array in one statement each.
Status ReplaceRoleIds(Conn& conn, std::string_view delete_sql, std::string_view insert_sql, const std::string& owner,
                      const std::vector<std::string>& role_ids) {
  VERBATIM_RETURN_IF_ERROR(conn.Exec(delete_sql, owner));
  if (role_ids.empty()) return Status::Ok();
  return conn.Exec(insert_sql, owner, EncodeStrings(role_ids));
}

Status ReplaceClientRoles(Conn& conn, const OAuthClient& c) {
  return ReplaceRoleIds(
      conn, "DELETE FROM client_roles WHERE client_id = $1",
      "INSERT INTO client_roles (client_id, position, role_id) "
      "SELECT $1, ord - 1, value FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS t(value, ord)",
      c.id, c.role_ids);
}

Status ReplaceIntegrationRoles(Conn& conn, const MediaIntegration& m) {
  return ReplaceRoleIds(
      conn, "DELETE FROM integration_roles WHERE integration_id = $1",
      "INSERT INTO integration_roles (integration_id, position, role_id) "
      "SELECT $1, ord - 1, value FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS t(value, ord)",
      m.id, m.role_ids);
}

constexpr char kClientSelect[] =
    "SELECT c.id, c.name, c.description, c.allowed_scopes::text, c.allowed_grant_types::text, "
    "c.access_token_validity_seconds, c.secret_hash, c.created_at, c.updated_at, c.enabled, c.tokens_valid_after, "
    "c.tokens_valid_after_reason, "
    "(SELECT COALESCE(jsonb_agg(r.role_id ORDER BY r.position), '[]'::jsonb) FROM client_roles r "
    "WHERE r.client_id = c.id)::text, c.redirect_uris::text, c.client_type FROM oauth_clients c";

Result<OAuthClient> ReadClient(const Row& row) {
  OAuthClient c;
  c.id = row.Text(0);
  c.name = row.Text(1);
  c.description = row.Text(2);
  STORE_ASSIGN_OR_RETURN(c.allowed_scopes, DecodeStrings(row.Text(3)));
  STORE_ASSIGN_OR_RETURN(c.allowed_grant_types, DecodeStrings(row.Text(4)));
  c.access_token_validity_seconds = static_cast<int>(row.Int(5));
  c.secret_hash = row.Text(6);
  c.created_at = row.Time(7);
  c.updated_at = row.Time(8);
  c.enabled = row.Bool(9);
  c.tokens_valid_after = row.OptTime(10);
  c.tokens_valid_after_reason = row.Text(11);
  STORE_ASSIGN_OR_RETURN(c.role_ids, DecodeStrings(row.Text(12)));
  STORE_ASSIGN_OR_RETURN(c.redirect_uris, DecodeStrings(row.Text(13)));
  c.client_type = row.Text(14);
  return c;
}

constexpr char kRoleSelect[] = "SELECT id, name, description, permissions::text, created_at, updated_at FROM roles";

Result<Role> ReadRole(const Row& row) {
  Role r;
  r.id = row.Text(0);
  r.name = row.Text(1);
  r.description = row.Text(2);
  STORE_ASSIGN_OR_RETURN(r.permissions, DecodeStrings(row.Text(3)));
  r.created_at = row.Time(4);
  r.updated_at = row.Time(5);
  return r;
}

// Role names are unique case-insensitively with ASCII folding (SQLite's
// NOCASE): lower() under the "C" collation folds ASCII only.
Status CheckRoleNameFree(Conn& conn, const Role& r) {
  STORE_ASSIGN_OR_RETURN(
      bool taken, conn.Exists("SELECT 1 FROM roles WHERE lower(name COLLATE \"C\") = lower($1::text COLLATE \"C\") "
                              "AND id <> $2",
                              r.name, r.id));
  return taken ? RoleNameTaken(r.name) : Status::Ok();
}

// A write that lost a race on the unique name index (both checked first,
// neither saw the other) is the same refusal the check gives.
Status NameRace(const Conn& conn, Status s, const Role& r) {
  if (conn.last_sqlstate() == "23505" && conn.last_constraint() == "roles_by_name") return RoleNameTaken(r.name);
  return s;
}

constexpr char kIntegrationSelect[] =
    "SELECT m.id, m.name, m.api_key, m.secret_encrypted, m.created_at, "
    "(SELECT COALESCE(jsonb_agg(r.role_id ORDER BY r.position), '[]'::jsonb) FROM integration_roles r "
    "WHERE r.integration_id = m.id)::text FROM media_integrations m";

Result<MediaIntegration> ReadIntegration(const Row& row) {
  MediaIntegration m;
  m.id = row.Text(0);
  m.name = row.Text(1);
  m.api_key = row.Text(2);
  m.secret_encrypted = row.Bytes(3);
  m.created_at = row.Time(4);
  STORE_ASSIGN_OR_RETURN(m.role_ids, DecodeStrings(row.Text(5)));
  return m;
}

// The records as a write's transaction sees them (locked), when the write is logged (`by` set).
Result<std::optional<OAuthClient>> LoadClient(Conn& conn, const ChangeAuthor* by, const std::string& id) {
  if (by == nullptr) return std::optional<OAuthClient>();
  return pg::LoadForChange<OAuthClient>(conn, std::string(kClientSelect) + " WHERE c.id = $1 FOR UPDATE OF c", id,
                                        ReadClient);
}
Result<std::optional<Role>> LoadRole(Conn& conn, const ChangeAuthor* by, const std::string& id) {
  if (by == nullptr) return std::optional<Role>();
  return pg::LoadForChange<Role>(conn, std::string(kRoleSelect) + " WHERE id = $1 FOR UPDATE", id, ReadRole);
}
Result<std::optional<MediaIntegration>> LoadIntegration(Conn& conn, const ChangeAuthor* by, const std::string& id) {
  if (by == nullptr) return std::optional<MediaIntegration>();
  return pg::LoadForChange<MediaIntegration>(conn, std::string(kIntegrationSelect) + " WHERE m.id = $1 FOR UPDATE OF m",
                                             id, ReadIntegration);
}

Result<OrgSettings> ReadSettings(Conn& conn, const std::string& org_id, bool for_update) {
  STORE_ASSIGN_OR_RETURN(
      Rows rows, conn.Query(for_update ? "SELECT auto_start, pause_behavior, retention_days FROM org_settings "
                                         "WHERE org_id = $1 FOR UPDATE"
                                       : "SELECT auto_start, pause_behavior, retention_days FROM org_settings "
                                         "WHERE org_id = $1",
                            org_id));
  if (rows.empty()) return Status::Internal("store: the settings row is missing");
  OrgSettings s;
  s.auto_start = rows[0].Bool(0);
  s.pause_behavior = rows[0].Text(1);
  s.retention_days = static_cast<int>(rows[0].Int(2));
  return s;
}

// Deleting a role takes it from every client and user that had it: each of
// them gets its own entry, so a client's history shows what it lost.
Status LogRoleUnassigned(Conn& conn, const std::string& role_id, const ChangeAuthor& by, TimePoint now) {
  STORE_ASSIGN_OR_RETURN(Rows clients,
                         conn.Query("SELECT DISTINCT client_id FROM client_roles WHERE role_id = $1", role_id));
  STORE_ASSIGN_OR_RETURN(Rows users, conn.Query("SELECT DISTINCT user_id FROM user_roles WHERE role_id = $1", role_id));
  auto without_role = [&](auto record) {
    std::erase(record.role_ids, role_id);
    record.updated_at = now;
    return record;
  };
  for (int i = 0; i < clients.size(); ++i) {
    STORE_ASSIGN_OR_RETURN(std::optional<OAuthClient> c, LoadClient(conn, &by, clients[i].Text(0)));
    if (!c) continue;
    const OAuthClient after = without_role(*c);
    VERBATIM_RETURN_IF_ERROR(pg::LogChange(conn, ClientChange(&*c, &after, by)));
  }
  for (int i = 0; i < users.size(); ++i) {
    STORE_ASSIGN_OR_RETURN(std::optional<User> u, pg::LoadUserForChange(conn, users[i].Text(0)));
    if (!u) continue;
    const User after = without_role(*u);
    VERBATIM_RETURN_IF_ERROR(pg::LogChange(conn, UserChange(&*u, &after, by)));
  }
  return Status::Ok();
}

Status InsertKeyRow(Conn& conn, const SigningKey& k) {
  STORE_ASSIGN_OR_RETURN(
      int64_t inserted,
      conn.Affected("INSERT INTO signing_keys (kid, alg, private_key_pem, public_jwk_json, created_at, retired_at, "
                    "publish_until) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kid) DO NOTHING",
                    k.kid, k.alg, k.private_key_sealed, k.public_jwk_json, k.created_at, k.retired_at,
                    k.publish_until));
  return inserted == 0 ? KeyExists(k.kid) : Status::Ok();
}

// Every row of `rows` through `read` (a Result-returning row reader); `out`
// is replaced, so a body that runs again starts clean.
template <class T, class ReadRow>
Status CollectRows(const Rows& rows, std::vector<T>& out, ReadRow read) {
  out.clear();
  out.reserve(rows.size());
  for (int i = 0; i < rows.size(); ++i) {
    STORE_ASSIGN_OR_RETURN(T item, read(rows[i]));
    out.push_back(std::move(item));
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------- lifecycle

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresOptions& opts, const Clock& clock) {
  InitRandom();
  VERBATIM_RETURN_IF_ERROR(pg::CheckDatabaseUrl(opts.url));
  pg::PoolOptions popts;
  popts.connect.url = opts.url;
  popts.connect.connect_timeout_s = opts.connect_timeout_s;
  popts.connect.statement_timeout = opts.statement_timeout;
  popts.size = opts.pool_size;
  popts.backoff_first = opts.backoff_first;
  popts.backoff_max = opts.backoff_max;
  std::string org_id;
  {
    // Its own connection, without a statement timeout: a node that starts
    // while another one migrates waits for it, however long that takes.
    pg::ConnectOptions setup = popts.connect;
    setup.statement_timeout = std::chrono::milliseconds(0);
    std::string detail;
    auto conn = pg::Conn::Connect(setup, &detail);
    if (!conn.ok()) {
      if (conn.status().kind() != Status::Kind::kUnavailable) return conn.status();
      while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
      // For the operator starting a command (libpq's message names no password).
      return Status::Unavailable("store.unavailable", "The database cannot be reached: " + detail);
    }
    VERBATIM_RETURN_IF_ERROR(pg::Migrate(**conn));
    STORE_ASSIGN_OR_RETURN(org_id, EnsureOrganization(**conn, clock));
  }
  auto pool = std::make_unique<pg::Pool>(popts);
  std::unique_ptr<PostgresStore> store(new PostgresStore(clock, opts, std::move(org_id), std::move(pool)));
  VERBATIM_RETURN_IF_ERROR(store->EnsureAuditPartitions({}));
  return store;
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& opts, const Clock& clock) {
  auto store = PostgresStore::Open(opts, clock);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(store).value());
}

PostgresStore::PostgresStore(const Clock& clock, PostgresOptions opts, std::string org_id,
                             std::unique_ptr<pg::Pool> pool)
    : clock_(clock), opts_(std::move(opts)), org_id_(std::move(org_id)), pool_(std::move(pool)) {}

PostgresStore::~PostgresStore() = default;

Result<std::unique_ptr<ChangeWatch>> PostgresStore::WatchChanges(ChangeHandler handler) {
  pg::ConnectOptions c;
  c.url = opts_.url;
  c.connect_timeout_s = opts_.connect_timeout_s;
  c.statement_timeout = opts_.statement_timeout;
  return std::unique_ptr<ChangeWatch>(
      std::make_unique<pg::PgChangeWatch>(std::move(c), std::move(handler), opts_.backoff_first, opts_.backoff_max));
}

Status PostgresStore::Run(TxnKind kind, const Body& body) {
  constexpr int kMaxAttempts = 3;
  Status last;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto lease = pool_->Acquire();
    if (!lease.ok()) return lease.status();
    Conn& conn = **lease;
    Status s = conn.Begin(kind);
    const bool began = s.ok();
    if (began) {
      s = body(conn);
      if (s.ok()) s = conn.Commit();
      if (!s.ok()) conn.Rollback();
    }
    if (s.ok()) return s;
    last = s;
    if (conn.broken()) {
      // Nothing was done if BEGIN failed (typically an idle connection that
      // died with a database restart), and a read may always run again. A
      // write that broke later may have committed: never repeat it.
      if (attempt == 0 && (!began || kind != TxnKind::kWrite)) continue;
      return s;
    }
    // Rolled back as a whole by PostgreSQL: running it again is safe.
    if (pg::IsRetryableSqlState(conn.last_sqlstate())) continue;
    return s;
  }
  return last;
}

// ---------------------------------------------------------------- organization

Result<Organization> PostgresStore::GetOrganization() {
  Organization org;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows,
                           conn.Query("SELECT id, name, created_at FROM organizations WHERE id = $1", org_id_));
    if (rows.empty()) return Status::Internal("store: the organization row is missing");
    org = Organization{rows[0].Text(0), rows[0].Text(1), rows[0].Time(2)};
    return Status::Ok();
  }));
  return org;
}

Result<OrgSettings> PostgresStore::GetSettings() {
  OrgSettings s;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(s, ReadSettings(conn, org_id_, /*for_update=*/false));
    return Status::Ok();
  }));
  return s;
}

Status PostgresStore::PutSettings(const OrgSettings& s, const ChangeAuthor* by) {
  if (s.pause_behavior != "silence" && s.pause_behavior != "skip") {
    return Status::InvalidArgument("bad.request", "Field 'pauseBehavior' must be 'silence' or 'skip'.");
  }
  if (s.retention_days < 0) return Status::InvalidArgument("bad.request", "Field 'retentionDays' must be >= 0.");
  return Write([&](Conn& conn) -> Status {
    std::optional<OrgSettings> before;
    if (by != nullptr) {
      STORE_ASSIGN_OR_RETURN(before, ReadSettings(conn, org_id_, /*for_update=*/true));
    }
    VERBATIM_RETURN_IF_ERROR(conn.Exec(
        "UPDATE org_settings SET auto_start = $1, pause_behavior = $2, retention_days = $3 WHERE org_id = $4",
        s.auto_start, s.pause_behavior, s.retention_days, org_id_));
    return before ? pg::LogChange(conn, SettingsChange(*before, s, *by)) : Status::Ok();
  });
}

// ---------------------------------------------------------------- OAuth clients

// The primary key decides a concurrent create (ON CONFLICT DO NOTHING).
Status PostgresStore::CreateClient(const OAuthClient& c, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(
        int64_t inserted,
        conn.Affected("INSERT INTO oauth_clients (id, name, description, allowed_scopes, allowed_grant_types, "
                      "access_token_validity_seconds, secret_hash, created_at, updated_at, enabled, "
                      "tokens_valid_after, tokens_valid_after_reason, redirect_uris, client_type) "
                      "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14) "
                      "ON CONFLICT (id) DO NOTHING",
                      c.id, c.name, c.description, EncodeStrings(c.allowed_scopes),
                      EncodeStrings(c.allowed_grant_types), c.access_token_validity_seconds, c.secret_hash,
                      c.created_at, c.updated_at, c.enabled, c.tokens_valid_after, c.tokens_valid_after_reason,
                      EncodeStrings(c.redirect_uris), c.client_type));
    if (inserted == 0) return Status::AlreadyExists("client.exists", "OAuth client '" + c.id + "' already exists.");
    VERBATIM_RETURN_IF_ERROR(ReplaceClientRoles(conn, c));
    return by != nullptr ? pg::LogChange(conn, ClientChange(nullptr, &c, *by)) : Status::Ok();
  });
}

Result<OAuthClient> PostgresStore::GetClient(const std::string& id) {
  OAuthClient out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kClientSelect) + " WHERE c.id = $1", id));
    if (rows.empty()) return ClientNotFound(id);
    STORE_ASSIGN_OR_RETURN(out, ReadClient(rows[0]));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<OAuthClient>> PostgresStore::ListClients() {
  std::vector<OAuthClient> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kClientSelect) + " ORDER BY c.created_at, c.id"));
    return CollectRows(rows, out, ReadClient);
  }));
  return out;
}

// The UPDATE (or, when logged, the read before it) locks the client row:
// concurrent updates of one client serialize.
Status PostgresStore::UpdateClient(const OAuthClient& c, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<OAuthClient> before, LoadClient(conn, by, c.id));
    STORE_ASSIGN_OR_RETURN(
        int64_t updated,
        conn.Affected("UPDATE oauth_clients SET name = $1, description = $2, allowed_scopes = $3::jsonb, "
                      "allowed_grant_types = $4::jsonb, access_token_validity_seconds = $5, secret_hash = $6, "
                      "updated_at = $7, enabled = $8, tokens_valid_after = $9, tokens_valid_after_reason = $10, "
                      "redirect_uris = $11::jsonb, client_type = $12 WHERE id = $13",
                      c.name, c.description, EncodeStrings(c.allowed_scopes), EncodeStrings(c.allowed_grant_types),
                      c.access_token_validity_seconds, c.secret_hash, c.updated_at, c.enabled, c.tokens_valid_after,
                      c.tokens_valid_after_reason, EncodeStrings(c.redirect_uris), c.client_type, c.id));
    if (updated == 0) return ClientNotFound(c.id);
    VERBATIM_RETURN_IF_ERROR(ReplaceClientRoles(conn, c));
    return before ? pg::LogChange(conn, ClientChange(&*before, &c, *by)) : Status::Ok();
  });
}

Status PostgresStore::DeleteClient(const std::string& id, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<OAuthClient> before, LoadClient(conn, by, id));
    // client_roles, auth_codes and refresh_tokens cascade
    STORE_ASSIGN_OR_RETURN(int64_t deleted, conn.Affected("DELETE FROM oauth_clients WHERE id = $1", id));
    if (deleted == 0) return ClientNotFound(id);
    return before ? pg::LogChange(conn, ClientChange(&*before, nullptr, *by)) : Status::Ok();
  });
}

// ---------------------------------------------------------------- roles

// The unique name index decides a race between two creates (NameRace).
Status PostgresStore::CreateRole(const Role& r, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(bool exists, conn.Exists("SELECT 1 FROM roles WHERE id = $1", r.id));
    if (exists) return Status::AlreadyExists("role.exists", "Role '" + r.id + "' already exists.");
    VERBATIM_RETURN_IF_ERROR(CheckRoleNameFree(conn, r));
    Status s = conn.Exec(
        "INSERT INTO roles (id, name, description, permissions, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4::jsonb, $5, $6)",
        r.id, r.name, r.description, EncodeStrings(r.permissions), r.created_at, r.updated_at);
    if (!s.ok() && conn.last_sqlstate() == "23505" && conn.last_constraint() == "roles_pkey") {
      return Status::AlreadyExists("role.exists", "Role '" + r.id + "' already exists.");
    }
    VERBATIM_RETURN_IF_ERROR(NameRace(conn, s, r));
    return by != nullptr ? pg::LogChange(conn, RoleChange(nullptr, &r, *by)) : Status::Ok();
  });
}

Result<Role> PostgresStore::GetRole(const std::string& id) {
  Role out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kRoleSelect) + " WHERE id = $1", id));
    if (rows.empty()) return RoleNotFound(id);
    STORE_ASSIGN_OR_RETURN(out, ReadRole(rows[0]));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Role>> PostgresStore::ListRoles() {
  std::vector<Role> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kRoleSelect) + " ORDER BY lower(name COLLATE \"C\"), id"));
    return CollectRows(rows, out, ReadRole);
  }));
  return out;
}

Status PostgresStore::UpdateRole(const Role& r, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(bool exists, conn.Exists("SELECT 1 FROM roles WHERE id = $1 FOR UPDATE", r.id));
    if (!exists) return RoleNotFound(r.id);
    VERBATIM_RETURN_IF_ERROR(CheckRoleNameFree(conn, r));
    STORE_ASSIGN_OR_RETURN(std::optional<Role> before, LoadRole(conn, by, r.id));
    Status s = conn.Exec(
        "UPDATE roles SET name = $1, description = $2, permissions = $3::jsonb, updated_at = $4 WHERE id = $5", r.name,
        r.description, EncodeStrings(r.permissions), r.updated_at, r.id);
    VERBATIM_RETURN_IF_ERROR(NameRace(conn, s, r));
    return before ? pg::LogChange(conn, RoleChange(&*before, &r, *by)) : Status::Ok();
  });
}

Status PostgresStore::DeleteRole(const std::string& id, const ChangeAuthor* by) {
  const TimePoint now = clock_.Now();
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<Role> before, LoadRole(conn, by, id));
    STORE_ASSIGN_OR_RETURN(int64_t deleted, conn.Affected("DELETE FROM roles WHERE id = $1", id));
    if (deleted == 0) return RoleNotFound(id);
    if (before) {
      VERBATIM_RETURN_IF_ERROR(pg::LogChange(conn, RoleChange(&*before, nullptr, *by)));
      VERBATIM_RETURN_IF_ERROR(LogRoleUnassigned(conn, id, *by, now));
    }
    // The clients' role lists change, so their updated_at does too.
    VERBATIM_RETURN_IF_ERROR(conn.Exec(
        "UPDATE oauth_clients SET updated_at = $1 WHERE id IN (SELECT client_id FROM client_roles WHERE role_id = $2)",
        now, id));
    VERBATIM_RETURN_IF_ERROR(conn.Exec("DELETE FROM client_roles WHERE role_id = $1", id));
    // Users' likewise.
    VERBATIM_RETURN_IF_ERROR(conn.Exec(
        "UPDATE users SET updated_at = $1 WHERE id IN (SELECT user_id FROM user_roles WHERE role_id = $2)", now, id));
    VERBATIM_RETURN_IF_ERROR(conn.Exec("DELETE FROM user_roles WHERE role_id = $1", id));
    return conn.Exec("DELETE FROM integration_roles WHERE role_id = $1", id);
  });
}

// ---------------------------------------------------------------- signing keys

Status PostgresStore::InsertKey(const SigningKey& k) {
  return Write([&](Conn& conn) { return InsertKeyRow(conn, k); });
}

Result<std::vector<SigningKey>> PostgresStore::ListKeys() {
  std::vector<SigningKey> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows,
                           conn.Query("SELECT kid, alg, private_key_pem, public_jwk_json, created_at, "
                                      "retired_at, publish_until FROM signing_keys ORDER BY created_at, seq"));
    return CollectRows(rows, out, [](const Row& r) -> Result<SigningKey> {
      return SigningKey{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Time(4), r.OptTime(5), r.OptTime(6)};
    });
  }));
  return out;
}

// Two nodes rotating at once must not leave two active keys: the advisory
// lock orders them, and the second one's UPDATE (a new statement, so a new
// snapshot under READ COMMITTED) retires the key the first one inserted.
Status PostgresStore::RotateKeys(const SigningKey& next, TimePoint now, TimePoint publish_until) {
  return Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock($1)", pg::kKeyRotationLock));
    VERBATIM_RETURN_IF_ERROR(conn.Exec(
        "UPDATE signing_keys SET retired_at = $1, publish_until = $2 WHERE retired_at IS NULL", now, publish_until));
    return InsertKeyRow(conn, next);  // a failure here rolls the retirement back too
  });
}

// ---------------------------------------------------------------- revocation

Status PostgresStore::RevokeToken(const RevokedToken& t) {
  return Write([&](Conn& conn) {
    return conn.Exec(
        "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) "
        "ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(revoked_tokens.expires_at, excluded.expires_at)",
        t.jti, t.expires_at);
  });
}

Result<std::vector<RevokedToken>> PostgresStore::ListRevoked(TimePoint now) {
  std::vector<RevokedToken> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Query("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > $1 ORDER BY expires_at", now));
    return CollectRows(rows, out, [](const Row& r) -> Result<RevokedToken> {
      return RevokedToken{r.Text(0), r.Time(1)};
    });
  }));
  return out;
}

Status PostgresStore::PurgeRevoked(TimePoint now) {
  return Write([&](Conn& conn) { return conn.Exec("DELETE FROM revoked_tokens WHERE expires_at <= $1", now); });
}

// ---------------------------------------------------------------- AudioHook integrations

Status PostgresStore::CreateIntegration(const MediaIntegration& m, const ChangeAuthor* by) {
  const Status exists = Status::AlreadyExists("integration.exists", "Media integration '" + m.id + "' already exists.");
  const Status key_taken = Status::AlreadyExists("integration.exists", "A media integration with this API key exists.");
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(bool id_taken, conn.Exists("SELECT 1 FROM media_integrations WHERE id = $1", m.id));
    if (id_taken) return exists;
    STORE_ASSIGN_OR_RETURN(bool api_key_taken,
                           conn.Exists("SELECT 1 FROM media_integrations WHERE api_key = $1", m.api_key));
    if (api_key_taken) return key_taken;
    Status s = conn.Exec(
        "INSERT INTO media_integrations (id, name, api_key, secret_encrypted, created_at) VALUES ($1, $2, $3, $4, $5)",
        m.id, m.name, m.api_key, Bytea{m.secret_encrypted}, m.created_at);
    if (!s.ok() && conn.last_sqlstate() == "23505") {  // a concurrent create won the race
      return conn.last_constraint() == "media_integrations_pkey" ? exists : key_taken;
    }
    VERBATIM_RETURN_IF_ERROR(s);
    VERBATIM_RETURN_IF_ERROR(ReplaceIntegrationRoles(conn, m));
    return by != nullptr ? pg::LogChange(conn, IntegrationChange(nullptr, &m, *by)) : Status::Ok();
  });
}

Result<std::vector<MediaIntegration>> PostgresStore::ListIntegrations() {
  std::vector<MediaIntegration> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kIntegrationSelect) + " ORDER BY m.created_at, m.id"));
    return CollectRows(rows, out, ReadIntegration);
  }));
  return out;
}

Result<MediaIntegration> PostgresStore::GetIntegrationByApiKey(const std::string& api_key) {
  MediaIntegration out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kIntegrationSelect) + " WHERE m.api_key = $1", api_key));
    if (rows.empty()) return IntegrationNotFound();  // never echo a presented API key
    STORE_ASSIGN_OR_RETURN(out, ReadIntegration(rows[0]));
    return Status::Ok();
  }));
  return out;
}

Status PostgresStore::DeleteIntegration(const std::string& id, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<MediaIntegration> before, LoadIntegration(conn, by, id));
    STORE_ASSIGN_OR_RETURN(int64_t deleted, conn.Affected("DELETE FROM media_integrations WHERE id = $1", id));
    if (deleted == 0) return IntegrationNotFound();
    return before ? pg::LogChange(conn, IntegrationChange(&*before, nullptr, *by)) : Status::Ok();
  });
}

// ---------------------------------------------------------------- server secrets

Result<std::optional<std::string>> PostgresStore::GetSecret(const std::string& name) {
  std::optional<std::string> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT value FROM server_secrets WHERE name = $1", name));
    out.reset();
    if (!rows.empty()) out = rows[0].Bytes(0);
    return Status::Ok();
  }));
  return out;
}

Status PostgresStore::PutSecretIfAbsent(const std::string& name, const std::string& value) {
  return Write([&](Conn& conn) {
    return conn.Exec("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name,
                     Bytea{value});
  });
}

}  // namespace verbatim::store
