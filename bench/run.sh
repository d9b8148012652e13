#!/usr/bin/env bash
# make bench: builds Release, then measures verbatim against baselines taken in
# the same run on this machine (loopback only), prints one line per figure
#   name value unit ratio=R cpu_ratio=C target=T noise=N ok|BELOW
# and writes bench/results.json. docs/performance.md explains every figure.
#
# Environment knobs (defaults in brackets):
#   BENCH_DURATION [5]  measured seconds per figure     BENCH_WARMUP [1]  unmeasured seconds before
#   BENCH_CONNECTIONS [32]  keep-alive connections      BENCH_MODES ["pinned shared"]
#   gRPC: BENCH_GRPC_CHANNELS [8] connections x BENCH_GRPC_OUTSTANDING [4] calls in flight each
#   BENCH_CONVERSATIONS [256]  conversations cycled by the transition figure
#   BENCH_BUILD_DIR [build-release]   BENCH_SKIP_BUILD [0]   BENCH_KEEP [0]: keep the temp dir
#   BENCH_FIGURES ["http media grpc changes cluster"]: which figures; e.g. BENCH_FIGURES=media BENCH_MODES=pinned
#   Cluster (pinned mode only): BENCH_CLUSTER_REVOCATIONS [100] revocations timed from one node to the other,
#   BENCH_CLUSTER_PG_FSYNC [on]: off runs PostgreSQL without fsync (what the disk costs)
#   BENCH_RESULTS [bench/results.json; bench/results-<figures>.json when not all figures run]
#   Changes: BENCH_CHANGES_SUBSCRIBERS [100] event streams of sse_fanout, BENCH_CHANGES_DRAIN [30] s at
#   most waited for the webhook's backlog after the observed run, BENCH_CHANGES_RATE [half of
#   transitions_plain] transitions/s driven during sse_fanout.
#   BENCH_SERVER_ARGS [""]: more `verbatim serve` flags, e.g. "--database-url postgresql://…" to
#   measure the PostgreSQL store (docs/performance.md)
#   Media (pinned mode only): BENCH_MEDIA_DURATION [5] s of RTP per step, from BENCH_MEDIA_START [50]
#   calls, doubled per step (capped by the server's CPU use) up to BENCH_MEDIA_MAX_CALLS [3200], then
#   BENCH_MEDIA_REFINE [2] bisection steps, all within BENCH_MEDIA_BUDGET [60] s.
# Modes: "pinned" runs the servers on CPU 1 with 1 thread and the load
# generator on CPU 0; "shared" runs both unpinned, servers with one thread per core.
# Peers in the HTTP figures (same run, same CPU as the server): oidc-provider
# (npm, bench/peers/oidc, installed on first use) for grants, and
# bench/verify_server.cc (an uncached ES256 verification per request) for GET.
# The gRPC figure: verbatim's Recordings/Get against bench/grpc_bare_server.cc
# (bare grpc++, same server options, verbatim's own answer canned), same CPU.
# The changes figure (issue 15): what the change log's observers cost. Transitions (start/pause/
# resume/stop cycles, --ordered, fresh conversations per run) per server CPU-second with nobody
# watching (transitions_plain), then with one event stream (GET /api/v2/events?kinds=recording.)
# and one webhook to bench/webhook_sink.mjs (transitions_observed: the ratio is the cost of
# observing; both must receive every transition, the webhook's backlog is waited for and timed),
# then BENCH_CHANGES_SUBSCRIBERS event streams while transitions run at half the plain rate
# (sse_fanout: events pushed per server CPU-second over transitions committed per CPU-second).
# Subscribers, the sink and the load generator share the load generator's CPU
# (bench/sse_fanout.mjs runs the load generator and checks every stream against the change log).
# Whole run: about 5 min after the build (HTTP figures ~2.5 min, media ≤ ~1 min, gRPC ~15 s,
# changes ~30 s per mode, up to BENCH_CHANGES_DRAIN more if the webhook's backlog is slow; cluster ~1 min).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BENCH_BUILD_DIR:-build-release}
DURATION=${BENCH_DURATION:-5}
WARMUP=${BENCH_WARMUP:-1}
CONNS=${BENCH_CONNECTIONS:-32}
MODES=${BENCH_MODES:-pinned shared}
CONVS=${BENCH_CONVERSATIONS:-256}
FIGURES=${BENCH_FIGURES:-http media grpc changes cluster}
GRPC_CHANNELS=${BENCH_GRPC_CHANNELS:-8}
GRPC_OUTSTANDING=${BENCH_GRPC_OUTSTANDING:-4}
MEDIA_DURATION=${BENCH_MEDIA_DURATION:-5}
MEDIA_START=${BENCH_MEDIA_START:-50}
MEDIA_MAX=${BENCH_MEDIA_MAX_CALLS:-3200}
MEDIA_BUDGET=${BENCH_MEDIA_BUDGET:-60}
MEDIA_REFINE=${BENCH_MEDIA_REFINE:-2}
CHANGES_SUBSCRIBERS=${BENCH_CHANGES_SUBSCRIBERS:-100}
CHANGES_DRAIN=${BENCH_CHANGES_DRAIN:-30}
# RTP ports for SIPREC streams (2 per call), below the ephemeral range (32768-)
# so that client sockets never take them: 8 384 streams = 4 192 calls, more than
# the recorder's own session limit (4 000, then 503).
RTP_PORTS=16000-32767
NCPU=$(nproc)
has_figure() { [[ " $FIGURES " == *" $1 "* ]]; }
if [[ -n ${BENCH_RESULTS:-} ]]; then RESULTS=$BENCH_RESULTS
elif has_figure http && has_figure media && has_figure grpc && has_figure changes && has_figure cluster; then
  RESULTS=bench/results.json
