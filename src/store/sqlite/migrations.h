// Versioned schema of the SQLite store. PRAGMA user_version holds the number of
// steps applied; Migrate() applies the missing ones in one write transaction.
#pragma once

#include "core/status.h"
#include "store/sqlite/sqlite_db.h"

namespace verbatim::store::sqlite {

int LatestSchemaVersion();

// No-op when the file is already at the latest version. FailedPrecondition
// "store.version.unsupported" when the file was written by a newer verbatim.
Status Migrate(Db& db);

}  // namespace verbatim::store::sqlite
