// Name lookups that can be given up on, and cannot pile up.
//
// getaddrinfo cannot be cancelled, and Asio's async resolver joins its worker
// thread on destruction: so each lookup runs on a thread of its own that the
// caller stops waiting for at its deadline. A resolver that hangs would then
// leave one stuck thread per webhook attempt; BoundedLookup counts the
// threads still running (answered or abandoned) and refuses a new lookup
// while `max_in_flight` are, so a slow DNS costs at most that many threads.
//
// Thread-safe. A thread that outlives its BoundedLookup only touches the
// shared state it holds a reference to.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace verbatim::webhook {

class BoundedLookup {
 public:
  using Endpoints = std::vector<boost::asio::ip::tcp::endpoint>;
  // Blocking: runs on the lookup's own thread.
  using Resolve = std::function<Result<Endpoints>(const std::string& host, uint16_t port)>;

  BoundedLookup(Resolve resolve, int max_in_flight);
  ~BoundedLookup();

  // The endpoints of `host`, or FailedPrecondition "webhook.target.unresolvable":
  // the lookup failed, found no address, did not answer within `timeout`, or
  // could not start (`max_in_flight` lookups are still running, or no thread).
  Result<Endpoints> Run(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

  // Lookups whose thread is still running.
  int in_flight() const;
  // Waits up to `timeout` for no lookup to be running; whether none is.
  bool WaitIdle(std::chrono::milliseconds timeout) const;

 private:
  struct Shared;
  Resolve resolve_;
  int max_in_flight_;
  std::shared_ptr<Shared> shared_;
};

// The system resolver (getaddrinfo through Asio), as a BoundedLookup::Resolve.
Result<BoundedLookup::Endpoints> SystemResolve(const std::string& host, uint16_t port);

}  // namespace verbatim::webhook
