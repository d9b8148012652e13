// Audit events of the PostgreSQL store: batched appends, keyset-paged listing
// (newest first), and retention by daily partitions (docs/decisions.md
// "Audit partitions by day").
//
// Partitions are created by the writer, a few days ahead (CreatePartitions):
// as a plain table attached with ATTACH PARTITION, which takes only a SHARE
// UPDATE EXCLUSIVE lock on audit_events, so appends and reads go on
// meanwhile. Retention drops whole days; dropping takes an ACCESS EXCLUSIVE
// lock on audit_events for an instant, under a lock_timeout so that it gives
// up (and tries again next round) rather than make requests queue behind it.
#include "store/postgres/pg_audit.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <unordered_map>

#include "core/json.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/postgres_store.h"
#include "store/row_codec.h"
#include "store/store_errors.h"

namespace verbatim::store {
namespace pg {
namespace {

// Days since 1970-01-01 <-> civil date (proleptic Gregorian; H. Hinnant's algorithms).
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// `s` with every NUL and every byte that does not start a valid UTF-8
// sequence replaced by U+FFFD (PostgreSQL text holds neither).
std::string TextSafe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && c != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len == 2) ok = c >= 0xC2;  // no overlong forms
    if (ok && len == 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
    }
    if (ok && len == 4) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = c <= 0xF4 && !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

// The id of `text` (by `digest`) in audit_explanations, added if new. The
// caller holds kExplanationLock shared, so retention cannot delete the row
// between this lookup and the commit of the event that points to it.
Result<int64_t> InternExplanation(Conn& conn, const std::string& digest, std::string_view text) {
  const Bytea key{digest};
  STORE_ASSIGN_OR_RETURN(Rows found, conn.Query("SELECT id FROM audit_explanations WHERE digest = $1", key));
  if (!found.empty()) return found[0].Int(0);
  STORE_ASSIGN_OR_RETURN(Rows inserted, conn.Query("INSERT INTO audit_explanations (digest, json) VALUES ($1, $2) "
                                                   "ON CONFLICT (digest) DO NOTHING RETURNING id",
                                                   key, text));
  if (!inserted.empty()) return inserted[0].Int(0);
  // A concurrent writer inserted the same text and committed meanwhile.
  return conn.QueryInt("SELECT id FROM audit_explanations WHERE digest = $1", key);
}

constexpr char kInsertAuditSql[] =
    "INSERT INTO audit_events (context_id, at, principal_type, principal_id, principal_name, client_id, method, path, "
    "action, resource, conversation_id, decision, layer, code, status, explanation_json, explanation_id, "
    "client_address) "
    "SELECT context_id, at, principal_type, principal_id, principal_name, client_id, method, path, action, resource, "
    "conversation_id, decision, layer, code, status, explanation_json, explanation_id, client_address "
    "FROM json_to_recordset($1::json) AS x(context_id text, at bigint, principal_type text, principal_id text, "
    "principal_name text, client_id text, method text, path text, action text, resource text, conversation_id text, "
    "decision text, layer text, code text, status integer, explanation_json text, explanation_id bigint, "
    "client_address text) "
    "ON CONFLICT (at, context_id) DO NOTHING";

}  // namespace

int64_t AuditDayOf(TimePoint t) {
  const int64_t ms = ToUnixMillis(t);
  return ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs;
}

std::string AuditPartitionName(int64_t day) {
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(day, y, m, d);
  char buf[48];
  std::snprintf(buf, sizeof buf, "audit_events_%04lld%02u%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::optional<int64_t> AuditPartitionDay(std::string_view name) {
  constexpr std::string_view kPrefix = "audit_events_";
  if (name.substr(0, kPrefix.size()) != kPrefix || name.size() != kPrefix.size() + 8) return std::nullopt;
  int64_t ymd = 0;
  const char* p = name.data() + kPrefix.size();
  auto [end, ec] = std::from_chars(p, p + 8, ymd);
  if (ec != std::errc() || end != p + 8) return std::nullopt;
  const unsigned m = static_cast<unsigned>(ymd / 100 % 100), d = static_cast<unsigned>(ymd % 100);
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  return DaysFromCivil(ymd / 10000, m, d);
}

Status InsertAuditRows(Conn& conn, const std::vector<AuditEvent>& events) {
  if (events.empty()) return Status::Ok();
  std::unordered_map<std::string, int64_t> interned;  // digest -> id, within this batch
  bool holds_explanation_lock = false;
  json::array rows;
  rows.reserve(events.size());
  for (const AuditEvent& e : events) {
    std::string explanation = TextSafe(e.explanation_json);
    json::value explanation_id = nullptr;
    if (explanation.size() >= kSharedExplanationBytes) {
      if (!holds_explanation_lock) {
        VERBATIM_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock_shared($1)", kExplanationLock));
        holds_explanation_lock = true;
      }
      const std::string digest = ExplanationDigest(explanation);
      auto it = interned.find(digest);
      if (it == interned.end()) {
        STORE_ASSIGN_OR_RETURN(int64_t id, InternExplanation(conn, digest, explanation));
        it = interned.emplace(digest, id).first;
      }
      explanation_id = it->second;
      explanation.clear();
    }
    rows.emplace_back(json::object{
        {"context_id", TextSafe(e.context_id)},
        {"at", ToUnixMillis(e.at)},
        {"principal_type", TextSafe(e.actor.principal_type)},
        {"principal_id", TextSafe(e.actor.principal_id)},
        {"principal_name", TextSafe(e.actor.principal_name)},
        {"client_id", TextSafe(e.actor.client_id)},
        {"method", TextSafe(e.method)},
        {"path", TextSafe(e.path)},
        {"action", TextSafe(e.action)},
        {"resource", TextSafe(e.resource)},
        {"conversation_id", TextSafe(e.conversation_id)},
        {"decision", TextSafe(e.decision)},
        {"layer", TextSafe(e.layer)},
        {"code", TextSafe(e.code)},
        {"status", e.status},
        {"explanation_json", explanation},
        {"explanation_id", explanation_id},
        {"client_address", TextSafe(e.client_address)},
    });
  }
  return conn.Exec(kInsertAuditSql, ToJson(rows));
}

}  // namespace pg

using pg::Conn;
using pg::Row;
using pg::Rows;

namespace {

constexpr char kAuditColumns[] =
    "context_id, at, principal_type, principal_id, principal_name, client_id, method, path, action, resource, "
    "conversation_id, decision, layer, code, status, "
    "COALESCE((SELECT x.json FROM audit_explanations x WHERE x.id = audit_events.explanation_id), "
    "audit_events.explanation_json), client_address";

AuditEvent ReadAudit(const Row& row) {
  AuditEvent e;
  e.context_id = row.Text(0);
  e.at = row.Time(1);
  e.actor = Actor{row.Text(2), row.Text(3), row.Text(4), row.Text(5)};
  e.method = row.Text(6);
  e.path = row.Text(7);
  e.action = row.Text(8);
  e.resource = row.Text(9);
  e.conversation_id = row.Text(10);
  e.decision = row.Text(11);
  e.layer = row.Text(12);
  e.code = row.Text(13);
  e.status = static_cast<int>(row.Int(14));
  e.explanation_json = row.Text(15);
  e.client_address = row.Text(16);
  return e;
}

// The partitions that exist now, read from the catalog (another node may
// have created or dropped some).
Result<std::vector<int64_t>> ListPartitionDays(Conn& conn) {
  STORE_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT c.relname::text FROM pg_inherits i "
                                               "JOIN pg_class c ON c.oid = i.inhrelid "
                                               "WHERE i.inhparent = 'audit_events'::regclass"));
  std::vector<int64_t> days;
  for (int i = 0; i < rows.size(); ++i) {
    if (auto day = pg::AuditPartitionDay(rows[i].Text(0))) days.push_back(*day);
  }
  std::sort(days.begin(), days.end());
  return days;
}

}  // namespace

