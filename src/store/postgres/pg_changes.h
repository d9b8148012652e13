// Change-log helpers of the PostgreSQL store (docs/changes.md), used by the
// writes that log what they change, inside their transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/model.h"
#include "store/postgres/pg_conn.h"
#include "store/status_macros.h"

namespace verbatim::store::pg {

// Inserts the entry, if there is one, under kChangeLogLock (held to COMMIT,
// so ids become visible in increasing order).
Status LogChange(Conn& conn, const std::optional<ChangeEntry>& e);

// The row `select_sql` finds for `id` (with FOR UPDATE, so the write that
// follows compares against what it replaces), read by `read`, or nullopt.
template <class T, class ReadRow>
Result<std::optional<T>> LoadForChange(Conn& conn, std::string_view select_sql, const std::string& id, ReadRow read) {
  STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(select_sql, id));
  if (rows.empty()) return std::optional<T>();
  STORE_ASSIGN_OR_RETURN(T value, read(rows[0]));
  return std::optional<T>(std::move(value));
}

// Locks the conversation's row until the transaction ends (pg_recordings.cc):
// every write to a conversation's recording, media files or media session
// takes it first, so they serialize per conversation across nodes.
// NotFound "conversation.not.found" when there is no such conversation.
Status LockConversationRow(Conn& conn, const std::string& id);

// A user as the transaction sees it (pg_users.cc), for the entries of a role deletion.
Result<std::optional<User>> LoadUserForChange(Conn& conn, const std::string& id);

}  // namespace verbatim::store::pg
