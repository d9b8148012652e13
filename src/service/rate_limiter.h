// Token-bucket rate limiting keyed by a string (client id, source address).
// Buckets refill continuously at `rate` per second up to `burst`.
//
// Memory is bounded whatever the keys: a key longer than kMaxKeyBytes is
// replaced by its BLAKE2b digest, and each shard holds at most its share of
// `max_keys` buckets, evicting the least recently used one when a new key
// arrives (a bucket that refilled carries no state, so evicting it is free;
// one that did not is the oldest, i.e. the least useful to keep).
// Time is passed in (steady nanoseconds). Thread-safe (sharded mutexes).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/mutex.h"

namespace verbatim::service {

// The clock Take and Peek expect: steady, in nanoseconds.
std::chrono::nanoseconds SteadyNanos();

class RateLimiter {
 public:
  static constexpr size_t kMaxKeyBytes = 128;

  // rate <= 0 disables the limiter (every Take succeeds).
  RateLimiter(double rate_per_second, double burst, size_t max_keys = 100000);

  struct Verdict {
    bool allowed = true;
    std::chrono::seconds retry_after{0};  // when !allowed: until one token is back
  };
  // Takes one token for `key` at time `now`.
  Verdict Take(std::string_view key, std::chrono::nanoseconds now);
  // Whether a token is available, without taking it (to refuse before work).
  Verdict Peek(std::string_view key, std::chrono::nanoseconds now);
  bool enabled() const { return rate_ > 0; }
  size_t size() const;  // buckets held, for tests and metrics

 private:
  struct Bucket {
    std::string key;
    double tokens = 0;
    std::chrono::nanoseconds updated{0};
  };
  using Lru = std::list<Bucket>;  // most recently used first
  struct Shard {
    Mutex mu;
    Lru lru GUARDED_BY(mu);
    std::unordered_map<std::string_view, Lru::iterator> index GUARDED_BY(mu);  // views into lru's keys
  };
  Verdict Apply(std::string_view key, std::chrono::nanoseconds now, bool take);

  // Constant after construction.
  const double rate_;
  const double burst_;
  const size_t max_keys_per_shard_;
  mutable std::array<Shard, 16> shards_;
};

}  // namespace verbatim::service
