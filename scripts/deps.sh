#!/usr/bin/env bash
# Installs what verbatim needs to build, test and run on Debian 12.
# Idempotent: only calls apt-get when a package is missing.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libssl-dev libsqlite3-dev sqlite3 libsodium-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  sip-tester curl ca-certificates openssl
  clang libclang-rt-14-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  postgresql libpq-dev
  libsrtp2-dev
  chromium
)
# clang and its runtime (libFuzzer, ASan/UBSan) build the fuzz targets that
# `make test` runs; the benchmark brings its own load generator (bench/loadgen.cc).
# postgresql: the tests start private clusters of their own (initdb + pg_ctl on a
# free loopback port, as the package's `postgres` user when run as root;
# tests/support/pg_cluster.h); libpq-dev: the PostgreSQL store.
# chromium: the headless browser of the console's browser tests (tests/browser),
# driven by puppeteer-core, which never downloads a browser of its own.

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)  # make bench installs its oidc-provider peer (bench/peers/oidc)

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# msgpack-cxx (header-only, for terraform-provider-verbatim): its Debian package
# Depends on libboost-dev 1.74, which conflicts with libboost1.81-dev, so it is
# unpacked rather than installed; CMake looks here (docs/decisions.md).
MSGPACK_DIR=/usr/local/share/verbatim-deps/msgpack-cxx
if [[ ! -f $MSGPACK_DIR/usr/include/msgpack.hpp ]]; then
  echo "deps: unpacking libmsgpack-cxx-dev into $MSGPACK_DIR"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  tmp=$(mktemp -d)
  chmod 0755 "$tmp"  # apt's _apt user downloads into it
  (cd "$tmp" && apt-get download -qq libmsgpack-cxx-dev 2>/dev/null || { $SUDO apt-get update -qq && apt-get download -qq libmsgpack-cxx-dev; })
  $SUDO mkdir -p "$MSGPACK_DIR"
  $SUDO dpkg -x "$tmp"/libmsgpack-cxx-dev_*.deb "$MSGPACK_DIR"
  rm -rf "$tmp"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 18)); then
  echo "deps: Node.js >= 18 is required (found $(node --version))" >&2
  exit 1
fi

# package.json, pinned by package-lock.json: @grpc/grpc-js and @grpc/proto-loader
# for the gRPC end-to-end tests and examples/grpc-client.mjs (docs/grpc.md);
# puppeteer-core and axe-core for the browser tests (they use Debian's chromium:
# PUPPETEER_SKIP_DOWNLOAD keeps any puppeteer from fetching one).
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for m in @grpc/grpc-js puppeteer-core axe-core; do
  if [[ ! -d $repo_root/node_modules/$m ]]; then
    echo "deps: npm ci ($m is missing: Node clients of the end-to-end and browser tests)"
    (cd "$repo_root" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    break
  fi
done