// ---------------------------------------------------------------- partitions

Status PostgresStore::EnsureAuditPartitions(std::vector<int64_t> days) {
  const int64_t today = pg::AuditDayOf(clock_.Now());
  for (int64_t d = today; d <= today + opts_.audit_days_ahead; ++d) days.push_back(d);
  auto missing_days = [&] {
    std::vector<int64_t> missing;
    MutexLock lock(partitions_mu_);
    for (int64_t d : days)
      if (!known_partitions_.count(d)) missing.push_back(d);
    return missing;
  };
  std::vector<int64_t> missing = missing_days();
  if (missing.empty()) return Status::Ok();
  // What exists already (made by another node, or before a restart) needs no
  // DDL lock: read the catalog first.
  STORE_ASSIGN_OR_RETURN(std::vector<int64_t> existing, AuditPartitionDays());
  {
    MutexLock lock(partitions_mu_);
    known_partitions_.insert(existing.begin(), existing.end());
  }
  missing = missing_days();
  if (missing.empty()) return Status::Ok();
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  // Serialized between nodes by kPartitionLock; IF NOT EXISTS makes the
  // second node's pass a no-op. Identifiers and bounds are our own numbers.
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock($1)", pg::kPartitionLock));
    STORE_ASSIGN_OR_RETURN(std::vector<int64_t> existing, ListPartitionDays(conn));
    for (int64_t d : missing) {
      if (std::binary_search(existing.begin(), existing.end(), d)) continue;
      const std::string name = pg::AuditPartitionName(d);
      VERBATIM_RETURN_IF_ERROR(conn.Script("CREATE TABLE " + name +
                                           " (LIKE audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS); "
                                           "ALTER TABLE audit_events ATTACH PARTITION " +
                                           name + " FOR VALUES FROM (" + std::to_string(d * pg::kDayMs) + ") TO (" +
                                           std::to_string((d + 1) * pg::kDayMs) + ")"));
    }
    return Status::Ok();
  }));
  MutexLock lock(partitions_mu_);
  known_partitions_.insert(missing.begin(), missing.end());
  return Status::Ok();
}

