#!/usr/bin/env bash
# Install every Debian 12 package that meshd's build, tests, fuzzers, demo and benchmarks
# need. Idempotent and non-interactive: packages already present are left alone, so a second
# run on a prepared machine costs one dpkg query. Must run as root (CI and the demo do).
#
#   scripts/install-deps.sh            build + tests + demo (default)
#   scripts/install-deps.sh --bench    also the benchmark peers and plotting tools
set -euo pipefail

pkgs=(
  # build
  build-essential pkg-config meson ninja-build python3 python3-pyelftools
  dpdk dpdk-dev libdpdk-dev
  libprotobuf-c-dev protobuf-c-compiler
  libjemalloc-dev libxxhash-dev libsodium-dev
  libjansson-dev libinih-dev libsystemd-dev
  # tests, sanitizers, fuzzers
  libcmocka-dev clang llvm libclang-rt-14-dev
  # demo and integration tests: namespaces, veth, bridge, loss injection
  iproute2 ethtool nftables procps psmisc kmod bc
  prometheus # promtool and a Prometheus server: tests/integration/test_metrics.sh
  # client libraries in other languages (lib/client/python, lib/client/rust): protoc,
  # python3-protobuf, and cargo with Debian's crates for an offline build
  protobuf-compiler python3-protobuf
  cargo librust-tokio-dev librust-prost-dev librust-prost-build-dev librust-libc-dev
)
bench_pkgs=(golang-go golang-github-hashicorp-memberlist-dev tarantool gnuplot-nox valgrind linux-perf)

for arg in "$@"; do
  case "$arg" in
    --bench) pkgs+=("${bench_pkgs[@]}") ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root (apt-get install)" >&2
  exit 1
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
echo "install-deps: done"
