// Tokens follow their client (docs/decisions.md "Tokens follow their
// client"), and their user: a change that takes authority away from a client
// or user, or replaces its credentials, refuses every token issued until
// then, through one instant per client or user (tokens_valid_after) and the
// reason kept with it.
// Checking it is two comparisons on the client the request already resolved
// from the in-memory directory; nothing here touches the store.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "authz/catalog.h"
#include "authz/token_check.h"
#include "core/clock.h"
#include "store/model.h"

namespace verbatim::oauth {

// Why tokens issued before `after` replaced `before` must stop working ("its
// secret was rotated; scope 'recording:control' was removed from its allowed
// scopes"), or nullopt when they may stay valid (a new name, an added scope;
// a role's permissions are resolved per request and need no cutoff).
// `roles` names the removed roles.
std::optional<std::string> TokensInvalidatedBy(const store::OAuthClient& before, const store::OAuthClient& after,
                                               std::span<const authz::RoleDef> roles);

// The same for a user (docs/users.md): a new password, disabling it, or a
// role taken away refuse the tokens it signed in for until then.
std::optional<std::string> TokensInvalidatedBy(const store::User& before, const store::User& after,
                                               std::span<const authz::RoleDef> roles);

// Refuses every token of `c` issued at or before `at` (kept to the
// millisecond, as the store keeps it), for `reason`.
void InvalidateTokens(store::OAuthClient& c, TimePoint at, std::string reason);
void InvalidateTokens(store::User& u, TimePoint at, std::string reason);

// Turns a verified token of `c` into token.revoked when its client no longer
// vouches for it: the client is disabled, or the token was issued at or
// before the client's cutoff. The detail says what changed and when.
void CheckAgainstClient(authz::TokenCheck& token, const store::OAuthClient& c);

// The same for a person's token (sub = the user): refused when the user is
// disabled or the token is from before the user's cutoff. The client the
// person signed in through is checked with CheckAgainstClient as well.
void CheckAgainstUser(authz::TokenCheck& token, const store::User& u);

// The `iat` of a token of `c` issued at `now`: whole seconds, and after the
// cutoff even within the second it was set (then up to 1 s ahead of `now`,
// well inside every verifier's leeway).
TimePoint IssuedAtFor(const store::OAuthClient& c, TimePoint now);
// A person's token: after both the client's and the user's cutoff.
TimePoint IssuedAtFor(const store::OAuthClient& c, const store::User& u, TimePoint now);

}  // namespace verbatim::oauth
