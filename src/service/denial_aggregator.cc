#include "service/denial_aggregator.h"

#include <algorithm>

#include "core/json.h"

namespace verbatim::service {

DenialAggregator::DenialAggregator(DenialAggregatorOptions opts) : opts_(opts) {}

std::optional<TimePoint> DenialAggregator::deadline() const {
  if (!started_) return std::nullopt;
  return *started_ + opts_.interval;
}

std::optional<store::AuditEvent> DenialAggregator::Offer(store::AuditEvent e, std::string_view address_key) {
  if (!started_) started_ = e.at;
  std::string key(address_key);
  key += '\n';
  key += e.code;
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= opts_.max_keys) {
      Fold(overflow_, std::move(e));
      return std::nullopt;
    }
    it = buckets_.emplace(std::move(key), Bucket{}).first;
    it->second.address = std::string(address_key);
  }
  Bucket& b = it->second;
  if (b.individual < opts_.individual_per_key) {
    ++b.individual;
    return e;
  }
  Fold(b, std::move(e));
  return std::nullopt;
}

void DenialAggregator::Fold(Bucket& b, store::AuditEvent e) {
  ++b.folded;
  ++folded_total_;
  ++b.codes[e.code];
  b.last = std::max(b.last, e.at);
  if (!b.sample) b.sample = std::move(e);
}

store::AuditEvent DenialAggregator::Finish(Bucket& b) const {
  store::AuditEvent e = std::move(*b.sample);
  json::object expl;
  if (auto parsed = ParseJsonObject(e.explanation_json); parsed.ok()) expl = std::move(*parsed);
  json::object agg;
  agg["count"] = b.folded;
  agg["address"] = b.address ? json::value(*b.address) : json::value(nullptr);
  json::object codes;
  for (const auto& [code, n] : b.codes) codes[code] = n;
  agg["codes"] = std::move(codes);
  agg["firstAt"] = FormatRfc3339(e.at);
  agg["lastAt"] = FormatRfc3339(b.last);
  agg["intervalSeconds"] = opts_.interval.count();
  expl["aggregate"] = std::move(agg);
  e.explanation_json = ToValidUtf8(json::serialize(expl));
  return e;
}

std::vector<store::AuditEvent> DenialAggregator::Close(TimePoint now, bool force) {
  std::vector<store::AuditEvent> out;
  if (!started_ || (!force && now < *started_ + opts_.interval)) return out;
  for (auto& [key, b] : buckets_)
    if (b.sample) out.push_back(Finish(b));
  if (overflow_.sample) out.push_back(Finish(overflow_));
  buckets_.clear();
  overflow_ = Bucket{};
  started_.reset();
  return out;
}

}  // namespace verbatim::service