void PostgresStore::ForgetAuditPartitions() {
  MutexLock lock(partitions_mu_);
  known_partitions_.clear();
}

Status PostgresStore::WriteWithAudit(std::vector<int64_t> days, const Body& body) {
  for (int attempt = 0;; ++attempt) {
    VERBATIM_RETURN_IF_ERROR(EnsureAuditPartitions(days));
    bool partition_missing = false;
    Status s = Write([&](Conn& conn) -> Status {
      Status b = body(conn);
      // 23514 check_violation: "no partition of relation found for row".
      partition_missing = !b.ok() && conn.last_sqlstate() == "23514";
      return b;
    });
    if (!partition_missing || attempt > 0) return s;
    ForgetAuditPartitions();  // another node's retention dropped one we knew
  }
}

Result<std::vector<int64_t>> PostgresStore::AuditPartitionDays() {
  std::vector<int64_t> out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(out, ListPartitionDays(conn));
    return Status::Ok();
  }));
  return out;
}

// ---------------------------------------------------------------- audit

Status PostgresStore::AppendAudit(const std::vector<AuditEvent>& events) {
  if (events.empty()) return Status::Ok();
  std::vector<int64_t> days;
  for (const AuditEvent& e : events) days.push_back(pg::AuditDayOf(e.at));
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  // One statement, one transaction (one commit) for the whole batch.
  return WriteWithAudit(days, [&](Conn& conn) { return pg::InsertAuditRows(conn, events); });
}

