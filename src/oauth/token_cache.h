// A bounded cache of successful access-token verifications, so a request that
// presents a token seen before skips JSON parsing and the ~40-60 µs P-256
// verify (docs/performance.md; Envoy's jwt_authn keeps the same kind of cache).
//
// Why it is safe: entries are keyed by SHA-256 of the whole token (header,
// payload and signature bytes). A token that differs in any byte (an edited
// claim, another signature, another kid) has another key and is verified from
// scratch; a hit means these exact bytes already passed VerifyAccessToken.
// Entries leave at the token's exp (never later; the verifier's leeway is not
// extended), and Clear() must be called when the KeySet or VerifyOptions
// change (key rotation), since a hit is only as good as the keys that verified it.
// Revocation is NOT checked here: the caller checks the jti after every lookup.
//
// Thread-safety: every method may be called concurrently. The cache is split
// into shards, each with its own mutex and a CLOCK (second-chance) eviction
// hand, so a hit costs one hash, one short lock and a shared_ptr copy.
#pragma once

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "oauth/jwt.h"

namespace verbatim::oauth {

class VerifiedTokenCache {
 public:
  static constexpr size_t kDefaultCapacity = 10'000;

  // Holds at most `capacity` entries; 0 disables the cache.
  explicit VerifiedTokenCache(size_t capacity = kDefaultCapacity);
  ~VerifiedTokenCache();
  VerifiedTokenCache(const VerifiedTokenCache&) = delete;
  VerifiedTokenCache& operator=(const VerifiedTokenCache&) = delete;

  // The verification of exactly these token bytes, or nullptr when absent or
  // when `now` has reached the token's exp. Shared and immutable: a hit copies
  // nothing but a pointer.
  std::shared_ptr<const VerifyResult> Lookup(std::string_view token, TimePoint now);

  // Remembers a successful verification until result.check.expires_at.
  // Failed verifications are ignored (an nbf failure can become valid later,
  // and caching failures would let anyone fill the cache).
  void Insert(std::string_view token, VerifyResult result);

  void Clear();
  size_t size() const;
  size_t capacity() const { return shards_.size() * per_shard_; }

 private:
  using Key = std::array<unsigned char, 32>;  // SHA-256 of the token
  struct Shard;

  Shard& ShardFor(const Key& key) const;

  // Constant after construction.
  std::vector<std::unique_ptr<Shard>> shards_;
  size_t per_shard_ = 0;
};

}  // namespace verbatim::oauth
