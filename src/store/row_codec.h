// Column encodings shared by the SQLite and PostgreSQL stores: string lists and
// participants are JSON arrays, and the audit page cursor is the same opaque
// text for both, so a client's cursor means the same thing on either store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/model.h"

namespace verbatim::store {

std::string EncodeStrings(const std::vector<std::string>& v);
Result<std::vector<std::string>> DecodeStrings(std::string_view json);  // Internal on a corrupt column
std::string EncodeParticipants(const std::vector<Participant>& v);
Result<std::vector<Participant>> DecodeParticipants(std::string_view json);

// Position of the last event on an audit page: (at, context_id) is unique and
// is the order of every audit index, so "strictly older than the cursor" is a
// range scan.
struct AuditCursor {
  int64_t at_ms = 0;
  std::string context_id;
};
std::string EncodeAuditCursor(const AuditEvent& e);
std::optional<AuditCursor> DecodeAuditCursor(std::string_view text);  // nullopt: not one we issued
// InvalidArgument "bad.request" for a cursor DecodeAuditCursor refuses.
Status BadAuditCursor();

// Explanations at least this long are stored once per distinct text and
// pointed to (allowed requests' compact ones, ~300 bytes, stay inline).
inline constexpr size_t kSharedExplanationBytes = 512;
// The 32-byte BLAKE2b digest that identifies a shared explanation.
std::string ExplanationDigest(std::string_view text);

}  // namespace verbatim::store
