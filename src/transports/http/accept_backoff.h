// What the accept loop does after accept() fails. Out of file descriptors
// (EMFILE, ENFILE) or kernel memory (ENOBUFS, ENOMEM), the pending connection
// stays queued and an immediate retry fails the same way: a loop that retries
// at once spins a core and starves the connections that would free an fd.
// So it waits, `initial` doubling to `max`, and starts again at `initial`
// once an accept succeeds. Other errors (ECONNABORTED: the client gave up)
// concern one connection only: retry at once.
//
// Not thread-safe: owned by the accept loop, which runs one accept at a time.
#pragma once

#include <algorithm>
#include <boost/system/error_code.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>

namespace verbatim::api {

struct AcceptBackoffOptions {
  std::chrono::milliseconds initial{10};
  std::chrono::milliseconds max{1000};
};

class AcceptBackoff {
 public:
  using Options = AcceptBackoffOptions;
  explicit AcceptBackoff(Options o = {}) : opts_(o), next_(o.initial) {}

  static bool IsResourceExhaustion(const boost::system::error_code& ec) {
    if (ec.category() != boost::system::system_category()) return false;
    const int v = ec.value();
    return v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM;
  }

  // After a resource-exhaustion error: how long to wait before accepting again.
  std::chrono::milliseconds OnExhausted() {
    ++burst_errors_;
    const auto wait = next_;
    next_ = std::min(opts_.max, next_ * 2);
    return wait;
  }
  // After a successful accept: the number of errors of the burst it ends (0: none).
  uint64_t OnAccepted() {
    const uint64_t n = burst_errors_;
    burst_errors_ = 0;
    next_ = opts_.initial;
    return n;
  }
  bool in_burst() const { return burst_errors_ > 0; }

 private:
  const Options opts_;
  std::chrono::milliseconds next_;
  uint64_t burst_errors_ = 0;
};

// A short name for an accept error, as a metrics label.
inline const char* AcceptErrorLabel(const boost::system::error_code& ec) {
  if (ec.category() == boost::system::system_category()) {
    switch (ec.value()) {
      case EMFILE: return "emfile";
      case ENFILE: return "enfile";
      case ENOBUFS: return "enobufs";
      case ENOMEM: return "enomem";
      case ECONNABORTED: return "econnaborted";
      default: break;
    }
  }
  return "other";
}

}  // namespace verbatim::api
