#include "store/sqlite/sqlite_store.h"

#include <utility>

#include "core/ids.h"
#include "store/change_diff.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/rows.h"
#include "store/store_errors.h"

namespace verbatim::store {

using sqlite::Db;
using sqlite::ReplaceRoleIds;
using sqlite::Stmt;

namespace {

constexpr char kClientRolesSql[] = "SELECT role_id FROM client_roles WHERE client_id = ? ORDER BY position";
constexpr char kIntegrationRolesSql[] =
    "SELECT role_id FROM integration_roles WHERE integration_id = ? ORDER BY position";

// The single organization and its settings, created by the first open.
Result<std::string> EnsureOrganization(Db& db, const Clock& clock) {
  std::string org_id;
  VERBATIM_RETURN_IF_ERROR(db.Transaction(sqlite::TxnKind::kWrite, [&](Db& db) -> Status {
    Stmt st = db.Query("SELECT id FROM organizations ORDER BY rowid LIMIT 1");
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      org_id = st.Text(0);
      return Status::Ok();
    }
    org_id = NewUuid();
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("INSERT INTO organizations (id, name, created_at) VALUES (?, 'default', ?)", org_id, clock.Now()));
    const OrgSettings defaults;
    return db.Exec("INSERT INTO org_settings (org_id, auto_start, pause_behavior, retention_days) VALUES (?, ?, ?, ?)",
                   org_id, defaults.auto_start, defaults.pause_behavior, defaults.retention_days);
  }));
  return org_id;
}

Status ReplaceClientRoles(Db& db, const OAuthClient& c) {
  return ReplaceRoleIds(db, "DELETE FROM client_roles WHERE client_id = ?",
                        "INSERT INTO client_roles (client_id, position, role_id) VALUES (?, ?, ?)", c.id, c.role_ids);
}

constexpr char kClientSelect[] =
    "SELECT id, name, description, allowed_scopes, allowed_grant_types, access_token_validity_seconds, "
    "secret_hash, created_at, updated_at, enabled, tokens_valid_after, tokens_valid_after_reason, redirect_uris, "
    "client_type FROM oauth_clients";

Result<OAuthClient> ReadClient(Db& db, const Stmt& st) {
  OAuthClient c;
  c.id = st.Text(0);
  c.name = st.Text(1);
  c.description = st.Text(2);
  STORE_ASSIGN_OR_RETURN(c.allowed_scopes, sqlite::DecodeStrings(st.Text(3)));
  STORE_ASSIGN_OR_RETURN(c.allowed_grant_types, sqlite::DecodeStrings(st.Text(4)));
  c.access_token_validity_seconds = static_cast<int>(st.Int(5));
  c.secret_hash = st.Text(6);
  c.created_at = st.Time(7);
  c.updated_at = st.Time(8);
  c.enabled = st.Int(9) != 0;
  c.tokens_valid_after = st.OptTime(10);
  c.tokens_valid_after_reason = st.Text(11);
  STORE_ASSIGN_OR_RETURN(c.redirect_uris, sqlite::DecodeStrings(st.Text(12)));
  c.client_type = st.Text(13);
  STORE_ASSIGN_OR_RETURN(c.role_ids, sqlite::LoadRoleIds(db, kClientRolesSql, c.id));
  return c;
}

constexpr char kRoleSelect[] = "SELECT id, name, description, permissions, created_at, updated_at FROM roles";

Result<Role> ReadRole(const Stmt& st) {
  Role r;
  r.id = st.Text(0);
  r.name = st.Text(1);
  r.description = st.Text(2);
  STORE_ASSIGN_OR_RETURN(r.permissions, sqlite::DecodeStrings(st.Text(3)));
  r.created_at = st.Time(4);
  r.updated_at = st.Time(5);
  return r;
}

// Role names are unique case-insensitively (ASCII folding, SQLite NOCASE).
Status CheckRoleNameFree(Db& db, const Role& r) {
  STORE_ASSIGN_OR_RETURN(bool taken,
                         db.Exists("SELECT 1 FROM roles WHERE name = ? COLLATE NOCASE AND id <> ?", r.name, r.id));
  if (taken) return RoleNameTaken(r.name);
  return Status::Ok();
}

constexpr char kIntegrationSelect[] = "SELECT id, name, api_key, secret_encrypted, created_at FROM media_integrations";

