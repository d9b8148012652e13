// LoginThrottle: failed sign-ins slow down per username and per source
// address (docs/users.md "Sign-in"). Only failures take from the buckets, so
// a person who types the password right is never held back by their own
// success, and a guesser spread over many addresses still meets the
// per-username bucket. The username bucket is keyed by what was typed
// (lowercased), whether or not such a user exists: the throttle answers the
// same for both, so it reveals nothing (no user enumeration).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "service/rate_limiter.h"

namespace verbatim::service {

struct LoginLimits {
  double per_username_per_minute = 5;  // failures refill this fast ...
  double username_burst = 10;          // ... after this many in a row
  double per_address_per_minute = 20;
  double address_burst = 50;
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginLimits limits = {});

  // When the next attempt may be made, if it may not be made now.
  std::optional<std::chrono::seconds> Blocked(std::string_view username, std::string_view ip);
  void CountFailure(std::string_view username, std::string_view ip);

 private:
  RateLimiter by_username_;
  RateLimiter by_address_;
};

}  // namespace verbatim::service
