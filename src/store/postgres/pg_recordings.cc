// Conversations and recordings of the PostgreSQL store. Every write that
// touches a conversation or its recording first locks the conversation row
// (SELECT … FOR NO KEY UPDATE, LockConversation): actions, disconnects,
// participants, metadata and media of one conversation serialize across every
// process sharing the database, and each runs the pure NextState() on the
// committed state it then changes. FOR NO KEY UPDATE rather than FOR UPDATE:
// it does not block the foreign-key checks of inserts into its child tables.
#include <algorithm>

#include "core/json.h"
#include "store/change_diff.h"
#include "store/postgres/pg_audit.h"
#include "store/postgres/pg_changes.h"
#include "store/postgres/postgres_store.h"
#include "store/row_codec.h"
#include "store/store_errors.h"

namespace verbatim::store {

using pg::Conn;
using pg::Row;
using pg::Rows;

namespace {

// The conversation's columns (8, aliased c) and, with FROM, what most reads select.
constexpr char kConversationFields[] =
    "c.id, c.state, c.started_at, c.ended_at, c.participants::text, c.external_id, c.created_by, c.owner";
constexpr int kConversationFieldCount = 8;
const std::string kConversationColumns = std::string(kConversationFields) + " FROM conversations c";

Result<Conversation> ReadConversation(const Row& row) {
  Conversation c;
  c.id = row.Text(0);
  c.state = row.Text(1);
  c.started_at = row.Time(2);
  c.ended_at = row.OptTime(3);
  STORE_ASSIGN_OR_RETURN(c.participants, DecodeParticipants(row.Text(4)));
  c.external_id = row.Text(5);
  c.created_by = row.Text(6);
  c.owner = row.Text(7);
  return c;
}

Result<Conversation> LoadConversation(Conn& conn, const std::string& id) {
  STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT " + kConversationColumns + " WHERE c.id = $1", id));
  if (rows.empty()) return ConversationNotFound(id);
  return ReadConversation(rows[0]);
}

// The conversation, its row locked until the transaction ends.
Result<Conversation> LockConversation(Conn& conn, const std::string& id) {
  STORE_ASSIGN_OR_RETURN(
      Rows rows, conn.Query("SELECT " + kConversationColumns + " WHERE c.id = $1 FOR NO KEY UPDATE", id));
  if (rows.empty()) return ConversationNotFound(id);
  return ReadConversation(rows[0]);
}

Result<RecordingState> ParseState(const std::string& s) {
  auto st = ParseRecordingState(s);
  if (!st) return Status::Internal("store: corrupt recording state '" + s + "'");
  return *st;
}

// Child rows come back aggregated as JSON arrays of arrays (one statement per
// call: fewer round trips, and one snapshot without a transaction block).
constexpr char kSegmentsJson[] =
    "(SELECT COALESCE(json_agg(json_build_array(s.idx, s.started_at, s.ended_at) ORDER BY s.idx), '[]'::json) "
    "FROM recording_segments s WHERE s.conversation_id = c.id)::text";
constexpr char kTransitionFields[] =
    "json_build_array(t.seq, t.action, t.from_state, t.to_state, t.segment, t.at, t.principal_type, t.principal_id, "
    "t.principal_name, t.client_id, t.reason, t.context_id)";
constexpr char kMediaJson[] =
    "(SELECT COALESCE(json_agg(json_build_array(m.segment, m.path, m.format, m.channels, m.sample_rate, m.bytes, "
    "m.duration_ms, m.status, m.channel_labels, m.updated_at, m.node_id, m.interrupted_at) ORDER BY m.segment), "
    "'[]'::json) "
    "FROM media_files m WHERE m.conversation_id = c.id)::text";

Status Corrupt(const char* what) { return Status::Internal(std::string("store: corrupt ") + what + " row"); }

Result<json::array> JsonRows(const std::string& text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return Corrupt("aggregated");
  return std::move(v.as_array());
}

int64_t Num(const json::value& v) { return v.is_int64() ? v.as_int64() : v.is_uint64() ? static_cast<int64_t>(v.as_uint64()) : 0; }
std::optional<TimePoint> OptTime(const json::value& v) {
  if (v.is_null()) return std::nullopt;
  return FromUnixMillis(Num(v));
}
std::string Str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

Result<std::vector<Segment>> ParseSegments(const std::string& text) {
  STORE_ASSIGN_OR_RETURN(json::array rows, JsonRows(text));
  std::vector<Segment> out;
  for (const auto& r : rows) {
    if (!r.is_array() || r.as_array().size() != 3) return Corrupt("segment");
    const auto& a = r.as_array();
    out.push_back(Segment{static_cast<int>(Num(a[0])), FromUnixMillis(Num(a[1])), OptTime(a[2])});
  }
  return out;
}

Result<Transition> ParseTransition(const json::value& r) {
  if (!r.is_array() || r.as_array().size() != 12) return Corrupt("transition");
  const auto& a = r.as_array();
  Transition t;
  t.seq = Num(a[0]);
  t.action = Str(a[1]);
  STORE_ASSIGN_OR_RETURN(t.from, ParseState(Str(a[2])));
  STORE_ASSIGN_OR_RETURN(t.to, ParseState(Str(a[3])));
  t.segment = static_cast<int>(Num(a[4]));
  t.at = FromUnixMillis(Num(a[5]));
  t.actor = Actor{Str(a[6]), Str(a[7]), Str(a[8]), Str(a[9])};
  t.reason = Str(a[10]);
  t.context_id = Str(a[11]);
  return t;
}

Result<std::vector<MediaFile>> ParseMedia(const std::string& text) {
  STORE_ASSIGN_OR_RETURN(json::array rows, JsonRows(text));
  std::vector<MediaFile> out;
  for (const auto& r : rows) {
    if (!r.is_array() || r.as_array().size() != 12) return Corrupt("media file");
    const auto& a = r.as_array();
    MediaFile f;
    f.segment = static_cast<int>(Num(a[0]));
    f.path = Str(a[1]);
    f.format = Str(a[2]);
    f.channels = static_cast<int>(Num(a[3]));
    f.sample_rate = static_cast<int>(Num(a[4]));
    f.bytes = Num(a[5]);
    f.duration_ms = Num(a[6]);
    f.status = Str(a[7]);
    if (!a[8].is_array()) return Corrupt("media file");
    for (const auto& l : a[8].as_array()) f.channel_labels.push_back(Str(l));
    f.updated_at = FromUnixMillis(Num(a[9]));
    f.node_id = Str(a[10]);
    f.interrupted_at = OptTime(a[11]);
    out.push_back(std::move(f));
  }
  return out;
}

// The recordings row's columns (r.*) at `col`..col+5 of a row whose
// conversation is `c`: state none (version 0, updated at the conversation's
// start) when there is no row yet.
Result<Recording> ReadRecordingRow(const Row& row, int col, const Conversation& c) {
  Recording r;
  r.conversation_id = c.id;
  r.updated_at = c.started_at;
  r.conversation_ended = c.ended_at.has_value();
  if (row.IsNull(col)) return r;
  STORE_ASSIGN_OR_RETURN(r.state, ParseState(row.Text(col)));
  r.version = row.Int(col + 1);
  r.updated_at = row.Time(col + 2);
  STORE_ASSIGN_OR_RETURN(r.metadata.labels, DecodeStrings(row.Text(col + 3)));
  if (auto days = row.OptInt(col + 4)) r.metadata.retention_days = static_cast<int>(*days);
  r.metadata.notes = row.Text(col + 5);
  return r;
}

constexpr char kRecordingColumns[] = "r.state, r.version, r.updated_at, r.labels::text, r.retention_days, r.notes";

// What a state change needs: the conversation, its row locked until the
// transaction ends, then the recording as a state change's caller sees it
// (segments, and only the latest transition) and whether its row exists yet.
// Two statements, not one: under READ COMMITTED a statement that waited for
// the lock re-checks the locked row only, its other reads keep the snapshot
// from before the wait; the second statement's snapshot comes after the lock,
// so it sees what the transaction that held it committed.
struct Locked {
  Conversation conversation;
  Recording recording;
  bool exists = false;  // the recordings row (no row: state none)
};

Result<Locked> LockForChange(Conn& conn, const std::string& id) {
  Locked l;
  STORE_ASSIGN_OR_RETURN(l.conversation, LockConversation(conn, id));
  STORE_ASSIGN_OR_RETURN(
      Rows rows, conn.Query(std::string("SELECT ") + kRecordingColumns + ", " + kSegmentsJson + ", (SELECT " +
                                kTransitionFields +
                                " FROM recording_transitions t WHERE t.conversation_id = c.id ORDER BY t.seq DESC "
                                "LIMIT 1)::text FROM conversations c LEFT JOIN recordings r ON r.conversation_id = c.id "
                                "WHERE c.id = $1",
                            id));
  if (rows.empty()) return ConversationNotFound(id);
  const Row row = rows[0];
  l.exists = !row.IsNull(0);
  STORE_ASSIGN_OR_RETURN(l.recording, ReadRecordingRow(row, 0, l.conversation));
  STORE_ASSIGN_OR_RETURN(l.recording.segments, ParseSegments(row.Text(6)));
  if (!row.IsNull(7)) {
    json::error_code ec;
    json::value last = json::parse(row.Text(7), ec);
    if (ec) return Corrupt("transition");
    STORE_ASSIGN_OR_RETURN(Transition t, ParseTransition(last));
    l.recording.timeline.push_back(std::move(t));
  }
  return l;
}

// Writes one state change in one statement, and applies it to `l.recording`
// (which then is what the SQLite store would read back: segments, the new
// transition as the whole timeline, version). `t` gets its seq and segment
// here; the rule says whether a segment opens or closes. The caller holds the
// conversation lock. The recordings row is made by the same statement if it
// is missing: foreign keys are checked at its end.
Status AppendTransition(Conn& conn, Locked& l, const TransitionRule& rule, Transition& t) {
  Recording& r = l.recording;
  const int segments = static_cast<int>(r.segments.size());
  t.seq = r.timeline.empty() ? 1 : r.timeline.back().seq + 1;
  t.segment = rule.opens_segment ? segments + 1 : segments;
  STORE_ASSIGN_OR_RETURN(
      int64_t version,
      conn.QueryInt("WITH seg_open AS (INSERT INTO recording_segments (conversation_id, idx, started_at, ended_at) "
                    "SELECT $1, $2, $3, NULL WHERE $4::boolean), "
                    "seg_close AS (UPDATE recording_segments SET ended_at = $3 "
                    "WHERE conversation_id = $1 AND ended_at IS NULL AND $5::boolean), "
                    "tr AS (INSERT INTO recording_transitions (conversation_id, seq, action, from_state, to_state, "
                    "segment, at, principal_type, principal_id, principal_name, client_id, reason, context_id) "
                    "VALUES ($1, $6, $7, $8, $9, $2, $3, $10, $11, $12, $13, $14, $15)) "
                    "INSERT INTO recordings (conversation_id, state, version, updated_at, labels, retention_days, "
                    "notes) VALUES ($1, $9, 1, $3, '[]'::jsonb, NULL, '') ON CONFLICT (conversation_id) DO UPDATE "
                    "SET state = excluded.state, version = recordings.version + 1, updated_at = excluded.updated_at "
                    "RETURNING version",
                    l.conversation.id, t.segment, t.at, rule.opens_segment, rule.closes_segment, t.seq, t.action,
                    ToString(t.from), ToString(t.to), t.actor.principal_type, t.actor.principal_id,
                    t.actor.principal_name, t.actor.client_id, t.reason, t.context_id));
  l.exists = true;
  if (rule.opens_segment) r.segments.push_back(Segment{t.segment, t.at, std::nullopt});
  if (rule.closes_segment) {
    for (Segment& seg : r.segments)
      if (!seg.ended_at) seg.ended_at = t.at;
  }
  r.state = t.to;
  r.version = version;
  r.updated_at = t.at;
  r.timeline.assign(1, t);
  return pg::LogChange(conn, TransitionChange(l.conversation.id, t));
}

// A recording row in state none, if there is none yet (metadata and media may
// arrive before the first action).
Status EnsureRecordingRow(Conn& conn, const std::string& id, TimePoint at) {
  return conn.Exec(
      "INSERT INTO recordings (conversation_id, state, version, updated_at, labels, retention_days, notes) "
      "VALUES ($1, 'none', 0, $2, '[]'::jsonb, NULL, '') ON CONFLICT (conversation_id) DO NOTHING",
      id, at);
}

// The conversation `id` and its whole recording, in one statement (so one
// snapshot, without a transaction block).
Result<Recording> LoadRecording(Conn& conn, const std::string& id) {
  STORE_ASSIGN_OR_RETURN(
      Rows rows, conn.Query(std::string("SELECT ") + kConversationFields + ", " + kRecordingColumns + ", " + kSegmentsJson + ", (SELECT COALESCE(json_agg(" +
                                kTransitionFields +
                                " ORDER BY t.seq), '[]'::json) FROM recording_transitions t "
                                "WHERE t.conversation_id = c.id)::text, " +
                                kMediaJson +
                                " FROM conversations c LEFT JOIN recordings r ON r.conversation_id = c.id "
                                "WHERE c.id = $1",
                            id));
  if (rows.empty()) return ConversationNotFound(id);
  const Row row = rows[0];
  STORE_ASSIGN_OR_RETURN(Conversation c, ReadConversation(row));
  constexpr int r0 = kConversationFieldCount;  // the recording's columns, then segments, timeline, media
  STORE_ASSIGN_OR_RETURN(Recording r, ReadRecordingRow(row, r0, c));
  if (row.IsNull(r0)) return r;
  STORE_ASSIGN_OR_RETURN(r.segments, ParseSegments(row.Text(r0 + 6)));
  STORE_ASSIGN_OR_RETURN(json::array timeline, JsonRows(row.Text(r0 + 7)));
  for (const auto& t : timeline) {
    STORE_ASSIGN_OR_RETURN(Transition tr, ParseTransition(t));
    r.timeline.push_back(std::move(tr));
  }
  STORE_ASSIGN_OR_RETURN(r.media, ParseMedia(row.Text(r0 + 8)));
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
                      "created_by, owner) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
                      c.id, c.state, c.started_at, c.ended_at, EncodeParticipants(c.participants), c.external_id,
                      c.created_by, c.owner));
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
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT " + kConversationColumns +
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
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT " + kConversationColumns +
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
                                                           const std::string& context_id, ChangeRefused* refused) {
  Conversation out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    auto locked = LockForChange(conn, id);
    if (!locked.ok()) return Refuse(refused, locked.status());
    Locked& l = *locked;
    out = l.conversation;
    if (out.state == "disconnected") return Refuse(refused, ConversationEnded(out), out);
    VERBATIM_RETURN_IF_ERROR(
        conn.Exec("UPDATE conversations SET state = 'disconnected', ended_at = $1 WHERE id = $2", at, id));
    out.state = "disconnected";
    out.ended_at = at;

    const RecordingState state = l.recording.state;
    if (state != RecordingState::kActive && state != RecordingState::kPaused) return Status::Ok();
    // Finalize like a stop, recorded as its own action so the timeline says why.
    const TransitionRule rule = NextState(state, RecordingAction::kStop);
    Transition t{0, "disconnect", state, rule.to, 0, at, actor, "conversation disconnected", context_id};
    return AppendTransition(conn, l, rule, t);
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

Status pg::LockConversationRow(Conn& conn, const std::string& id) {
  STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT 1 FROM conversations WHERE id = $1 FOR NO KEY UPDATE", id));
  return rows.empty() ? ConversationNotFound(id) : Status::Ok();
}

// ---------------------------------------------------------------- recordings

Result<Recording> PostgresStore::GetRecording(const std::string& conversation_id) {
  Recording out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(out, LoadRecording(conn, conversation_id));
    return Status::Ok();
  }));
  return out;
}

