// Directory: OAuth clients, users and roles, cached in memory in front of the Store.
// Every authorized request resolves its principal here, so reads must not
// touch SQLite; admin writes go through here, hit the Store first, then swap
// in a fresh snapshot. Roles are resolved per request, never baked into
// tokens, so a role change applies to the next request (docs/api.md §8).
//
// Writes keep two invariants (docs/decisions.md): a change that takes
// authority away from a client or replaces its secret refuses the client's
// earlier tokens (oauth/client_cutoff.h), and no write leaves the directory
// without a full administrator if it had one ("admin.last").
//
// Thread-safe: readers take an immutable snapshot; writers serialize on mu_.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "authz/catalog.h"
#include "authz/engine.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "store/store.h"

namespace verbatim::service {

// Usernames are unique ignoring (ASCII) case: this is what they are compared
// and looked up by, here and in the sign-in throttle.
std::string UsernameKey(std::string_view username);

class Directory {
 public:
  Directory(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  Status Load();

  // On a miss, reloads from the Store (at most once a second) so clients
  // created by another process (`verbatim init`) are found.
  std::optional<store::OAuthClient> FindClient(const std::string& id);
  // The same without a copy: the client as the snapshot it was found in holds it.
  std::shared_ptr<const store::OAuthClient> FindClientShared(const std::string& id);
  std::vector<store::OAuthClient> Clients() const;
  // Built-in roles first, then custom roles by name.
  std::shared_ptr<const std::vector<authz::RoleDef>> Roles() const;
  // Ids and names are separate paths (authz/role_names.h): a name never
  // resolves as an id, nor an id as a name.
  std::optional<authz::RoleDef> FindRoleById(std::string_view id) const;
  std::optional<authz::RoleDef> FindRoleByName(std::string_view name) const;  // case-insensitive
  // A role reference from a request body: a UUID is looked up as an id only,
  // anything else as a name only.
  std::optional<authz::RoleDef> ResolveRoleRef(std::string_view ref) const;
  authz::Principal PrincipalOf(const store::OAuthClient& c) const;

  // Users (docs/users.md). A miss reloads as FindClientShared does, so a user
  // created offline (`verbatim users create`) can sign in at once.
  std::shared_ptr<const store::User> FindUser(const std::string& id);
  std::shared_ptr<const store::User> FindUserByUsername(std::string_view username);  // case-insensitive
  std::vector<store::User> Users() const;  // by username
  // A user acting through the OAuth client it signed in with: the user's
  // roles, and the scopes that client may request (the two layers stay apart).
  authz::Principal PrincipalOf(const store::User& u, const store::OAuthClient& via) const;
  // Who a verified token speaks for: its client, or, when sub is not the
  // client, the user who signed in through it. Turns `token` into
  // token.revoked when that client or user no longer vouches for it (disabled,
  // or a cutoff after its iat); nullopt then, or when the client is gone.
  std::optional<authz::Principal> PrincipalFor(authz::TokenCheck& token);
  // Changes whenever clients or roles change (any reload): anything derived
  // from a principal's roles may be cached under it.
  uint64_t Generation() const { return Get()->generation; }

  // Token issuance against client writes, without a lock on the grant path:
  // the token endpoint reads CutoffEpoch() before it looks its client up and,
  // once the token is signed, keeps it if NoClientWriteSince(epoch) or, when
  // some client write ran meanwhile, if StillVouchesFor(the client it used).
  // A client write makes the epoch odd (under mu_) before it reads the clock
  // for a cutoff and even again after the new snapshot is visible, so a token
  // authenticated against the client as it was is either dropped or issued
  // before that cutoff.
  uint64_t CutoffEpoch() const { return cutoff_epoch_.load(); }
  bool NoClientWriteSince(uint64_t epoch) const { return epoch % 2 == 0 && cutoff_epoch_.load() == epoch; }
  // Waits for a client write in progress, then: does the client still have
  // the secret, the enabled flag and the token cutoff of `used`?
  bool StillVouchesFor(const store::OAuthClient& used);

  // Write-through (Store first; the cache only changes if the Store did).
  // With an author, the Store logs the change (docs/changes.md).
  Status CreateClient(const store::OAuthClient& c, const store::ChangeAuthor* by = nullptr);
  // Sets the token cutoff when the change calls for it; returns the client as stored.
  Result<store::OAuthClient> UpdateClient(store::OAuthClient c, const store::ChangeAuthor* by = nullptr);
  // Refuses every token the client was issued until now, for `reason`.
  Result<store::OAuthClient> RevokeTokens(const std::string& id, std::string reason,
                                          const store::ChangeAuthor* by = nullptr);
  Status DeleteClient(const std::string& id, const store::ChangeAuthor* by = nullptr);
  Status CreateUser(const store::User& u, const store::ChangeAuthor* by = nullptr);
  // Sets the token cutoff when the change calls for it; returns the user as stored.
  Result<store::User> UpdateUser(store::User u, const store::ChangeAuthor* by = nullptr);
  Result<store::User> RevokeUserTokens(const std::string& id, std::string reason,
                                       const store::ChangeAuthor* by = nullptr);
  Status DeleteUser(const std::string& id, const store::ChangeAuthor* by = nullptr);
  Status CreateRole(const store::Role& r, const store::ChangeAuthor* by = nullptr);
  Status UpdateRole(const store::Role& r, const store::ChangeAuthor* by = nullptr);
  Status DeleteRole(const std::string& id, const store::ChangeAuthor* by = nullptr);

 private:
  using ClientMap = std::unordered_map<std::string, store::OAuthClient>;
  struct Snapshot {
    ClientMap clients;
    std::unordered_map<std::string, store::User> users;          // by id
    std::unordered_map<std::string, std::string> user_by_name;  // lowercase username -> id
    std::vector<authz::RoleDef> roles;  // built-in + custom
    uint64_t generation = 0;
  };
  std::shared_ptr<const Snapshot> Get() const { return snap_.load(); }
  Status Reload() REQUIRES(mu_);
  // After a lookup missed: reloads unless one ran in the last second or a
  // writer holds mu_. True if a reload ran.
  bool ReloadAfterMiss() EXCLUDES(mu_);
  Result<store::User> WriteUser(store::User u, const store::ChangeAuthor* by) REQUIRES(mu_);
  // FailedPrecondition "admin.last" when the current snapshot has a full
  // administrator and the state after the write would have none.
  Status KeepsAnAdministrator(const ClientMap& clients_after, const std::vector<authz::RoleDef>& roles_after) const
      REQUIRES(mu_);
  Result<store::OAuthClient> WriteClient(store::OAuthClient c, const store::ChangeAuthor* by) REQUIRES(mu_);

  // Constant after construction.
  store::Store& store_;
  const Clock& clock_;

  Mutex mu_;  // serializes writers
  std::atomic<uint64_t> cutoff_epoch_{0};  // odd while a client write runs (see CutoffEpoch())
  std::atomic<int64_t> last_miss_reload_ms_{0};  // steady clock
  std::atomic<uint64_t> reloads_{0};
  std::atomic<std::shared_ptr<const Snapshot>> snap_{std::make_shared<const Snapshot>()};
};

}  // namespace verbatim::service
