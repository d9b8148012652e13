#include "service/directory.h"

#include <algorithm>
#include <chrono>

#include "authz/delegation.h"
#include "core/ids.h"
#include "oauth/client_cutoff.h"
#include "store/store_errors.h"

namespace verbatim::service {

std::string UsernameKey(std::string_view username) {
  std::string out(username);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

namespace {

// Names of the enabled clients that could grant anything (authz/delegation.h).
std::vector<std::string> FullAdministrators(const std::unordered_map<std::string, store::OAuthClient>& clients,
                                            const std::vector<authz::RoleDef>& roles) {
  std::vector<std::string> out;
  for (const auto& [id, c] : clients) {
    if (!c.enabled) continue;
    std::vector<authz::RoleDef> held;
    for (const auto& rid : c.role_ids)
      for (const auto& r : roles)
        if (r.id == rid) held.push_back(r);
    if (authz::IsFullAdministrator(held, c.allowed_scopes)) out.push_back(c.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Odd for the lifetime of a client write (see Directory::CutoffEpoch()).
class ClientWriteEpoch {
 public:
  explicit ClientWriteEpoch(std::atomic<uint64_t>& epoch) : epoch_(epoch) { ++epoch_; }
  ~ClientWriteEpoch() { ++epoch_; }
  ClientWriteEpoch(const ClientWriteEpoch&) = delete;
  ClientWriteEpoch& operator=(const ClientWriteEpoch&) = delete;

 private:
  std::atomic<uint64_t>& epoch_;
};

std::string Listed(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

}  // namespace

Status Directory::Load() {
  MutexLock lock(mu_);
  return Reload();
}

Status Directory::Reload() {
  auto clients = store_.ListClients();
  if (!clients.ok()) return clients.status();
  auto roles = store_.ListRoles();
  if (!roles.ok()) return roles.status();
  auto users = store_.ListUsers();
  if (!users.ok()) return users.status();
  auto snap = std::make_shared<Snapshot>();
  for (auto& c : *clients) snap->clients.emplace(c.id, std::move(c));
  for (auto& u : *users) {
    snap->user_by_name.emplace(UsernameKey(u.username), u.id);
    snap->users.emplace(u.id, std::move(u));
  }
  snap->roles = authz::BuiltinRoles();
  std::sort(roles->begin(), roles->end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& r : *roles) snap->roles.push_back({r.id, r.name, r.description, r.permissions, false});
  snap->generation = ++reloads_;
  snap_.store(std::move(snap));
  return Status::Ok();
}

bool Directory::ReloadAfterMiss() {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t last = last_miss_reload_ms_.load();
  if (now_ms - last < 1000 || !last_miss_reload_ms_.compare_exchange_strong(last, now_ms)) return false;
  if (!mu_.try_lock()) return false;
  MutexLock lock(mu_, std::adopt_lock);
  return Reload().ok();
}

std::shared_ptr<const store::OAuthClient> Directory::FindClientShared(const std::string& id) {
  auto snap = Get();
  auto it = snap->clients.find(id);
  if (it != snap->clients.end()) return {snap, &it->second};
  if (!ReloadAfterMiss()) return nullptr;
  snap = Get();
  it = snap->clients.find(id);
  if (it == snap->clients.end()) return nullptr;
  return {snap, &it->second};
}

std::optional<store::OAuthClient> Directory::FindClient(const std::string& id) {
  auto c = FindClientShared(id);
  if (!c) return std::nullopt;
  return *c;
}

std::vector<store::OAuthClient> Directory::Clients() const {
  auto snap = Get();
  std::vector<store::OAuthClient> out;
  for (const auto& [id, c] : snap->clients) out.push_back(c);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.created_at < b.created_at; });
  return out;
}

std::shared_ptr<const std::vector<authz::RoleDef>> Directory::Roles() const {
  auto snap = Get();
  return std::shared_ptr<const std::vector<authz::RoleDef>>(snap, &snap->roles);
}

std::optional<authz::RoleDef> Directory::FindRoleById(std::string_view id) const {
  auto snap = Get();
  for (const auto& r : snap->roles)
    if (authz::EqualsIgnoreCase(r.id, id)) return r;  // ids are UUIDs: case carries no meaning
  return std::nullopt;
}

std::optional<authz::RoleDef> Directory::FindRoleByName(std::string_view name) const {
  auto snap = Get();
  for (const auto& r : snap->roles)
    if (authz::EqualsIgnoreCase(r.name, name)) return r;
  return std::nullopt;
}

std::optional<authz::RoleDef> Directory::ResolveRoleRef(std::string_view ref) const {
  return IsUuid(ref) ? FindRoleById(ref) : FindRoleByName(ref);
}

authz::Principal Directory::PrincipalOf(const store::OAuthClient& c) const {
  auto snap = Get();
  authz::Principal p;
  p.type = "client";
  p.id = c.id;
  p.name = c.name;
  p.allowed_scopes = c.allowed_scopes;
  for (const auto& rid : c.role_ids)
    for (const auto& r : snap->roles)
      if (r.id == rid) p.roles.push_back(r);
  return p;
}

std::shared_ptr<const store::User> Directory::FindUser(const std::string& id) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto snap = Get();
    if (auto it = snap->users.find(id); it != snap->users.end()) return {snap, &it->second};
    if (attempt == 0 && !ReloadAfterMiss()) break;
  }
  return nullptr;
}

std::shared_ptr<const store::User> Directory::FindUserByUsername(std::string_view username) {
  const std::string key = UsernameKey(username);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto snap = Get();
    if (auto it = snap->user_by_name.find(key); it != snap->user_by_name.end())
      if (auto u = snap->users.find(it->second); u != snap->users.end()) return {snap, &u->second};
    if (attempt == 0 && !ReloadAfterMiss()) break;
  }
  return nullptr;
}

std::vector<store::User> Directory::Users() const {
  auto snap = Get();
  std::vector<store::User> out;
  for (const auto& [id, u] : snap->users) out.push_back(u);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    auto la = UsernameKey(a.username), lb = UsernameKey(b.username);
    return la != lb ? la < lb : a.id < b.id;
  });
  return out;
}

