// DenialAggregator: the audit events of unauthenticated denials (401 token.*,
// the address-level 429, refused AudioHook upgrades), folded so that a flood
// of garbage costs rows in proportion to the addresses it comes from, not to
// its requests (docs/decisions.md "Unauthenticated denials are aggregated").
//
// Per interval and per key (address, code): the first `individual_per_key`
// denials are recorded as they are, so a person debugging a token finds each
// of their requests by contextId; the rest are counted into ONE aggregate
// event, which is the first folded request (its contextId, time, method,
// path, explanation) plus an "aggregate" object in its explanation: count,
// address, per-code counts, first and last time. At most `max_keys` keys per
// interval; denials of further keys go to one overflow bucket (address null).
//
// Not thread-safe: AuditLog calls it under its own mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "store/model.h"

namespace verbatim::service {

struct DenialAggregatorOptions {
  std::chrono::seconds interval{60};
  // Recorded as they are, per key and interval: enough for a person trying
  // every kind of bad token (the attack suite of examples/seed-scenario.mjs).
  int individual_per_key = 10;
  size_t max_keys = 512;  // distinct (address, code) per interval before the overflow bucket
};

class DenialAggregator {
 public:
  explicit DenialAggregator(DenialAggregatorOptions opts = {});

  // The event to record now (one of its key's first denials of the
  // interval), or nullopt when it was folded into the key's aggregate.
  // `address_key` is AddressKey() of the client's address.
  std::optional<store::AuditEvent> Offer(store::AuditEvent e, std::string_view address_key);
  // If the interval that began with the first Offer after the last Close has
  // ended at `now` (or `force`), returns its aggregate events and starts anew.
  std::vector<store::AuditEvent> Close(TimePoint now, bool force);
  // When the current interval ends (nullopt: nothing is being counted).
  std::optional<TimePoint> deadline() const;

  size_t keys() const { return buckets_.size(); }
  uint64_t folded_total() const { return folded_total_; }  // denials ever folded into an aggregate

 private:
  struct Bucket {
    std::optional<std::string> address;     // nullopt: the overflow bucket
    int individual = 0;                     // recorded as they are so far
    uint64_t folded = 0;                    // counted into `sample`
    std::optional<store::AuditEvent> sample;  // the first folded denial
    std::map<std::string, uint64_t> codes;  // folded per code (few: the token codes)
    TimePoint last{};
  };
  void Fold(Bucket& b, store::AuditEvent e);
  store::AuditEvent Finish(Bucket& b) const;

  // Constant after construction.
  const DenialAggregatorOptions opts_;

  std::optional<TimePoint> started_;                 // of the current interval
  std::unordered_map<std::string, Bucket> buckets_;  // key: address + '\n' + code
  Bucket overflow_;
  uint64_t folded_total_ = 0;
};

}  // namespace verbatim::service
