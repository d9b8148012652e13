// Identifiers and randomness. All randomness comes from libsodium's CSPRNG.
#pragma once

#include <string>
#include <string_view>

namespace verbatim {

// Must be called once before any other function here (idempotent, thread-safe).
void InitRandom();

// Random RFC 4122 version-4 UUID, lowercase: "6f1a0c3e-....".
std::string NewUuid();
// True for the canonical 36-char lowercase-or-uppercase hex form only.
bool IsUuid(std::string_view s);
// `bytes` random bytes, base64url without padding (secrets, jti, nonces).
std::string RandomToken(size_t bytes);
// Short id for request correlation; a UUID so that users can paste it anywhere.
// RFC 9562 UUIDv7: 48-bit Unix milliseconds, then random. Time-ordered, so
// B-tree indexes keyed by it (audit_events.context_id) grow at their right edge.
std::string NewUuidV7();
inline std::string NewContextId() { return NewUuidV7(); }

}  // namespace verbatim
