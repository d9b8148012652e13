#include "service/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace verbatim::service {

std::string AddressKey(std::string_view ip) {
  constexpr size_t kMaxRaw = 64;
  // A zone id ("fe80::1%eth0") names the interface, not the peer.
  std::string text(ip.substr(0, std::min(ip.find('%'), kMaxRaw)));
  unsigned char v4[4];
  if (inet_pton(AF_INET, text.c_str(), v4) == 1) return text;
  unsigned char v6[16];
  if (inet_pton(AF_INET6, text.c_str(), v6) != 1) return text;
  static const unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[INET6_ADDRSTRLEN];
  if (std::memcmp(v6, kMappedPrefix, sizeof kMappedPrefix) == 0) {
    if (inet_ntop(AF_INET, v6 + 12, out, sizeof out) == nullptr) return text;
    return out;
  }
  std::memset(v6 + 8, 0, 8);
  if (inet_ntop(AF_INET6, v6, out, sizeof out) == nullptr) return text;
  return std::string(out) + "/64";
}

}  // namespace verbatim::service
