#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "core/json.h"

namespace verbatim::cli {

bool ParseHostPort(const std::string& s, std::string& host, uint16_t& port) {
  std::string h, p;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (h.empty() || p.empty() || p.size() > 5) return false;
  for (char c : p)
    if (c < '0' || c > '9') return false;
  long n = std::stol(p);
  if (n > 65535) return false;
  host = h;
  port = static_cast<uint16_t>(n);
  return true;
}

bool ParseRtpRange(const std::string& s, uint16_t& first, uint16_t& last) {
  auto dash = s.find('-');
  if (dash == std::string::npos) return false;
  std::string a = s.substr(0, dash), b = s.substr(dash + 1);
  if (a.empty() || b.empty() || a.size() > 5 || b.size() > 5) return false;
  for (char c : a + b)
    if (c < '0' || c > '9') return false;
  long x = std::stol(a), y = std::stol(b);
  if (x < 1024 || y > 65535 || x + 1 > y) return false;
  first = static_cast<uint16_t>(x);
  last = static_cast<uint16_t>(y);
  return true;
}

std::string ServerUrl(const ClientOptions& c) {
  if (!c.server.empty()) return c.server;
  std::ifstream in(c.data_dir + "/listen.json");
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    auto o = ParseJsonObject(ss.str());
    if (o.ok()) {
      auto http = GetString(*o, "http");
      auto scheme = GetString(*o, "scheme");  // "https" when the server has --tls-cert
      const std::string prefix = scheme.ok() && *scheme && **scheme == "https" ? "https://" : "http://";
      if (http.ok() && *http) return prefix + **http;
    }
  }
  return "http://127.0.0.1:8080";
}

bool WriteFileAtomically(const std::string& path, const std::string& content, unsigned mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  ::fchmod(fd, mode);  // O_CREAT's mode is masked by umask; be exact
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace verbatim::cli
