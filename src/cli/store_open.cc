// Which store a command uses: PostgreSQL when --database-url is given
// (docs/deployment.md), else the SQLite file in the data directory. Shared by
// serve, init, keys rotate, kek rotate and trunks, so they always agree.
#include <filesystem>

#include "cli/commands.h"
#include "core/log.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/postgres_store.h"

namespace verbatim::cli {

std::string StoreName(const std::string& data_dir, const std::string& database_url) {
  // Never the password: this name goes into logs and error messages.
  return database_url.empty() ? data_dir + "/verbatim.db" : store::pg::RedactDatabaseUrl(database_url);
}

Result<std::unique_ptr<store::Store>> OpenConfiguredStore(const std::string& data_dir, const std::string& database_url,
                                                          store::SyncMode sync) {
  if (database_url.empty()) {
    store::SqliteOptions o;
    o.path = data_dir + "/verbatim.db";
    o.sync = sync;
    return store::OpenSqliteStore(o, SystemClock::Instance());
  }
  store::PostgresOptions o;
  o.url = database_url;
  return store::OpenPostgresStore(o, SystemClock::Instance());
}

Result<std::unique_ptr<store::Store>> OpenOfflineStore(const std::string& data_dir, bool create,
                                                      const std::string& database_url) {
  if (!database_url.empty()) return OpenConfiguredStore(data_dir, database_url, store::SyncMode::kNormal);
  if (!create && !std::filesystem::exists(data_dir + "/verbatim.db"))
    return Status::NotFound("store.missing", "no verbatim database in " + data_dir);
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::Internal("cannot create " + data_dir + ": " + ec.message());
  store::SqliteOptions o;
  o.path = data_dir + "/verbatim.db";
  return store::OpenSqliteStore(o, SystemClock::Instance());
}

}  // namespace verbatim::cli
