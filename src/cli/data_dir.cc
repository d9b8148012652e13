// The data directory and the key-encryption key, as every command that opens
// the store prepares them (docs/secrets-at-rest.md).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "core/ids.h"
#include "core/log.h"

namespace verbatim::cli {
namespace {

// What verbatim itself keeps directly in the data directory. Only these are
// tightened: the directory may be shared with files that are not ours.
constexpr const char* kOwnFiles[] = {
    "verbatim.db", "verbatim.db-wal", "verbatim.db-shm",      "verbatim.db-journal",
    "listen.json", "listen.json.tmp", "dev-credentials.json", "dev-credentials.json.tmp",
    "node-id",     "node-id.tmp",
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

namespace {

// Tells the operator something once. `serve` writes a JSON log line (its
// stderr is a log stream); offline commands write a sentence to stderr (their
// stdout may be JSON, and they set up no logger).
void Say(const Notice& n, const std::string& text, const json::object& fields) {
  if (n.log) {
    Log(LogLevel::kWarn, text, fields);
    return;
  }
  std::cerr << n.command << ": " << text;
  const char* sep = " (";
  for (const auto& f : fields) {
    std::cerr << sep << std::string_view(f.key().data(), f.key().size()) << " "
              << (f.value().is_string() ? std::string(f.value().as_string()) : json::serialize(f.value()));
    sep = ", ";
  }
  std::cerr << (fields.empty() ? "\n" : ")\n");
}

}  // namespace

void ReportTightened(const TightenReport& report, const std::string& data_dir, const Notice& notice) {
  if (report.tightened > 0)
    Say(notice, "made files private (directories 0700, files 0600) that an earlier verbatim left readable by others",
        {{"entries", report.tightened}, {"dataDir", data_dir}, {"see", "docs/secrets-at-rest.md"}});
  size_t shown = 0;
  for (const auto& e : report.errors) {
    if (++shown > 10) break;  // a tree we cannot change: a sample is enough
    Say(notice, "cannot make private", {{"entry", e}});
  }
}

Result<api::SecretsAtRest> BindSecrets(store::Store& store, const std::string& data_dir, const std::string& kek_flag,
                                       const Notice& notice, const std::string& db_name) {
  api::SecretsAtRestOptions o;
  o.kek_path = KekPath(data_dir, kek_flag);
  o.db_name = db_name.empty() ? data_dir + "/verbatim.db" : db_name;
  auto secrets = api::OpenSecretsAtRest(store, o);
  if (!secrets.ok()) return secrets.status();
  const std::string& id = secrets->box->key_id();
  if (secrets->created)
    Say(notice,
        "created key-encryption key: back it up apart from the database; without it the database's signing keys and "
        "integration secrets cannot be read",
        {{"file", o.kek_path}, {"keyId", id}, {"see", "docs/secrets-at-rest.md"}});
  if (secrets->finished_rotation)
    Say(notice, "finished an interrupted `verbatim kek rotate`", {{"file", o.kek_path}, {"keyId", id}});
  if (secrets->migrated > 0)
    Say(notice, "sealed secrets that an earlier verbatim stored in the clear or under its in-database key",
        {{"secrets", secrets->migrated}, {"keyId", id}, {"see", "docs/secrets-at-rest.md"}});
  return secrets;
}

Result<std::string> NodeIdOf(const std::string& data_dir) {
  const std::string path = data_dir + "/node-id";
  std::ifstream in(path);
  std::string id;
  if (in && std::getline(in, id) && IsUuid(id)) return id;
  if (in) return Status::FailedPrecondition("node.id.invalid", path + " does not hold a node id (a UUID); remove it "
                                                                      "to give this node a new one.");
  id = NewUuid();
  if (!WriteFileAtomically(path, id + "\n", 0600))
    return Status::Unavailable("node.id.unwritable", "cannot write " + path);
  return id;
}

}  // namespace verbatim::cli
