#include "oauth/token_cache.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "core/crypto.h"
#include "core/mutex.h"

namespace verbatim::oauth {
namespace {

constexpr size_t kMaxShards = 16;
constexpr size_t kMinPerShard = 64;  // below this, fewer shards: keeps the total bound exact

}  // namespace

struct VerifiedTokenCache::Shard {
  struct Slot {
    Key key{};
    TimePoint expires_at;
    std::shared_ptr<const VerifyResult> value;  // nullptr: free slot
    bool referenced = false;                    // CLOCK bit: hit since the hand last passed
  };
  // SHA-256 output is uniform, and only tokens we signed get in, so its first
  // bytes make a fine bucket hash.
  struct KeyHash {
    size_t operator()(const Key& k) const {
      size_t h;
      std::memcpy(&h, k.data(), sizeof h);
      return h;
    }
  };

  mutable Mutex mu;
  std::vector<Slot> slots GUARDED_BY(mu);                         // at most per_shard_
  std::unordered_map<Key, size_t, KeyHash> index GUARDED_BY(mu);  // key -> slot
  size_t hand GUARDED_BY(mu) = 0;

  // Returns the evicted value so the caller can destroy it after unlocking.
  std::shared_ptr<const VerifyResult> Free(size_t i) REQUIRES(mu) {
    index.erase(slots[i].key);
    slots[i].referenced = false;
    return std::move(slots[i].value);
  }

  // A slot for a new entry: a never-used one while below capacity, else the
  // first slot the CLOCK hand finds free or not referenced since its last pass.
  size_t Victim(size_t capacity, std::shared_ptr<const VerifyResult>& evicted) REQUIRES(mu) {
    if (slots.size() < capacity) {
      slots.emplace_back();
      return slots.size() - 1;
    }
    for (;;) {  // ends within two turns: each pass clears the bits it skips
      size_t i = hand;
      hand = (hand + 1) % slots.size();
      if (!slots[i].value) return i;
      if (!slots[i].referenced) {
        evicted = Free(i);
        return i;
      }
      slots[i].referenced = false;
    }
  }
};

VerifiedTokenCache::VerifiedTokenCache(size_t capacity) {
  if (capacity == 0) return;
  size_t n = std::clamp<size_t>(capacity / kMinPerShard, 1, kMaxShards);
  per_shard_ = capacity / n;  // n * per_shard_ <= capacity
  shards_.reserve(n);
  for (size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
}

VerifiedTokenCache::~VerifiedTokenCache() = default;

VerifiedTokenCache::Shard& VerifiedTokenCache::ShardFor(const Key& key) const {
  uint64_t h;
  std::memcpy(&h, key.data() + 8, sizeof h);  // other bytes than the bucket hash
  return *shards_[h % shards_.size()];
}

namespace {

std::array<unsigned char, 32> KeyOf(std::string_view token) {
  std::string digest = Sha256(token);
  std::array<unsigned char, 32> key;
  std::memcpy(key.data(), digest.data(), key.size());
  return key;
}

}  // namespace

std::shared_ptr<const VerifyResult> VerifiedTokenCache::Lookup(std::string_view token, TimePoint now) {
  if (shards_.empty()) return nullptr;
  Key key = KeyOf(token);
  Shard& shard = ShardFor(key);
  std::shared_ptr<const VerifyResult> expired;  // destroyed after the lock is released
  MutexLock lock(shard.mu);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return nullptr;
  Shard::Slot& slot = shard.slots[it->second];
  if (now >= slot.expires_at) {
    expired = shard.Free(it->second);
    return nullptr;
  }
  slot.referenced = true;
  return slot.value;
}

void VerifiedTokenCache::Insert(std::string_view token, VerifyResult result) {
  if (shards_.empty() || !result.check.ok()) return;
  Key key = KeyOf(token);
  TimePoint expires_at = result.check.expires_at;
  auto value = std::make_shared<const VerifyResult>(std::move(result));  // allocated outside the lock
  Shard& shard = ShardFor(key);
  std::shared_ptr<const VerifyResult> evicted;  // destroyed after the lock is released
  MutexLock lock(shard.mu);
  size_t i;
  if (auto it = shard.index.find(key); it != shard.index.end()) {
    i = it->second;  // verified twice concurrently: keep one entry
  } else {
    i = shard.Victim(per_shard_, evicted);
    shard.index.emplace(key, i);
  }
  Shard::Slot& slot = shard.slots[i];
  slot.key = key;
  slot.expires_at = expires_at;
  if (!evicted) evicted = std::move(slot.value);
  slot.value = std::move(value);
  slot.referenced = false;
}

void VerifiedTokenCache::Clear() {
  for (auto& shard : shards_) {
    std::vector<Shard::Slot> dropped;  // destroyed after the lock is released
    MutexLock lock(shard->mu);
    shard->index.clear();
    dropped.swap(shard->slots);
    shard->hand = 0;
  }
}

size_t VerifiedTokenCache::size() const {
  size_t n = 0;
  for (const auto& shard : shards_) {
    MutexLock lock(shard->mu);
    n += shard->index.size();
  }
  return n;
}

}  // namespace verbatim::oauth
