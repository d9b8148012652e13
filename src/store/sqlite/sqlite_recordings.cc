// Conversations and recordings of the SQLite store. Every state change runs the
// pure NextState() on the committed state inside one write transaction, so
// concurrent actions on one conversation serialize on the writer.
#include <algorithm>

#include "store/change_diff.h"
#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_errors.h"

namespace verbatim::store {

using sqlite::Db;
using sqlite::Stmt;

namespace {

constexpr char kConversationSelect[] =
    "SELECT id, state, started_at, ended_at, participants, external_id, created_by, owner FROM conversations";

Result<Conversation> ReadConversation(const Stmt& st) {
  Conversation c;
  c.id = st.Text(0);
  c.state = st.Text(1);
  c.started_at = st.Time(2);
  c.ended_at = st.OptTime(3);
  STORE_ASSIGN_OR_RETURN(c.participants, sqlite::DecodeParticipants(st.Text(4)));
  c.external_id = st.Text(5);
  c.created_by = st.Text(6);
  c.owner = st.Text(7);
  return c;
}

Result<Conversation> LoadConversation(Db& db, const std::string& id) {
  Stmt st = db.Query(std::string(kConversationSelect) + " WHERE id = ?", id);
  STORE_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return ConversationNotFound(id);
  return ReadConversation(st);
}

Status CheckConversationExists(Db& db, const std::string& id) {
  STORE_ASSIGN_OR_RETURN(bool exists, db.Exists("SELECT 1 FROM conversations WHERE id = ?", id));
  return exists ? Status::Ok() : ConversationNotFound(id);
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
  int segments = 0;  // count = index of the latest segment (indices are 1..count)
};

Result<RecordingHead> LoadHead(Db& db, const std::string& id) {
  RecordingHead head;
  {
    Stmt st = db.Query("SELECT state FROM recordings WHERE conversation_id = ?", id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return head;
    head.exists = true;
    STORE_ASSIGN_OR_RETURN(head.state, ParseState(st.Text(0)));
  }
  STORE_ASSIGN_OR_RETURN(int64_t n,
                         db.QueryInt("SELECT COALESCE(MAX(idx), 0) FROM recording_segments WHERE conversation_id = ?", id));
  head.segments = static_cast<int>(n);
  return head;
}

// A recording row in state none, if there is none yet (metadata and media may
// arrive before the first action).
Status EnsureRecordingRow(Db& db, const std::string& id, TimePoint at) {
  return db.Exec(
      "INSERT INTO recordings (conversation_id, state, version, updated_at, labels, retention_days, notes) "
      "VALUES (?, 'none', 0, ?, '[]', NULL, '') ON CONFLICT (conversation_id) DO NOTHING",
      id, at);
}

// Writes one state change: `t` gets its seq and segment here; the rule says
// whether a segment opens or closes.
Status AppendTransition(Db& db, const std::string& id, const RecordingHead& head, const TransitionRule& rule,
                        Transition& t) {
  if (!head.exists) VERBATIM_RETURN_IF_ERROR(EnsureRecordingRow(db, id, t.at));
  STORE_ASSIGN_OR_RETURN(
      int64_t last_seq,
      db.QueryInt("SELECT COALESCE(MAX(seq), 0) FROM recording_transitions WHERE conversation_id = ?", id));
  t.seq = last_seq + 1;
  t.segment = head.segments;
  if (rule.opens_segment) {
    t.segment = head.segments + 1;
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("INSERT INTO recording_segments (conversation_id, idx, started_at, ended_at) VALUES (?, ?, ?, NULL)",
                id, t.segment, t.at));
  }
  if (rule.closes_segment) {
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("UPDATE recording_segments SET ended_at = ? WHERE conversation_id = ? AND ended_at IS NULL", t.at, id));
  }
  VERBATIM_RETURN_IF_ERROR(
      db.Exec("INSERT INTO recording_transitions (conversation_id, seq, action, from_state, to_state, segment, at, "
              "principal_type, principal_id, principal_name, client_id, reason, context_id) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              id, t.seq, t.action, ToString(t.from), ToString(t.to), t.segment, t.at, t.actor.principal_type,
              t.actor.principal_id, t.actor.principal_name, t.actor.client_id, t.reason, t.context_id));
  VERBATIM_RETURN_IF_ERROR(
      db.Exec("UPDATE recordings SET state = ?, version = version + 1, updated_at = ? WHERE conversation_id = ?",
              ToString(t.to), t.at, id));
  return sqlite::InsertChange(db, TransitionChange(id, t));
}

Status LoadSegments(Db& db, Recording& r) {
  Stmt st = db.Query("SELECT idx, started_at, ended_at FROM recording_segments WHERE conversation_id = ? ORDER BY idx",
                     r.conversation_id);
  for (;;) {
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    r.segments.push_back(Segment{static_cast<int>(st.Int(0)), st.Time(1), st.OptTime(2)});
  }
}

// The whole timeline, or (latest_only) just its last transition.
Status LoadTimeline(Db& db, Recording& r, bool latest_only = false) {
  Stmt st = db.Query(
      latest_only
          ? "SELECT seq, action, from_state, to_state, segment, at, principal_type, principal_id, principal_name, "
            "client_id, reason, context_id FROM recording_transitions WHERE conversation_id = ? "
            "ORDER BY seq DESC LIMIT 1"
          : "SELECT seq, action, from_state, to_state, segment, at, principal_type, principal_id, principal_name, "
            "client_id, reason, context_id FROM recording_transitions WHERE conversation_id = ? ORDER BY seq",
      r.conversation_id);
  for (;;) {
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    Transition t;
    t.seq = st.Int(0);
    t.action = st.Text(1);
    STORE_ASSIGN_OR_RETURN(t.from, ParseState(st.Text(2)));
    STORE_ASSIGN_OR_RETURN(t.to, ParseState(st.Text(3)));
    t.segment = static_cast<int>(st.Int(4));
    t.at = st.Time(5);
    t.actor = Actor{st.Text(6), st.Text(7), st.Text(8), st.Text(9)};
    t.reason = st.Text(10);
    t.context_id = st.Text(11);
    r.timeline.push_back(std::move(t));
  }
}

Status LoadMedia(Db& db, Recording& r) {
  Stmt st = db.Query(
      "SELECT segment, path, format, channels, sample_rate, bytes, duration_ms, status, channel_labels, updated_at, "
      "node_id, interrupted_at FROM media_files WHERE conversation_id = ? ORDER BY segment",
      r.conversation_id);
  for (;;) {
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    MediaFile f;
    f.segment = static_cast<int>(st.Int(0));
    f.path = st.Text(1);
    f.format = st.Text(2);
    f.channels = static_cast<int>(st.Int(3));
    f.sample_rate = static_cast<int>(st.Int(4));
    f.bytes = st.Int(5);
    f.duration_ms = st.Int(6);
    f.status = st.Text(7);
    STORE_ASSIGN_OR_RETURN(f.channel_labels, sqlite::DecodeStrings(st.Text(8)));
    f.updated_at = st.Time(9);
    f.node_id = st.Text(10);
    f.interrupted_at = st.OptTime(11);
    r.media.push_back(std::move(f));
  }
}

// The whole recording; state none (version 0, updated at the conversation's
// start) when no row exists yet. `light`: what a state change's caller needs,
// at a cost that does not grow with the history: the timeline holds only the
// latest transition and media is not loaded.
Result<Recording> LoadRecording(Db& db, const std::string& conversation_id, TimePoint started_at,
                                bool light = false) {
  Recording r;
  r.conversation_id = conversation_id;
  r.updated_at = started_at;
  {
    Stmt st = db.Query(
        "SELECT state, version, updated_at, labels, retention_days, notes FROM recordings WHERE conversation_id = ?",
        conversation_id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return r;
    STORE_ASSIGN_OR_RETURN(r.state, ParseState(st.Text(0)));
    r.version = st.Int(1);
    r.updated_at = st.Time(2);
    STORE_ASSIGN_OR_RETURN(r.metadata.labels, sqlite::DecodeStrings(st.Text(3)));
    if (auto days = st.OptInt(4)) r.metadata.retention_days = static_cast<int>(*days);
    r.metadata.notes = st.Text(5);
  }
  VERBATIM_RETURN_IF_ERROR(LoadSegments(db, r));
  VERBATIM_RETURN_IF_ERROR(LoadTimeline(db, r, light));
  if (!light) VERBATIM_RETURN_IF_ERROR(LoadMedia(db, r));
  return r;
}

}  // namespace

// ---------------------------------------------------------------- conversations

Status SqliteStore::CreateConversation(const Conversation& c) {
  if (c.state != "connected" && c.state != "disconnected") {
    return Status::InvalidArgument("bad.request", "Conversation state must be 'connected' or 'disconnected'.");
  }
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(bool exists, db.Exists("SELECT 1 FROM conversations WHERE id = ?", c.id));
    if (exists) return Status::AlreadyExists("conversation.exists", "Conversation '" + c.id + "' already exists.");
    return db.Exec(
        "INSERT INTO conversations (id, state, started_at, ended_at, participants, external_id, created_by, owner) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        c.id, c.state, c.started_at, c.ended_at, sqlite::EncodeParticipants(c.participants), c.external_id,
        c.created_by, c.owner);
  });
}

