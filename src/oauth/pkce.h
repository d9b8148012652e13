// PKCE (RFC 7636), S256 only (RFC 9700 §2.1.1: "plain" is not offered), and
// the redirect URI rules of the authorization code flow (RFC 9700 §2.1: exact
// string matching; RFC 8252 §7.3: a loopback redirect may use any port).
// Pure functions: no store, no HTTP.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace verbatim::oauth {

// 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1).
bool IsValidCodeVerifier(std::string_view verifier);
// An S256 challenge: base64url without padding of 32 bytes (43 characters).
bool IsValidCodeChallenge(std::string_view challenge);
// BASE64URL(SHA256(verifier)) (RFC 7636 §4.2).
std::string S256Challenge(std::string_view verifier);
// Does `verifier` answer `challenge`? Compared in constant time.
bool VerifyPkce(std::string_view verifier, std::string_view challenge);

// Why `uri` cannot be registered as a redirect URI, or nullopt: it must be
// absolute, https (or http on a loopback host: 127.0.0.1, [::1] or
// localhost), without a fragment, userinfo or wildcard, at most 2048 bytes.
std::optional<std::string> RedirectUriProblem(std::string_view uri);
// Does the `presented` redirect_uri match the `registered` one? Exactly,
// byte for byte, except that a registered http loopback URI matches any port.
bool RedirectUriMatches(std::string_view registered, std::string_view presented);

}  // namespace verbatim::oauth
