// Conversations and recordings of the PostgreSQL store. Every write that
// touches a conversation or its recording first locks the conversation row
// (SELECT … FOR NO KEY UPDATE, LockConversation): actions, disconnects,
// participants, metadata and media of one conversation serialize across every
// process sharing the database, and each runs the pure NextState() on the
// committed state it then changes. FOR NO KEY UPDATE rather than FOR UPDATE:
// it does not block the foreign-key checks of inserts into its child tables.
#include <algorithm>

#include "store/postgres/pg_audit.h"
#include "store/postgres/postgres_store.h"
#include "store/row_codec.h"
#include "store/store_errors.h"

namespace verbatim::store {

using pg::Conn;
using pg::Row;
using pg::Rows;

namespace {

constexpr char kConversationColumns[] =
    "id, state, started_at, ended_at, participants::text, external_id, created_by FROM conversations";

Result<Conversation> ReadConversation(const Row& row) {
  Conversation c;
  c.id = row.Text(0);
  c.state = row.Text(1);
  c.started_at = row.Time(2);
  c.ended_at = row.OptTime(3);
  STORE_ASSIGN_OR_RETURN(c.participants, DecodeParticipants(row.Text(4)));
  c.external_id = row.Text(5);
  c.created_by = row.Text(6);
  return c;
}

Result<Conversation> LoadConversation(Conn& conn, const std::string& id) {
  STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string("SELECT ") + kConversationColumns + " WHERE id = $1", id));
  if (rows.empty()) return ConversationNotFound(id);
  return ReadConversation(rows[0]);
}

// The conversation, its row locked until the transaction ends.
Result<Conversation> LockConversation(Conn& conn, const std::string& id) {
  STORE_ASSIGN_OR_RETURN(
      Rows rows, conn.Query(std::string("SELECT ") + kConversationColumns + " WHERE id = $1 FOR NO KEY UPDATE", id));
  if (rows.empty()) return ConversationNotFound(id);
  return ReadConversation(rows[0]);
}

Result<RecordingState> ParseState(const std::string& s) {
  auto st = ParseRecordingState(s);
  if (!st) return Status::Internal("store: corrupt recording state '" + s + "'");
  return *st;
}

// What a state change needs to know about the committed recording.
struct RecordingHead {
  bool exists = false;  // false: no row yet, state none
  RecordingState state = RecordingState::kNone;
  int segments = 0;      // count = index of the latest segment (indices are 1..count)
  int64_t last_seq = 0;  // of the latest transition
};

Result<RecordingHead> LoadHead(Conn& conn, const std::string& id) {
  RecordingHead head;
  STORE_ASSIGN_OR_RETURN(
      Rows rows,
      conn.Query(
          "SELECT r.state, "
          "(SELECT COALESCE(max(idx), 0) FROM recording_segments s WHERE s.conversation_id = r.conversation_id), "
          "(SELECT COALESCE(max(seq), 0) FROM recording_transitions t "
          "WHERE t.conversation_id = r.conversation_id) "
          "FROM recordings r WHERE r.conversation_id = $1",
          id));
  if (rows.empty()) return head;
  head.exists = true;
  STORE_ASSIGN_OR_RETURN(head.state, ParseState(rows[0].Text(0)));
  head.segments = static_cast<int>(rows[0].Int(1));
  head.last_seq = rows[0].Int(2);
  return head;
}

// A recording row in state none, if there is none yet (metadata and media may
// arrive before the first action).
Status EnsureRecordingRow(Conn& conn, const std::string& id, TimePoint at) {
  return conn.Exec(
      "INSERT INTO recordings (conversation_id, state, version, updated_at, labels, retention_days, notes) "
      "VALUES ($1, 'none', 0, $2, '[]'::jsonb, NULL, '') ON CONFLICT (conversation_id) DO NOTHING",
      id, at);
}