Result<Conversation> SqliteStore::GetConversation(const std::string& id) {
  Conversation out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(out, LoadConversation(db, id));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<Conversation>> SqliteStore::FindConversationByExternalId(const std::string& external_id) {
  std::optional<Conversation> out;
  if (external_id.empty()) return out;  // empty means "none", never a match
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query(
        std::string(kConversationSelect) + " WHERE external_id = ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
        external_id);
    STORE_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    STORE_ASSIGN_OR_RETURN(out, ReadConversation(st));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Conversation>> SqliteStore::ListConversations(const Page& page) {
  std::vector<Conversation> out;
  const int limit = std::clamp(page.limit, 1, 200);
  const int offset = std::max(page.offset, 0);
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    Stmt st = db.Query(std::string(kConversationSelect) + " ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?", limit,
                       offset);
    for (;;) {
      STORE_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Status::Ok();
      STORE_ASSIGN_OR_RETURN(Conversation c, ReadConversation(st));
      out.push_back(std::move(c));
    }
  }));
  return out;
}

Result<Conversation> SqliteStore::DisconnectConversation(const std::string& id, TimePoint at, const Actor& actor,
                                                         const std::string& context_id, ChangeRefused* refused) {
  Conversation out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    auto loaded = LoadConversation(db, id);
    if (!loaded.ok()) return Refuse(refused, loaded.status());
    out = std::move(*loaded);
    if (out.state == "disconnected") return Refuse(refused, ConversationEnded(out), out);
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("UPDATE conversations SET state = 'disconnected', ended_at = ? WHERE id = ?", at, id));
    out.state = "disconnected";
    out.ended_at = at;

    STORE_ASSIGN_OR_RETURN(RecordingHead head, LoadHead(db, id));
    if (head.state != RecordingState::kActive && head.state != RecordingState::kPaused) return Status::Ok();
    // Finalize like a stop, recorded as its own action so the timeline says why.
    const TransitionRule rule = NextState(head.state, RecordingAction::kStop);
    Transition t{0, "disconnect", head.state, rule.to, 0, at, actor, "conversation disconnected", context_id};
    return AppendTransition(db, id, head, rule, t);
  }));
  return out;
}