Result<MediaIntegration> ReadIntegration(Db& db, const Stmt& st) {
  MediaIntegration m;
  m.id = st.Text(0);
  m.name = st.Text(1);
  m.api_key = st.Text(2);
  m.secret_encrypted = st.Bytes(3);
  m.created_at = st.Time(4);
  STORE_ASSIGN_OR_RETURN(m.role_ids, sqlite::LoadRoleIds(db, kIntegrationRolesSql, m.id));
  return m;
}

// The records as a write's transaction sees them, when the write is logged (`by` set).
Result<std::optional<OAuthClient>> LoadClient(Db& db, const ChangeAuthor* by, const std::string& id) {
  if (by == nullptr) return std::optional<OAuthClient>();
  return sqlite::LoadOne<OAuthClient>(db, std::string(kClientSelect) + " WHERE id = ?", id,
                                      [&](const Stmt& st) { return ReadClient(db, st); });
}
Result<std::optional<Role>> LoadRole(Db& db, const ChangeAuthor* by, const std::string& id) {
  if (by == nullptr) return std::optional<Role>();
  return sqlite::LoadOne<Role>(db, std::string(kRoleSelect) + " WHERE id = ?", id, ReadRole);
}
Result<std::optional<MediaIntegration>> LoadIntegration(Db& db, const ChangeAuthor* by, const std::string& id) {
  if (by == nullptr) return std::optional<MediaIntegration>();
  return sqlite::LoadOne<MediaIntegration>(db, std::string(kIntegrationSelect) + " WHERE id = ?", id,
                                           [&](const Stmt& st) { return ReadIntegration(db, st); });
}

Result<OrgSettings> ReadSettings(Db& db, const std::string& org_id) {
  Stmt st = db.Query("SELECT auto_start, pause_behavior, retention_days FROM org_settings WHERE org_id = ?", org_id);
  STORE_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal("store: the settings row is missing");
  OrgSettings s;
  s.auto_start = st.Int(0) != 0;
  s.pause_behavior = st.Text(1);
  s.retention_days = static_cast<int>(st.Int(2));
  return s;
}

Status InsertKeyRow(Db& db, const SigningKey& k) {
  STORE_ASSIGN_OR_RETURN(bool exists, db.Exists("SELECT 1 FROM signing_keys WHERE kid = ?", k.kid));
  if (exists) return KeyExists(k.kid);
  return db.Exec(
      "INSERT INTO signing_keys (kid, alg, private_key_pem, public_jwk_json, created_at, retired_at, publish_until) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      k.kid, k.alg, k.private_key_sealed, k.public_jwk_json, k.created_at, k.retired_at, k.publish_until);
}

// Collects every row of `st` through `read` (a Result-returning row reader).
template <class T, class ReadRow>
Status CollectRows(Stmt& st, std::vector<T>& out, ReadRow read) {
  for (;;) {
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    STORE_ASSIGN_OR_RETURN(T item, read(st));
    out.push_back(std::move(item));
  }
}

// Deleting a role takes it from every client and user that had it: each of
// them gets its own entry, so a client's history shows what it lost.
Status LogRoleUnassigned(Db& db, const std::string& role_id, const ChangeAuthor& by, TimePoint now) {
  std::vector<std::string> clients, users;
  Stmt cs = db.Query("SELECT DISTINCT client_id FROM client_roles WHERE role_id = ?", role_id);
  VERBATIM_RETURN_IF_ERROR(CollectRows(cs, clients, [](const Stmt& st) -> Result<std::string> { return st.Text(0); }));
  Stmt us = db.Query("SELECT DISTINCT user_id FROM user_roles WHERE role_id = ?", role_id);
  VERBATIM_RETURN_IF_ERROR(CollectRows(us, users, [](const Stmt& st) -> Result<std::string> { return st.Text(0); }));
  auto without_role = [&](auto record) {
    std::erase(record.role_ids, role_id);
    record.updated_at = now;
    return record;
  };
  for (const auto& id : clients) {
    STORE_ASSIGN_OR_RETURN(std::optional<OAuthClient> c, LoadClient(db, &by, id));
    if (!c) continue;
    const OAuthClient after = without_role(*c);
    VERBATIM_RETURN_IF_ERROR(sqlite::LogChange(db, ClientChange(&*c, &after, by)));
  }
  for (const auto& id : users) {
    STORE_ASSIGN_OR_RETURN(std::optional<User> u, sqlite::LoadUserForChange(db, id));
    if (!u) continue;
    const User after = without_role(*u);
    VERBATIM_RETURN_IF_ERROR(sqlite::LogChange(db, UserChange(&*u, &after, by)));
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------- lifecycle

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& opts, const Clock& clock) {
  InitRandom();
  if (opts.path.empty()) return Status::InvalidArgument("bad.request", "The SQLite store needs a database path.");
  sqlite::ConnOptions conn{/*read_only=*/false, opts.sync, opts.busy_timeout_ms};
  STORE_ASSIGN_OR_RETURN(auto writer, Db::Open(opts.path, conn));
  VERBATIM_RETURN_IF_ERROR(sqlite::Migrate(*writer));
  STORE_ASSIGN_OR_RETURN(std::string org_id, EnsureOrganization(*writer, clock));

  STORE_ASSIGN_OR_RETURN(auto checkpointer, sqlite::Checkpointer::Start(opts.path, conn, *writer));

  // Readers open after the writer has made the file WAL and migrated it.
  conn.read_only = true;
  std::vector<std::unique_ptr<Db>> readers;
  for (int i = 0; i < kReaderConnections; ++i) {
    STORE_ASSIGN_OR_RETURN(auto reader, Db::Open(opts.path, conn));
    readers.push_back(std::move(reader));
  }
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(clock, std::move(org_id), std::move(writer), std::move(checkpointer), std::move(readers)));
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& opts, const Clock& clock) {
  auto store = SqliteStore::Open(opts, clock);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(store).value());
}

