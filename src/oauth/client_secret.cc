#include "oauth/client_secret.h"

#include "core/crypto.h"
#include "core/ids.h"

namespace verbatim::oauth {

std::string NewClientSecret() { return RandomToken(32); }

std::string HashClientSecret(std::string_view secret) { return HexEncode(Sha256(secret)); }

bool VerifyClientSecret(std::string_view secret, std::string_view stored_hash) {
  // Hash first so the comparison's length never depends on the input.
  return ConstantTimeEquals(HashClientSecret(secret), stored_hash);
}

}  // namespace verbatim::oauth