else RESULTS=bench/results-$(echo $FIGURES | tr ' ' '-').json; fi

if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVERBATIM_BENCH=ON -DVERBATIM_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j "$NCPU" --target verbatim hello_server verify_server loadgen media_load \
    grpc_bare_server grpc_load
fi
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
VERBATIM=$BUILD/verbatim
HELLO=$BUILD/bench/hello_server
VERIFY=$BUILD/bench/verify_server
LOADGEN=$BUILD/bench/loadgen
MEDIA_LOAD=$BUILD/bench/media_load
GRPC_BARE=$BUILD/bench/grpc_bare_server
GRPC_LOAD=$BUILD/bench/grpc_load

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

# ---- peer: oidc-provider from npm, in its own directory with its own lockfile
# (not a test dependency of the project); installed once, the peer is skipped
# with a message if npm cannot fetch it.
OIDC_PEER=bench/peers/oidc
OIDC_OK=0
if has_figure http; then
  if [[ -d $OIDC_PEER/node_modules/oidc-provider ]] ||
     { echo "bench: installing the oidc-provider peer (npm ci in $OIDC_PEER)" >&2
       npm ci --prefix "$OIDC_PEER" --no-audit --no-fund --loglevel=error >&2; }; then
    OIDC_OK=1
  else
    echo "bench: npm ci failed: the oidc-provider peer is not measured" >&2
  fi
fi

# ---- baseline: one core's ECDSA P-256 signing rate (openssl divides by CPU time)
SIGN_PER_S=0 VERIFY_PER_S=0
if has_figure http; then
  echo "bench: openssl speed -seconds 3 ecdsap256" >&2
  openssl speed -seconds 3 ecdsap256 2>/dev/null >"$TMP/openssl.txt"
  read -r SIGN_PER_S VERIFY_PER_S < <(awk '/nistp256/ {print $(NF-1), $NF}' "$TMP/openssl.txt")
fi