Status SqliteStore::AddParticipant(const std::string& conversation_id, const Participant& p) {
  return Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(Conversation c, LoadConversation(db, conversation_id));
    auto same =
        std::find_if(c.participants.begin(), c.participants.end(), [&](const Participant& q) { return q.id == p.id; });
    if (same != c.participants.end()) {
      *same = p;
    } else {
      c.participants.push_back(p);
    }
    return db.Exec("UPDATE conversations SET participants = ? WHERE id = ?", sqlite::EncodeParticipants(c.participants),
                   conversation_id);
  });
}

// ---------------------------------------------------------------- recordings

Result<Recording> SqliteStore::GetRecording(const std::string& conversation_id) {
  Recording out;
  VERBATIM_RETURN_IF_ERROR(Read([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(Conversation c, LoadConversation(db, conversation_id));
    STORE_ASSIGN_OR_RETURN(out, LoadRecording(db, c.id, c.started_at));
    out.conversation_ended = c.ended_at.has_value();
    return Status::Ok();
  }));
  return out;
}

Result<ActionOutcome> SqliteStore::ApplyRecordingAction(const std::string& conversation_id, RecordingAction action,
                                                        TimePoint at, const Actor& actor, const std::string& reason,
                                                        const std::string& context_id, const AuditEvent* audit,
                                                        ChangeRefused* refused) {
  ActionOutcome out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    auto loaded = LoadConversation(db, conversation_id);
    if (!loaded.ok()) return Refuse(refused, loaded.status());
    const Conversation& c = *loaded;
    if (c.state == "disconnected") return Refuse(refused, ConversationEnded(c), c);
    STORE_ASSIGN_OR_RETURN(RecordingHead head, LoadHead(db, conversation_id));
    const TransitionRule rule = NextState(head.state, action);
    if (!rule.valid) return Refuse(refused, InvalidTransition(conversation_id, head.state, action), head.state);

    // On a repeat this stays the would-be transition: seq 0, from == to, current segment.
    out.transition = Transition{0, ToString(action), head.state, rule.to, head.segments, at, actor, reason, context_id};
    out.changed = rule.changed;
    if (rule.changed) VERBATIM_RETURN_IF_ERROR(AppendTransition(db, conversation_id, head, rule, out.transition));
    if (audit != nullptr) VERBATIM_RETURN_IF_ERROR(sqlite::InsertAudit(db, *audit));
    STORE_ASSIGN_OR_RETURN(out.recording, LoadRecording(db, c.id, c.started_at, /*light=*/true));
    return Status::Ok();
  }));
  return out;
}

