// Sign-in grants of the SQLite store (see store.h; issue 13): authorization
// codes and refresh tokens, kept by hash. Redeeming and rotating read and
// change a row in one write transaction (BEGIN IMMEDIATE takes the database's
// write lock before the read), so two processes redeeming one code, or
// rotating one token, run one after the other and only the first finds it
// unused. Codes and tokens go with their client and user by the foreign keys'
// cascades (foreign_keys=ON on every connection, sqlite_db.h).
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_errors.h"

namespace verbatim::store {

using sqlite::Db;
using sqlite::Stmt;

namespace {

constexpr char kCodeSelect[] =
    "SELECT code_hash, client_id, user_id, redirect_uri, scopes, code_challenge, family_id, auth_time, expires_at, "
    "used_at FROM auth_codes WHERE code_hash = ?";

Result<AuthorizationCode> ReadCode(const Stmt& st) {
  AuthorizationCode c;
  c.code_hash = st.Text(0);
  c.client_id = st.Text(1);
  c.user_id = st.Text(2);
  c.redirect_uri = st.Text(3);
  STORE_ASSIGN_OR_RETURN(c.scopes, sqlite::DecodeStrings(st.Text(4)));
  c.code_challenge = st.Text(5);
  c.family_id = st.Text(6);
  c.auth_time = st.Time(7);
  c.expires_at = st.Time(8);
  c.used_at = st.OptTime(9);
  return c;
}

constexpr char kRefreshSelect[] =
    "SELECT token_hash, family_id, client_id, user_id, scopes, auth_time, issued_at, expires_at, used_at, revoked_at "
    "FROM refresh_tokens WHERE token_hash = ?";

Result<RefreshToken> ReadRefresh(const Stmt& st) {
  RefreshToken t;
  t.token_hash = st.Text(0);
  t.family_id = st.Text(1);
  t.client_id = st.Text(2);
  t.user_id = st.Text(3);
  STORE_ASSIGN_OR_RETURN(t.scopes, sqlite::DecodeStrings(st.Text(4)));
  t.auth_time = st.Time(5);
  t.issued_at = st.Time(6);
  t.expires_at = st.Time(7);
  t.used_at = st.OptTime(8);
  t.revoked_at = st.OptTime(9);
  return t;
}

// The stored token, or RefreshNotFound.
Result<RefreshToken> LoadRefresh(Db& db, const std::string& token_hash) {
  Stmt st = db.Query(kRefreshSelect, token_hash);
  STORE_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return RefreshNotFound();
  return ReadRefresh(st);
}

Status InsertRefreshRow(Db& db, const RefreshToken& t) {
  return db.Exec(
      "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scopes, auth_time, issued_at, "
      "expires_at, used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      t.token_hash, t.family_id, t.client_id, t.user_id, sqlite::EncodeStrings(t.scopes), t.auth_time, t.issued_at,
      t.expires_at, t.used_at, t.revoked_at);
}

// A grant outlives neither its client nor its user (the cascades): one for a
// client or user deleted meanwhile is refused as not found, before the foreign
// key would refuse it as an internal error.
Status GrantOwnersExist(Db& db, const std::string& client_id, const std::string& user_id) {
  {
    Stmt st = db.Query("SELECT 1 FROM oauth_clients WHERE id = ?", client_id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return ClientNotFound(client_id);
  }
  Stmt st = db.Query("SELECT 1 FROM users WHERE id = ?", user_id);
  STORE_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? Status::Ok() : UserNotFound(user_id);
}

}  // namespace

Status SqliteStore::InsertAuthorizationCode(const AuthorizationCode& c) {
  return Write([&](Db& db) {
    VERBATIM_RETURN_IF_ERROR(GrantOwnersExist(db, c.client_id, c.user_id));
    return db.Exec(
        "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, scopes, code_challenge, family_id, "
        "auth_time, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        c.code_hash, c.client_id, c.user_id, c.redirect_uri, sqlite::EncodeStrings(c.scopes), c.code_challenge,
        c.family_id, c.auth_time, c.expires_at, c.used_at);
  });
}

Result<AuthorizationCode> SqliteStore::RedeemAuthorizationCode(const std::string& code_hash, TimePoint now) {
  AuthorizationCode out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    {
      Stmt st = db.Query(kCodeSelect, code_hash);
      STORE_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return CodeNotFound();
      STORE_ASSIGN_OR_RETURN(out, ReadCode(st));
    }
    if (out.used_at) return Status::Ok();  // a replay: returned as stored, nothing changes
    return db.Exec("UPDATE auth_codes SET used_at = ? WHERE code_hash = ?", now, code_hash);
  }));
  return out;
}

Status SqliteStore::InsertRefreshToken(const RefreshToken& t) {
  return Write([&](Db& db) {
    VERBATIM_RETURN_IF_ERROR(GrantOwnersExist(db, t.client_id, t.user_id));
    return InsertRefreshRow(db, t);
  });
}

Result<RefreshToken> SqliteStore::GetRefreshToken(const std::string& token_hash) {
  RefreshToken out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(out, LoadRefresh(db, token_hash));
    return Status::Ok();
  }));
  return out;
}

Result<RefreshToken> SqliteStore::RotateRefreshToken(const std::string& old_hash, const RefreshToken& next,
                                                     TimePoint now) {
  RefreshToken out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(out, LoadRefresh(db, old_hash));
    if (out.used_at || out.revoked_at) return Status::Ok();  // reuse or revoked: the caller decides, nothing changes
    VERBATIM_RETURN_IF_ERROR(db.Exec("UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", now, old_hash));
    return InsertRefreshRow(db, next);  // a failure here rolls the retirement back too
  }));
  return out;
}

// Only rows not yet revoked: the first revocation's time is kept.
Status SqliteStore::RevokeRefreshFamily(const std::string& family_id, TimePoint now) {
  return Write([&](Db& db) {
    return db.Exec("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL", now,
                   family_id);
  });
}

Status SqliteStore::PurgeExpiredGrants(TimePoint now) {
  return Write([&](Db& db) -> Status {
    VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM auth_codes WHERE expires_at < ?", now));
    return db.Exec("DELETE FROM refresh_tokens WHERE expires_at < ?", now);
  });
}

}  // namespace verbatim::store
