// Accept errors back off (transports/http/accept_backoff.h): the policy on its own, and a
// real server whose process runs out of file descriptors. Out of fds, the
// pending connection stays queued and every accept() fails; a loop that
// retries at once makes thousands of attempts per millisecond. The test
// counts attempts (never time): it holds the exhaustion until the server has
// failed K accepts, then checks that no more than one further attempt
// happened before the fds were released, and that the queued connection is
// then served without anybody restarting anything.
#include "transports/http/accept_backoff.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "unit/transports/http/http_test_util.h"

namespace verbatim::api {
namespace {

using testing::EchoServer;
using testing::WaitUntil;

TEST(AcceptBackoff, DoublesFromInitialToMaxAndResetsOnSuccess) {
  AcceptBackoff b({std::chrono::milliseconds(10), std::chrono::milliseconds(50)});
  EXPECT_FALSE(b.in_burst());
  EXPECT_EQ(b.OnExhausted().count(), 10);
  EXPECT_EQ(b.OnExhausted().count(), 20);
  EXPECT_EQ(b.OnExhausted().count(), 40);
  EXPECT_EQ(b.OnExhausted().count(), 50);
  EXPECT_EQ(b.OnExhausted().count(), 50);
  EXPECT_TRUE(b.in_burst());
  EXPECT_EQ(b.OnAccepted(), 5u) << "the burst's size, for the recovery log line";
  EXPECT_FALSE(b.in_burst());
  EXPECT_EQ(b.OnExhausted().count(), 10);
}

TEST(AcceptBackoff, OnlyResourceExhaustionBacksOff) {
  using boost::system::error_code;
  using boost::system::system_category;
  for (int e : {EMFILE, ENFILE, ENOBUFS, ENOMEM})
    EXPECT_TRUE(AcceptBackoff::IsResourceExhaustion(error_code(e, system_category()))) << e;
  for (int e : {ECONNABORTED, EPERM, EPROTO})
    EXPECT_FALSE(AcceptBackoff::IsResourceExhaustion(error_code(e, system_category()))) << e;
  EXPECT_STREQ(AcceptErrorLabel(error_code(EMFILE, system_category())), "emfile");
}

// Runs in a child process (the fd limit is per process): exits 0 on success,
// 1 with the reason on stderr.
[[noreturn]] void ExhaustFdsThenRelease() {
  auto fail = [](const std::string& why) {
    std::fprintf(stderr, "FAIL: %s\n", why.c_str());
    std::fflush(stderr);
    std::_Exit(1);
  };
  // A low limit, so that exhausting it is quick.
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 256);
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) fail("setrlimit");

  HttpServerOptions o;
  o.threads = 1;
  o.accept_backoff = {std::chrono::milliseconds(20), std::chrono::milliseconds(1000)};
  EchoServer s(o);
  // The client's socket exists before the fds run out; connect() needs none.
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (client < 0) fail("socket");
  std::vector<int> hog;
  for (;;) {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    hog.push_back(fd);
  }
  if (errno != EMFILE) fail("expected EMFILE while filling the fd table");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(s.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("connect");

  constexpr uint64_t kHoldUntil = 4;  // failed accepts: waits of 20 + 40 + 80 ms between them
  if (!WaitUntil([&] { return s.server().stats().accept_backoffs >= kHoldUntil; }))
    fail("the server never failed an accept");
  const uint64_t attempts = s.server().stats().accept_errors;
  for (int fd : hog) ::close(fd);
  if (attempts > kHoldUntil + 1) fail("accept spun: " + std::to_string(attempts) + " attempts");

  // Recovers by itself: the queued connection is served.
  const std::string req = "GET /back HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::write(client, req.data(), req.size()) != static_cast<ssize_t>(req.size())) fail("write");
  std::string answer;
  char buf[512];
  for (ssize_t n; (n = ::read(client, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<size_t>(n));
  if (answer.rfind("HTTP/1.1 200", 0) != 0) fail("not served after the fds came back: " + answer.substr(0, 80));
  if (s.metrics.CounterValue("verbatim_http_accept_errors_total", {{"error", "emfile"}}) < kHoldUntil)
    fail("the failed accepts are not in verbatim_http_accept_errors_total");
  std::fprintf(stderr, "served again after %llu failed accepts\n", static_cast<unsigned long long>(attempts));
  std::fflush(stderr);
  std::_Exit(0);
}

TEST(AcceptBackoffDeathTest, OutOfFileDescriptorsTheAcceptLoopWaitsAndRecovers) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: no other test's threads or fds
  EXPECT_EXIT(ExhaustFdsThenRelease(), ::testing::ExitedWithCode(0), "served again after [0-9]+ failed accepts");
}

}  // namespace
}  // namespace verbatim::api
