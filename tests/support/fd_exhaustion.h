// Tests that fill the file-descriptor table on purpose run in a death-test
// child ("threadsafe" style: a fresh exec of the test binary) so the limit and
// whatever it breaks stay in one process that exits right after.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

namespace verbatim::testing {

// Ends a death-test child: 0 and `ok_line` on stderr if no assertion failed
// in it, 1 otherwise (the assertions' details are on stdout).
[[noreturn]] inline void ExitChildWithTestResult(const char* ok_line) {
  const bool failed = ::testing::Test::HasFailure();
  std::fprintf(stderr, "%s\n", failed ? "an assertion failed in the child (see stdout)" : ok_line);
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(failed ? 1 : 0);
}

}  // namespace verbatim::testing
