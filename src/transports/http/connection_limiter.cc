#include "transports/http/connection_limiter.h"

namespace verbatim::api {

ConnectionLimiter::ConnectionLimiter(size_t max_total, size_t max_per_address)
    : max_total_(max_total), max_per_address_(max_per_address), state_(std::make_shared<State>()) {}

ConnectionLimiter::Admission ConnectionLimiter::TryAcquire(const IpAddress& peer, bool exempt_from_per_address) {
  std::string key = exempt_from_per_address ? std::string() : AddressKey(peer);
  {
    MutexLock lock(state_->mu);
    if (max_total_ > 0 && state_->total >= max_total_) return {nullptr, Refusal::kTotal};
    if (!key.empty()) {
      size_t& n = state_->per_key[key];
      if (max_per_address_ > 0 && n >= max_per_address_) return {nullptr, Refusal::kPerAddress};
      ++n;
    }
    ++state_->total;
  }
  return {std::make_shared<Held>(state_, std::move(key)), Refusal::kNone};
}

void ConnectionLimiter::Release(State& s, const std::string& key) {
  MutexLock lock(s.mu);
  --s.total;
  if (key.empty()) return;
  auto it = s.per_key.find(key);
  if (it != s.per_key.end() && --it->second == 0) s.per_key.erase(it);
}

size_t ConnectionLimiter::total() const {
  MutexLock lock(state_->mu);
  return state_->total;
}

size_t ConnectionLimiter::for_address(const IpAddress& a) const {
  MutexLock lock(state_->mu);
  auto it = state_->per_key.find(AddressKey(a));
  return it == state_->per_key.end() ? 0 : it->second;
}

const char* ToString(ConnectionLimiter::Refusal r) {
  switch (r) {
    case ConnectionLimiter::Refusal::kNone:
      return "none";
    case ConnectionLimiter::Refusal::kTotal:
      return "total";
    case ConnectionLimiter::Refusal::kPerAddress:
      return "per_address";
  }
  return "?";
}

}  // namespace verbatim::api
