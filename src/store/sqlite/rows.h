// Row <-> record mapping shared by the SQLite store's .cc files.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/model.h"
#include "store/row_codec.h"
#include "store/sqlite/sqlite_db.h"
#include "store/status_macros.h"

namespace verbatim::store::sqlite {

// String lists are JSON arrays in TEXT columns (store/row_codec.h).
using store::DecodeParticipants;
using store::DecodeStrings;
using store::EncodeParticipants;
using store::EncodeStrings;

// Ids listed in a child table (client_roles, integration_roles, user_roles), in order.
Result<std::vector<std::string>> LoadRoleIds(Db& db, std::string_view select_sql, const std::string& owner_id);
// Replaces an owner's rows in such a table: `delete_sql` takes the owner,
// `insert_sql` (owner, position, role_id).
Status ReplaceRoleIds(Db& db, std::string_view delete_sql, std::string_view insert_sql, const std::string& owner,
                      const std::vector<std::string>& role_ids);

// Audit rows: the column list for SELECTs, the reader, and the insert (a
// duplicate context_id is ignored, so a retried batch is harmless).
extern const char kAuditColumns[];
AuditEvent ReadAudit(const Stmt& st);
Status InsertAudit(Db& db, const AuditEvent& e);

// The row `select_sql` finds for `id`, read by `read` (a Result-returning
// row reader), or nullopt: what a write's change-log entry compares against.
template <class T, class ReadRow>
Result<std::optional<T>> LoadOne(Db& db, std::string_view select_sql, const std::string& id, ReadRow read) {
  Stmt st = db.Query(select_sql, id);
  STORE_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<T>();
  STORE_ASSIGN_OR_RETURN(T value, read(st));
  return std::optional<T>(std::move(value));
}

// A user as the transaction sees it (sqlite_users.cc), for the entries of a role deletion.
Result<std::optional<User>> LoadUserForChange(Db& db, const std::string& id);

// Change-log rows (sqlite_changes.cc): LogChange inserts an entry if there is one.
Status InsertChange(Db& db, const ChangeEntry& e);
Status LogChange(Db& db, const std::optional<ChangeEntry>& e);

}  // namespace verbatim::store::sqlite