SqliteStore::SqliteStore(const Clock& clock, std::string org_id, std::unique_ptr<Db> writer,
                         std::unique_ptr<sqlite::Checkpointer> checkpointer, std::vector<std::unique_ptr<Db>> readers)
    : clock_(clock),
      org_id_(std::move(org_id)),
      writer_(std::move(writer)),
      checkpointer_(std::move(checkpointer)),
      idle_readers_(std::move(readers)) {}

// Members go in reverse order: readers close first, then the checkpointer, the
// writer last (the last connection checkpoints the WAL into the main file).
SqliteStore::~SqliteStore() = default;

struct SqliteStore::QueuedWrite {
  const Body* body;
  Status status;
  bool done = false;
  std::condition_variable cv;
};

Status SqliteStore::Write(const Body& body) {
  constexpr size_t kMaxGroup = 64;
  QueuedWrite w{&body};
  MutexLock lock(queue_mu_);
  write_queue_.push_back(&w);
  w.cv.wait(lock.native(), [&] { queue_mu_.AssertHeld(); return w.done || write_queue_.front() == &w; });
  if (w.done) return w.status;  // a leader committed it for us

  // Leader: everyone queued now commits in one transaction. Nobody returns
  // before the COMMIT that contains its write.
  std::vector<QueuedWrite*> group(write_queue_.begin(),
                                  write_queue_.begin() + static_cast<long>(std::min(kMaxGroup, write_queue_.size())));
  lock.Unlock();
  {
    MutexLock wl(write_mu_);
    if (group.size() == 1) {
      w.status = writer_->Transaction(sqlite::TxnKind::kWrite, body);
    } else {
      std::vector<const Body*> bodies;
      for (auto* q : group) bodies.push_back(q->body);
      std::vector<Status> out;
      writer_->GroupTransaction(bodies, out);
      for (size_t i = 0; i < group.size(); ++i) group[i]->status = out[i];
    }
  }
  lock.Lock();
  for (auto* q : group) {
    write_queue_.pop_front();
    q->done = true;
    if (q != &w) q->cv.notify_one();
  }
  if (!write_queue_.empty()) write_queue_.front()->cv.notify_one();  // the next leader
  return w.status;
}

Status SqliteStore::Read(const Body& body) {
  std::unique_ptr<Db> db;
  {
    MutexLock lock(reader_mu_);
    reader_free_.wait(lock.native(), [&] { reader_mu_.AssertHeld(); return !idle_readers_.empty(); });
    db = std::move(idle_readers_.back());
    idle_readers_.pop_back();
  }
  struct GiveBack {  // also on exceptions (bad_alloc), so the pool never shrinks
    SqliteStore* self;
    std::unique_ptr<Db>& db;
    ~GiveBack() {
      {
        MutexLock lock(self->reader_mu_);
        self->idle_readers_.push_back(std::move(db));
      }
      self->reader_free_.notify_one();
    }
  } give_back{this, db};
  return db->Transaction(sqlite::TxnKind::kRead, body);
}