# ---- one mode: start both servers, prepare, run every figure, stop
run_mode() {
  local mode=$1 dir=$TMP/$1 srv_cpu=() lg_cpu=() threads=$NCPU
  mkdir -p "$dir"
  if [[ $mode == pinned ]]; then
    srv_cpu=(taskset -c 1); lg_cpu=(taskset -c 0); threads=1
  fi
  local hello_pid=""
  if has_figure http; then
    "${srv_cpu[@]}" "$HELLO" --threads "$threads" --port-file "$dir/hello.port" >/dev/null &
    hello_pid=$!
    PIDS+=("$hello_pid")
  fi
  # stderr gets one JSON log line per request at the default level (info): a
  # real cost of the default configuration, kept in the measurement.
  # --webhook-allow-private: the changes figure's webhook receiver is on loopback
  # (no webhook exists outside that figure).
  "${srv_cpu[@]}" "$VERBATIM" serve --dev --data-dir "$dir/data" --http-listen 127.0.0.1:0 --sip-listen 127.0.0.1:0 --threads "$threads" \
    --metrics-listen 127.0.0.1:0 --grpc-listen 127.0.0.1:0 \
    --rtp-ports "$RTP_PORTS" --rate-limit-token 0 --rate-limit-auth-failures 0 --webhook-allow-private ${BENCH_SERVER_ARGS:-} \
    >"$dir/server.out" 2>"$dir/server.log" &
  local server_pid=$!
  PIDS+=("$server_pid")
  wait_for_file "$dir/data/listen.json" "$server_pid"
  local server_addr
  server_addr=$(node -p "require('$dir/data/listen.json').http")
  # /metrics needs a token on the API port; the metrics listener serves it openly.
  local metrics_addr
  metrics_addr=$(node -p "require('$dir/data/listen.json').metrics")
  if has_figure http; then
    wait_for_file "$dir/hello.port" "$hello_pid"
    http_figures
  fi
  if has_figure grpc; then grpc_figure; fi
  if has_figure changes; then changes_figure; fi
  if has_figure media; then
    if [[ $mode == pinned ]]; then media_figure; else echo "bench: [$mode] media: measured in the pinned mode only" >&2; fi
  fi
  if has_figure cluster; then
    if [[ $mode == pinned ]]; then cluster_figure; else echo "bench: [$mode] cluster: measured in the pinned mode only" >&2; fi
  fi

  kill $hello_pid "$server_pid" 2>/dev/null || true
  wait $hello_pid "$server_pid" 2>/dev/null || true
}

# ---- the HTTP figures of one mode (run_mode's variables are visible here)
http_figures() {
  node bench/setup.mjs "$dir/data" "$dir" "$CONVS" >&2

  local hello_addr="127.0.0.1:$(cat "$dir/hello.port")"

  # Peers, on the server's CPU like the servers, once setup has written their inputs.
  "${srv_cpu[@]}" "$VERIFY" --threads "$threads" --config "$dir/verify.json" --body "$dir/get_body.json" \
    --port-file "$dir/verify.port" >/dev/null &
  local verify_pid=$!
  PIDS+=("$verify_pid")
  wait_for_file "$dir/verify.port" "$verify_pid"
  local verify_addr="127.0.0.1:$(cat "$dir/verify.port")"
  local oidc_pid="" oidc_addr=""
  if [[ $OIDC_OK == 1 ]]; then
    # One Node.js process, whatever the mode (Node runs JavaScript on one thread).
    NODE_ENV=production "${srv_cpu[@]}" node "$OIDC_PEER/server.mjs" --client "$dir/peer-client.json" \
      --port-file "$dir/oidc.port" >/dev/null 2>"$dir/oidc.log" &
    oidc_pid=$!
    PIDS+=("$oidc_pid")
    wait_for_file "$dir/oidc.port" "$oidc_pid"
    oidc_addr="127.0.0.1:$(cat "$dir/oidc.port")"
  fi

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
  load verify "$verify_addr" "$verify_pid" --requests "$dir/get.jsonl"
  load deny_scope "$server_addr" "$server_pid" --requests "$dir/deny_scope.jsonl"
  load deny_perm "$server_addr" "$server_pid" --requests "$dir/deny_perm.jsonl"
  load grants "$server_addr" "$server_pid" --requests "$dir/token.jsonl"
  [[ -z $oidc_pid ]] || load oidc_grants "$oidc_addr" "$oidc_pid" --requests "$dir/token.jsonl"
  load transitions "$server_addr" "$server_pid" --requests "$dir/transitions.jsonl" --ordered
  # Latency at half of the maximum just measured (open loop, from scheduled send times).
  # hello_half is the floor: what this machine's scheduling adds to any server.
  load hello_half "$hello_addr" "$hello_pid" --requests "$dir/hello.jsonl" --rate "$(half hello)"
  load get_half "$server_addr" "$server_pid" --requests "$dir/get.jsonl" --rate "$(half get)"
  load grants_half "$server_addr" "$server_pid" --requests "$dir/token.jsonl" --rate "$(half grants)"
  load transitions_half "$server_addr" "$server_pid" --requests "$dir/transitions_half.jsonl" --ordered \
    --rate "$(half transitions)"
  kill "$verify_pid" $oidc_pid 2>/dev/null || true
  wait "$verify_pid" $oidc_pid 2>/dev/null || true
}

