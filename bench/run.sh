#!/usr/bin/env bash
# make bench: builds Release, then measures verbatim against baselines taken in
# the same run on this machine (loopback only), prints one line per figure
#   name value unit ratio=R cpu_ratio=C target=T noise=N ok|BELOW
# and writes bench/results.json. docs/performance.md explains every figure.
#
# Environment knobs (defaults in brackets):
#   BENCH_DURATION [5]  measured seconds per figure     BENCH_WARMUP [1]  unmeasured seconds before
#   BENCH_CONNECTIONS [32]  keep-alive connections      BENCH_MODES ["pinned shared"]
#   BENCH_CONVERSATIONS [256]  conversations cycled by the transition figure
#   BENCH_BUILD_DIR [build-release]   BENCH_SKIP_BUILD [0]   BENCH_KEEP [0]: keep the temp dir
# Modes: "pinned" runs the servers on CPU 1 with 1 thread and the load
# generator on CPU 0; "shared" runs both unpinned, servers with one thread per core.
# Whole run: about 2 minutes after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BENCH_BUILD_DIR:-build-release}
DURATION=${BENCH_DURATION:-5}
WARMUP=${BENCH_WARMUP:-1}
CONNS=${BENCH_CONNECTIONS:-32}
MODES=${BENCH_MODES:-pinned shared}
CONVS=${BENCH_CONVERSATIONS:-256}
NCPU=$(nproc)

if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVERBATIM_BENCH=ON -DVERBATIM_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j "$NCPU" --target verbatim hello_server loadgen
fi
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
VERBATIM=$BUILD/verbatim
HELLO=$BUILD/bench/hello_server
LOADGEN=$BUILD/bench/loadgen

TMP=$(mktemp -d /tmp/verbatim-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then echo "bench: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for_file() {  # FILE PID: until FILE exists, or fail if PID died / 15 s passed
  for _ in $(seq 150); do
    [[ -s "$1" ]] && return 0
    kill -0 "$2" 2>/dev/null || { echo "bench: process $2 exited before writing $1" >&2; return 1; }
    sleep 0.1
  done
  echo "bench: timed out waiting for $1" >&2
  return 1
}

# ---- baseline: one core's ECDSA P-256 signing rate (openssl divides by CPU time)
echo "bench: openssl speed -seconds 3 ecdsap256" >&2
openssl speed -seconds 3 ecdsap256 2>/dev/null >"$TMP/openssl.txt"
read -r SIGN_PER_S VERIFY_PER_S < <(awk '/nistp256/ {print $(NF-1), $NF}' "$TMP/openssl.txt")

# ---- one mode: start both servers, prepare, run every figure, stop
run_mode() {
  local mode=$1 dir=$TMP/$1 srv_cpu=() lg_cpu=() threads=$NCPU
  mkdir -p "$dir"
  if [[ $mode == pinned ]]; then
    srv_cpu=(taskset -c 1); lg_cpu=(taskset -c 0); threads=1
  fi
  "${srv_cpu[@]}" "$HELLO" --threads "$threads" --port-file "$dir/hello.port" >/dev/null &
  local hello_pid=$!
  PIDS+=("$hello_pid")
  # stderr gets one JSON log line per request at the default level (info): a
  # real cost of the default configuration, kept in the measurement.
  "${srv_cpu[@]}" "$VERBATIM" serve --dev --data-dir "$dir/data" --http-listen 127.0.0.1:0 --sip-listen 127.0.0.1:0 --threads "$threads" \
    --rate-limit-token 0 --rate-limit-auth-failures 0 >"$dir/server.out" 2>"$dir/server.log" &
  local server_pid=$!
  PIDS+=("$server_pid")
  wait_for_file "$dir/hello.port" "$hello_pid"
  wait_for_file "$dir/data/listen.json" "$server_pid"
  node bench/setup.mjs "$dir/data" "$dir" "$CONVS" >&2

  local hello_addr="127.0.0.1:$(cat "$dir/hello.port")"
  local server_addr
  server_addr=$(node -p "require('$dir/data/listen.json').http")

  # load NAME ADDR PID [loadgen flags...]: one figure's run, JSON in $dir/NAME.json
  load() {
    local name=$1 addr=$2 pid=$3
    shift 3
    kill -0 "$pid" 2>/dev/null || { echo "bench: server $pid is gone (before $name)" >&2; return 1; }
    echo "bench: [$mode] $name" >&2
    "${lg_cpu[@]}" "$LOADGEN" --target "$addr" --connections "$CONNS" --duration "$DURATION" --warmup "$WARMUP" \
      --watch-pid "$pid" --out "$dir/$name.json" "$@"
  }
  rps() { node -p "require('$dir/$1.json').rps"; }
  half() { node -p "Math.max(1, Math.round(require('$dir/$1.json').rps / 2))"; }

  load hello "$hello_addr" "$hello_pid" --requests "$dir/hello.jsonl"
  load get "$server_addr" "$server_pid" --requests "$dir/get.jsonl"
  load deny_scope "$server_addr" "$server_pid" --requests "$dir/deny_scope.jsonl"
  load deny_perm "$server_addr" "$server_pid" --requests "$dir/deny_perm.jsonl"
  load grants "$server_addr" "$server_pid" --requests "$dir/token.jsonl"
  load transitions "$server_addr" "$server_pid" --requests "$dir/transitions.jsonl" --ordered
  # Latency at half of the maximum just measured (open loop, from scheduled send times).
  # hello_half is the floor: what this machine's scheduling adds to any server.
  load hello_half "$hello_addr" "$hello_pid" --requests "$dir/hello.jsonl" --rate "$(half hello)"
  load get_half "$server_addr" "$server_pid" --requests "$dir/get.jsonl" --rate "$(half get)"
  load grants_half "$server_addr" "$server_pid" --requests "$dir/token.jsonl" --rate "$(half grants)"
  load transitions_half "$server_addr" "$server_pid" --requests "$dir/transitions_half.jsonl" --ordered \
    --rate "$(half transitions)"

  # ---- media hook (not measured yet) -------------------------------------------
  # MEDIA: once the SIPREC server lands, measure here "concurrent two-party G.711
  # RTP recordings on one core with zero gaps": start N SIPREC sessions against
  # $server_addr's SIP listener, stream RTP for $DURATION s, then check every
  # written WAV for gaps; write $dir/media.json as {"streams": N, "gaps": 0,
  # "server_cores": ...}. bench/report.mjs prints it when the file exists.

  kill "$hello_pid" "$server_pid" 2>/dev/null || true
  wait "$hello_pid" "$server_pid" 2>/dev/null || true
}

if ((NCPU < 2)) && [[ " $MODES " == *" pinned "* ]]; then
  echo "bench: one CPU only: skipping the pinned mode" >&2
  MODES=${MODES//pinned/}
fi
for mode in $MODES; do run_mode "$mode"; done

node bench/report.mjs --tmp "$TMP" --modes "$MODES" --sign "$SIGN_PER_S" --verify "$VERIFY_PER_S" \
  --duration "$DURATION" --connections "$CONNS" --out bench/results.json