Result<std::string> SqliteStore::WriterPragma(std::string_view name) {
  static constexpr std::string_view kAllowed[] = {"journal_mode", "synchronous", "foreign_keys", "busy_timeout",
                                                  "user_version"};
  bool allowed = false;
  for (auto a : kAllowed) allowed = allowed || a == name;
  if (!allowed) return Status::InvalidArgument("bad.request", "Unsupported pragma.");
  MutexLock lock(write_mu_);
  Stmt st = writer_->Prepare("PRAGMA " + std::string(name));
  STORE_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal("sqlite: PRAGMA returned no row");
  return st.Text(0);
}

// ---------------------------------------------------------------- organization

Result<Organization> SqliteStore::GetOrganization() {
  Organization org;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query("SELECT id, name, created_at FROM organizations WHERE id = ?", org_id_);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Internal("store: the organization row is missing");
    org = Organization{st.Text(0), st.Text(1), st.Time(2)};
    return Status::Ok();
  }));
  return org;
}

Result<OrgSettings> SqliteStore::GetSettings() {
  OrgSettings s;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(s, ReadSettings(db, org_id_));
    return Status::Ok();
  }));
  return s;
}

Status SqliteStore::PutSettings(const OrgSettings& s, const ChangeAuthor* by) {
  if (s.pause_behavior != "silence" && s.pause_behavior != "skip") {
    return Status::InvalidArgument("bad.request", "Field 'pauseBehavior' must be 'silence' or 'skip'.");
  }
  if (s.retention_days < 0) return Status::InvalidArgument("bad.request", "Field 'retentionDays' must be >= 0.");
  return Write([&](Db& db) -> Status {
    std::optional<OrgSettings> before;
    if (by != nullptr) {
      STORE_ASSIGN_OR_RETURN(before, ReadSettings(db, org_id_));
    }
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("UPDATE org_settings SET auto_start = ?, pause_behavior = ?, retention_days = ? WHERE org_id = ?",
                s.auto_start, s.pause_behavior, s.retention_days, org_id_));
    return before ? sqlite::LogChange(db, SettingsChange(*before, s, *by)) : Status::Ok();
  });
}

// ---------------------------------------------------------------- OAuth clients

Status SqliteStore::CreateClient(const OAuthClient& c, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(bool exists, db.Exists("SELECT 1 FROM oauth_clients WHERE id = ?", c.id));
    if (exists) return Status::AlreadyExists("client.exists", "OAuth client '" + c.id + "' already exists.");
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "INSERT INTO oauth_clients (id, name, description, allowed_scopes, allowed_grant_types, "
        "access_token_validity_seconds, secret_hash, created_at, updated_at, enabled, tokens_valid_after, "
        "tokens_valid_after_reason, redirect_uris, client_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        c.id, c.name, c.description, sqlite::EncodeStrings(c.allowed_scopes),
        sqlite::EncodeStrings(c.allowed_grant_types), c.access_token_validity_seconds, c.secret_hash, c.created_at,
        c.updated_at, c.enabled, c.tokens_valid_after, c.tokens_valid_after_reason,
        sqlite::EncodeStrings(c.redirect_uris), c.client_type));
    VERBATIM_RETURN_IF_ERROR(ReplaceClientRoles(db, c));
    return by != nullptr ? sqlite::LogChange(db, ClientChange(nullptr, &c, *by)) : Status::Ok();
  });
}

Result<OAuthClient> SqliteStore::GetClient(const std::string& id) {
  OAuthClient out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query(std::string(kClientSelect) + " WHERE id = ?", id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return ClientNotFound(id);
    STORE_ASSIGN_OR_RETURN(out, ReadClient(db, st));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<OAuthClient>> SqliteStore::ListClients() {
  std::vector<OAuthClient> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) {
    Stmt st = db.Query(std::string(kClientSelect) + " ORDER BY created_at, id");
    return CollectRows(st, out, [&](const Stmt& s) { return ReadClient(db, s); });
  }));
  return out;
}

Status SqliteStore::UpdateClient(const OAuthClient& c, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<OAuthClient> before, LoadClient(db, by, c.id));
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "UPDATE oauth_clients SET name = ?, description = ?, allowed_scopes = ?, allowed_grant_types = ?, "
        "access_token_validity_seconds = ?, secret_hash = ?, updated_at = ?, enabled = ?, tokens_valid_after = ?, "
        "tokens_valid_after_reason = ?, redirect_uris = ?, client_type = ? WHERE id = ?",
        c.name, c.description, sqlite::EncodeStrings(c.allowed_scopes), sqlite::EncodeStrings(c.allowed_grant_types),
        c.access_token_validity_seconds, c.secret_hash, c.updated_at, c.enabled, c.tokens_valid_after,
        c.tokens_valid_after_reason, sqlite::EncodeStrings(c.redirect_uris), c.client_type, c.id));
    if (db.Changes() == 0) return ClientNotFound(c.id);
    VERBATIM_RETURN_IF_ERROR(ReplaceClientRoles(db, c));
    return before ? sqlite::LogChange(db, ClientChange(&*before, &c, *by)) : Status::Ok();
  });
}