# ---- the gRPC figure: authorized Recordings/Get per server CPU-second, verbatim
# over bench/grpc_bare_server.cc (bare grpc++ sync server, the options of
# src/transports/grpc/grpc_server.cc, answering verbatim's own serialized answer
# for the same conversation), both on the server's CPU, driven by
# bench/grpc_load.cc on the load generator's. Reuses the HTTP figures' setup
# (token, the 16 started recordings) or runs it without the transition sets.
grpc_figure() {
  [[ -s $dir/grpc.json ]] || node bench/setup.mjs "$dir/data" "$dir" 0 >&2
  local grpc_addr
  grpc_addr=$(node -p "require('$dir/data/listen.json').grpc")
  "$GRPC_LOAD" --target "$grpc_addr" --setup "$dir/grpc.json" --save-response "$dir/grpc_answer.bin"
  "${srv_cpu[@]}" "$GRPC_BARE" --response "$dir/grpc_answer.bin" --port-file "$dir/grpc_bare.port" >/dev/null &
  local bare_pid=$!
  PIDS+=("$bare_pid")
  wait_for_file "$dir/grpc_bare.port" "$bare_pid"
  grpc_load() {  # NAME ADDR PID: one run, JSON in $dir/NAME.json
    kill -0 "$3" 2>/dev/null || { echo "bench: server $3 is gone (before $1)" >&2; return 1; }
    echo "bench: [$mode] $1" >&2
    "${lg_cpu[@]}" "$GRPC_LOAD" --target "$2" --setup "$dir/grpc.json" --channels "$GRPC_CHANNELS" \
      --outstanding "$GRPC_OUTSTANDING" --duration "$DURATION" --warmup "$WARMUP" --watch-pid "$3" --out "$dir/$1.json"
  }
  grpc_load grpc_bare "127.0.0.1:$(cat "$dir/grpc_bare.port")" "$bare_pid"
  grpc_load grpc_verbatim "$grpc_addr" "$server_pid"
  kill "$bare_pid" 2>/dev/null || true
  wait "$bare_pid" 2>/dev/null || true
}

# ---- the changes figure (issue 15): the cost of the change log's observers.
# Three ordered transition runs, each on its own fresh conversations
# (bench/changes_setup.mjs), each wrapped by bench/sse_fanout.mjs, which opens the
# event streams, runs the load generator, measures its own window and checks every
# stream against the change log afterwards (JSON: $dir/NAME.json from loadgen,
# $dir/NAME.run.json from sse_fanout):
#   transitions_plain     closed loop, no subscriber, no webhook;
#   transitions_observed  the same with one stream (kinds=recording.) and one webhook
#                         (kinds recording.) to bench/webhook_sink.mjs, then the
#                         webhook's backlog waited for (at most $CHANGES_DRAIN s) and
#                         the webhook deleted;
#   sse_fanout            $CHANGES_SUBSCRIBERS streams while transitions run open loop
#                         at half of transitions_plain's rate.
# The subscribers, the sink and the load generator run on the load generator's CPU.
changes_figure() {
  [[ -s $dir/peer-client.json ]] || node bench/setup.mjs "$dir/data" "$dir" 0 >&2
  node bench/changes_setup.mjs prepare "$dir/data" "$dir" "$CONVS" >&2

  changes_run() {  # NAME SUBSCRIBERS [sse_fanout flags...] -- [loadgen flags...]
    local name=$1 subs=$2 sse=()
    shift 2
    while [[ $1 != -- ]]; do sse+=("$1"); shift; done
    shift
    kill -0 "$server_pid" 2>/dev/null || { echo "bench: server $server_pid is gone (before $name)" >&2; return 1; }
    echo "bench: [$mode] $name ($subs event streams)" >&2
    "${lg_cpu[@]}" node bench/sse_fanout.mjs --setup "$dir/changes.json" --subscribers "$subs" --kinds recording. \
      --watch-pid "$server_pid" --warmup "$WARMUP" --duration "$DURATION" --out "$dir/$name.run.json" "${sse[@]}" -- \
      "$LOADGEN" --target "$server_addr" --connections "$CONNS" --duration "$DURATION" --warmup "$WARMUP" \
      --watch-pid "$server_pid" --out "$dir/$name.json" --ordered "$@"
  }

  changes_run transitions_plain 0 -- --requests "$dir/changes_plain.jsonl"

  "${lg_cpu[@]}" node bench/webhook_sink.mjs --port-file "$dir/sink.port" >"$dir/sink.log" 2>&1 &
  local sink_pid=$! sink_url webhook_id rc=0
  PIDS+=("$sink_pid")
  wait_for_file "$dir/sink.port" "$sink_pid"
  sink_url="http://127.0.0.1:$(cat "$dir/sink.port")"
  webhook_id=$(node bench/changes_setup.mjs webhook-create "$dir" "$sink_url/")
  changes_run transitions_observed 1 --helper-pid "$sink_pid" --sink "$sink_url" --drain-timeout "$CHANGES_DRAIN" -- \
    --requests "$dir/changes_observed.jsonl" || rc=$?
  # Whatever happened: later figures must not push to a webhook.
  node bench/changes_setup.mjs webhook-delete "$dir" "$webhook_id"
  kill "$sink_pid" 2>/dev/null || true
  wait "$sink_pid" 2>/dev/null || true
  ((rc == 0)) || return "$rc"

  local rate=${BENCH_CHANGES_RATE:-$(node -p "Math.max(1, Math.round(require('$dir/transitions_plain.json').rps / 2))")}
  changes_run sse_fanout "$CHANGES_SUBSCRIBERS" -- --requests "$dir/changes_fanout.jsonl" --rate "$rate"
}

