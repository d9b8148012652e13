// Users of the SQLite store (see store.h; issue 13). Usernames are unique
// case-insensitively (the users_by_username index); role ids are child rows
// (user_roles), as clients' are, so that deleting a role is one DELETE.
#include "store/change_diff.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_errors.h"

namespace verbatim::store {

using sqlite::Db;
using sqlite::Stmt;

namespace {

constexpr char kUserSelect[] =
    "SELECT id, username, display_name, email, password_hash, enabled, created_at, updated_at, tokens_valid_after, "
    "tokens_valid_after_reason FROM users";
constexpr char kUserRolesSql[] = "SELECT role_id FROM user_roles WHERE user_id = ? ORDER BY position";

Result<User> ReadUser(Db& db, const Stmt& st) {
  User u;
  u.id = st.Text(0);
  u.username = st.Text(1);
  u.display_name = st.Text(2);
  u.email = st.Text(3);
  u.password_hash = st.Text(4);
  u.enabled = st.Int(5) != 0;
  u.created_at = st.Time(6);
  u.updated_at = st.Time(7);
  u.tokens_valid_after = st.OptTime(8);
  u.tokens_valid_after_reason = st.Text(9);
  STORE_ASSIGN_OR_RETURN(u.role_ids, sqlite::LoadRoleIds(db, kUserRolesSql, u.id));
  return u;
}

Status ReplaceUserRoles(Db& db, const User& u) {
  return sqlite::ReplaceRoleIds(db, "DELETE FROM user_roles WHERE user_id = ?",
                                "INSERT INTO user_roles (user_id, position, role_id) VALUES (?, ?, ?)", u.id,
                                u.role_ids);
}

// The user as the write's transaction sees it, when the write is logged (`by` set).
Result<std::optional<User>> LoadUser(Db& db, const ChangeAuthor* by, const std::string& id) {
  if (by == nullptr) return std::optional<User>();
  return sqlite::LoadOne<User>(db, std::string(kUserSelect) + " WHERE id = ?", id,
                               [&](const Stmt& st) { return ReadUser(db, st); });
}

// ASCII case folding (NOCASE), as for role and trunk names.
Status CheckUsernameFree(Db& db, const User& u) {
  STORE_ASSIGN_OR_RETURN(
      bool taken, db.Exists("SELECT 1 FROM users WHERE username = ? COLLATE NOCASE AND id <> ?", u.username, u.id));
  if (taken) return UserNameTaken(u.username);
  return Status::Ok();
}

}  // namespace

Result<std::optional<User>> sqlite::LoadUserForChange(Db& db, const std::string& id) {
  static const ChangeAuthor kAnyAuthor;
  return LoadUser(db, &kAnyAuthor, id);
}

Status SqliteStore::CreateUser(const User& u, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    VERBATIM_RETURN_IF_ERROR(CheckUsernameFree(db, u));
    STORE_ASSIGN_OR_RETURN(bool exists, db.Exists("SELECT 1 FROM users WHERE id = ?", u.id));
    if (exists) return Status::AlreadyExists("user.exists", "User '" + u.id + "' already exists.");
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("INSERT INTO users (id, username, display_name, email, password_hash, enabled, created_at, updated_at, "
                "tokens_valid_after, tokens_valid_after_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                u.id, u.username, u.display_name, u.email, u.password_hash, u.enabled, u.created_at, u.updated_at,
                u.tokens_valid_after, u.tokens_valid_after_reason));
    VERBATIM_RETURN_IF_ERROR(ReplaceUserRoles(db, u));
    return by != nullptr ? sqlite::LogChange(db, UserChange(nullptr, &u, *by)) : Status::Ok();
  });
}

Result<User> SqliteStore::GetUser(const std::string& id) {
  User out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query(std::string(kUserSelect) + " WHERE id = ?", id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return UserNotFound(id);
    STORE_ASSIGN_OR_RETURN(out, ReadUser(db, st));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<User>> SqliteStore::ListUsers() {
  std::vector<User> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query(std::string(kUserSelect) + " ORDER BY username COLLATE NOCASE, id");
    for (;;) {
      STORE_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Status::Ok();
      STORE_ASSIGN_OR_RETURN(User u, ReadUser(db, st));
      out.push_back(std::move(u));
    }
  }));
  return out;
}

Status SqliteStore::UpdateUser(const User& u, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    VERBATIM_RETURN_IF_ERROR(CheckUsernameFree(db, u));
    STORE_ASSIGN_OR_RETURN(std::optional<User> before, LoadUser(db, by, u.id));
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("UPDATE users SET username = ?, display_name = ?, email = ?, password_hash = ?, enabled = ?, "
                "updated_at = ?, tokens_valid_after = ?, tokens_valid_after_reason = ? WHERE id = ?",
                u.username, u.display_name, u.email, u.password_hash, u.enabled, u.updated_at, u.tokens_valid_after,
                u.tokens_valid_after_reason, u.id));
    if (db.Changes() == 0) return UserNotFound(u.id);
    VERBATIM_RETURN_IF_ERROR(ReplaceUserRoles(db, u));
    return before ? sqlite::LogChange(db, UserChange(&*before, &u, *by)) : Status::Ok();
  });
}

Status SqliteStore::DeleteUser(const std::string& id, const ChangeAuthor* by) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(std::optional<User> before, LoadUser(db, by, id));
    // user_roles, auth_codes and refresh_tokens cascade
    VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM users WHERE id = ?", id));
    if (db.Changes() == 0) return UserNotFound(id);
    return before ? sqlite::LogChange(db, UserChange(&*before, nullptr, *by)) : Status::Ok();
  });
}

}  // namespace verbatim::store
