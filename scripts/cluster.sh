#!/usr/bin/env bash
# Three verbatim nodes on one private PostgreSQL, all on loopback: a cluster to
# try on one machine (README "Several nodes"; docs/deployment.md).
#
#   scripts/cluster.sh [DIR]        DIR defaults to ./cluster; Ctrl-C stops it all
#
# Node 1 runs --dev (demo organization, admin credentials in
# DIR/node1/dev-credentials.json); nodes 2 and 3 share its database, its
# key-encryption key file and its issuer, so a token from any node works on
# every node. Each node's ports are chosen free and printed (and are in
# DIR/nodeN/listen.json). PostgreSQL runs from DIR/pg as an unprivileged user
# when this runs as root.
#
# Environment: VERBATIM_BIN [build/verbatim], CLUSTER_PG_PORT [a free port],
# CLUSTER_NODES [3].
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${VERBATIM_BIN:-build/verbatim}
DIR=${1:-./cluster}
NODES=${CLUSTER_NODES:-3}
[[ -x $BIN ]] || { echo "cluster: $BIN not found: run make first (or set VERBATIM_BIN)" >&2; exit 1; }
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -n $PG_BIN && -x $PG_BIN/initdb ]] || { echo "cluster: PostgreSQL is not installed (scripts/deps.sh installs it)" >&2; exit 1; }
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
PG_PORT=${CLUSTER_PG_PORT:-$(free_port)}

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
# initdb refuses root: run PostgreSQL as postgres (Debian's package makes it) or nobody.
as_pg=()
if [[ $(id -u) == 0 ]]; then
  pg_user=postgres
  id -u "$pg_user" >/dev/null 2>&1 || pg_user=nobody
  as_pg=(runuser -u "$pg_user" --)
fi
PIDS=()
stop() {
  trap '' INT TERM  # a second Ctrl-C must not cut the clean-up short
  trap - EXIT
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -d $DIR/pg ]] && "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
  echo "cluster: stopped"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

if [[ ! -d $DIR/pg ]]; then
  mkdir -p "$DIR/pg"
  [[ ${#as_pg[@]} -gt 0 ]] && chown "$pg_user" "$DIR" "$DIR/pg"
  "${as_pg[@]}" "$PG_BIN/initdb" -D "$DIR/pg" -U verbatim -A trust -E UTF8 --locale=C >/dev/null
fi
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/log" -w \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >/dev/null
"$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U verbatim -d postgres -qAtc \
  "SELECT 1 FROM pg_database WHERE datname = 'verbatim'" | grep -q 1 ||
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U verbatim -d postgres -qc "CREATE DATABASE verbatim"
URL=postgresql://verbatim@127.0.0.1:$PG_PORT/verbatim

# start_node N [flags...]: serve on free loopback ports; waits for its listen.json.
start_node() {
  local n=$1 data=$DIR/node$1 http
  shift
  mkdir -p "$data"
  rm -f "$data/listen.json"
  # The HTTP port is chosen here, not by the node: it is also the node's
  # --advertise-url, where the other nodes redirect downloads of its recordings.
  http=127.0.0.1:$(free_port)
  "$BIN" serve --data-dir "$data" --database-url "$URL" --http-listen "$http" --advertise-url "http://$http" \
    --sip-listen 127.0.0.1:0 \
    --grpc-listen 127.0.0.1:0 --rtp-ports "$((20000 + n * 1000))-$((20999 + n * 1000))" "$@" \
    >"$data/stdout.log" 2>"$data/stderr.log" &
  PIDS+=($!)
  for _ in $(seq 300); do
    [[ -s $data/listen.json ]] && return 0
    kill -0 "${PIDS[-1]}" 2>/dev/null || { echo "cluster: node $n exited:" >&2; cat "$data/stderr.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "cluster: node $n did not start within 30 s" >&2
  exit 1
}
field() { node -p "require('$1').$2"; }

# Node 1 makes the organization, the keys and the key-encryption key; its
# address is every node's issuer (behind a load balancer: the balancer's URL).
start_node 1 --dev
ISSUER=http://$(field "$DIR/node1/listen.json" http)
for n in $(seq 2 "$NODES"); do
  start_node "$n" --issuer "$ISSUER" --key-encryption-key-file "$DIR/node1/kek"
done

echo "cluster: PostgreSQL $URL"
for n in $(seq 1 "$NODES"); do
  echo "cluster: node $n http://$(field "$DIR/node$n/listen.json" http)  sip $(field "$DIR/node$n/listen.json" sip)  grpc $(field "$DIR/node$n/listen.json" grpc)  (logs: $DIR/node$n/stderr.log)"
done
echo "cluster: issuer $ISSUER; admin client in $DIR/node1/dev-credentials.json"
echo "cluster: ready (Ctrl-C stops the nodes and PostgreSQL)"
wait -n "${PIDS[@]}" || true
echo "cluster: a node exited (see its stderr.log); stopping the others" >&2
exit 1
