// Versioned schema of the PostgreSQL store, like the SQLite one
// (store/sqlite/migrations.h): table schema_version holds the number of steps
// applied; Migrate() applies the missing ones in one transaction (DDL is
// transactional in PostgreSQL: a failed step leaves nothing behind).
//
// Several nodes starting at once migrate once: Migrate() holds a session
// advisory lock (kMigrationLock) while it reads the version and applies the
// steps, so the others wait and then find the schema current.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "store/postgres/pg_conn.h"

namespace verbatim::store::pg {

// Advisory lock keys (per database). Constants, so every node agrees.
inline constexpr int64_t kMigrationLock = 0x7665726261'01;    // schema migration and the organization row
inline constexpr int64_t kPartitionLock = 0x7665726261'02;    // creating or dropping audit partitions
inline constexpr int64_t kExplanationLock = 0x7665726261'03;  // interning vs. purging shared explanations
inline constexpr int64_t kKeyRotationLock = 0x7665726261'04;  // RotateKeys: one active signing key
inline constexpr int64_t kResealLock = 0x7665726261'05;       // ResealSecrets: compare-and-set of the key check
inline constexpr int64_t kChangeLogLock = 0x7665726261'06;    // change-log inserts commit in id order
// The two-key form (this, hashtext(family_id)): one lock per refresh token
// family, so that a rotation and a revocation of one family never interleave.
// Two-key locks are a key space of their own: no clash with the keys above.
inline constexpr int32_t kRefreshFamilyLockSpace = 0x76657206;

int LatestSchemaVersion();

// No-op when the database is already at the latest version. FailedPrecondition
// "store.version.unsupported" when it was written by a newer verbatim.
Status Migrate(Conn& conn);

}  // namespace verbatim::store::pg
