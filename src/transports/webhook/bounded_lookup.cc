#include "transports/webhook/bounded_lookup.h"

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <system_error>
#include <thread>

#include "core/mutex.h"
#include "transports/webhook/webhook_target.h"

namespace verbatim::webhook {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// What the lookup threads and the callers share: the count of running
// threads, and each lookup's answer (kept alive by the thread's reference).
struct BoundedLookup::Shared {
  mutable Mutex mu;
  mutable std::condition_variable idle;
  int running GUARDED_BY(mu) = 0;
};

namespace {

struct Answer {
  Mutex mu;
  std::condition_variable cv;
  bool done GUARDED_BY(mu) = false;
  Result<BoundedLookup::Endpoints> result GUARDED_BY(mu) = BoundedLookup::Endpoints{};
};

Status Unresolvable(const std::string& host, const std::string& why) {
  return Status::FailedPrecondition("webhook.target.unresolvable", "cannot resolve " + host + ": " + why);
}

}  // namespace

BoundedLookup::BoundedLookup(Resolve resolve, int max_in_flight)
    : resolve_(std::move(resolve)), max_in_flight_(max_in_flight), shared_(std::make_shared<Shared>()) {}

BoundedLookup::~BoundedLookup() = default;

Result<BoundedLookup::Endpoints> BoundedLookup::Run(const std::string& host, uint16_t port,
                                                    std::chrono::milliseconds timeout) {
  {
    MutexLock lock(shared_->mu);
    if (shared_->running >= max_in_flight_)
      return Unresolvable(host, std::to_string(shared_->running) +
                                    " earlier lookups are still waiting for DNS; retried later");
    ++shared_->running;
  }
  auto answer = std::make_shared<Answer>();
  try {
    std::thread([shared = shared_, answer, resolve = resolve_, host, port] {
      Result<Endpoints> r = resolve(host, port);
      {
        MutexLock lock(answer->mu);
        answer->result = std::move(r);
        answer->done = true;
        answer->cv.notify_all();
      }
      MutexLock lock(shared->mu);
      if (--shared->running == 0) shared->idle.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    MutexLock lock(shared_->mu);
    --shared_->running;
    return Unresolvable(host, std::string("no thread for the lookup (") + e.what() + ")");
  }
  MutexLock lock(answer->mu);
  if (!answer->cv.wait_for(lock.native(), timeout, [&] {
        answer->mu.AssertHeld();
        return answer->done;
      }))
    return Unresolvable(host, "timed out after " + DescribeTimeout(timeout));
  if (!answer->result.ok()) return answer->result.status();
  if (answer->result->empty()) return Unresolvable(host, "it has no address");
  return std::move(*answer->result);
}

int BoundedLookup::in_flight() const {
  MutexLock lock(shared_->mu);
  return shared_->running;
}

bool BoundedLookup::WaitIdle(std::chrono::milliseconds timeout) const {
  MutexLock lock(shared_->mu);
  return shared_->idle.wait_for(lock.native(), timeout, [&] {
    shared_->mu.AssertHeld();
    return shared_->running == 0;
  });
}

Result<BoundedLookup::Endpoints> SystemResolve(const std::string& host, uint16_t port) {
  asio::io_context ioc;  // a synchronous resolve runs getaddrinfo on the calling thread
  tcp::resolver resolver(ioc);
  boost::system::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, ec);
  if (ec) return Unresolvable(host, ec.message());
  BoundedLookup::Endpoints endpoints;
  for (const auto& r : results) endpoints.push_back(r.endpoint());
  return endpoints;
}

}  // namespace verbatim::webhook
