#include "service/login_throttle.h"

#include <algorithm>
#include <string>

#include "service/client_address.h"
#include "service/directory.h"

namespace verbatim::service {
LoginThrottle::LoginThrottle(LoginLimits limits)
    : by_username_(limits.per_username_per_minute / 60.0, limits.username_burst),
      by_address_(limits.per_address_per_minute / 60.0, limits.address_burst) {}

std::optional<std::chrono::seconds> LoginThrottle::Blocked(std::string_view username, std::string_view ip) {
  const auto now = SteadyNanos();
  std::optional<std::chrono::seconds> wait;
  for (const RateLimiter::Verdict& v : {by_address_.Peek(AddressKey(ip), now),
                                        by_username_.Peek(UsernameKey(username), now)}) {
    if (!v.allowed) wait = std::max(wait.value_or(std::chrono::seconds(0)), v.retry_after);
  }
  return wait;
}

void LoginThrottle::CountFailure(std::string_view username, std::string_view ip) {
  const auto now = SteadyNanos();
  by_address_.Take(AddressKey(ip), now);
  by_username_.Take(UsernameKey(username), now);
}

}  // namespace verbatim::service