// Writes one state change: `t` gets its seq and segment here; the rule says
// whether a segment opens or closes. The caller holds the conversation lock.
Status AppendTransition(Conn& conn, const std::string& id, const RecordingHead& head, const TransitionRule& rule,
                        Transition& t) {
  if (!head.exists) VERBATIM_RETURN_IF_ERROR(EnsureRecordingRow(conn, id, t.at));
  t.seq = head.last_seq + 1;
  t.segment = head.segments;
  if (rule.opens_segment) {
    t.segment = head.segments + 1;
    VERBATIM_RETURN_IF_ERROR(conn.Exec(
        "INSERT INTO recording_segments (conversation_id, idx, started_at, ended_at) VALUES ($1, $2, $3, NULL)", id,
        t.segment, t.at));
  }
  if (rule.closes_segment) {
    VERBATIM_RETURN_IF_ERROR(conn.Exec(
        "UPDATE recording_segments SET ended_at = $1 WHERE conversation_id = $2 AND ended_at IS NULL", t.at, id));
  }
  VERBATIM_RETURN_IF_ERROR(
      conn.Exec("INSERT INTO recording_transitions (conversation_id, seq, action, from_state, to_state, segment, at, "
                "principal_type, principal_id, principal_name, client_id, reason, context_id) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                id, t.seq, t.action, ToString(t.from), ToString(t.to), t.segment, t.at, t.actor.principal_type,
                t.actor.principal_id, t.actor.principal_name, t.actor.client_id, t.reason, t.context_id));
  return conn.Exec(
      "UPDATE recordings SET state = $1, version = version + 1, updated_at = $2 WHERE conversation_id = $3",
      ToString(t.to), t.at, id);
}

Status LoadSegments(Conn& conn, Recording& r) {
  STORE_ASSIGN_OR_RETURN(
      Rows rows,
      conn.Query("SELECT idx, started_at, ended_at FROM recording_segments WHERE conversation_id = $1 ORDER BY idx",
                 r.conversation_id));
  for (int i = 0; i < rows.size(); ++i)
    r.segments.push_back(Segment{static_cast<int>(rows[i].Int(0)), rows[i].Time(1), rows[i].OptTime(2)});
  return Status::Ok();
}

// The whole timeline, or (latest_only) just its last transition.
Status LoadTimeline(Conn& conn, Recording& r, bool latest_only) {
  STORE_ASSIGN_OR_RETURN(
      Rows rows,
      conn.Query(latest_only ? "SELECT seq, action, from_state, to_state, segment, at, principal_type, principal_id, "
                               "principal_name, client_id, reason, context_id FROM recording_transitions "
                               "WHERE conversation_id = $1 ORDER BY seq DESC LIMIT 1"
                             : "SELECT seq, action, from_state, to_state, segment, at, principal_type, principal_id, "
                               "principal_name, client_id, reason, context_id FROM recording_transitions "
                               "WHERE conversation_id = $1 ORDER BY seq",
                 r.conversation_id));
  for (int i = 0; i < rows.size(); ++i) {
    const Row row = rows[i];
    Transition t;
    t.seq = row.Int(0);
    t.action = row.Text(1);
    STORE_ASSIGN_OR_RETURN(t.from, ParseState(row.Text(2)));
    STORE_ASSIGN_OR_RETURN(t.to, ParseState(row.Text(3)));
    t.segment = static_cast<int>(row.Int(4));
    t.at = row.Time(5);
    t.actor = Actor{row.Text(6), row.Text(7), row.Text(8), row.Text(9)};
    t.reason = row.Text(10);
    t.context_id = row.Text(11);
    r.timeline.push_back(std::move(t));
  }
  return Status::Ok();
}

Status LoadMedia(Conn& conn, Recording& r) {
  STORE_ASSIGN_OR_RETURN(Rows rows,
                         conn.Query("SELECT segment, path, format, channels, sample_rate, bytes, duration_ms, status, "
                                    "channel_labels::text, updated_at FROM media_files WHERE conversation_id = $1 "
                                    "ORDER BY segment",
                                    r.conversation_id));
  for (int i = 0; i < rows.size(); ++i) {
    const Row row = rows[i];
    MediaFile f;
    f.segment = static_cast<int>(row.Int(0));
    f.path = row.Text(1);
    f.format = row.Text(2);
    f.channels = static_cast<int>(row.Int(3));
    f.sample_rate = static_cast<int>(row.Int(4));
    f.bytes = row.Int(5);
    f.duration_ms = row.Int(6);
    f.status = row.Text(7);
    STORE_ASSIGN_OR_RETURN(f.channel_labels, DecodeStrings(row.Text(8)));
    f.updated_at = row.Time(9);
    r.media.push_back(std::move(f));
  }
  return Status::Ok();
}

