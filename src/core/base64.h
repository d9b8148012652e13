// Base64 (RFC 4648 §4) and base64url (§5). Decoders are strict: they reject
// characters outside the alphabet, bad padding and non-canonical trailing bits,
// because JWT and HTTP-signature inputs are attacker-controlled.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace verbatim {

std::string Base64Encode(std::string_view bytes);            // with '=' padding
std::string Base64UrlEncode(std::string_view bytes);         // no padding
void AppendBase64Url(std::string& out, std::string_view bytes);  // Base64UrlEncode, appended to `out`
std::optional<std::string> Base64Decode(std::string_view s);     // padding required
std::optional<std::string> Base64UrlDecode(std::string_view s);  // no padding allowed

}  // namespace verbatim
