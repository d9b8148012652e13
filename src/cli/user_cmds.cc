// `verbatim users create|list|password --data-dir …`: people who sign in,
// offline (docs/users.md): the first administrator of a new installation, or
// a forgotten password. The admin API's rules apply (service/user_rules.h,
// oauth/password_hash.h); a running server finds a new user at its next
// lookup. Passwords come from stdin's first line or are generated and printed
// once: never from argv, where `ps` and shell history would show them.
#include <iostream>

#include "cli/commands.h"
#include "core/ids.h"
#include "core/json.h"
#include "oauth/password_hash.h"
#include "service/directory.h"
#include "service/user_rules.h"
#include "store/change_diff.h"

namespace verbatim::cli {
namespace {

// The directory over an offline store, so role names resolve and writes
// apply the same token cutoffs as the server's.
struct OfflineDirectory {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<service::Directory> directory;
};

Result<OfflineDirectory> OpenDirectory(const std::string& data_dir, bool create, const std::string& database_url) {
  auto store = OpenOfflineStore(data_dir, create, database_url);
  if (!store.ok()) return store.status();
  OfflineDirectory out{std::move(*store), nullptr};
  out.directory = std::make_unique<service::Directory>(*out.store, SystemClock::Instance());
  VERBATIM_RETURN_IF_ERROR(out.directory->Load());
  return out;
}

std::string ReadPasswordLine() {
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

std::string RoleNames(const store::User& u, const std::vector<authz::RoleDef>& roles) {
  std::string out;
  for (const auto& id : u.role_ids)
    for (const auto& r : roles)
      if (r.id == id) out += (out.empty() ? "" : ", ") + r.name;
  return out.empty() ? "none" : out;
}

json::object UserSummaryJson(const store::User& u, const std::vector<authz::RoleDef>& roles) {
  json::array names;
  for (const auto& id : u.role_ids)
    for (const auto& r : roles)
      if (r.id == id) names.emplace_back(r.name);
  return {{"id", u.id},         {"username", u.username},  {"displayName", u.display_name},
          {"email", u.email},   {"roles", std::move(names)}, {"enabled", u.enabled}};
}

void PrintUser(const store::User& u, const std::vector<authz::RoleDef>& roles) {
  std::cout << u.username << "  id " << u.id << (u.enabled ? "" : "  (disabled)") << "\n  roles " << RoleNames(u, roles)
            << "\n";
  if (!u.display_name.empty()) std::cout << "  name  " << u.display_name << "\n";
  if (!u.email.empty()) std::cout << "  email " << u.email << "\n";
}

// The new password: stdin's first line (checked against the policy), or a
// generated one (`generated` set). Empty with a message on stderr when refused.
std::optional<std::string> ChoosePassword(const char* command, bool from_stdin, const std::string& username,
                                          bool& generated) {
  generated = !from_stdin;
  if (generated) return oauth::NewUserPassword();
  std::string password = ReadPasswordLine();
  if (auto problem = oauth::PasswordPolicyProblem(password, username)) {
    std::cerr << "verbatim users " << command << ": " << *problem << "\n";
    return std::nullopt;
  }
  return password;
}

}  // namespace

int RunUsersCreate(const UserCreateOptions& o) {
  for (const auto& problem : {service::UsernameProblem(o.username), service::DisplayNameProblem(o.display_name),
                              service::EmailProblem(o.email)}) {
    if (problem) {
      std::cerr << "verbatim users create: " << *problem << "\n";
      return kExitUsage;
    }
  }
  auto dir = OpenDirectory(o.data_dir, true, o.database_url);
  if (!dir.ok()) {
    std::cerr << "verbatim users create: " << dir.status().message() << "\n";
    return kExitServer;
  }
  store::User u;
  u.id = NewUuid();
  u.username = o.username;
  u.display_name = o.display_name;
  u.email = o.email;
  for (const auto& ref : o.roles) {
    auto role = dir->directory->ResolveRoleRef(ref);
    if (!role) {
      std::cerr << "verbatim users create: no role " << (IsUuid(ref) ? "has id '" : "is named '") << ref
                << "' (built-in roles: System Administrator, Recording Administrator, Recording Controller, "
                   "Recording Viewer, Conversation Control, Media Ingest, Auditor)\n";
      return kExitUsage;
    }
    if (std::find(u.role_ids.begin(), u.role_ids.end(), role->id) == u.role_ids.end()) u.role_ids.push_back(role->id);
  }
  bool generated = false;
  auto password = ChoosePassword("create", o.password_stdin, o.username, generated);
  if (!password) return kExitUsage;
  auto hash = oauth::HashPassword(*password);
  if (!hash.ok()) {
    std::cerr << "verbatim users create: " << hash.status().message() << "\n";
    return kExitServer;
  }
  u.password_hash = std::move(*hash);
  u.created_at = u.updated_at = SystemClock::Instance().Now();
  const store::ChangeAuthor by = store::OfflineAuthor("verbatim users create", u.created_at);
  if (Status s = dir->directory->CreateUser(u, &by); !s.ok()) {
    std::cerr << "verbatim users create: " << s.message() << "\n";
    return s.code() == "user.name.taken" ? kExitUsage : kExitServer;
  }
  const auto roles = dir->directory->Roles();
  if (o.json) {
    json::object out = UserSummaryJson(u, *roles);
    if (generated) out["password"] = *password;
    std::cout << json::serialize(out) << "\n";
    return kExitOk;
  }
  std::cout << "Created user:\n";
  PrintUser(u, *roles);
  if (generated)
    std::cout << "  password " << *password << "\n\nThe password is shown only now; `verbatim users password "
              << u.username << "` sets a new one.\n";
  return kExitOk;
}

int RunUsersList(const std::string& data_dir, bool as_json, const std::string& database_url) {
  auto dir = OpenDirectory(data_dir, false, database_url);
  if (!dir.ok()) {
    std::cerr << "verbatim users list: " << dir.status().message() << "\n";
    return kExitServer;
  }
  const auto roles = dir->directory->Roles();
  const auto users = dir->directory->Users();
  if (as_json) {
    json::array a;
    for (const auto& u : users) a.emplace_back(UserSummaryJson(u, *roles));
    std::cout << json::serialize(json::object{{"entities", std::move(a)}}) << "\n";
    return kExitOk;
  }
  if (users.empty()) std::cout << "No users in " << data_dir << " (verbatim users create adds one).\n";
  for (const auto& u : users) PrintUser(u, *roles);
  return kExitOk;
}

int RunUsersPassword(const std::string& data_dir, const std::string& target, bool password_stdin,
                     const std::string& database_url) {
  auto dir = OpenDirectory(data_dir, false, database_url);
  if (!dir.ok()) {
    std::cerr << "verbatim users password: " << dir.status().message() << "\n";
    return kExitServer;
  }
  auto found = IsUuid(target) ? dir->directory->FindUser(target) : dir->directory->FindUserByUsername(target);
  if (!found) {
    std::cerr << "verbatim users password: no user named or with id '" << target << "' in " << data_dir
              << " (verbatim users list shows them).\n";
    return kExitUsage;
  }
  store::User u = *found;
  bool generated = false;
  auto password = ChoosePassword("password", password_stdin, u.username, generated);
  if (!password) return kExitUsage;
  auto hash = oauth::HashPassword(*password);
  if (!hash.ok()) {
    std::cerr << "verbatim users password: " << hash.status().message() << "\n";
    return kExitServer;
  }
  u.password_hash = std::move(*hash);
  u.updated_at = SystemClock::Instance().Now();
  const store::ChangeAuthor by = store::OfflineAuthor("verbatim users password", u.updated_at);
  if (auto stored = dir->directory->UpdateUser(u, &by); !stored.ok()) {
    std::cerr << "verbatim users password: " << stored.status().message() << "\n";
    return kExitServer;
  }
  std::cout << "New password set for " << u.username << "; the tokens it had are refused from now on.\n";
  if (generated) std::cout << "  password " << *password << "\n";
  return kExitOk;
}

}  // namespace verbatim::cli
