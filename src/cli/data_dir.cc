// The data directory and the key-encryption key, as every command that opens
// the store prepares them (docs/secrets-at-rest.md).
#include <sys/stat.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"

namespace verbatim::cli {
namespace {

// What verbatim itself keeps directly in the data directory. Only these are
// tightened: the directory may be shared with files that are not ours.
constexpr const char* kOwnFiles[] = {
    "verbatim.db",  "verbatim.db-wal",      "verbatim.db-shm",          "verbatim.db-journal", "listen.json",
    "listen.json.tmp", "dev-credentials.json", "dev-credentials.json.tmp",
};

}  // namespace

std::string KekPath(const std::string& data_dir, const std::string& flag) {
  return flag.empty() ? data_dir + "/kek" : flag;
}

Status PrepareDataDir(const std::string& data_dir, const std::string& media_dir, TightenReport& report) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::Internal("cannot create data dir " + data_dir + ": " + ec.message());
  MakePrivate(data_dir, report);
  for (const char* name : kOwnFiles) MakePrivate(std::filesystem::path(data_dir) / name, report);
  if (!media_dir.empty()) {
    std::filesystem::create_directories(media_dir, ec);
    if (ec) return Status::Internal("cannot create media dir " + media_dir + ": " + ec.message());
    MakePrivateTree(media_dir, report);  // every conversation's directory and WAV
  }
  return Status::Ok();
}

void ReportTightened(const TightenReport& report, const std::string& data_dir, const char* command) {
  // stderr, not the log: offline commands print JSON on stdout and set up no logger.
  if (report.tightened > 0)
    std::cerr << command << ": made " << report.tightened << " file(s) and directories under " << data_dir
              << " private (directories 0700, files 0600); an earlier verbatim left them readable by others "
                 "(docs/secrets-at-rest.md).\n";
  size_t shown = 0;
  for (const auto& e : report.errors) {
    if (++shown > 10) break;  // a tree we cannot change: a sample is enough
    std::cerr << command << ": warning: cannot make private: " << e << "\n";
  }
}

Result<api::SecretsAtRest> BindSecrets(store::Store& store, const std::string& data_dir, const std::string& kek_flag,
                                       const char* command) {
  api::SecretsAtRestOptions o;
  o.kek_path = KekPath(data_dir, kek_flag);
  o.db_name = data_dir + "/verbatim.db";
  auto secrets = api::OpenSecretsAtRest(store, o);
  if (!secrets.ok()) return secrets.status();
  // Said on stderr, not only in the log: these need the operator's attention once.
  if (secrets->created)
    std::cerr << command << ": created key-encryption key " << o.kek_path << " (key id " << secrets->box->key_id()
              << "). Back it up apart from the database: without it, the signing keys and integration secrets in "
              << o.db_name << " cannot be read (docs/secrets-at-rest.md).\n";
  if (secrets->finished_rotation)
    std::cerr << command << ": finished an interrupted `verbatim kek rotate`: " << o.kek_path << " now holds key id "
              << secrets->box->key_id() << ".\n";
  if (secrets->migrated > 0)
    std::cerr << command << ": sealed " << secrets->migrated
              << " secret(s) stored in the clear or under the old in-database key, with key-encryption key "
              << secrets->box->key_id() << ".\n";
  return secrets;
}

}  // namespace verbatim::cli
