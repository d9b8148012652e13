// Users of the PostgreSQL store (see store.h; issue 13). Usernames are unique
// case-insensitively: checked first for the refusal's message, and by the
// users_by_username index when two nodes race. Role ids are child rows
// (user_roles), as clients' are.
#include "store/change_diff.h"
#include "store/postgres/pg_changes.h"
#include "store/postgres/postgres_store.h"
#include "store/row_codec.h"
#include "store/store_errors.h"

namespace verbatim::store {

using pg::Conn;
using pg::Row;
using pg::Rows;

namespace {

constexpr char kUserSelect[] =
    "SELECT u.id, u.username, u.display_name, u.email, u.password_hash, u.enabled, u.created_at, u.updated_at, "
    "u.tokens_valid_after, u.tokens_valid_after_reason, "
    "(SELECT COALESCE(jsonb_agg(r.role_id ORDER BY r.position), '[]'::jsonb) FROM user_roles r "
    "WHERE r.user_id = u.id)::text FROM users u";

Result<User> ReadUser(const Row& row) {
  User u;
  u.id = row.Text(0);
  u.username = row.Text(1);
  u.display_name = row.Text(2);
  u.email = row.Text(3);
  u.password_hash = row.Text(4);
  u.enabled = row.Bool(5);
  u.created_at = row.Time(6);
  u.updated_at = row.Time(7);
  u.tokens_valid_after = row.OptTime(8);
  u.tokens_valid_after_reason = row.Text(9);
  STORE_ASSIGN_OR_RETURN(u.role_ids, DecodeStrings(row.Text(10)));
  return u;
}

// Written from a JSON array in one statement, as clients' roles are.
Status ReplaceUserRoles(Conn& conn, const User& u) {
  VERBATIM_RETURN_IF_ERROR(conn.Exec("DELETE FROM user_roles WHERE user_id = $1", u.id));
  if (u.role_ids.empty()) return Status::Ok();
  return conn.Exec(
      "INSERT INTO user_roles (user_id, position, role_id) "
      "SELECT $1, ord - 1, value FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS t(value, ord)",
      u.id, EncodeStrings(u.role_ids));
}

Status CheckUsernameFree(Conn& conn, const User& u) {
  STORE_ASSIGN_OR_RETURN(bool taken, conn.Exists("SELECT 1 FROM users WHERE lower(username COLLATE \"C\") = "
                                                 "lower($1::text COLLATE \"C\") AND id <> $2",
                                                 u.username, u.id));
  return taken ? UserNameTaken(u.username) : Status::Ok();
}

// A write that lost a race on the unique username index is the same refusal.
Status NameRace(const Conn& conn, Status s, const User& u) {
  if (!s.ok() && conn.last_sqlstate() == "23505" && conn.last_constraint() == "users_by_username")
    return UserNameTaken(u.username);
  return s;
}

// The user as the write's transaction sees it (locked), when the write is logged (`by` set).
Result<std::optional<User>> LoadUser(Conn& conn, const ChangeAuthor* by, const std::string& id) {
  if (by == nullptr) return std::optional<User>();
  return pg::LoadForChange<User>(conn, std::string(kUserSelect) + " WHERE u.id = $1 FOR UPDATE OF u", id, ReadUser);
}

}  // namespace

Result<std::optional<User>> pg::LoadUserForChange(Conn& conn, const std::string& id) {
  static const ChangeAuthor kAnyAuthor;
  return LoadUser(conn, &kAnyAuthor, id);
}

Status PostgresStore::CreateUser(const User& u, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(CheckUsernameFree(conn, u));
    STORE_ASSIGN_OR_RETURN(bool exists, conn.Exists("SELECT 1 FROM users WHERE id = $1", u.id));
    if (exists) return Status::AlreadyExists("user.exists", "User '" + u.id + "' already exists.");
    Status s = conn.Exec(
        "INSERT INTO users (id, username, display_name, email, password_hash, enabled, created_at, updated_at, "
        "tokens_valid_after, tokens_valid_after_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        u.id, u.username, u.display_name, u.email, u.password_hash, u.enabled, u.created_at, u.updated_at,
        u.tokens_valid_after, u.tokens_valid_after_reason);
    if (!s.ok() && conn.last_sqlstate() == "23505" && conn.last_constraint() == "users_pkey")
      return Status::AlreadyExists("user.exists", "User '" + u.id + "' already exists.");
    VERBATIM_RETURN_IF_ERROR(NameRace(conn, s, u));
    VERBATIM_RETURN_IF_ERROR(ReplaceUserRoles(conn, u));
    return by != nullptr ? pg::LogChange(conn, UserChange(nullptr, &u, *by)) : Status::Ok();
  });
}

Result<User> PostgresStore::GetUser(const std::string& id) {
  User out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string(kUserSelect) + " WHERE u.id = $1", id));
    if (rows.empty()) return UserNotFound(id);
    STORE_ASSIGN_OR_RETURN(out, ReadUser(rows[0]));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<User>> PostgresStore::ListUsers() {
  std::vector<User> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows,
                           conn.Query(std::string(kUserSelect) + " ORDER BY lower(u.username COLLATE \"C\"), u.id"));
    out.clear();  // a body that runs again starts clean
    for (int i = 0; i < rows.size(); ++i) {
      STORE_ASSIGN_OR_RETURN(User u, ReadUser(rows[i]));
      out.push_back(std::move(u));
    }
    return Status::Ok();
  }));
  return out;
}

// The UPDATE locks the user row: concurrent updates of one user serialize.
Status PostgresStore::UpdateUser(const User& u, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(CheckUsernameFree(conn, u));
    STORE_ASSIGN_OR_RETURN(std::optional<User> before, LoadUser(conn, by, u.id));
    auto updated = conn.Affected(
        "UPDATE users SET username = $1, display_name = $2, email = $3, password_hash = $4, enabled = $5, "
        "updated_at = $6, tokens_valid_after = $7, tokens_valid_after_reason = $8 WHERE id = $9",
        u.username, u.display_name, u.email, u.password_hash, u.enabled, u.updated_at, u.tokens_valid_after,
        u.tokens_valid_after_reason, u.id);
    if (!updated.ok()) return NameRace(conn, updated.status(), u);
    if (*updated == 0) return UserNotFound(u.id);
    VERBATIM_RETURN_IF_ERROR(ReplaceUserRoles(conn, u));
    return before ? pg::LogChange(conn, UserChange(&*before, &u, *by)) : Status::Ok();
  });
}

Status PostgresStore::DeleteUser(const std::string& id, const ChangeAuthor* by) {
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<User> before, LoadUser(conn, by, id));
    // user_roles, auth_codes and refresh_tokens cascade
    STORE_ASSIGN_OR_RETURN(int64_t deleted, conn.Affected("DELETE FROM users WHERE id = $1", id));
    if (deleted == 0) return UserNotFound(id);
    return before ? pg::LogChange(conn, UserChange(&*before, nullptr, *by)) : Status::Ok();
  });
}

}  // namespace verbatim::store