Status SqliteStore::DeleteClient(const std::string& id, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<OAuthClient> before, LoadClient(db, by, id));
    // client_roles, auth_codes and refresh_tokens cascade
    VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM oauth_clients WHERE id = ?", id));
    if (db.Changes() == 0) return ClientNotFound(id);
    return before ? sqlite::LogChange(db, ClientChange(&*before, nullptr, *by)) : Status::Ok();
  });
}

// ---------------------------------------------------------------- roles

Status SqliteStore::CreateRole(const Role& r, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(bool exists, db.Exists("SELECT 1 FROM roles WHERE id = ?", r.id));
    if (exists) return Status::AlreadyExists("role.exists", "Role '" + r.id + "' already exists.");
    VERBATIM_RETURN_IF_ERROR(CheckRoleNameFree(db, r));
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "INSERT INTO roles (id, name, description, permissions, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        r.id, r.name, r.description, sqlite::EncodeStrings(r.permissions), r.created_at, r.updated_at));
    return by != nullptr ? sqlite::LogChange(db, RoleChange(nullptr, &r, *by)) : Status::Ok();
  });
}

Result<Role> SqliteStore::GetRole(const std::string& id) {
  Role out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query(std::string(kRoleSelect) + " WHERE id = ?", id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return RoleNotFound(id);
    STORE_ASSIGN_OR_RETURN(out, ReadRole(st));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Role>> SqliteStore::ListRoles() {
  std::vector<Role> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) {
    Stmt st = db.Query(std::string(kRoleSelect) + " ORDER BY name COLLATE NOCASE, id");
    return CollectRows(st, out, ReadRole);
  }));
  return out;
}

Status SqliteStore::UpdateRole(const Role& r, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(bool exists, db.Exists("SELECT 1 FROM roles WHERE id = ?", r.id));
    if (!exists) return RoleNotFound(r.id);
    VERBATIM_RETURN_IF_ERROR(CheckRoleNameFree(db, r));
    STORE_ASSIGN_OR_RETURN(std::optional<Role> before, LoadRole(db, by, r.id));
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("UPDATE roles SET name = ?, description = ?, permissions = ?, updated_at = ? WHERE id = ?", r.name,
                r.description, sqlite::EncodeStrings(r.permissions), r.updated_at, r.id));
    return before ? sqlite::LogChange(db, RoleChange(&*before, &r, *by)) : Status::Ok();
  });
}

Status SqliteStore::DeleteRole(const std::string& id, const ChangeAuthor* by) {
  const TimePoint now = clock_.Now();
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<Role> before, LoadRole(db, by, id));
    VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM roles WHERE id = ?", id));
    if (db.Changes() == 0) return RoleNotFound(id);
    if (before) {
      VERBATIM_RETURN_IF_ERROR(sqlite::LogChange(db, RoleChange(&*before, nullptr, *by)));
      VERBATIM_RETURN_IF_ERROR(LogRoleUnassigned(db, id, *by, now));
    }
    // The clients' role lists change, so their updated_at does too.
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "UPDATE oauth_clients SET updated_at = ? WHERE id IN (SELECT client_id FROM client_roles WHERE role_id = ?)",
        now, id));
    VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM client_roles WHERE role_id = ?", id));
    // Users' likewise.
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "UPDATE users SET updated_at = ? WHERE id IN (SELECT user_id FROM user_roles WHERE role_id = ?)", now, id));
    VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM user_roles WHERE role_id = ?", id));
    return db.Exec("DELETE FROM integration_roles WHERE role_id = ?", id);
  });
}

// ---------------------------------------------------------------- signing keys

Status SqliteStore::InsertKey(const SigningKey& k) {
  return Write([&](Db& db) { return InsertKeyRow(db, k); });
}

Result<std::vector<SigningKey>> SqliteStore::ListKeys() {
  std::vector<SigningKey> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) {
    Stmt st = db.Query(
        "SELECT kid, alg, private_key_pem, public_jwk_json, created_at, retired_at, publish_until "
        "FROM signing_keys ORDER BY created_at, rowid");
    return CollectRows(st, out, [](const Stmt& s) -> Result<SigningKey> {
      return SigningKey{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Time(4), s.OptTime(5), s.OptTime(6)};
    });
  }));
  return out;
}

