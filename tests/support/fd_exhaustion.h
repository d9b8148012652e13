// Tests that fill the file-descriptor table on purpose run in a death-test
// child ("threadsafe" style: a fresh exec of the test binary) so the limit and
// the damage stay in one process. This header prepares that child.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace verbatim::testing {

// UBSan's vptr check reads a vtable only after probing that its memory is
// readable, and sanitizer_common probes with pipe(2). With the descriptor
// table full, pipe() fails with EMFILE and every virtual call through a type
// not yet in UBSan's cache is reported as an "invalid vptr" although the
// object is fine (seen in Asio's reactor and std::thread). The children of
// these tests, and only they, run with the vptr check suppressed; everything
// else keeps it (docs/decisions.md, "Sanitizer and fuzz builds").
inline void SuppressUbsanVptrCheckInDeathTestChildren() {
  const std::string path = ::testing::TempDir() + "verbatim-ubsan-fd-exhaustion.supp";
  std::ofstream(path, std::ios::trunc) << "vptr_check:*\n";
  const char* current = std::getenv("UBSAN_OPTIONS");
  std::string options = current ? std::string(current) + ":" : std::string();
  ::setenv("UBSAN_OPTIONS", (options + "suppressions=" + path).c_str(), 1);  // a later key wins
}

}  // namespace verbatim::testing
