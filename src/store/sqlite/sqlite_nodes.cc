// Nodes and the media sessions they hold, in the SQLite store (see store.h;
// docs/deployment.md, "Media sessions and node failure"). One process writes
// a SQLite file, so here there is one node; its claims still matter when it
// dies and starts again: what its previous run held is interrupted.
#include "store/change_diff.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_errors.h"

namespace verbatim::store {

using sqlite::Db;
using sqlite::Stmt;

namespace {

constexpr char kClaimColumns[] = "s.conversation_id, s.node_id, s.transport, s.opened_at";

MediaSessionClaim ReadClaim(Stmt& st) {
  return MediaSessionClaim{st.Text(0), st.Text(1), st.Text(2), st.Time(3)};
}

// Ends `claim` in the caller's transaction: the files its node was still
// writing become interrupted, and the log says so.
Status InterruptClaim(Db& db, const MediaSessionClaim& claim, TimePoint now) {
  VERBATIM_RETURN_IF_ERROR(db.Exec("DELETE FROM media_sessions WHERE conversation_id = ?", claim.conversation_id));
  VERBATIM_RETURN_IF_ERROR(db.Exec(
      "UPDATE media_files SET status = 'interrupted', interrupted_at = ?, updated_at = ? "
      "WHERE conversation_id = ? AND status = 'recording' AND node_id IN (?, '')",
      now, now, claim.conversation_id, claim.node_id));
  VERBATIM_RETURN_IF_ERROR(db.Exec(
      "UPDATE recordings SET version = version + 1, updated_at = ? WHERE conversation_id = ?", now,
      claim.conversation_id));
  return sqlite::InsertChange(db, MediaInterruptedChange(claim, now));
}

}  // namespace

Result<std::optional<TimePoint>> SqliteStore::HeartbeatNode(const NodeRecord& n) {
  std::optional<TimePoint> before;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    before.reset();
    Stmt st = db.Query("SELECT lease_expires_at FROM nodes WHERE id = ?", n.id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) before = st.Time(0);
    return db.Exec(
        "INSERT INTO nodes (id, advertise_url, started_at, heartbeat_at, lease_expires_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET advertise_url = excluded.advertise_url, started_at = excluded.started_at, "
        "heartbeat_at = excluded.heartbeat_at, lease_expires_at = excluded.lease_expires_at",
        n.id, n.advertise_url, n.started_at, n.heartbeat_at, n.lease_expires_at);
  }));
  return before;
}

Result<std::vector<NodeRecord>> SqliteStore::ListNodes() {
  std::vector<NodeRecord> out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    out.clear();
    Stmt st = db.Query("SELECT id, advertise_url, started_at, heartbeat_at, lease_expires_at FROM nodes ORDER BY id");
    for (;;) {
      STORE_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Status::Ok();
      out.push_back(NodeRecord{st.Text(0), st.Text(1), st.Time(2), st.Time(3), st.Time(4)});
    }
  }));
  return out;
}

Result<std::optional<MediaSessionClaim>> SqliteStore::ClaimMediaSession(const MediaSessionClaim& claim,
                                                                       TimePoint now) {
  std::optional<MediaSessionClaim> superseded;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    superseded.reset();
    Stmt st = db.Query(std::string("SELECT ") + kClaimColumns +
                           ", n.lease_expires_at FROM media_sessions s LEFT JOIN nodes n ON n.id = s.node_id "
                           "WHERE s.conversation_id = ?",
                       claim.conversation_id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      MediaSessionClaim held = ReadClaim(st);
      std::optional<TimePoint> lease = st.OptTime(4);
      if (lease && *lease >= now) return MediaBusy(held);
      VERBATIM_RETURN_IF_ERROR(InterruptClaim(db, held, now));
      superseded = std::move(held);
    }
    return db.Exec("INSERT INTO media_sessions (conversation_id, node_id, transport, opened_at) VALUES (?, ?, ?, ?)",
                   claim.conversation_id, claim.node_id, claim.transport, claim.opened_at);
  }));
  return superseded;
}

Status SqliteStore::ReleaseMediaSession(const std::string& conversation_id, const std::string& node_id) {
  return Write([&](Db& db) -> Status {
    return db.Exec("DELETE FROM media_sessions WHERE conversation_id = ? AND node_id = ?", conversation_id, node_id);
  });
}

Result<std::vector<MediaSessionClaim>> SqliteStore::InterruptMediaSessions(TimePoint now,
                                                                          const std::string& restarted_node) {
  std::vector<MediaSessionClaim> ended;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    ended.clear();
    {
      Stmt st = db.Query(std::string("SELECT ") + kClaimColumns +
                             " FROM media_sessions s LEFT JOIN nodes n ON n.id = s.node_id "
                             "WHERE n.id IS NULL OR n.lease_expires_at < ? OR (? <> '' AND s.node_id = ?) "
                             "ORDER BY s.conversation_id",
                         now, restarted_node, restarted_node);
      for (;;) {
        STORE_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        ended.push_back(ReadClaim(st));
      }
    }
    for (const auto& c : ended) VERBATIM_RETURN_IF_ERROR(InterruptClaim(db, c, now));
    return Status::Ok();
  }));
  return ended;
}

}  // namespace verbatim::store
