// Sign-in grants of the PostgreSQL store (see store.h; issue 13):
// authorization codes and refresh tokens, kept by hash. Codes and tokens go
// with their client and user by the foreign keys' cascades.
//
// Locks, so that several nodes agree:
//   - redeeming locks the code's row (SELECT … FOR UPDATE): a second
//     redemption waits, then reads the committed row with used_at set;
//   - rotating and revoking hold the family's advisory lock
//     (kRefreshFamilyLockSpace). A row lock on the old token alone is not
//     enough: a revocation whose UPDATE began before a rotation committed
//     would not see the token that rotation inserted (READ COMMITTED takes
//     the snapshot when the statement starts), and that token would outlive
//     its family. Under the family lock each runs after the other has
//     committed, on a snapshot that sees it.
#include "store/postgres/pg_migrations.h"
#include "store/postgres/postgres_store.h"
#include "store/row_codec.h"
#include "store/store_errors.h"

namespace verbatim::store {

using pg::Conn;
using pg::Row;
using pg::Rows;

namespace {

constexpr char kCodeSelect[] =
    "SELECT code_hash, client_id, user_id, redirect_uri, scopes::text, code_challenge, family_id, auth_time, "
    "expires_at, used_at FROM auth_codes WHERE code_hash = $1";

Result<AuthorizationCode> ReadCode(const Row& row) {
  AuthorizationCode c;
  c.code_hash = row.Text(0);
  c.client_id = row.Text(1);
  c.user_id = row.Text(2);
  c.redirect_uri = row.Text(3);
  STORE_ASSIGN_OR_RETURN(c.scopes, DecodeStrings(row.Text(4)));
  c.code_challenge = row.Text(5);
  c.family_id = row.Text(6);
  c.auth_time = row.Time(7);
  c.expires_at = row.Time(8);
  c.used_at = row.OptTime(9);
  return c;
}

constexpr char kRefreshSelect[] =
    "SELECT token_hash, family_id, client_id, user_id, scopes::text, auth_time, issued_at, expires_at, used_at, "
    "revoked_at FROM refresh_tokens WHERE token_hash = $1";

Result<RefreshToken> ReadRefresh(const Row& row) {
  RefreshToken t;
  t.token_hash = row.Text(0);
  t.family_id = row.Text(1);
  t.client_id = row.Text(2);
  t.user_id = row.Text(3);
  STORE_ASSIGN_OR_RETURN(t.scopes, DecodeStrings(row.Text(4)));
  t.auth_time = row.Time(5);
  t.issued_at = row.Time(6);
  t.expires_at = row.Time(7);
  t.used_at = row.OptTime(8);
  t.revoked_at = row.OptTime(9);
  return t;
}

// The stored token (`suffix` may lock it), or RefreshNotFound.
Result<RefreshToken> LoadRefresh(Conn& conn, const std::string& token_hash, std::string_view suffix = "") {
  STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kRefreshSelect) + std::string(suffix), token_hash));
  if (rows.empty()) return RefreshNotFound();
  return ReadRefresh(rows[0]);
}

Status LockFamily(Conn& conn, const std::string& family_id) {
  return conn.Exec("SELECT pg_advisory_xact_lock($1::int4, hashtext($2))", pg::kRefreshFamilyLockSpace, family_id);
}

Status InsertRefreshRow(Conn& conn, const RefreshToken& t) {
  return conn.Exec(
      "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scopes, auth_time, issued_at, "
      "expires_at, used_at, revoked_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10)",
      t.token_hash, t.family_id, t.client_id, t.user_id, EncodeStrings(t.scopes), t.auth_time, t.issued_at,
      t.expires_at, t.used_at, t.revoked_at);
}

// A grant outlives neither its client nor its user (the cascades): one for a
// client or user deleted meanwhile is refused as not found. FOR KEY SHARE
// holds off a concurrent delete until this transaction ends.
Status GrantOwnersExist(Conn& conn, const std::string& client_id, const std::string& user_id) {
  STORE_ASSIGN_OR_RETURN(bool client, conn.Exists("SELECT 1 FROM oauth_clients WHERE id = $1 FOR KEY SHARE", client_id));
  if (!client) return ClientNotFound(client_id);
  STORE_ASSIGN_OR_RETURN(bool user, conn.Exists("SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE", user_id));
  return user ? Status::Ok() : UserNotFound(user_id);
}

}  // namespace

Status PostgresStore::InsertAuthorizationCode(const AuthorizationCode& c) {
  return Write([&](Conn& conn) {
    VERBATIM_RETURN_IF_ERROR(GrantOwnersExist(conn, c.client_id, c.user_id));
    return conn.Exec(
        "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, scopes, code_challenge, family_id, "
        "auth_time, expires_at, used_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10)",
        c.code_hash, c.client_id, c.user_id, c.redirect_uri, EncodeStrings(c.scopes), c.code_challenge, c.family_id,
        c.auth_time, c.expires_at, c.used_at);
  });
}

Result<AuthorizationCode> PostgresStore::RedeemAuthorizationCode(const std::string& code_hash, TimePoint now) {
  AuthorizationCode out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kCodeSelect) + " FOR UPDATE", code_hash));
    if (rows.empty()) return CodeNotFound();
    STORE_ASSIGN_OR_RETURN(out, ReadCode(rows[0]));
    if (out.used_at) return Status::Ok();  // a replay: returned as stored, nothing changes
    return conn.Exec("UPDATE auth_codes SET used_at = $1 WHERE code_hash = $2", now, code_hash);
  }));
  return out;
}

Status PostgresStore::InsertRefreshToken(const RefreshToken& t) {
  return Write([&](Conn& conn) {
    VERBATIM_RETURN_IF_ERROR(GrantOwnersExist(conn, t.client_id, t.user_id));
    return InsertRefreshRow(conn, t);
  });
}

Result<RefreshToken> PostgresStore::GetRefreshToken(const std::string& token_hash) {
  RefreshToken out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(out, LoadRefresh(conn, token_hash));
    return Status::Ok();
  }));
  return out;
}

// The first read only finds the family to lock; the second, under that lock
// (a new statement: a new snapshot), is the one that decides.
Result<RefreshToken> PostgresStore::RotateRefreshToken(const std::string& old_hash, const RefreshToken& next,
                                                       TimePoint now) {
  RefreshToken out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(RefreshToken found, LoadRefresh(conn, old_hash));
    VERBATIM_RETURN_IF_ERROR(LockFamily(conn, found.family_id));
    STORE_ASSIGN_OR_RETURN(out, LoadRefresh(conn, old_hash, " FOR UPDATE"));
    if (out.used_at || out.revoked_at) return Status::Ok();  // reuse or revoked: the caller decides, nothing changes
    VERBATIM_RETURN_IF_ERROR(
        conn.Exec("UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2", now, old_hash));
    return InsertRefreshRow(conn, next);  // a failure here rolls the retirement back too
  }));
  return out;
}

// Only rows not yet revoked: the first revocation's time is kept.
Status PostgresStore::RevokeRefreshFamily(const std::string& family_id, TimePoint now) {
  return Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(LockFamily(conn, family_id));
    return conn.Exec("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL", now,
                     family_id);
  });
}

Status PostgresStore::PurgeExpiredGrants(TimePoint now) {
  return Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(conn.Exec("DELETE FROM auth_codes WHERE expires_at < $1", now));
    return conn.Exec("DELETE FROM refresh_tokens WHERE expires_at < $1", now);
  });
}

}  // namespace verbatim::store
