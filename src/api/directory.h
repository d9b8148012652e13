// Directory: OAuth clients and roles, cached in memory in front of the Store.
// Every authorized request resolves its principal here, so reads must not
// touch SQLite; admin writes go through here, hit the Store first, then swap
// in a fresh snapshot. Roles are resolved per request, never baked into
// tokens, so a role change applies to the next request (SPEC §4a).
//
// Thread-safe: readers take an immutable snapshot; writers serialize on mu_.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "authz/catalog.h"
#include "authz/engine.h"
#include "store/store.h"

namespace verbatim::api {

class Directory {
 public:
  explicit Directory(store::Store& store) : store_(store) {}

  Status Load();

  // On a miss, reloads from the Store (at most once a second) so clients
  // created by another process (`verbatim init`) are found.
  std::optional<store::OAuthClient> FindClient(const std::string& id);
  std::vector<store::OAuthClient> Clients() const;
  // Built-in roles first, then custom roles by name.
  std::shared_ptr<const std::vector<authz::RoleDef>> Roles() const;
  std::optional<authz::RoleDef> FindRole(const std::string& id_or_name) const;
  authz::Principal PrincipalOf(const store::OAuthClient& c) const;
  // Changes whenever clients or roles change (any reload): anything derived
  // from a principal's roles may be cached under it.
  uint64_t Generation() const { return Get()->generation; }

  // Write-through (Store first; the cache only changes if the Store did).
  Status CreateClient(const store::OAuthClient& c);
  Status UpdateClient(const store::OAuthClient& c);
  Status DeleteClient(const std::string& id);
  Status CreateRole(const store::Role& r);
  Status UpdateRole(const store::Role& r);
  Status DeleteRole(const std::string& id);

 private:
  struct Snapshot {
    std::unordered_map<std::string, store::OAuthClient> clients;
    std::vector<authz::RoleDef> roles;  // built-in + custom
    uint64_t generation = 0;
  };
  std::shared_ptr<const Snapshot> Get() const { return snap_.load(); }
  Status Reload();  // caller holds mu_

  store::Store& store_;
  std::mutex mu_;  // serializes writers
  std::atomic<int64_t> last_miss_reload_ms_{0};  // steady clock
  std::atomic<uint64_t> reloads_{0};
  std::atomic<std::shared_ptr<const Snapshot>> snap_{std::make_shared<const Snapshot>()};
};

}  // namespace verbatim::api
