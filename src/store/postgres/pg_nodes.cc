// Nodes and the media sessions they hold, in the PostgreSQL store (see
// store.h; docs/deployment.md, "Media sessions and node failure"). Every
// write that touches a claim locks its conversation's row first, as a
// recording action does: claims, releases and interruptions of one
// conversation serialize, and no two nodes take locks in opposite orders.
#include <algorithm>

#include "store/change_diff.h"
#include "store/postgres/pg_changes.h"
#include "store/postgres/postgres_store.h"
#include "store/store_errors.h"

namespace verbatim::store {

using pg::Conn;
using pg::LockConversationRow;
using pg::Row;
using pg::Rows;

namespace {

constexpr char kClaimColumns[] = "s.conversation_id, s.node_id, s.transport, s.opened_at";

MediaSessionClaim ReadClaim(const Row& row) {
  return MediaSessionClaim{row.Text(0), row.Text(1), row.Text(2), row.Time(3)};
}

// The claim on the conversation and the lease of its node (nullopt: no node
// row), read under the conversation's lock.
Result<std::optional<std::pair<MediaSessionClaim, std::optional<TimePoint>>>> HeldClaim(Conn& conn,
                                                                                       const std::string& id) {
  STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string("SELECT ") + kClaimColumns +
                                                   ", n.lease_expires_at FROM media_sessions s "
                                                   "LEFT JOIN nodes n ON n.id = s.node_id WHERE s.conversation_id = $1",
                                               id));
  if (rows.empty()) return std::optional<std::pair<MediaSessionClaim, std::optional<TimePoint>>>();
  return std::optional(std::pair(ReadClaim(rows[0]), rows[0].OptTime(4)));
}

// As the SQLite store's: ends `claim` in the caller's transaction.
Status InterruptClaim(Conn& conn, const MediaSessionClaim& claim, TimePoint now) {
  VERBATIM_RETURN_IF_ERROR(conn.Exec("DELETE FROM media_sessions WHERE conversation_id = $1", claim.conversation_id));
  VERBATIM_RETURN_IF_ERROR(conn.Exec(
      "UPDATE media_files SET status = 'interrupted', interrupted_at = $1, updated_at = $1 "
      "WHERE conversation_id = $2 AND status = 'recording' AND node_id IN ($3, '')",
      now, claim.conversation_id, claim.node_id));
  VERBATIM_RETURN_IF_ERROR(conn.Exec(
      "UPDATE recordings SET version = version + 1, updated_at = $1 WHERE conversation_id = $2", now,
      claim.conversation_id));
  return pg::LogChange(conn, MediaInterruptedChange(claim, now));
}

bool Ended(const std::optional<TimePoint>& lease, TimePoint now) { return !lease || *lease < now; }

}  // namespace

Result<std::optional<TimePoint>> PostgresStore::HeartbeatNode(const NodeRecord& n) {
  std::optional<TimePoint> before;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    before.reset();
    // The row lock of the UPDATE makes the old value and the new one one step.
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT lease_expires_at FROM nodes WHERE id = $1 FOR UPDATE", n.id));
    if (!rows.empty()) before = rows[0].Time(0);
    return conn.Exec(
        "INSERT INTO nodes (id, advertise_url, started_at, heartbeat_at, lease_expires_at) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (id) DO UPDATE SET advertise_url = excluded.advertise_url, started_at = excluded.started_at, "
        "heartbeat_at = excluded.heartbeat_at, lease_expires_at = excluded.lease_expires_at",
        n.id, n.advertise_url, n.started_at, n.heartbeat_at, n.lease_expires_at);
  }));
  return before;
}

Result<std::vector<NodeRecord>> PostgresStore::ListNodes() {
  std::vector<NodeRecord> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(
        Rows rows,
        conn.Query("SELECT id, advertise_url, started_at, heartbeat_at, lease_expires_at FROM nodes ORDER BY id"));
    out.clear();
    for (int i = 0; i < rows.size(); ++i)
      out.push_back(NodeRecord{rows[i].Text(0), rows[i].Text(1), rows[i].Time(2), rows[i].Time(3), rows[i].Time(4)});
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<MediaSessionClaim>> PostgresStore::ClaimMediaSession(const MediaSessionClaim& claim,
                                                                         TimePoint now) {
  std::optional<MediaSessionClaim> superseded;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    superseded.reset();
    VERBATIM_RETURN_IF_ERROR(LockConversationRow(conn, claim.conversation_id));
    STORE_ASSIGN_OR_RETURN(auto held, HeldClaim(conn, claim.conversation_id));
    if (held) {
      if (!Ended(held->second, now)) return MediaBusy(held->first);
      VERBATIM_RETURN_IF_ERROR(InterruptClaim(conn, held->first, now));
      superseded = std::move(held->first);
    }
    return conn.Exec(
        "INSERT INTO media_sessions (conversation_id, node_id, transport, opened_at) VALUES ($1, $2, $3, $4)",
        claim.conversation_id, claim.node_id, claim.transport, claim.opened_at);
  }));
  return superseded;
}

Status PostgresStore::ReleaseMediaSession(const std::string& conversation_id, const std::string& node_id) {
  return Write([&](Conn& conn) -> Status {
    Status locked = LockConversationRow(conn, conversation_id);
    if (!locked.ok()) return locked.code() == "conversation.not.found" ? Status::Ok() : locked;
    return conn.Exec("DELETE FROM media_sessions WHERE conversation_id = $1 AND node_id = $2", conversation_id,
                     node_id);
  });
}

Result<std::vector<MediaSessionClaim>> PostgresStore::InterruptMediaSessions(TimePoint now,
                                                                            const std::string& restarted_node) {
  // Candidates first, without locks; then each in its own transaction, under
  // its conversation's lock, checked again: another node may have ended it,
  // or its node renewed its lease, meanwhile.
  std::vector<std::string> candidates;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(
        Rows rows, conn.Query("SELECT s.conversation_id FROM media_sessions s LEFT JOIN nodes n ON n.id = s.node_id "
                              "WHERE n.id IS NULL OR n.lease_expires_at < $1 OR ($2 <> '' AND s.node_id = $2) "
                              "ORDER BY s.conversation_id",
                              now, restarted_node));
    candidates.clear();
    for (int i = 0; i < rows.size(); ++i) candidates.push_back(rows[i].Text(0));
    return Status::Ok();
  }));
  std::vector<MediaSessionClaim> ended;
  for (const auto& id : candidates) {
    std::optional<MediaSessionClaim> done;
    VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
      done.reset();
      Status locked = LockConversationRow(conn, id);  // deleted meanwhile: its claim went with it
      if (!locked.ok()) return locked.code() == "conversation.not.found" ? Status::Ok() : locked;
      STORE_ASSIGN_OR_RETURN(auto held, HeldClaim(conn, id));
      if (!held) return Status::Ok();
      const bool restarted = !restarted_node.empty() && held->first.node_id == restarted_node;
      if (!restarted && !Ended(held->second, now)) return Status::Ok();
      VERBATIM_RETURN_IF_ERROR(InterruptClaim(conn, held->first, now));
      done = std::move(held->first);
      return Status::Ok();
    }));
    if (done) ended.push_back(std::move(*done));
  }
  return ended;
}

}  // namespace verbatim::store
