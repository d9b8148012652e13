#!/usr/bin/env bash
# Builds verbatim and its unit tests with AddressSanitizer + UndefinedBehavior-
# Sanitizer, runs every unit test binary (ctest, a few gtest shards per binary), then the Node e2e suite
# against the sanitized server. With clang (the default) the same build also
# holds the libFuzzer targets, so scripts/fuzz.sh can run them from it
# (FUZZ_BUILD_DIR=build-asan) instead of compiling everything a third time. Any sanitizer report fails the stage: the unit
# tests abort on the first one (halt_on_error), and the e2e harness fails a
# test whose server printed one (tests/e2e/lib/server.mjs, sanitizerReport).
#
# Environment:
#   ASAN_BUILD_DIR   build directory (default build-asan)
#   SANITIZE_CXX     compiler (default clang++, which adds the fuzz targets; g++ works too)
#   SANITIZE_STAGES  "unit e2e" (default) or one of them
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
CXX_BIN=${SANITIZE_CXX:-clang++}
STAGES=${SANITIZE_STAGES:-unit e2e}
JOBS=$(nproc)

say() { printf 'sanitize: %s\n' "$*"; }
die() { printf 'sanitize: FAILED: %s\n' "$*" >&2; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

if [[ -f $BUILD_DIR/CMakeCache.txt ]] &&
  ! grep -q "^CMAKE_CXX_COMPILER:FILEPATH=.*$(basename "$CXX_BIN")\$" "$BUILD_DIR/CMakeCache.txt"; then
  die "$BUILD_DIR was configured with another compiler; remove it or set ASAN_BUILD_DIR"
fi
start=$SECONDS
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  cc=gcc debug=-g1 fuzz=OFF
  [[ $CXX_BIN == clang++* ]] && cc=clang debug=-gline-tables-only fuzz=ON
  # -O1 and line tables only: enough for exact stack traces, and several times
  # faster to compile than -O2 -g, whose variable tracking on instrumented
  # Beast templates took ~30 CPU-minutes for one file (docs/decisions.md).
  CC=$cc CXX=$CXX_BIN cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 $debug" \
    -DVERBATIM_SANITIZE=ON -DVERBATIM_TESTS=ON -DVERBATIM_FUZZ=$fuzz -DVERBATIM_CTEST_SHARDS=ON >/dev/null
elif ! grep -q '^VERBATIM_CTEST_SHARDS:BOOL=ON' "$BUILD_DIR/CMakeCache.txt"; then
  # A tree configured before the option existed: one ctest entry per shard, not per test.
  cmake -DVERBATIM_CTEST_SHARDS=ON "$BUILD_DIR" >/dev/null
fi
say "building $BUILD_DIR ($CXX_BIN, ASan+UBSan)"
cmake --build "$BUILD_DIR" -j "$JOBS" || die "build of $BUILD_DIR"
say "build took $((SECONDS - start)) s"

if [[ " $STAGES " == *" unit "* ]]; then
  start=$SECONDS
  say "unit tests (ctest)"
  (cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS") || die "unit tests under ASan+UBSan (see the output above)"
  say "unit tests took $((SECONDS - start)) s"
fi

if [[ " $STAGES " == *" e2e "* ]]; then
  start=$SECONDS
  say "e2e tests against $BUILD_DIR/verbatim"
  VERBATIM_BIN=$(realpath "$BUILD_DIR/verbatim") VERBATIM_E2E_SANITIZER=1 \
    node --test --test-concurrency=2 tests/e2e/ || die "e2e tests against the ASan+UBSan server (see the output above)"
  say "e2e tests took $((SECONDS - start)) s"
fi
say "passed"
