#!/usr/bin/env bash
# rtt.sh: round trip of one client call, one in flight, against one local meshd node in
# each poll mode (issue 15: "a single put from the Rust client: round trip p50 <= 30 us").
# One node on the netns topology (scripts/netns-lib.sh, one lcore like the tests); for
# each mode the C client (mesh_rtt, libmeshclient's sync put) and, when cargo is there,
# the Rust client (lib/client/rust's put_rtt example, release build) time COUNT puts.
# Prints one JSON object per client and mode.
#
#   rtt.sh BUILD_DIR [MODES] [COUNT]     (root; MODES default "event backoff busy")
#
# RTT_GAP_US=G also times puts G us apart (a client that writes now and then, finding
# meshd asleep before each). Needs a quiet machine for figures worth comparing.
set -u
build=$(cd "$1" && pwd)
modes=${2:-event backoff busy}
count=${3:-5000}
gap=${RTT_GAP_US:-}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
MESHD=$build/app/meshd/meshd
RTT=$build/bench/cluster/mesh_rtt
crate=$src/lib/client/rust
export CARGO_TARGET_DIR=$build/lib/client/rust/target
[ "$(id -u)" -eq 0 ] || { echo "rtt.sh: needs root (network namespaces)" >&2; exit 1; }
source "$src/scripts/netns-lib.sh"
MESH_NS=rt$$
trap 'mesh_topo_down; rm -rf /tmp/${MESH_NS}-*.sock /tmp/${MESH_NS}-logs' EXIT

rust_ex=""
cargo=$(command -v /usr/bin/cargo || command -v cargo) &&
  (cd "$crate" && "$cargo" build --offline -q --release --example put_rtt) &&
  rust_ex=$CARGO_TARGET_DIR/release/examples/put_rtt

mesh_topo_up 1
for mode in $modes; do
  sock=/tmp/${MESH_NS}-1.sock
  MESH_POLL_MODE=$mode mesh_node_start 1 --ctl-socket "$sock"
  mesh_wait_tel 1 /mesh/info port 1 60 || { echo "node did not start ($mode)" >&2; exit 1; }
  for g in 0 $gap; do
    echo "{\"client\": \"c\", \"mode\": \"$mode\", \"r\": $("$RTT" --count "$count" --gap-us "$g" "$sock")}"
    [ -n "$rust_ex" ] &&
      echo "{\"client\": \"rust\", \"mode\": \"$mode\", \"r\": $("$rust_ex" "$sock" "$count" "$g")}"
  done
  mesh_node_stop 1
done