// The whole recording; state none (version 0, updated at the conversation's
// start) when no row exists yet. `light`: what a state change's caller needs,
// at a cost that does not grow with the history: the timeline holds only the
// latest transition and media is not loaded.
Result<Recording> LoadRecording(Conn& conn, const std::string& conversation_id, TimePoint started_at,
                                bool light = false) {
  Recording r;
  r.conversation_id = conversation_id;
  r.updated_at = started_at;
  STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT state, version, updated_at, labels::text, retention_days, "
                                               "notes FROM recordings WHERE conversation_id = $1",
                                               conversation_id));
  if (rows.empty()) return r;
  const Row row = rows[0];
  STORE_ASSIGN_OR_RETURN(r.state, ParseState(row.Text(0)));
  r.version = row.Int(1);
  r.updated_at = row.Time(2);
  STORE_ASSIGN_OR_RETURN(r.metadata.labels, DecodeStrings(row.Text(3)));
  if (auto days = row.OptInt(4)) r.metadata.retention_days = static_cast<int>(*days);
  r.metadata.notes = row.Text(5);
  VERBATIM_RETURN_IF_ERROR(LoadSegments(conn, r));
  VERBATIM_RETURN_IF_ERROR(LoadTimeline(conn, r, light));
  if (!light) VERBATIM_RETURN_IF_ERROR(LoadMedia(conn, r));
  return r;
}

}  // namespace

// ---------------------------------------------------------------- conversations

// The primary key decides a concurrent create (ON CONFLICT DO NOTHING).
Status PostgresStore::CreateConversation(const Conversation& c) {
  if (c.state != "connected" && c.state != "disconnected") {
    return Status::InvalidArgument("bad.request", "Conversation state must be 'connected' or 'disconnected'.");
  }
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(
        int64_t inserted,
        conn.Affected("INSERT INTO conversations (id, state, started_at, ended_at, participants, external_id, "
                      "created_by) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) ON CONFLICT (id) DO NOTHING",
                      c.id, c.state, c.started_at, c.ended_at, EncodeParticipants(c.participants), c.external_id,
                      c.created_by));
    if (inserted == 0)
      return Status::AlreadyExists("conversation.exists", "Conversation '" + c.id + "' already exists.");
    return Status::Ok();
  });
}

Result<Conversation> PostgresStore::GetConversation(const std::string& id) {
  Conversation out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(out, LoadConversation(conn, id));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<Conversation>> PostgresStore::FindConversationByExternalId(const std::string& external_id) {
  std::optional<Conversation> out;
  if (external_id.empty()) return out;  // empty means "none", never a match
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string("SELECT ") + kConversationColumns +
                                                     " WHERE external_id = $1 ORDER BY started_at DESC, seq DESC "
                                                     "LIMIT 1",
                                                 external_id));
    out.reset();
    if (rows.empty()) return Status::Ok();
    STORE_ASSIGN_OR_RETURN(out, ReadConversation(rows[0]));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Conversation>> PostgresStore::ListConversations(const Page& page) {
  std::vector<Conversation> out;
  const int limit = std::clamp(page.limit, 1, 200);
  const int offset = std::max(page.offset, 0);
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query(std::string("SELECT ") + kConversationColumns +
                                                     " ORDER BY started_at DESC, id DESC LIMIT $1 OFFSET $2",
                                                 limit, offset));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      STORE_ASSIGN_OR_RETURN(Conversation c, ReadConversation(rows[i]));
      out.push_back(std::move(c));
    }
    return Status::Ok();
  }));
  return out;
}

// Locks the conversation row: a concurrent action waits, then finds it ended.
Result<Conversation> PostgresStore::DisconnectConversation(const std::string& id, TimePoint at, const Actor& actor,
                                                           const std::string& context_id) {
  Conversation out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(out, LockConversation(conn, id));
    if (out.state == "disconnected") return ConversationEnded(out);
    VERBATIM_RETURN_IF_ERROR(
        conn.Exec("UPDATE conversations SET state = 'disconnected', ended_at = $1 WHERE id = $2", at, id));
    out.state = "disconnected";
    out.ended_at = at;

    STORE_ASSIGN_OR_RETURN(RecordingHead head, LoadHead(conn, id));
    if (head.state != RecordingState::kActive && head.state != RecordingState::kPaused) return Status::Ok();
    // Finalize like a stop, recorded as its own action so the timeline says why.
    const TransitionRule rule = NextState(head.state, RecordingAction::kStop);
    Transition t{0, "disconnect", head.state, rule.to, 0, at, actor, "conversation disconnected", context_id};
    return AppendTransition(conn, id, head, rule, t);
  }));
  return out;
}

// Read-modify-write of the participants: under the conversation lock.
Status PostgresStore::AddParticipant(const std::string& conversation_id, const Participant& p) {
  return Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Conversation c, LockConversation(conn, conversation_id));
    auto same =
        std::find_if(c.participants.begin(), c.participants.end(), [&](const Participant& q) { return q.id == p.id; });
    if (same != c.participants.end()) {
      *same = p;
    } else {
      c.participants.push_back(p);
    }
    return conn.Exec("UPDATE conversations SET participants = $1::jsonb WHERE id = $2",
                     EncodeParticipants(c.participants), conversation_id);
  });
}

