// Audit events of the SQLite store: batched appends (the group-commit path)
// and keyset-paged listing, newest first.
#include <algorithm>

#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store.h"

namespace verbatim::store {

using sqlite::Db;
using sqlite::Stmt;

Status SqliteStore::AppendAudit(const std::vector<AuditEvent>& events) {
  if (events.empty()) return Status::Ok();
  // One transaction (one WAL commit) for the whole batch: that is what makes it fast.
  return Write([&](Db& db) -> Status {
    for (const AuditEvent& e : events) VERBATIM_RETURN_IF_ERROR(sqlite::InsertAudit(db, e));
    return Status::Ok();
  });
}

Result<int64_t> SqliteStore::PurgeAuditBefore(TimePoint cutoff, int limit) {
  int64_t deleted = 0;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    // Oldest first through audit_by_time; bounded so the writer is never held long.
    VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM audit_events WHERE rowid IN "
                                     "(SELECT rowid FROM audit_events WHERE at < ? ORDER BY at LIMIT ?)",
                                     cutoff, limit));
    deleted = db.Changes();
    if (deleted >= limit) return Status::Ok();
    // The last batch of a round: drop the explanations nothing points to.
    return db.Exec("DELETE FROM audit_explanations WHERE NOT EXISTS "
                   "(SELECT 1 FROM audit_events e WHERE e.explanation_id = audit_explanations.id)");
  }));
  return deleted;
}

Result<AuditEvent> SqliteStore::GetAudit(const std::string& context_id) {
  AuditEvent out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query(std::string("SELECT ") + sqlite::kAuditColumns + " FROM audit_events WHERE context_id = ?",
                       context_id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::NotFound("audit.not.found", "No audit event has context id '" + context_id + "'.");
    out = sqlite::ReadAudit(st);
    return Status::Ok();
  }));
  return out;
}

Result<AuditPage> SqliteStore::ListAudit(const AuditFilter& f) {
  const int limit = std::clamp(f.limit, 1, 200);
  std::optional<AuditCursor> cursor;
  if (f.cursor) {
    cursor = DecodeAuditCursor(*f.cursor);
    if (!cursor) {
      return BadAuditCursor();
    }
  }

  // The SQL is chosen from constant fragments (one cached statement per filter
  // combination, each able to use its index); every value is a bound parameter.
  std::string sql = std::string("SELECT ") + sqlite::kAuditColumns + " FROM audit_events WHERE 1 = 1";
  if (f.conversation_id) sql += " AND conversation_id = ?";
  if (f.principal_id) sql += " AND principal_id = ?";
  // A literal, not a parameter, so that the partial index of denials applies.
  if (f.decision) {
    if (*f.decision != "allow" && *f.decision != "deny")
      return Status::InvalidArgument("bad.request", "Filter 'decision' must be allow or deny.");
    sql += *f.decision == "deny" ? " AND decision = 'deny'" : " AND decision = 'allow'";
  }
  if (f.since) sql += " AND at >= ?";
  if (f.until) sql += " AND at <= ?";
  if (cursor) sql += " AND (at, context_id) < (?, ?)";
  sql += " ORDER BY at DESC, context_id DESC LIMIT ?";

  AuditPage page;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Prepare(sql);
    int i = 0;
    if (f.conversation_id) st.Bind(++i, *f.conversation_id);
    if (f.principal_id) st.Bind(++i, *f.principal_id);
    if (f.since) st.Bind(++i, *f.since);
    if (f.until) st.Bind(++i, *f.until);
    if (cursor) {
      st.Bind(++i, cursor->at_ms);
      st.Bind(++i, cursor->context_id);
    }
    st.Bind(++i, limit + 1);  // one extra row tells whether another page exists
    for (;;) {
      STORE_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Status::Ok();
      page.events.push_back(sqlite::ReadAudit(st));
    }
  }));
  if (static_cast<int>(page.events.size()) > limit) {
    page.events.pop_back();
    page.next_cursor = EncodeAuditCursor(page.events.back());
  }
  return page;
}

}  // namespace verbatim::store