Result<int64_t> PostgresStore::PurgeAuditBefore(TimePoint cutoff, int limit) {
  const int64_t cutoff_ms = ToUnixMillis(cutoff);
  STORE_ASSIGN_OR_RETURN(std::vector<int64_t> days, AuditPartitionDays());
  int64_t total = 0;
  // Whole days first: a DROP, however many events the day holds.
  for (int64_t d : days) {
    if ((d + 1) * pg::kDayMs > cutoff_ms) break;
    const std::string name = pg::AuditPartitionName(d);
    int64_t events = 0;
    VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
      VERBATIM_RETURN_IF_ERROR(conn.Script("SET LOCAL lock_timeout = '2s'"));
      VERBATIM_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock($1)", pg::kPartitionLock));
      STORE_ASSIGN_OR_RETURN(Rows exists, conn.Query("SELECT to_regclass($1::text) IS NOT NULL", name));
      if (exists.empty() || !exists[0].Bool(0)) {  // another node dropped it meanwhile
        events = 0;
        return Status::Ok();
      }
      STORE_ASSIGN_OR_RETURN(Rows count, conn.Simple("SELECT count(*) FROM " + name));
      events = count.empty() ? 0 : count[0].Int(0);
      return conn.Script("DROP TABLE " + name);
    }));
    {
      MutexLock lock(partitions_mu_);
      known_partitions_.erase(d);
    }
    total += events;
  }
  // Then the day that straddles the cutoff, in a bounded delete, oldest first.
  int64_t deleted = 0;
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(deleted, conn.Affected("DELETE FROM audit_events WHERE (at, context_id) IN "
                                                  "(SELECT at, context_id FROM audit_events WHERE at < $1 "
                                                  "ORDER BY at LIMIT $2)",
                                                  cutoff_ms, limit));
    return Status::Ok();
  }));
  total += deleted;
  if (deleted >= limit) return total;
  // The last batch of a round: drop the explanations nothing points to. The
  // exclusive lock waits for writers that may be about to point to one.
  VERBATIM_RETURN_IF_ERROR(Write([&](Conn& conn) -> Status {
    VERBATIM_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock($1)", pg::kExplanationLock));
    return conn.Exec(
        "DELETE FROM audit_explanations x WHERE NOT EXISTS "
        "(SELECT 1 FROM audit_events e WHERE e.explanation_id = x.id)");
  }));
  return total;
}

Result<AuditEvent> PostgresStore::GetAudit(const std::string& context_id) {
  AuditEvent out;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows,
                           conn.Query(std::string("SELECT ") + kAuditColumns +
                                          " FROM audit_events WHERE context_id = $1 ORDER BY at DESC LIMIT 1",
                                      context_id));
    if (rows.empty()) return Status::NotFound("audit.not.found", "No audit event has context id '" + context_id + "'.");
    out = ReadAudit(rows[0]);
    return Status::Ok();
  }));
  return out;
}

Result<AuditPage> PostgresStore::ListAudit(const AuditFilter& f) {
  const int limit = std::clamp(f.limit, 1, 200);
  std::optional<AuditCursor> cursor;
  if (f.cursor) {
    cursor = DecodeAuditCursor(*f.cursor);
    if (!cursor) return BadAuditCursor();
  }
  if (f.decision && *f.decision != "allow" && *f.decision != "deny")
    return Status::InvalidArgument("bad.request", "Filter 'decision' must be allow or deny.");

  // The SQL is chosen from constant fragments (one prepared statement per
  // filter combination, each able to use its index); every value is a
  // parameter. The decision is a literal so that the partial index of
  // denials applies.
  pg::Params params;
  auto next = [&params]() { return "$" + std::to_string(params.size()); };
  std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit_events WHERE true";
  if (f.conversation_id) sql += " AND conversation_id = " + (params.Add(*f.conversation_id), next());
  if (f.principal_id) sql += " AND principal_id = " + (params.Add(*f.principal_id), next());
  if (f.decision) sql += *f.decision == "deny" ? " AND decision = 'deny'" : " AND decision = 'allow'";
  if (f.since) sql += " AND at >= " + (params.Add(*f.since), next());
  if (f.until) sql += " AND at <= " + (params.Add(*f.until), next());
  if (cursor) {
    params.Add(cursor->at_ms);
    const std::string at = next();
    params.Add(cursor->context_id);
    sql += " AND (at, context_id) < (" + at + "::bigint, " + next() + "::text)";
  }
  params.Add(limit + 1);  // one extra row tells whether another page exists
  sql += " ORDER BY at DESC, context_id DESC LIMIT " + next();

  AuditPage page;
  VERBATIM_RETURN_IF_ERROR(ReadOne([&](Conn& conn) -> Status {
    STORE_ASSIGN_OR_RETURN(Rows rows, conn.Run(sql, params));
    page.events.clear();
    for (int i = 0; i < rows.size(); ++i) page.events.push_back(ReadAudit(rows[i]));
    return Status::Ok();
  }));
  if (static_cast<int>(page.events.size()) > limit) {
    page.events.pop_back();
    page.next_cursor = EncodeAuditCursor(page.events.back());
  }
  return page;
}

}  // namespace verbatim::store