// ---------------------------------------------------------------- recordings

Result<Recording> PostgresStore::GetRecording(const std::string& conversation_id) {
  Recording out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Conversation c, LoadConversation(conn, conversation_id));
    STORE_ASSIGN_OR_RETURN(out, LoadRecording(conn, c.id, c.started_at));
    out.conversation_ended = c.ended_at.has_value();
    return Status::Ok();
  }));
  return out;
}

// Under the conversation lock: two nodes acting on one conversation at once
// append one after the other, the second seeing the first's state (so a
// repeat is still the idempotent changed:false), and seq stays gap-free.
Result<ActionOutcome> PostgresStore::ApplyRecordingAction(const std::string& conversation_id, RecordingAction action,
                                                          TimePoint at, const Actor& actor, const std::string& reason,
                                                          const std::string& context_id, const AuditEvent* audit) {
  ActionOutcome out;
  std::vector<int64_t> days;
  if (audit != nullptr) days.push_back(pg::AuditDayOf(audit->at));
  VERBATIM_RETURN_IF_ERROR(WriteWithAudit(days, [&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Conversation c, LockConversation(conn, conversation_id));
    if (c.state == "disconnected") return ConversationEnded(c);
    STORE_ASSIGN_OR_RETURN(RecordingHead head, LoadHead(conn, conversation_id));
    const TransitionRule rule = NextState(head.state, action);
    if (!rule.valid) return InvalidTransition(conversation_id, head.state, action);

    // On a repeat this stays the would-be transition: seq 0, from == to, current segment.
    out.transition = Transition{0, ToString(action), head.state, rule.to, head.segments, at, actor, reason, context_id};
    out.changed = rule.changed;
    if (rule.changed) VERBATIM_RETURN_IF_ERROR(AppendTransition(conn, conversation_id, head, rule, out.transition));
    if (audit != nullptr) VERBATIM_RETURN_IF_ERROR(pg::InsertAuditRows(conn, {*audit}));
    STORE_ASSIGN_OR_RETURN(out.recording, LoadRecording(conn, c.id, c.started_at, /*light=*/true));
    return Status::Ok();
  }));
  return out;
}

Result<Recording> PostgresStore::UpdateRecordingMetadata(const std::string& conversation_id,
                                                         const RecordingMetadata& m) {
  const TimePoint now = clock_.Now();
  Recording out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Conversation c, LockConversation(conn, conversation_id));
    VERBATIM_RETURN_IF_ERROR(
        conn.Exec("INSERT INTO recordings (conversation_id, state, version, updated_at, labels, retention_days, notes) "
                  "VALUES ($1, 'none', 1, $2, $3::jsonb, $4, $5) ON CONFLICT (conversation_id) DO UPDATE SET "
                  "labels = excluded.labels, retention_days = excluded.retention_days, notes = excluded.notes, "
                  "version = recordings.version + 1, updated_at = excluded.updated_at",
                  conversation_id, now, EncodeStrings(m.labels), m.retention_days, m.notes));
    STORE_ASSIGN_OR_RETURN(out, LoadRecording(conn, c.id, c.started_at));
    return Status::Ok();
  }));
  return out;
}

Status PostgresStore::UpsertMediaFile(const std::string& conversation_id, const MediaFile& f) {
  return Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(LockConversation(conn, conversation_id));
    VERBATIM_RETURN_IF_ERROR(EnsureRecordingRow(conn, conversation_id, f.updated_at));
    VERBATIM_RETURN_IF_ERROR(conn.Exec(
        "INSERT INTO media_files (conversation_id, segment, path, format, channels, sample_rate, bytes, duration_ms, "
        "status, channel_labels, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11) "
        "ON CONFLICT (conversation_id, segment) DO UPDATE SET path = excluded.path, format = excluded.format, "
        "channels = excluded.channels, sample_rate = excluded.sample_rate, bytes = excluded.bytes, "
        "duration_ms = excluded.duration_ms, status = excluded.status, channel_labels = excluded.channel_labels, "
        "updated_at = excluded.updated_at",
        conversation_id, f.segment, f.path, f.format, f.channels, f.sample_rate, f.bytes, f.duration_ms, f.status,
        EncodeStrings(f.channel_labels), f.updated_at));
    return conn.Exec("UPDATE recordings SET version = version + 1, updated_at = $1 WHERE conversation_id = $2",
                     f.updated_at, conversation_id);
  });
}

}  // namespace verbatim::store