Result<Recording> SqliteStore::UpdateRecordingMetadata(const std::string& conversation_id, const RecordingMetadata& m) {
  const TimePoint now = clock_.Now();
  Recording out;
  VERBATIM_RETURN_IF_ERROR(Write([&](Db& db) -> Status {
    STORE_ASSIGN_OR_RETURN(Conversation c, LoadConversation(db, conversation_id));
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("INSERT INTO recordings (conversation_id, state, version, updated_at, labels, retention_days, notes) "
                "VALUES (?, 'none', 1, ?, ?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE SET "
                "labels = excluded.labels, retention_days = excluded.retention_days, notes = excluded.notes, "
                "version = version + 1, updated_at = excluded.updated_at",
                conversation_id, now, sqlite::EncodeStrings(m.labels), m.retention_days, m.notes));
    STORE_ASSIGN_OR_RETURN(out, LoadRecording(db, c.id, c.started_at));
    return Status::Ok();
  }));
  return out;
}

Status SqliteStore::UpsertMediaFile(const std::string& conversation_id, const MediaFile& f) {
  return Write([&](Db& db) -> Status {
    VERBATIM_RETURN_IF_ERROR(CheckConversationExists(db, conversation_id));
    VERBATIM_RETURN_IF_ERROR(EnsureRecordingRow(db, conversation_id, f.updated_at));
    bool became_ready = false;
    if (f.status == "complete") {
      STORE_ASSIGN_OR_RETURN(bool was_ready,
                             db.Exists("SELECT 1 FROM media_files WHERE conversation_id = ? AND segment = ? "
                                       "AND status = 'complete'",
                                       conversation_id, f.segment));
      became_ready = !was_ready;
    }
    VERBATIM_RETURN_IF_ERROR(db.Exec(
        "INSERT INTO media_files (conversation_id, segment, path, format, channels, sample_rate, bytes, duration_ms, "
        "status, channel_labels, updated_at, node_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (conversation_id, segment) DO UPDATE SET path = excluded.path, format = excluded.format, "
        "channels = excluded.channels, sample_rate = excluded.sample_rate, bytes = excluded.bytes, "
        "duration_ms = excluded.duration_ms, status = excluded.status, channel_labels = excluded.channel_labels, "
        "updated_at = excluded.updated_at, node_id = excluded.node_id",
        conversation_id, f.segment, f.path, f.format, f.channels, f.sample_rate, f.bytes, f.duration_ms, f.status,
        sqlite::EncodeStrings(f.channel_labels), f.updated_at, f.node_id));
    VERBATIM_RETURN_IF_ERROR(
        db.Exec("UPDATE recordings SET version = version + 1, updated_at = ? WHERE conversation_id = ?", f.updated_at,
                conversation_id));
    return became_ready ? sqlite::InsertChange(db, MediaReadyChange(conversation_id, f)) : Status::Ok();
  });
}

}  // namespace verbatim::store
