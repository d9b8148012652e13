// The bytes of an issued access token, written by appending to buffers the
// caller reuses: the JWS header is encoded once per key, the claims are
// appended in a fixed order, nothing goes through a JSON tree. Every grant
// runs this (docs/performance.md "Grants"); the output is byte-for-byte what
// the json::object builder it replaced produced (tests/unit/oauth/jwt_text_test.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace verbatim::oauth {

struct AccessTokenClaims;

// Appends `s` as a JSON string literal, quotes included, escaped exactly as
// boost::json::serialize escapes: '"' and '\\', \b \t \n \f \r, other bytes
// below 0x20 as \u00xx; everything else, UTF-8 or not, verbatim.
void AppendJsonString(std::string& out, std::string_view s);

// base64url({"alg":"ES256","typ":"at+jwt","kid":kid}): the first part of
// every token signed with that key.
std::string EncodedJwsHeader(std::string_view kid);

// Appends the payload JSON: {"iss","sub","aud","exp","iat","nbf","jti",
// "client_id","scope","org"} in that order, nbf = iat, scope the scopes
// joined by one space. The caller has checked every scope is an RFC 6749
// scope-token (no quote, backslash or control byte).
void AppendAccessTokenPayload(std::string& out, const AccessTokenClaims& c, int64_t iat, int64_t exp);

}  // namespace verbatim::oauth
