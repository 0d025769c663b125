# shellcheck shell=bash
# Tiny TAP-style helpers for the integration scripts: each check prints "ok N - what" or
# "not ok N - what"; tap_done prints "N passed, N failed" and exits non-zero on failure.
TAP_N=0
TAP_FAIL=0

# mesh_test_netns PREFIX: the namespace tests' common start: root (else skip, 77), the
# netns helpers, a per-run namespace prefix and a teardown trap (plus any extra cleanup
# command given as $2).
mesh_test_netns() {
  [ "$(id -u)" -eq 0 ] || { echo "skip: needs root for network namespaces"; exit 77; }
  # shellcheck source=../../scripts/netns-lib.sh
  source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/netns-lib.sh"
  MESH_NS="$1$$"
  # shellcheck disable=SC2064
  trap "mesh_topo_down; ${2:-:}" EXIT
}

ok_if() {
  local what=$1; shift
  TAP_N=$((TAP_N + 1))
  if "$@" >/dev/null 2>&1; then
    echo "ok $TAP_N - $what"
  else
    echo "not ok $TAP_N - $what"
    TAP_FAIL=$((TAP_FAIL + 1))
  fi
}

is() {
  local what=$1 got=$2 want=$3
  TAP_N=$((TAP_N + 1))
  if [ "$got" = "$want" ]; then
    echo "ok $TAP_N - $what"
  else
    echo "not ok $TAP_N - $what (got '$got', want '$want')"
    TAP_FAIL=$((TAP_FAIL + 1))
  fi
}

tap_done() {
  echo "$((TAP_N - TAP_FAIL)) passed, $TAP_FAIL failed"
  if [ "$TAP_FAIL" -ne 0 ] && [ -d "${MESH_LOGDIR:-}" ]; then
    for f in "$MESH_LOGDIR"/*.log; do echo "--- $f"; tail -n 20 "$f"; done
  fi
  [ "$TAP_FAIL" -eq 0 ]
}

# mesh_cluster_up N: N nodes on the bridge, each seeded from node 1, control sockets at
# /tmp/${MESH_NS}-I.sock; checks that every node is up and sees N alive.
mesh_cluster_up() {
  local n=$1 i
  local -a seed
  mesh_topo_up "$n"
  for i in $(seq 1 "$n"); do
    seed=(); [ "$i" -gt 1 ] && seed=(--seed 10.99.0.1)
    mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" "${seed[@]}"
  done
  for i in $(seq 1 "$n"); do ok_if "node $i up" mesh_wait_tel "$i" /mesh/info port 1 60; done
  for i in $(seq 1 "$n"); do ok_if "node $i sees $n alive" mesh_wait_members "$i" alive "$n" 30; done
}
