#include <sys/resource.h>

#include "cli/commands.h"

namespace verbatim::cli {

std::pair<uint64_t, uint64_t> RaiseOpenFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return {0, 0};
  const uint64_t before = lim.rlim_cur;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return {before, before};
  }
  return {before, static_cast<uint64_t>(lim.rlim_cur)};
}

}  // namespace verbatim::cli
