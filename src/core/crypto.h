// Hashing and comparison helpers over OpenSSL/libsodium. Outputs are raw bytes
// unless the name says Hex.
#pragma once

#include <string>
#include <string_view>

namespace verbatim {

std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HexEncode(std::string_view bytes);
// Compares in time that depends only on the lengths, never on the contents.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace verbatim
