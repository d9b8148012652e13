// The admin console's OAuth client (docs/console.md): a public client that
// signs people in with the authorization code flow and PKCE, registered by
// the server at start so the console works out of the box. It holds no roles:
// a person's permissions come from the person's roles; its allowed scopes
// bound what a console sign-in may carry, so narrowing or disabling it is how
// an administrator limits or closes the console.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "service/directory.h"

namespace verbatim::service {

// A fixed id, so every node and every restart means the same client.
inline constexpr std::string_view kConsoleClientId = "c0a50e00-0000-4000-8000-000000000001";
inline constexpr std::string_view kConsoleClientName = "verbatim console";

// "<issuer>/console/callback"
std::string ConsoleRedirectUri(std::string_view issuer);

// Creates the client with every scope, or, when it exists, makes sure it is
// public, allowed the code and refresh grants, and may return to this
// issuer's callback. What an administrator chose (scopes, enabled, token
// lifetime) is kept.
Status EnsureConsoleClient(Directory& directory, std::string_view issuer, TimePoint now);

}  // namespace verbatim::service
