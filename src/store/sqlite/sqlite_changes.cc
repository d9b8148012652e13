// The change log of the SQLite store (docs/changes.md): entries are inserted
// by the writes they describe, in their transaction; read here by id.
#include <algorithm>

#include "store/change_diff.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store.h"

namespace verbatim::store {

using sqlite::Db;
using sqlite::Stmt;

namespace sqlite {

Status InsertChange(Db& db, const ChangeEntry& e) {
  return db.Exec(
      "INSERT INTO changes (at, kind, subject_type, subject_id, subject_name, actor_type, actor_id, actor_name, "
      "actor_client_id, context_id, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      e.at, e.kind, e.subject_type, e.subject_id, e.subject_name, e.actor.principal_type, e.actor.principal_id,
      e.actor.principal_name, e.actor.client_id, e.context_id, EncodeFields(e.fields));
}

Status LogChange(Db& db, const std::optional<ChangeEntry>& e) {
  return e ? InsertChange(db, *e) : Status::Ok();
}

}  // namespace sqlite

Result<std::vector<ChangeEntry>> SqliteStore::ListChanges(const ChangeFilter& f) {
  const int limit = std::clamp(f.limit, 1, 1000);
  const ChangeKindRange kinds = KindRange(f.kind);
  // Constant fragments only; every value is bound.
  std::string sql = std::string("SELECT ") + kChangeColumns + " FROM changes WHERE 1 = 1";
  if (f.after_id) sql += " AND id > ?";
  if (f.since) sql += " AND at >= ?";
  if (f.principal_id) sql += " AND actor_id = ?";
  if (f.kind) sql += kinds.exact ? " AND kind = ?" : " AND kind >= ? AND kind < ?";
  if (f.subject_type) sql += " AND subject_type = ?";
  if (f.subject_id) sql += " AND subject_id = ?";
  sql += f.newest_first ? " ORDER BY id DESC LIMIT ?" : " ORDER BY id LIMIT ?";

  std::vector<ChangeEntry> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Prepare(sql);
    int i = 0;
    if (f.after_id) st.Bind(++i, *f.after_id);
    if (f.since) st.Bind(++i, *f.since);
    if (f.principal_id) st.Bind(++i, *f.principal_id);
    if (f.kind) {
      st.Bind(++i, kinds.low);
      if (!kinds.exact) st.Bind(++i, kinds.high);
    }
    if (f.subject_type) st.Bind(++i, *f.subject_type);
    if (f.subject_id) st.Bind(++i, *f.subject_id);
    st.Bind(++i, limit);
    for (;;) {
      STORE_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Status::Ok();
      out.push_back(ReadChangeRow(st));
    }
  }));
  return out;
}

Result<int64_t> SqliteStore::LastChangeId() {
  int64_t id = 0;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    // sqlite_sequence keeps the largest id ever used, even after retention emptied the table.
    Stmt st = db.Query("SELECT seq FROM sqlite_sequence WHERE name = 'changes'");
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) id = st.Int(0);
    return Status::Ok();
  }));
  return id;
}

Result<int64_t> SqliteStore::PurgeChangesBefore(TimePoint cutoff, int limit) {
  int64_t deleted = 0;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "DELETE FROM changes WHERE id IN (SELECT id FROM changes WHERE at < ? ORDER BY id LIMIT ?)", cutoff, limit));
    deleted = db.Changes();
    return Status::Ok();
  }));
  return deleted;
}

}  // namespace verbatim::store