authz::Principal Directory::PrincipalOf(const store::User& u, const store::OAuthClient& via) const {
  auto snap = Get();
  authz::Principal p;
  p.type = "user";
  p.id = u.id;
  p.name = u.username;
  p.allowed_scopes = via.allowed_scopes;
  p.via_client_id = via.id;
  p.via_client_name = via.name;
  for (const auto& rid : u.role_ids)
    for (const auto& r : snap->roles)
      if (r.id == rid) p.roles.push_back(r);
  return p;
}

std::optional<authz::Principal> Directory::PrincipalFor(authz::TokenCheck& token) {
  if (!token.ok()) return std::nullopt;
  auto client = FindClientShared(token.client_id);
  if (!client) return std::nullopt;
  oauth::CheckAgainstClient(token, *client);  // disabled client, or a token from before its cutoff
  if (token.subject == token.client_id) {
    if (!token.ok()) return std::nullopt;
    return PrincipalOf(*client);
  }
  auto user = FindUser(token.subject);
  if (!user) {
    if (token.ok()) {
      token.problem = authz::TokenProblem::kRevoked;
      token.claim = "sub";
      token.detail = "the user it was issued to no longer exists.";
    }
    return std::nullopt;
  }
  oauth::CheckAgainstUser(token, *user);  // disabled user, or a token from before its cutoff
  if (!token.ok()) return std::nullopt;
  return PrincipalOf(*user, *client);
}

bool Directory::StillVouchesFor(const store::OAuthClient& used) {
  MutexLock lock(mu_);  // no client write is in progress while we hold it
  auto snap = Get();
  auto it = snap->clients.find(used.id);
  if (it == snap->clients.end()) return false;
  const store::OAuthClient& now = it->second;
  return now.enabled == used.enabled && now.secret_hash == used.secret_hash &&
         now.tokens_valid_after == used.tokens_valid_after;
}

Status Directory::KeepsAnAdministrator(const ClientMap& clients_after,
                                       const std::vector<authz::RoleDef>& roles_after) const {
  auto snap = Get();
  auto before = FullAdministrators(snap->clients, snap->roles);
  if (before.empty() || !FullAdministrators(clients_after, roles_after).empty()) return Status::Ok();
  return Status::FailedPrecondition(
      "admin.last", "This change would leave no enabled client that holds System Administrator ('*:*:*') with every "
                    "scope, the only kind of client that can grant every permission; " +
                        std::string(before.size() == 1 ? "client " : "clients ") + Listed(before) +
                        (before.size() == 1 ? " is the last one." : " are the last ones."));
}

Status Directory::CreateClient(const store::OAuthClient& c, const store::ChangeAuthor* by) {
  MutexLock lock(mu_);
  VERBATIM_RETURN_IF_ERROR(store_.CreateClient(c, by));
  return Reload();
}

Result<store::OAuthClient> Directory::WriteClient(store::OAuthClient c, const store::ChangeAuthor* by) {
  auto snap = Get();
  auto it = snap->clients.find(c.id);
  if (it == snap->clients.end())
    return Status::NotFound("client.not.found", "OAuth client '" + c.id + "' does not exist.");
  ClientMap after = snap->clients;
  after[c.id] = c;
  VERBATIM_RETURN_IF_ERROR(KeepsAnAdministrator(after, snap->roles));
  ClientWriteEpoch epoch(cutoff_epoch_);
  if (auto why = oauth::TokensInvalidatedBy(it->second, c, snap->roles))
    oauth::InvalidateTokens(c, clock_.Now(), std::move(*why));
  VERBATIM_RETURN_IF_ERROR(store_.UpdateClient(c, by));
  VERBATIM_RETURN_IF_ERROR(Reload());
  return c;
}

