#!/usr/bin/env bash
# Profiles the Release server under one bench load with perf (software clock:
# hardware counters are often unavailable in VMs), the way docs/performance.md
# was written:
#   bench/profile.sh FIGURE [SECONDS]     FIGURE: get | deny_scope | deny_perm | grants | transitions
# Prints where the server's CPU goes (bench/perf-buckets.mjs), the inclusive
# share of verbatim's own functions, and the top self-time symbols, and leaves
# perf.data in the printed directory (perf report -i ...).
# Needs a built build-release (make bench, or BENCH_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
FIG=${1:?usage: bench/profile.sh get|deny_scope|deny_perm|grants|transitions [SECONDS]}
SECS=${2:-5}
BUILD=${BENCH_BUILD_DIR:-build-release}
TMP=$(mktemp -d /tmp/verbatim-profile.XXXXXX)
"$BUILD/verbatim" serve --dev --data-dir "$TMP/data" --http-listen 127.0.0.1:0 --sip-listen 127.0.0.1:0 --threads "$(nproc)" \
  --rate-limit-token 0 --rate-limit-auth-failures 0 >/dev/null 2>"$TMP/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 150); do [[ -s $TMP/data/listen.json ]] && break; sleep 0.1; done
node bench/setup.mjs "$TMP/data" "$TMP" 256 >&2
REQ=$TMP/$FIG.jsonl; [[ $FIG == grants ]] && REQ=$TMP/token.jsonl
ORDERED=(); [[ $FIG == transitions ]] && ORDERED=(--ordered)
"$BUILD/bench/loadgen" --target "$(node -p "require('$TMP/data/listen.json').http")" --requests "$REQ" \
  "${ORDERED[@]}" --duration $((SECS + 2)) --warmup 0.5 --watch-pid $SERVER --out "$TMP/load.json" &
LOAD=$!
sleep 1
perf record -q -e cpu-clock -F ${PROFILE_HZ:-499} --call-graph dwarf,16384 -p $SERVER -o "$TMP/perf.data" -- sleep "$SECS" 2>/dev/null
wait $LOAD
echo "== load: $(cat "$TMP/load.json")"
echo "== where the server's CPU goes (buckets; perf script takes a while)"
perf script -i "$TMP/perf.data" 2>/dev/null | node bench/perf-buckets.mjs
echo "== inclusive (children) share of server CPU, verbatim/sqlite/spdlog frames"
perf report -i "$TMP/perf.data" --children -g none --sort sym 2>/dev/null |
  grep -E '^ +[0-9]' | grep -E 'verbatim::|sqlite3_step|sqlite3_prepare|spdlog::logger::log_it|__libc_sendmsg|fdatasync|pwrite|EVP_|ecp_nistz' |
  cut -c1-160 | head -${PROFILE_LINES:-45}
echo "== top self time"
perf report -i "$TMP/perf.data" --no-children --sort dso,sym -g none 2>/dev/null | grep -E '^ +[0-9]' | cut -c1-140 | head -25
echo "== perf data: $TMP/perf.data"
