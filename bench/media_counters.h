// What the server and the kernel counted, read by media_load before and after
// a run: the server's GET /metrics (RTP packets received, lost, dropped) and
// the machine's UDP receive errors and softnet drops, which say whether a
// packet the server never saw was dropped before it reached the socket.
// CPU time is proc_cpu.h's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace bench {

// GET /metrics (public): { name: sum over label sets }; nullopt if unreachable.
std::optional<std::map<std::string, double>> FetchMetrics(const std::string& host, uint16_t port);

struct KernelCounters {
  double udp_rcvbuf_errors = 0, udp_in_errors = 0, softnet_dropped = 0;
};

KernelCounters ReadKernelCounters();  // machine-wide: other processes' UDP counts too

}  // namespace bench