# ---- the cluster figure (issue 14, pinned mode): GET/s and transitions/s on one
# node on SQLite, one node on PostgreSQL and two nodes on one PostgreSQL, all
# server processes (PostgreSQL's too) on the server CPU, over the hello-world
# baseline on that CPU; then the revocation propagation delay between the two
# nodes, p50/p99 (bench/cluster.mjs; needs PostgreSQL, as the tests do).
cluster_figure() {
  if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    echo "bench: [$mode] cluster: PostgreSQL is not installed (scripts/deps.sh installs it); not measured" >&2
    return 0
  fi
  node bench/cluster.mjs --verbatim "$VERBATIM" --hello "$HELLO" --loadgen "$LOADGEN" --dir "$dir/cluster" \
    --server-cpu 1 --loadgen-cpu 0 --duration "$DURATION" --warmup "$WARMUP" --connections "$CONNS" \
    --conversations "$CONVS" --revocations "${BENCH_CLUSTER_REVOCATIONS:-100}" --pg-fsync "${BENCH_CLUSTER_PG_FSYNC:-on}"
}

# ---- the media figure (pinned mode): "concurrent two-party G.711 RTP recordings
# on one core with zero gaps". media_load sets up N SIPREC calls (UDP, multipart
# SDP + rs-metadata), streams both legs (PCMU 20 ms, 440/880 Hz) for
# $MEDIA_DURATION s on an absolute schedule, BYEs them, then checks every WAV
# they produced (2 channels, duration, no 10 ms run of zeros inside the audio,
# every sample as sent, the tones) and the server's RTP counters.
# Search: N doubles from $MEDIA_START (capped where the last step's server CPU
# extrapolates to 0.95 of a core) until a step is not clean (gaps, loss, setup
# failures), the server uses >= 0.9 cores, N would pass $MEDIA_MAX, or the
# next step would overrun the $MEDIA_BUDGET s budget; then up to
# $MEDIA_REFINE bisection steps between the last clean N and the first failing
# one, budget permitting. This box is shared: other tenants' work on CPU 1 can
# starve the pinned server (media_load reports it as server_wait_cores), and a
# step whose *sender* fell behind its schedule is not a server result. So a step
# that is not clean while neither the server nor the sender used a whole core is
# run once more, and fails only if it fails twice (the first try stays in
# media-N.try1.json); a sender that falls behind makes the load generator the
# bound. Steps: $dir/media-N.json; summary: $dir/media.json
# (bench/media-summary.mjs), printed by report.mjs.
media_figure() {
  local sip_addr stop=max stop_n=0 good=0 bad=0 last_n=0 last_s=0 start=$SECONDS verdict n
  sip_addr=$(node -p "require('$dir/data/listen.json').sip")

  fits_budget() {  # N: does a step of N calls fit? (setup/teardown/checks scale with N, the media time does not)
    ((last_n == 0)) && return 0
    local predicted=$(( MEDIA_DURATION + 1 + (last_s - MEDIA_DURATION) * $1 / last_n ))
    ((SECONDS - start + predicted <= MEDIA_BUDGET))
  }
  step() {  # N: one step (again once if not clean); sets verdict = ok|saturated|sender|fail|error
    local n=$1 try t0
    verdict=error
    kill -0 "$server_pid" 2>/dev/null || { echo "bench: server $server_pid is gone (before media $n)" >&2; return; }
    for try in 1 2; do
      echo "bench: [$mode] media $n calls$( ((try == 1)) || echo " (again: $verdict, not at a whole core)")" >&2
      t0=$SECONDS
      "${lg_cpu[@]}" "$MEDIA_LOAD" --sip "$sip_addr" --http "$metrics_addr" --calls "$n" --duration "$MEDIA_DURATION" \
        --verify-dir "$dir/data/media" --watch-pid "$server_pid" --out "$dir/media-$n.json" || true
      last_n=$n last_s=$((SECONDS - t0))
      # The step's recordings are checked: keep them only if BENCH_KEEP asks for it.
      [[ ${BENCH_KEEP:-0} == 1 ]] || find "$dir/data/media" -mindepth 1 -delete 2>/dev/null || true
      [[ -s "$dir/media-$n.json" ]] || return 0
      # ok | saturated (clean, server >= 0.9 cores) | sender | fail; "+" when a second try
      # can tell noise from capacity (neither the server nor the sender used a whole core)
      verdict=$(node -p "const r = require('$dir/media-$n.json');
        const v = !r.sender_ok ? 'sender' : !r.ok ? 'fail' : (r.server_cores >= 0.9 ? 'saturated' : 'ok');
        v + ((v === 'sender' || v === 'fail') && r.server_cores < 0.9 && r.loadgen_cores < 0.9 ? '+' : '')")
      node -p "const r = require('$dir/media-$n.json'); 'bench:   ' + JSON.stringify({
        up: r.calls_established, server_cores: +(r.server_cores ?? 0).toFixed(3),
        loadgen_cores: +(r.loadgen_cores ?? 0).toFixed(3), server_wait_cores: +(r.server_wait_cores ?? 0).toFixed(3),
        gaps: r.gaps, lost: r.metrics.rtp_lost,
        received: r.metrics.rtp_received, sent: r.packets_sent, late_p99_ms: +r.lateness_ms.p99.toFixed(2),
        late_max_ms: +r.lateness_ms.max.toFixed(2), setup_failures: r.setup_failures, problems: r.problems })" >&2
      [[ $verdict == *+ && $try == 1 ]] || { verdict=${verdict%+}; return 0; }
      verdict=${verdict%+}
      mv "$dir/media-$n.json" "$dir/media-$n.try1.json"
    done
  }
  failed() {  # N: record a failing step (bisection refines below it; not below an error)
    stop_n=$1
    case $verdict in sender) stop=sender bad=$1 ;; fail) stop=not-clean bad=$1 ;; *) stop=error bad=0 ;; esac
  }

  n=$MEDIA_START
  while :; do
    if ! fits_budget "$n"; then stop=budget; break; fi
    step "$n"
    case $verdict in
      ok) good=$n
          # double, but not past where the server's CPU use says it would reach 0.95 of a core, nor past the max
          n=$(node -p "const r = require('$dir/media-$n.json'), n = $n;
            Math.min($MEDIA_MAX, Math.max(n + 50, Math.min(2 * n,
              Math.floor(n * 0.95 / Math.max(r.server_cores ?? 0, 0.01) / 100) * 100)))")
          if ((n <= good)); then stop=max; break; fi ;;
      saturated) good=$n stop=server-cores stop_n=$n; break ;;
      *) failed "$n"; break ;;
    esac
  done
  # Refine between the last clean N and the first failing one.
  local refine=0
  while ((bad > 0 && refine < MEDIA_REFINE)); do
    n=$(( (good + bad) / 2 / 50 * 50 ))
    ((n > good && n < bad)) || break
    fits_budget "$n" || break
    refine=$((refine + 1))
    step "$n"
    case $verdict in
      ok) good=$n ;;
      saturated) good=$n stop=server-cores stop_n=$n; break ;;
      *) failed "$n"; [[ $stop == error ]] && break ;;
    esac
  done
  node bench/media-summary.mjs --dir "$dir" --stop "$stop" --stop-calls "$stop_n" --mode "$mode" \
    --duration "$MEDIA_DURATION" --budget "$MEDIA_BUDGET" --max "$MEDIA_MAX" --elapsed $((SECONDS - start)) >"$dir/media.json"
}

if ((NCPU < 2)) && [[ " $MODES " == *" pinned "* ]]; then
  echo "bench: one CPU only: skipping the pinned mode" >&2
  MODES=${MODES//pinned/}
fi
for mode in $MODES; do run_mode "$mode"; done

node bench/report.mjs --tmp "$TMP" --modes "$MODES" --sign "$SIGN_PER_S" --verify "$VERIFY_PER_S" \
  --duration "$DURATION" --connections "$CONNS" --figures "$FIGURES" --out "$RESULTS"
