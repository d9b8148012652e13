// Offline commands that work on the data directory: init, keys rotate,
// kek rotate. Each binds the store to its key-encryption key first
// (docs/secrets-at-rest.md).
#include <filesystem>
#include <iostream>

#include "authz/catalog.h"
#include "cli/commands.h"
#include "core/ids.h"
#include "core/json.h"
#include "oauth/client_secret.h"
#include "oauth/token_service.h"
#include "store/change_diff.h"
#include "store/store.h"

namespace verbatim::cli {
namespace {

Result<std::unique_ptr<store::Store>> OpenStore(const std::string& data_dir, const std::string& database_url) {
  TightenReport tightened;
  VERBATIM_RETURN_IF_ERROR(PrepareDataDir(data_dir, "", tightened));
  ReportTightened(tightened, data_dir, Notice{"verbatim"});
  return OpenConfiguredStore(data_dir, database_url, store::SyncMode::kNormal);
}

}  // namespace

int RunInit(const std::string& data_dir, const std::string& kek_file, const std::string& name, bool as_json,
            bool force, const std::string& database_url) {
  auto store = OpenStore(data_dir, database_url);
  if (!store.ok()) {
    std::cerr << "verbatim init: " << store.status().message() << "\n";
    return kExitServer;
  }
  auto clients = (*store)->ListClients();
  if (!clients.ok()) {
    std::cerr << "verbatim init: " << clients.status().message() << "\n";
    return kExitServer;
  }
  if (!clients->empty() && !force) {
    std::cerr << "verbatim init: " << StoreName(data_dir, database_url) << " already has " << clients->size()
              << " client(s). Use the admin API, or --force to create another administrator.\n";
    return kExitUsage;
  }
  // Creates the key file on a fresh install (and binds the database to it).
  auto secrets = BindSecrets(**store, data_dir, kek_file, Notice{"verbatim init"}, StoreName(data_dir, database_url));
  if (!secrets.ok()) {
    std::cerr << "verbatim init: " << secrets.status().message() << "\n";
    return kExitServer;
  }
  store::OAuthClient c;
  c.id = NewUuid();
  c.name = name;
  c.description = "Created by verbatim init";
  for (const auto& s : authz::AllScopes()) c.allowed_scopes.push_back(s.name);
  c.allowed_grant_types = {"client_credentials"};
  c.role_ids = {authz::FindBuiltinRole("System Administrator")->id};
  const std::string secret = oauth::NewClientSecret();
  c.secret_hash = oauth::HashClientSecret(secret);
  c.created_at = c.updated_at = SystemClock::Instance().Now();
  const store::ChangeAuthor by = store::OfflineAuthor("verbatim init", c.created_at);
  if (Status s = (*store)->CreateClient(c, &by); !s.ok()) {
    std::cerr << "verbatim init: " << s.message() << "\n";
    return kExitServer;
  }
  if (as_json) {
    std::cout << json::serialize(json::object{{"clientId", c.id}, {"clientSecret", secret}}) << "\n";
  } else {
    std::cout << "Created System Administrator client '" << name << "'.\n\n"
              << "  client id:     " << c.id << "\n"
              << "  client secret: " << secret << "\n\n"
              << "The secret is shown only now; verbatim stores a hash of it.\n";
  }
  return kExitOk;
}

int RunKeysRotate(const std::string& data_dir, const std::string& kek_file, const std::string& database_url) {
  auto store = OpenStore(data_dir, database_url);
  if (!store.ok()) {
    std::cerr << "verbatim keys rotate: " << store.status().message() << "\n";
    return kExitServer;
  }
  auto secrets =
      BindSecrets(**store, data_dir, kek_file, Notice{"verbatim keys rotate"}, StoreName(data_dir, database_url));
  if (!secrets.ok()) {
    std::cerr << "verbatim keys rotate: " << secrets.status().message() << "\n";
    return kExitServer;
  }
  const TimePoint now = SystemClock::Instance().Now();
  auto key = oauth::NewSigningKey(*secrets->box, now);
  if (!key.ok()) {
    std::cerr << "verbatim keys rotate: " << key.status().message() << "\n";
    return kExitServer;
  }
  const store::SigningKey& k = *key;
  // Same retention as the server: the longest token lifetime plus leeway.
  if (Status s = (*store)->RotateKeys(k, now, now + std::chrono::seconds(86400 + 60)); !s.ok()) {
    std::cerr << "verbatim keys rotate: " << s.message() << "\n";
    return kExitServer;
  }
  std::cout << "New signing key " << k.kid
            << ". A running server picks it up within 10 seconds; old keys stay in JWKS until their tokens expire.\n";
  return kExitOk;
}

int RunKekRotate(const std::string& data_dir, const std::string& kek_file, const std::string& database_url) {
  auto store = OpenStore(data_dir, database_url);
  if (!store.ok()) {
    std::cerr << "verbatim kek rotate: " << store.status().message() << "\n";
    return kExitServer;
  }
  api::SecretsAtRestOptions o;
  o.kek_path = KekPath(data_dir, kek_file);
  o.db_name = StoreName(data_dir, database_url);
  auto r = api::RotateKeyEncryptionKey(**store, o);
  if (!r.ok()) {
    std::cerr << "verbatim kek rotate: " << r.status().message() << "\n";
    return kExitServer;
  }
  std::cout << "Re-sealed " << r->resealed << " secret(s) with the new key-encryption key " << r->new_key_id
            << " (was " << r->old_key_id << "); " << o.kek_path
            << " now holds it and the old key is gone.\n"
               "Back up the new file. Database backups taken before now still need the old key ("
            << r->old_key_id << "): keep its backup as long as you keep them (docs/secrets-at-rest.md).\n";
  return kExitOk;
}

}  // namespace verbatim::cli
