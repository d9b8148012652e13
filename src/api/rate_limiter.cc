#include "api/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace verbatim::api {

RateLimiter::RateLimiter(double rate_per_second, double burst, size_t max_keys)
    : rate_(rate_per_second), burst_(std::max(1.0, burst)), max_keys_per_shard_(std::max<size_t>(1, max_keys / 16)) {}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.buckets.size();
  }
  return n;
}

RateLimiter::Verdict RateLimiter::Take(std::string_view key, std::chrono::nanoseconds now) { return Apply(key, now, true); }
RateLimiter::Verdict RateLimiter::Peek(std::string_view key, std::chrono::nanoseconds now) { return Apply(key, now, false); }

RateLimiter::Verdict RateLimiter::Apply(std::string_view key, std::chrono::nanoseconds now, bool take) {
  if (rate_ <= 0) return {};
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % shards_.size()];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    if (!take) return {};
    if (shard.buckets.size() >= max_keys_per_shard_) {
      // Forget buckets that have refilled completely: they carry no state.
      std::erase_if(shard.buckets, [&](const auto& kv) {
        double secs = std::chrono::duration<double>(now - kv.second.updated).count();
        return kv.second.tokens + secs * rate_ >= burst_;
      });
      if (shard.buckets.size() >= max_keys_per_shard_) shard.buckets.erase(shard.buckets.begin());
    }
    it = shard.buckets.emplace(std::string(key), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
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

}  // namespace verbatim::api
