#include "service/rate_limiter.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace verbatim::service {

std::chrono::nanoseconds SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch());
}

namespace {
// A key of any length as at most kMaxKeyBytes + 1: short ones as they are,
// long ones by their digest; the first byte says which, so they never meet.
std::string BoundedKey(std::string_view key) {
  if (key.size() <= RateLimiter::kMaxKeyBytes) return "=" + std::string(key);
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr,
                     0);
  return "#" + std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}
}  // namespace

RateLimiter::RateLimiter(double rate_per_second, double burst, size_t max_keys)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), max_keys_per_shard_(std::max<size_t>(1, max_keys / 16)) {}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (auto& shard : shards_) {
    MutexLock lock(shard.mu);
    n += shard.lru.size();
  }
  return n;
}

RateLimiter::Verdict RateLimiter::Take(std::string_view key, std::chrono::nanoseconds now) { return Apply(key, now, true); }
RateLimiter::Verdict RateLimiter::Peek(std::string_view key, std::chrono::nanoseconds now) { return Apply(key, now, false); }

RateLimiter::Verdict RateLimiter::Apply(std::string_view raw_key, std::chrono::nanoseconds now, bool take) {
  if (rate_ <= 0) return {};
  const std::string key = BoundedKey(raw_key);
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % shards_.size()];
  MutexLock lock(shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    if (!take) return {};  // an unknown key has a full bucket
    if (shard.lru.size() >= max_keys_per_shard_) {
      shard.index.erase(shard.lru.back().key);
      shard.lru.pop_back();
    }
    shard.lru.push_front(Bucket{key, burst_, now});
    found = shard.index.emplace(shard.lru.front().key, shard.lru.begin()).first;
  } else if (found->second != shard.lru.begin()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);  // iterators stay valid
  }
  Bucket& b = *found->second;
  double secs = std::chrono::duration<double>(now - b.updated).count();
  if (secs > 0) {
    b.tokens = std::min(burst_, b.tokens + secs * rate_);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    if (take) b.tokens -= 1.0;
    return {};
  }
  double wait = (1.0 - b.tokens) / rate_;
  return {false, std::chrono::seconds(static_cast<int64_t>(std::ceil(wait)))};
}

}  // namespace verbatim::service
