// What a user's fields may hold (docs/users.md), checked alike by the admin
// API and `verbatim users`. Each returns the problem in words for the person
// who typed the value, or nullopt when it is fine.
#pragma once

#include <optional>
#include <string>

namespace verbatim::service {

inline constexpr size_t kMaxUsername = 64;
inline constexpr size_t kMaxDisplayName = 128;
inline constexpr size_t kMaxEmail = 254;

// 1 to 64 of A-Z a-z 0-9 . _ - @ +, and not shaped like a UUID (ids are).
std::optional<std::string> UsernameProblem(const std::string& username);
std::optional<std::string> DisplayNameProblem(const std::string& display_name);
// Empty, or one '@' with something on each side, no spaces or controls.
std::optional<std::string> EmailProblem(const std::string& email);

}  // namespace verbatim::service