// Under the conversation lock: two nodes acting on one conversation at once
// append one after the other, the second seeing the first's state (so a
// repeat is still the idempotent changed:false), and seq stays gap-free. One
// statement reads, one writes (and one more inserts the audit event).
Result<ActionOutcome> PostgresStore::ApplyRecordingAction(const std::string& conversation_id, RecordingAction action,
                                                          TimePoint at, const Actor& actor, const std::string& reason,
                                                          const std::string& context_id, const AuditEvent* audit,
                                                          ChangeRefused* refused) {
  ActionOutcome out;
  std::vector<int64_t> days;
  if (audit != nullptr) days.push_back(pg::AuditDayOf(audit->at));
  VERBATIM_RETURN_IF_ERROR(WriteWithAudit(days, [&](Conn& conn) -> Status {
    auto locked = LockForChange(conn, conversation_id);
    if (!locked.ok()) return Refuse(refused, locked.status());
    Locked& l = *locked;
    if (l.conversation.state == "disconnected") return Refuse(refused, ConversationEnded(l.conversation), l.conversation);
    const RecordingState state = l.recording.state;
    const TransitionRule rule = NextState(state, action);
    if (!rule.valid) return Refuse(refused, InvalidTransition(conversation_id, state, action), state);

    // On a repeat this stays the would-be transition: seq 0, from == to, current segment.
    const int segments = static_cast<int>(l.recording.segments.size());
    out.transition = Transition{0, ToString(action), state, rule.to, segments, at, actor, reason, context_id};
    out.changed = rule.changed;
    if (rule.changed) VERBATIM_RETURN_IF_ERROR(AppendTransition(conn, l, rule, out.transition));
    if (audit != nullptr) VERBATIM_RETURN_IF_ERROR(pg::InsertAuditRows(conn, {*audit}));
    out.recording = std::move(l.recording);
    out.recording.conversation_ended = false;  // as the SQLite store: not filled here
    return Status::Ok();
  }));
  return out;
}

