// What changed: a denial whose failing layer depends on something changed
// recently names that change, when it happened and who made it
// (docs/changes.md, "What changed"):
//
//   token       the client's or user's tokens were cut off (secret rotated,
//               a scope or role removed, disabled, revoked) after the token
//               was issued
//   scope       the client lost a scope the call needs
//   permission  the principal lost a role that granted the permission, the
//               role was deleted, or one of its roles lost the permission
//
// FindHistory is pure (the change-log entries are passed in), so every case
// is unit-tested without a store; ChangeHistory reads the entries.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "authz/catalog.h"
#include "authz/decision.h"
#include "core/clock.h"
#include "store/store.h"

namespace verbatim::service {

// Whose changes may explain a denial.
struct HistorySubject {
  std::string type;           // "client" | "user"
  std::string id;
  std::string scope_client_id;  // the client whose allowed scopes bound the token (itself, or a user's client)
  std::optional<TimePoint> token_issued_at;
  std::vector<std::string> role_ids;  // the principal's current roles
};

// The notes for `d`'s failing layer from `entries` (newest first): the
// subject's own entries, its scope client's, and every role's. `roles` is the
// current catalog (built-in and custom), to tell which roles grant what.
std::vector<authz::HistoryNote> FindHistory(const authz::Decision& d, const HistorySubject& who,
                                            std::span<const store::ChangeEntry> entries,
                                            std::span<const authz::RoleDef> roles);

class ChangeHistory {
 public:
  static constexpr std::chrono::hours kDefaultWindow{24 * 30};

  ChangeHistory(store::Store& store, const Clock& clock, std::chrono::hours window = kDefaultWindow)
      : store_(store), clock_(clock), window_(window) {}

  // Fills d.history for a denial whose failing layer is token, scope or
  // permission. A store that cannot answer leaves it empty: the denial stands
  // and is explained as before.
  void Annotate(authz::Decision& d, const HistorySubject& who, std::span<const authz::RoleDef> roles) const;
  // The recent change that took `scope` from client `client_id`, if any: for
  // the token endpoint's invalid_scope, which has no decision of its own.
  std::vector<authz::HistoryNote> ScopeRemoved(const std::string& client_id, const std::string& scope) const;

 private:
  store::Store& store_;
  const Clock& clock_;
  const std::chrono::hours window_;
};

}  // namespace verbatim::service
