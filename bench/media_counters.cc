#include "media_counters.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "media_util.h"

namespace bench {

std::optional<std::map<std::string, double>> FetchMetrics(const std::string& host, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a = Addr(host, port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return std::nullopt;
  }
  std::string req = "GET /metrics HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) + "\r\nConnection: close\r\n\r\n";
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return std::nullopt;
  }
  std::string resp;
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (resp.rfind("HTTP/1.1 200", 0) != 0) return std::nullopt;
  size_t body = resp.find("\r\n\r\n");
  if (body == std::string::npos) return std::nullopt;
  std::map<std::string, double> out;
  std::istringstream in(resp.substr(body + 4));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos) continue;
    std::string name = line.substr(0, name_end);
    size_t value_at = line.rfind(' ');
    if (line[name_end] == '{') {
      size_t close_brace = line.find('}', name_end);
      if (close_brace == std::string::npos) continue;
      value_at = line.find(' ', close_brace);
    }
    if (value_at == std::string::npos) continue;
    out[name] += std::strtod(line.c_str() + value_at + 1, nullptr);
  }
  return out;
}

KernelCounters ReadKernelCounters() {
  KernelCounters k;
  std::ifstream snmp("/proc/net/snmp");
  std::string names, values;
  while (std::getline(snmp, names) && std::getline(snmp, values)) {
    if (names.rfind("Udp:", 0) != 0) continue;
    std::istringstream n(names), v(values);
    std::string name, value;
    while (n >> name && v >> value) {
      if (name == "RcvbufErrors") k.udp_rcvbuf_errors = std::stod(value);
      if (name == "InErrors") k.udp_in_errors = std::stod(value);
    }
    break;
  }
  std::ifstream softnet("/proc/net/softnet_stat");
  std::string line;
  while (std::getline(softnet, line)) {
    std::istringstream f(line);
    std::string processed, dropped;
    if (f >> processed >> dropped) k.softnet_dropped += static_cast<double>(std::stoul(dropped, nullptr, 16));
  }
  return k;
}

}  // namespace bench