Result<Recording> PostgresStore::UpdateRecordingMetadata(const std::string& conversation_id,
                                                         const RecordingMetadata& m) {
  const TimePoint now = clock_.Now();
  Recording out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(pg::LockConversationRow(conn, conversation_id));
    VERBATIM_RETURN_IF_ERROR(conn.Exec(
        "INSERT INTO recordings (conversation_id, state, version, updated_at, labels, retention_days, notes) "
        "VALUES ($1, 'none', 1, $2, $3::jsonb, $4, $5) ON CONFLICT (conversation_id) DO UPDATE SET "
        "labels = excluded.labels, retention_days = excluded.retention_days, notes = excluded.notes, "
        "version = recordings.version + 1, updated_at = excluded.updated_at",
        conversation_id, now, EncodeStrings(m.labels), m.retention_days, m.notes));
    STORE_ASSIGN_OR_RETURN(out, LoadRecording(conn, conversation_id));
    out.conversation_ended = false;  // as the SQLite store: not filled here
    return Status::Ok();
  }));
  return out;
}

Status PostgresStore::UpsertMediaFile(const std::string& conversation_id, const MediaFile& f) {
  return Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(pg::LockConversationRow(conn, conversation_id));
    VERBATIM_RETURN_IF_ERROR(EnsureRecordingRow(conn, conversation_id, f.updated_at));
    bool became_ready = false;
    if (f.status == "complete") {
      STORE_ASSIGN_OR_RETURN(bool was_ready,
                             conn.Exists("SELECT 1 FROM media_files WHERE conversation_id = $1 AND segment = $2 "
                                         "AND status = 'complete'",
                                         conversation_id, f.segment));
      became_ready = !was_ready;
    }
    VERBATIM_RETURN_IF_ERROR(conn.Exec(
        "INSERT INTO media_files (conversation_id, segment, path, format, channels, sample_rate, bytes, duration_ms, "
        "status, channel_labels, updated_at, node_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12) "
        "ON CONFLICT (conversation_id, segment) DO UPDATE SET path = excluded.path, format = excluded.format, "
        "channels = excluded.channels, sample_rate = excluded.sample_rate, bytes = excluded.bytes, "
        "duration_ms = excluded.duration_ms, status = excluded.status, channel_labels = excluded.channel_labels, "
        "updated_at = excluded.updated_at, node_id = excluded.node_id",
        conversation_id, f.segment, f.path, f.format, f.channels, f.sample_rate, f.bytes, f.duration_ms, f.status,
        EncodeStrings(f.channel_labels), f.updated_at, f.node_id));
    VERBATIM_RETURN_IF_ERROR(
        conn.Exec("UPDATE recordings SET version = version + 1, updated_at = $1 WHERE conversation_id = $2",
                  f.updated_at, conversation_id));
    return became_ready ? pg::LogChange(conn, MediaReadyChange(conversation_id, f)) : Status::Ok();
  });
}

}  // namespace verbatim::store