Result<store::OAuthClient> Directory::UpdateClient(store::OAuthClient c, const store::ChangeAuthor* by) {
  MutexLock lock(mu_);
  return WriteClient(std::move(c), by);
}

Result<store::OAuthClient> Directory::RevokeTokens(const std::string& id, std::string reason,
                                                   const store::ChangeAuthor* by) {
  MutexLock lock(mu_);
  auto snap = Get();
  auto it = snap->clients.find(id);
  if (it == snap->clients.end())
    return Status::NotFound("client.not.found", "OAuth client '" + id + "' does not exist.");
  ClientWriteEpoch epoch(cutoff_epoch_);
  store::OAuthClient c = it->second;
  c.updated_at = clock_.Now();
  oauth::InvalidateTokens(c, c.updated_at, std::move(reason));
  VERBATIM_RETURN_IF_ERROR(store_.UpdateClient(c, by));
  VERBATIM_RETURN_IF_ERROR(Reload());
  return c;
}

Status Directory::DeleteClient(const std::string& id, const store::ChangeAuthor* by) {
  MutexLock lock(mu_);
  ClientMap after = Get()->clients;
  after.erase(id);
  VERBATIM_RETURN_IF_ERROR(KeepsAnAdministrator(after, Get()->roles));
  VERBATIM_RETURN_IF_ERROR(store_.DeleteClient(id, by));
  return Reload();
}

Status Directory::CreateUser(const store::User& u, const store::ChangeAuthor* by) {
  MutexLock lock(mu_);
  VERBATIM_RETURN_IF_ERROR(store_.CreateUser(u, by));
  return Reload();
}

Result<store::User> Directory::WriteUser(store::User u, const store::ChangeAuthor* by) {
  auto snap = Get();
  auto it = snap->users.find(u.id);
  if (it == snap->users.end()) return store::UserNotFound(u.id);
  if (auto why = oauth::TokensInvalidatedBy(it->second, u, snap->roles))
    oauth::InvalidateTokens(u, clock_.Now(), std::move(*why));
  VERBATIM_RETURN_IF_ERROR(store_.UpdateUser(u, by));
  VERBATIM_RETURN_IF_ERROR(Reload());
  return u;
}

Result<store::User> Directory::UpdateUser(store::User u, const store::ChangeAuthor* by) {
  MutexLock lock(mu_);
  return WriteUser(std::move(u), by);
}

Result<store::User> Directory::RevokeUserTokens(const std::string& id, std::string reason,
                                                const store::ChangeAuthor* by) {
  MutexLock lock(mu_);
  auto snap = Get();
  auto it = snap->users.find(id);
  if (it == snap->users.end()) return store::UserNotFound(id);
  store::User u = it->second;
  u.updated_at = clock_.Now();
  oauth::InvalidateTokens(u, u.updated_at, std::move(reason));
  VERBATIM_RETURN_IF_ERROR(store_.UpdateUser(u, by));
  VERBATIM_RETURN_IF_ERROR(Reload());
  return u;
}

Status Directory::DeleteUser(const std::string& id, const store::ChangeAuthor* by) {
  MutexLock lock(mu_);
  VERBATIM_RETURN_IF_ERROR(store_.DeleteUser(id, by));
  return Reload();
}

Status Directory::CreateRole(const store::Role& r, const store::ChangeAuthor* by) {
  MutexLock lock(mu_);
  VERBATIM_RETURN_IF_ERROR(store_.CreateRole(r, by));
  return Reload();
}

Status Directory::UpdateRole(const store::Role& r, const store::ChangeAuthor* by) {
  MutexLock lock(mu_);
  auto snap = Get();
  std::vector<authz::RoleDef> after = snap->roles;
  for (auto& def : after)
    if (def.id == r.id) def.permissions = r.permissions;
  VERBATIM_RETURN_IF_ERROR(KeepsAnAdministrator(snap->clients, after));
  VERBATIM_RETURN_IF_ERROR(store_.UpdateRole(r, by));
  return Reload();
}

Status Directory::DeleteRole(const std::string& id, const store::ChangeAuthor* by) {
  MutexLock lock(mu_);
  auto snap = Get();
  std::vector<authz::RoleDef> after;
  for (const auto& def : snap->roles)
    if (def.id != id) after.push_back(def);
  VERBATIM_RETURN_IF_ERROR(KeepsAnAdministrator(snap->clients, after));
  VERBATIM_RETURN_IF_ERROR(store_.DeleteRole(id, by));
  return Reload();
}

}  // namespace verbatim::service
