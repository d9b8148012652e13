#include "cli/dev_seed.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "transports/http/integration_secrets.h"
#include "authz/catalog.h"
#include "cli/commands.h"
#include "core/ids.h"
#include "oauth/client_secret.h"
#include "oauth/password_hash.h"
#include "store/change_diff.h"

namespace verbatim::cli {
namespace {

constexpr const char* kAdminName = "verbatim-dev-admin";
constexpr const char* kCrmName = "crm-integration";
constexpr const char* kAudioHookName = "verbatim-dev-audiohook";
constexpr const char* kDevUsername = "admin";

// What the seeding changes is logged as done by the server's dev mode.
store::ChangeAuthor DevAuthor(api::App& app) { return store::OfflineAuthor("verbatim serve --dev", app.clock().Now()); }

// Creates the client, or rotates the secret of the existing one with that name.
Result<std::pair<std::string, std::string>> EnsureClient(api::App& app, const std::string& name,
                                                         std::vector<std::string> scopes, const std::string& role) {
  const store::ChangeAuthor by = DevAuthor(app);
  const std::string secret = oauth::NewClientSecret();
  for (auto c : app.directory().Clients()) {
    if (c.name != name) continue;
    c.secret_hash = oauth::HashClientSecret(secret);
    c.updated_at = app.clock().Now();
    // A new secret refuses the tokens issued with the old one (oauth/client_cutoff.h).
    if (auto stored = app.directory().UpdateClient(c, &by); !stored.ok()) return stored.status();
    return std::make_pair(c.id, secret);
  }
  store::OAuthClient c;
  c.id = NewUuid();
  c.name = name;
  c.description = "Created by verbatim serve --dev";
  c.allowed_scopes = std::move(scopes);
  c.allowed_grant_types = {"client_credentials"};
  c.role_ids = {authz::FindBuiltinRole(role)->id};
  c.secret_hash = oauth::HashClientSecret(secret);
  c.created_at = c.updated_at = app.clock().Now();
  if (Status s = app.directory().CreateClient(c, &by); !s.ok()) return s;
  return std::make_pair(c.id, secret);
}

// Creates the dev AudioHook integration, or gives the existing one (same id
// and API key) a new secret: the old one cannot be shown again.
Result<std::pair<std::string, std::string>> EnsureIntegration(api::App& app, const std::string& name) {
  const store::ChangeAuthor by = DevAuthor(app);
  auto all = app.store().ListIntegrations();
  if (!all.ok()) return all.status();
  const store::MediaIntegration* existing = nullptr;
  for (const auto& m : *all)
    if (m.name == name) existing = &m;
  // The sealed secret is bound to the integration's id: seal it for the id it keeps.
  api::NewIntegration n = api::MakeIntegration(app.secrets(), name, {authz::FindBuiltinRole("Media Ingest")->id},
                                               app.clock().Now(), existing ? existing->id : std::string());
  if (existing) {
    n.record.api_key = existing->api_key;
    n.record.role_ids = existing->role_ids;
    n.record.created_at = existing->created_at;
    // The store has no update for integrations; dev mode can afford delete + create.
    if (Status s = app.store().DeleteIntegration(existing->id, &by); !s.ok()) return s;
  }
  if (Status s = app.store().CreateIntegration(n.record, &by); !s.ok()) return s;
  return std::make_pair(n.record.api_key, n.client_secret);
}

// The demo administrator who signs in (docs/users.md): created once, with a
// new password on every dev start (only its hash is stored).
Result<std::string> EnsureDevUser(api::App& app) {
  const store::ChangeAuthor by = DevAuthor(app);
  const std::string password = oauth::NewUserPassword();
  auto hash = oauth::HashPassword(password);
  if (!hash.ok()) return hash.status();
  if (auto existing = app.directory().FindUserByUsername(kDevUsername)) {
    store::User u = *existing;
    u.password_hash = std::move(*hash);
    u.enabled = true;
    u.updated_at = app.clock().Now();
    if (auto stored = app.directory().UpdateUser(std::move(u), &by); !stored.ok()) return stored.status();
    return password;
  }
  store::User u;
  u.id = NewUuid();
  u.username = kDevUsername;
  u.display_name = "Demo Administrator";
  u.role_ids = {authz::FindBuiltinRole("System Administrator")->id};
  u.password_hash = std::move(*hash);
  u.created_at = u.updated_at = app.clock().Now();
  if (Status s = app.directory().CreateUser(u, &by); !s.ok()) return s;
  return password;
}

std::string PreviousConversation(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  auto o = ParseJsonObject(ss.str());
  if (!o.ok()) return {};
  auto id = GetString(*o, "conversationId");
  return id.ok() && *id ? **id : std::string();
}

}  // namespace

Result<DevCredentials> SeedDevOrganization(api::App& app, const std::string& data_dir) {
  DevCredentials d;
  std::vector<std::string> all_scopes;
  for (const auto& s : authz::AllScopes()) all_scopes.push_back(s.name);
  auto admin = EnsureClient(app, kAdminName, all_scopes, "System Administrator");
  if (!admin.ok()) return admin.status();
  auto crm = EnsureClient(app, kCrmName, {"recording:write", "recording:control", "conversation:read"},
                          "Recording Controller");
  if (!crm.ok()) return crm.status();
  std::tie(d.admin_id, d.admin_secret) = *admin;
  std::tie(d.crm_id, d.crm_secret) = *crm;
  auto audiohook = EnsureIntegration(app, kAudioHookName);
  if (!audiohook.ok()) return audiohook.status();
  std::tie(d.audiohook_api_key, d.audiohook_secret) = *audiohook;
  auto user_password = EnsureDevUser(app);
  if (!user_password.ok()) return user_password.status();
  d.user_name = kDevUsername;
  d.user_password = *user_password;

  const std::string creds_path = data_dir + "/dev-credentials.json";
  std::string previous = PreviousConversation(creds_path);
  if (!previous.empty()) {
    auto conv = app.store().GetConversation(previous);
    if (conv.ok() && conv->state == "connected") d.conversation_id = previous;
  }
  if (d.conversation_id.empty()) {
    store::Conversation c;
    c.id = NewUuid();
    c.started_at = app.clock().Now();
    c.created_by = d.admin_id;
    c.participants = {{NewUuid(), "Alice Customer", "customer"}, {NewUuid(), "Bob Agent", "agent"}};
    if (Status s = app.store().CreateConversation(c); !s.ok()) return s;
    d.conversation_id = c.id;
  }

  json::object file;
  file["admin"] = json::object{{"clientId", d.admin_id}, {"clientSecret", d.admin_secret}};
  file["crmIntegration"] = json::object{{"clientId", d.crm_id}, {"clientSecret", d.crm_secret}};
  file["user"] = json::object{{"username", d.user_name}, {"password", d.user_password}};
  file["conversationId"] = d.conversation_id;
  file["audiohook"] = json::object{{"path", "/api/v2/media/audiohook"},
                                   {"apiKey", d.audiohook_api_key},
                                   {"clientSecret", d.audiohook_secret}};
  if (!WriteFileAtomically(creds_path, json::serialize(file) + "\n", 0600))
    return Status::Internal("cannot write " + creds_path);
  return d;
}

void PrintDevBanner(const DevCredentials& d, const std::string& issuer, const std::string& data_dir) {
  std::cout << "\n"
               "==> verbatim is running in DEVELOPMENT mode.\n"
               "    WARNING: dev mode is for trying things out. Its credentials are written in\n"
               "    plain text to "
            << data_dir
            << "/dev-credentials.json (mode 0600).\n\n"
               "    Console:        "
            << issuer
            << "/console  (sign in as the demo user below; docs/console.md)\n"
               "    API:            "
            << issuer
            << "\n"
               "    Admin client:   "
            << d.admin_id
            << " (System Administrator, all scopes)\n"
               "    CRM client:     "
            << d.crm_id
            << " (crm-integration: recording:write recording:control conversation:read)\n"
               "    Demo user:      "
            << d.user_name << " / " << d.user_password
            << " (System Administrator; a person who signs in, docs/users.md)\n"
               "    Conversation:   "
            << d.conversation_id
            << " (connected)\n"
               "    AudioHook:      "
            << (issuer.rfind("https://", 0) == 0 ? "wss://" + issuer.substr(8)
                : issuer.rfind("http://", 0) == 0 ? "ws://" + issuer.substr(7)
                                                   : issuer)
            << "/api/v2/media/audiohook (X-API-KEY and signing secret in dev-credentials.json)\n\n"
               "    Try the seed's situation (a token with only recording:write):\n\n"
               "      TOKEN=$(curl -s -u \"$(jq -r '.crmIntegration|.clientId+\":\"+.clientSecret' "
            << data_dir << "/dev-credentials.json)\" \\\n"
            << "        -d grant_type=client_credentials -d scope=recording:write " << issuer
            << "/oauth/token | jq -r .access_token)\n"
               "      curl -s -X POST -H \"Authorization: Bearer $TOKEN\" \\\n"
               "        "
            << issuer << "/api/v2/recordings/conversations/" << d.conversation_id
            << "/actions/start | jq\n\n"
               "    Client secrets are shown in the file only; they and the demo user's password\n"
               "    are rotated on every dev start.\n\n"
            << std::flush;
}

}  // namespace verbatim::cli
