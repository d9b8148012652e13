#include "service/user_rules.h"

#include <algorithm>

#include "core/ids.h"

namespace verbatim::service {

std::optional<std::string> UsernameProblem(const std::string& username) {
  if (username.empty() || username.size() > kMaxUsername)
    return "Field 'username' must be 1 to " + std::to_string(kMaxUsername) + " characters.";
  for (char c : username) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-' || c == '@' || c == '+';
    if (!ok) return std::string("Field 'username' may contain only letters, digits and . _ - @ +.");
  }
  if (IsUuid(username)) return std::string("Field 'username' may not look like a UUID (user ids are UUIDs).");
  return std::nullopt;
}

std::optional<std::string> DisplayNameProblem(const std::string& display_name) {
  if (display_name.size() <= kMaxDisplayName) return std::nullopt;
  return "Field 'displayName' must be at most " + std::to_string(kMaxDisplayName) + " characters.";
}

std::optional<std::string> EmailProblem(const std::string& email) {
  if (email.empty()) return std::nullopt;
  const auto at = email.find('@');
  const bool shaped = email.size() <= kMaxEmail && at != std::string::npos && at > 0 && at + 1 < email.size() &&
                      email.find('@', at + 1) == std::string::npos &&
                      std::none_of(email.begin(), email.end(), [](char c) {
                        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
                      });
  if (shaped) return std::nullopt;
  return "Field 'email' must be an address like name@example.com (at most " + std::to_string(kMaxEmail) +
         " characters), or empty.";
}

}  // namespace verbatim::service
