// The change log of the PostgreSQL store (docs/changes.md).
#include "store/postgres/pg_changes.h"

#include <algorithm>

#include "store/change_diff.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/postgres_store.h"

namespace verbatim::store {

using pg::Conn;
using pg::Rows;

Status pg::LogChange(Conn& conn, const std::optional<ChangeEntry>& e) {
  if (!e) return Status::Ok();
  // One statement, one round trip: the lock is taken by the subquery the
  // INSERT reads its one row from, so before the row (and its id) is made.
  return conn.Exec(
      "INSERT INTO changes (at, kind, subject_type, subject_id, subject_name, actor_type, actor_id, actor_name, "
      "actor_client_id, context_id, fields) SELECT $1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text, "
      "$7::text, $8::text, $9::text, $10::text, $11::jsonb FROM (SELECT pg_advisory_xact_lock($12)) AS change_log_lock",
      e->at, e->kind, e->subject_type, e->subject_id, e->subject_name, e->actor.principal_type, e->actor.principal_id,
      e->actor.principal_name, e->actor.client_id, e->context_id, EncodeFields(e->fields), kChangeLogLock);
}

Result<std::vector<ChangeEntry>> PostgresStore::ListChanges(const ChangeFilter& f) {
  const int limit = std::clamp(f.limit, 1, 1000);
  const ChangeKindRange kinds = KindRange(f.kind);
  // Constant fragments; every value is a parameter. Unused filters are bound
  // as NULL and skipped, so one prepared statement serves every combination.
  // `fields`, the last column, is jsonb: read as text, as SQLite's column is.
  const std::string sql = std::string("SELECT ") + kChangeColumns +
                          "::text FROM changes "
                          "WHERE ($1::bigint IS NULL OR id > $1) AND ($2::bigint IS NULL OR at >= $2) "
                          "AND ($3::text IS NULL OR actor_id = $3) "
                          "AND ($4::text IS NULL OR (CASE WHEN $5::text IS NULL THEN kind = $4 "
                          "ELSE kind >= $4 AND kind < $5 END)) "
                          "AND ($6::text IS NULL OR subject_type = $6) AND ($7::text IS NULL OR subject_id = $7) " +
                          (f.newest_first ? "ORDER BY id DESC LIMIT $8" : "ORDER BY id LIMIT $8");
  std::optional<std::string> low, high;
  if (f.kind) {
    low = kinds.low;
    if (!kinds.exact) high = kinds.high;
  }
  std::optional<int64_t> since_ms;
  if (f.since) since_ms = ToUnixMillis(*f.since);
  std::vector<ChangeEntry> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(sql, f.after_id, since_ms, f.principal_id, low, high, f.subject_type,
                                                 f.subject_id, static_cast<int64_t>(limit)));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) out.push_back(ReadChangeRow(rows[i]));
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> PostgresStore::LastChangeId() {
  int64_t id = 0;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    // The identity's last value survives retention emptying the table.
    STORE_ASSIGN_OR_RETURN(
        id, conn.QueryInt("SELECT COALESCE((SELECT last_value FROM pg_sequences WHERE schemaname = current_schema() "
                          "AND sequencename = 'changes_id_seq'), 0)"));
    return Status::Ok();
  }));
  return id;
}

Result<int64_t> PostgresStore::PurgeChangesBefore(TimePoint cutoff, int limit) {
  int64_t deleted = 0;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(deleted, conn.Affected("DELETE FROM changes WHERE id IN "
                                                  "(SELECT id FROM changes WHERE at < $1 ORDER BY id LIMIT $2)",
                                                  cutoff, static_cast<int64_t>(limit)));
    return Status::Ok();
  }));
  return deleted;
}

}  // namespace verbatim::store
