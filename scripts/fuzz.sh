#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a bounded
# time on a copy of its seed corpus; fails if any target crashes, leaks, times
# out or runs out of memory, printing the input's path and a base64 dump.
#
#   scripts/fuzz.sh                       every fuzz/*_fuzz.cc, FUZZ_SECONDS each
#   scripts/fuzz.sh jwt_fuzz json_fuzz    only these
#
# Environment:
#   FUZZ_SECONDS    seconds per target (default 20: ~11 targets, 2 at a time, ~2 min)
#   FUZZ_JOBS       targets run in parallel (default: nproc)
#   FUZZ_BUILD_DIR  build directory (default build-fuzz)
#   FUZZ_KEEP_GOING 1 = run every target even after one failed
# Artifacts (crashing inputs) are kept in $FUZZ_BUILD_DIR/fuzz-artifacts/.
# Reproduce one with:  $FUZZ_BUILD_DIR/fuzz/<target> <artifact>
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
KEEP_GOING=${FUZZ_KEEP_GOING:-0}

say() { printf 'fuzz: %s\n' "$*"; }
die() { printf 'fuzz: FAILED: %s\n' "$*" >&2; exit 1; }

command -v clang++ >/dev/null || die "clang++ not found (scripts/deps.sh installs clang and libclang-rt-14-dev)"

targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in fuzz/*_fuzz.cc; do targets+=("$(basename "$f" .cc)"); done
fi

# --- build: the libraries and the fuzz targets only (no CLI, no unit tests).
if [[ -f $BUILD_DIR/CMakeCache.txt ]] && ! grep -q '^CMAKE_CXX_COMPILER:FILEPATH=.*clang++' "$BUILD_DIR/CMakeCache.txt"; then
  die "$BUILD_DIR was configured with another compiler; remove it or set FUZZ_BUILD_DIR"
fi
if [[ -f $BUILD_DIR/CMakeCache.txt ]] && ! grep -q '^VERBATIM_FUZZ:BOOL=ON' "$BUILD_DIR/CMakeCache.txt"; then
  die "$BUILD_DIR was configured without VERBATIM_FUZZ (scripts/sanitize.sh turns it on with clang)"
fi
start=$SECONDS
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  # -O1 with line tables: the instrumented libraries compile several times faster than at -O2 -g.
  # NDEBUG as in release builds: toml++ 3.3's internal asserts fire on malformed headers
  # (docs/decisions.md, "Sanitizer and fuzz builds").
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DVERBATIM_FUZZ=ON -DVERBATIM_TESTS=OFF -DVERBATIM_SANITIZE=OFF >/dev/null
fi
say "building ${#targets[@]} targets in $BUILD_DIR"
# verbatim_grpc is linked by no fuzz target; built here so the clang
# thread-safety analysis (-Werror=thread-safety) covers the gRPC transport too.
cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${targets[@]}" verbatim_grpc ||
  die "build of the fuzz targets in $BUILD_DIR"
say "build took $((SECONDS - start)) s"

# --- run
work=$(mktemp -d "${TMPDIR:-/tmp}/verbatim-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts=$BUILD_DIR/fuzz-artifacts
mkdir -p "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Runs one target; its log is $work/<target>.log.
run_one() {
  local t=$1 corpus=$work/corpus/$1
  mkdir -p "$corpus"
  [[ -d fuzz/corpus/${t%_fuzz} ]] && cp -R "fuzz/corpus/${t%_fuzz}/." "$corpus/"
  # -timeout: one input may take at most 10 s; -rss_limit_mb: 2 GiB. The outer
  # timeout catches a hang outside libFuzzer's clock (e.g. in initialization).
  timeout -k 10 $((FUZZ_SECONDS + 120)) \
    "$BUILD_DIR/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "$corpus" >"$work/$t.log" 2>&1
}

report() {  # target exit-status
  local t=$1 rc=$2 log=$work/$1.log
  if ((rc == 0)); then
    local stats
    stats=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | tr -s '\t ' ' ') || true
    say "ok   $t  ${stats:-(no stats)}"
    return
  fi
  local why="crash, leak, timeout or OOM"
  ((rc == 124 || rc == 137)) && why="hung: no result within $((FUZZ_SECONDS + 120)) s"
  printf '\nfuzz: FAIL %s (exit %s: %s) -- last 60 lines of its log:\n' "$t" "$rc" "$why" >&2
  tail -n 60 "$log" >&2
  local found=0 a
  for a in "$artifacts/$t-"*; do
    [[ -f $a ]] || continue
    found=1
    printf '\nfuzz: input: %s (%s bytes)\nfuzz: reproduce: %s/fuzz/%s %s\nfuzz: base64:\n' \
      "$a" "$(stat -c %s "$a")" "$BUILD_DIR" "$t" "$a" >&2
    head -c 65536 "$a" | base64 >&2
  done
  ((found)) || printf 'fuzz: no artifact was written (see the log above)\n' >&2
}

rm -f "$artifacts/"*
say "running each target for ${FUZZ_SECONDS} s, $FUZZ_JOBS at a time"
start=$SECONDS
declare -A pid_of=()
failed=()
next=0
wait_one() {
  local pid rc=0 t
  wait -n -p pid "${!pid_of[@]}" || rc=$?
  t=${pid_of[$pid]}
  unset "pid_of[$pid]"
  report "$t" "$rc"
  ((rc == 0)) || failed+=("$t")
}
while ((next < ${#targets[@]})); do
  if ((${#failed[@]} > 0 && KEEP_GOING != 1)); then break; fi
  t=${targets[next]}
  next=$((next + 1))
  [[ -x $BUILD_DIR/fuzz/$t ]] || die "no fuzz target $t in $BUILD_DIR/fuzz"
  run_one "$t" &
  pid_of[$!]=$t
  if ((${#pid_of[@]} >= FUZZ_JOBS)); then wait_one; fi
done
while ((${#pid_of[@]} > 0)); do wait_one; done
say "ran $next of ${#targets[@]} targets in $((SECONDS - start)) s"

if ((${#failed[@]} > 0)); then
  die "${failed[*]} (inputs in $artifacts/)"
fi
say "all ${#targets[@]} targets passed"
