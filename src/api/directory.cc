#include "api/directory.h"

#include <algorithm>
#include <chrono>

namespace verbatim::api {

Status Directory::Load() {
  std::lock_guard lock(mu_);
  return Reload();
}

Status Directory::Reload() {
  auto clients = store_.ListClients();
  if (!clients.ok()) return clients.status();
  auto roles = store_.ListRoles();
  if (!roles.ok()) return roles.status();
  auto snap = std::make_shared<Snapshot>();
  for (auto& c : *clients) snap->clients.emplace(c.id, std::move(c));
  snap->roles = authz::BuiltinRoles();
  std::sort(roles->begin(), roles->end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& r : *roles) snap->roles.push_back({r.id, r.name, r.description, r.permissions, false});
  snap->generation = ++reloads_;
  snap_.store(std::move(snap));
  return Status::Ok();
}

std::optional<store::OAuthClient> Directory::FindClient(const std::string& id) {
  auto snap = Get();
  auto it = snap->clients.find(id);
  if (it != snap->clients.end()) return it->second;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t last = last_miss_reload_ms_.load();
  if (now_ms - last < 1000 || !last_miss_reload_ms_.compare_exchange_strong(last, now_ms)) return std::nullopt;
  {
    std::unique_lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock() || !Reload().ok()) return std::nullopt;
  }
  snap = Get();
  it = snap->clients.find(id);
  if (it == snap->clients.end()) return std::nullopt;
  return it->second;
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

std::optional<authz::RoleDef> Directory::FindRole(const std::string& id_or_name) const {
  auto snap = Get();
  for (const auto& r : snap->roles)
    if (r.id == id_or_name || authz::EqualsIgnoreCase(r.name, id_or_name)) return r;
  return std::nullopt;
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

Status Directory::CreateClient(const store::OAuthClient& c) {
  std::lock_guard lock(mu_);
  VERBATIM_RETURN_IF_ERROR(store_.CreateClient(c));
  return Reload();
}

Status Directory::UpdateClient(const store::OAuthClient& c) {
  std::lock_guard lock(mu_);
  VERBATIM_RETURN_IF_ERROR(store_.UpdateClient(c));
  return Reload();
}

Status Directory::DeleteClient(const std::string& id) {
  std::lock_guard lock(mu_);
  VERBATIM_RETURN_IF_ERROR(store_.DeleteClient(id));
  return Reload();
}

Status Directory::CreateRole(const store::Role& r) {
  std::lock_guard lock(mu_);
  VERBATIM_RETURN_IF_ERROR(store_.CreateRole(r));
  return Reload();
}

Status Directory::UpdateRole(const store::Role& r) {
  std::lock_guard lock(mu_);
  VERBATIM_RETURN_IF_ERROR(store_.UpdateRole(r));
  return Reload();
}

Status Directory::DeleteRole(const std::string& id) {
  std::lock_guard lock(mu_);
  VERBATIM_RETURN_IF_ERROR(store_.DeleteRole(id));
  return Reload();
}

}  // namespace verbatim::api
