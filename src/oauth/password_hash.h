// User passwords (docs/users.md "Passwords"): Argon2id through libsodium's
// crypto_pwhash_str, in its self-describing encoded form, so parameters can
// be raised later and old hashes still verify (NeedsRehash says when to
// re-hash at the next sign-in).
//
// Hashing costs kMemLimitBytes of memory and about 0.1 s of one core, on
// purpose; at most kMaxConcurrentHashes run at once (the rest wait), so a
// burst of sign-ins cannot exhaust memory. Never call it on an I/O thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace verbatim::oauth {

inline constexpr unsigned long long kOpsLimit = 3;                // Argon2id t (passes)
inline constexpr size_t kMemLimitBytes = size_t{64} << 20;         // Argon2id m (64 MiB)
inline constexpr int kMaxConcurrentHashes = 2;
inline constexpr size_t kMinPasswordLength = 12;   // characters (UTF-8 code points)
inline constexpr size_t kMaxPasswordBytes = 1024;  // Argon2 takes any length; the request does not

// Internal when libsodium cannot allocate its memory.
Result<std::string> HashPassword(std::string_view password);
// Constant-time in the password's contents (Argon2id always runs in full); a
// malformed or non-Argon2id `encoded` never verifies.
bool VerifyPassword(std::string_view password, std::string_view encoded);
// The same cost as a failed VerifyPassword when there is no user to check:
// unknown usernames must not answer faster than wrong passwords.
void VerifyAgainstNothing(std::string_view password);
bool NeedsRehash(std::string_view encoded);

// Why `password` is not acceptable for `username` (too short, too long, the
// username itself, not valid UTF-8), in words for the person choosing it; nullopt if fine.
std::optional<std::string> PasswordPolicyProblem(std::string_view password, std::string_view username);

// A generated password for a person to type once and change: 20 characters
// from an alphabet without look-alikes (about 110 bits).
std::string NewUserPassword();

}  // namespace verbatim::oauth