Status SqliteStore::RotateKeys(const SigningKey& next, TimePoint now, TimePoint publish_until) {
  return Write([&](Db& db) -> Status {
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "UPDATE signing_keys SET retired_at = ?, publish_until = ? WHERE retired_at IS NULL", now, publish_until));
    return InsertKeyRow(db, next);  // a failure here rolls the retirement back too
  });
}

// ---------------------------------------------------------------- revocation

Status SqliteStore::RevokeToken(const RevokedToken& t) {
  return Write([&](Db& db) {
    return db.Exec(
        "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) "
        "ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
        t.jti, t.expires_at);
  });
}

Result<std::vector<RevokedToken>> SqliteStore::ListRevoked(TimePoint now) {
  std::vector<RevokedToken> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) {
    Stmt st = db.Query("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > ? ORDER BY expires_at", now);
    return CollectRows(st, out, [](const Stmt& s) -> Result<RevokedToken> {
      return RevokedToken{s.Text(0), s.Time(1)};
    });
  }));
  return out;
}

Status SqliteStore::PurgeRevoked(TimePoint now) {
  return Write([&](Db& db) { return db.Exec("DELETE FROM revoked_tokens WHERE expires_at <= ?", now); });
}

// ---------------------------------------------------------------- AudioHook integrations

Status SqliteStore::CreateIntegration(const MediaIntegration& m, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(bool exists, db.Exists("SELECT 1 FROM media_integrations WHERE id = ?", m.id));
    if (exists) return Status::AlreadyExists("integration.exists", "Media integration '" + m.id + "' already exists.");
    STORE_ASSIGN_OR_RETURN(bool key_taken, db.Exists("SELECT 1 FROM media_integrations WHERE api_key = ?", m.api_key));
    if (key_taken) return Status::AlreadyExists("integration.exists", "A media integration with this API key exists.");
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "INSERT INTO media_integrations (id, name, api_key, secret_encrypted, created_at) VALUES (?, ?, ?, ?, ?)", m.id,
        m.name, m.api_key, sqlite::Blob{m.secret_encrypted}, m.created_at));
    VERBATIM_RETURN_IF_ERROR(ReplaceRoleIds(db, "DELETE FROM integration_roles WHERE integration_id = ?",
                                            "INSERT INTO integration_roles (integration_id, position, role_id) "
                                            "VALUES (?, ?, ?)",
                                            m.id, m.role_ids));
    return by != nullptr ? sqlite::LogChange(db, IntegrationChange(nullptr, &m, *by)) : Status::Ok();
  });
}

Result<std::vector<MediaIntegration>> SqliteStore::ListIntegrations() {
  std::vector<MediaIntegration> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) {
    Stmt st = db.Query(std::string(kIntegrationSelect) + " ORDER BY created_at, id");
    return CollectRows(st, out, [&](const Stmt& s) { return ReadIntegration(db, s); });
  }));
  return out;
}

Result<MediaIntegration> SqliteStore::GetIntegrationByApiKey(const std::string& api_key) {
  MediaIntegration out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query(std::string(kIntegrationSelect) + " WHERE api_key = ?", api_key);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return IntegrationNotFound();  // never echo a presented API key
    STORE_ASSIGN_OR_RETURN(out, ReadIntegration(db, st));
    return Status::Ok();
  }));
  return out;
}

Status SqliteStore::DeleteIntegration(const std::string& id, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<MediaIntegration> before, LoadIntegration(db, by, id));
    VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM media_integrations WHERE id = ?", id));
    if (db.Changes() == 0) return IntegrationNotFound();
    return before ? sqlite::LogChange(db, IntegrationChange(&*before, nullptr, *by)) : Status::Ok();
  });
}

// ---------------------------------------------------------------- server secrets

Result<std::optional<std::string>> SqliteStore::GetSecret(const std::string& name) {
  std::optional<std::string> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query("SELECT value FROM server_secrets WHERE name = ?", name);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) out = st.Bytes(0);
    return Status::Ok();
  }));
  return out;
}

Status SqliteStore::PutSecretIfAbsent(const std::string& name, const std::string& value) {
  return Write([&](Db& db) {
    return db.Exec("INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name,
                   sqlite::Blob{value});
  });
}

}  // namespace verbatim::store
