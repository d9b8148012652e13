// Caps on concurrent HTTP connections: one for the whole listener and one per
// client address, so that one address cannot take every connection (and every
// file descriptor) the server has. An IPv6 address counts by its /64, which is
// what one subscriber usually gets; IPv4 by the address.
//
// Connections are counted at accept, by TCP peer: nothing has been read yet.
// Peers that are trusted proxies are exempt from the per-address cap (they
// carry many clients), never from the global one. See docs/decisions.md
// "Connection caps".
//
// Thread-safe: TryAcquire from the accept loop, slots released from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "service/client_address.h"
#include "transports/http/forwarded.h"
#include "core/mutex.h"

namespace verbatim::api {

// The key a client address counts under: "192.0.2.1", "2001:db8:1:2::/64"
// (the same key the rate limiters use, see service/client_address.h).
inline std::string AddressKey(const IpAddress& a) { return service::AddressKey(a.to_string()); }

class ConnectionLimiter {
 public:
  // 0 = no cap.
  ConnectionLimiter(size_t max_total, size_t max_per_address);

  enum class Refusal { kNone, kTotal, kPerAddress };
  // Holds one connection's place; released when the last copy goes.
  using Slot = std::shared_ptr<void>;
  struct Admission {
    Slot slot;  // null when refused
    Refusal refusal = Refusal::kNone;
  };
  Admission TryAcquire(const IpAddress& peer, bool exempt_from_per_address);

  size_t total() const;
  size_t for_address(const IpAddress& a) const;
  size_t max_total() const { return max_total_; }
  size_t max_per_address() const { return max_per_address_; }

 private:
  struct State {
    Mutex mu;
    size_t total GUARDED_BY(mu) = 0;
    std::unordered_map<std::string, size_t> per_key GUARDED_BY(mu);  // only keys with live connections
  };
  // One admitted connection; releases through the shared state, never through the limiter.
  struct Held {
    Held(std::shared_ptr<State> s, std::string k) : state(std::move(s)), key(std::move(k)) {}
    ~Held() { Release(*state, key); }
    std::shared_ptr<State> state;
    std::string key;  // "" = exempt from the per-address cap
  };
  static void Release(State& s, const std::string& key);

  // Constant after construction.
  const size_t max_total_;
  const size_t max_per_address_;
  // Shared with the slots, which may outlive the limiter during shutdown.
  std::shared_ptr<State> state_;
};

const char* ToString(ConnectionLimiter::Refusal r);  // "none" | "total" | "per_address"

}  // namespace verbatim::api
