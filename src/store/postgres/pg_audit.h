// Internal to the PostgreSQL store: audit rows and their daily partitions,
// shared by pg_audit.cc and pg_recordings.cc (a transition commits its audit
// event in its own transaction).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/model.h"
#include "store/postgres/pg_conn.h"

namespace verbatim::store::pg {

inline constexpr int64_t kDayMs = 86'400'000;

// The UTC day (days since 1970-01-01) that holds `t`, i.e. its audit partition.
int64_t AuditDayOf(TimePoint t);
// "audit_events_YYYYMMDD", and back (nullopt for any other name).
std::string AuditPartitionName(int64_t day);
std::optional<int64_t> AuditPartitionDay(std::string_view name);

// Inserts `events` in one statement (a duplicate (at, context_id) is
// ignored), interning long explanations first. Text PostgreSQL cannot keep
// (NUL, invalid UTF-8) is replaced by U+FFFD: an audit event is never refused
// for what a request contained. The partitions of their days must exist.
Status InsertAuditRows(Conn& conn, const std::vector<AuditEvent>& events);

}  // namespace verbatim::store::pg
