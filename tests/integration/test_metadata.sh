#!/usr/bin/env bash
# Integration: node metadata and cluster state over real meshd processes (net_af_packet on
# veth in namespaces). Three nodes start with --metadata and --quorum 2; every node's
# `meshctl members` shows every member's metadata; `meshctl meta set` on n1 replaces it at
# run time and n3 sees the new value; `meshctl cluster` says should_serve with 3 of 3.
# n2 and n3 are killed with SIGKILL: once n1 declares both dead, n1 alone is a minority
# (reachable 1 < quorum 2, should_serve false, meshctl cluster exits 1), the dead nodes'
# metadata is gone (owner-bound) and n1's own is still there.
# Usage: test_metadata.sh MESHD MESHCTL   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns td 'rm -f /tmp/${MESH_NS}-*.sock'

c() { local i=$1; shift; "$CTL" -s "/tmp/${MESH_NS}-$i.sock" "$@"; }
until_ok() {
  local deadline=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $deadline ]; do "$@" && return 0; sleep 0.1; done
  return 1
}
# meta_of NODE NAME: NAME's metadata as NODE's members reply shows it (empty if none)
meta_of() {
  c "$1" --json members | python3 -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    if m["name"] == sys.argv[1]:
        print(m.get("metadata", ""))' "$2"
}
meta_is() { [ "$(meta_of "$1" "$2")" = "$3" ]; }
# cluster_field NODE FIELD
cluster_field() {
  c "$1" --json cluster | python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(str(v).lower())' "$2"
}

mesh_topo_up 3
for i in 1 2 3; do
  seed=(); [ "$i" -gt 1 ] && seed=(--seed 10.99.0.1)
  mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" --metadata "zone=z$i" --quorum 2 \
    "${seed[@]}"
done
for i in 1 2 3; do ok_if "node $i up" mesh_wait_tel "$i" /mesh/info port 1 60; done
for i in 1 2 3; do ok_if "node $i sees 3 alive" mesh_wait_members "$i" alive 3 30; done

ok_if "n2's members show n1's metadata from --metadata" until_ok 10 meta_is 2 n1 zone=z1
ok_if "n1's members show n3's metadata" until_ok 10 meta_is 1 n3 zone=z3
ok_if "n3's members show its own metadata" until_ok 10 meta_is 3 n3 zone=z3
is "meta set on n1" "$(c 1 meta set 'gpu=h100,zone=z1')" OK
ok_if "n3 sees n1's new metadata" until_ok 10 meta_is 3 n1 'gpu=h100,zone=z1'
ok_if "n2 sees n1's new metadata" until_ok 10 meta_is 2 n1 'gpu=h100,zone=z1'
big=$(head -c 513 /dev/zero | tr '\0' m)
c 1 meta set "$big" >/dev/null 2>&1
is "meta set of 513 bytes is refused (exit 1)" "$?" 1
ok_if "n2 still sees the previous value" meta_is 2 n1 'gpu=h100,zone=z1'

is "n1 cluster: 3 reachable" "$(cluster_field 1 reachable)" 3
is "n1 cluster: quorum 2 (configured)" "$(cluster_field 1 quorum)" 2
is "n1 cluster: should_serve" "$(cluster_field 1 should_serve)" true
ok_if "meshctl cluster exits 0 while should_serve" c 1 cluster

for i in 2 3; do
  kill -KILL "${MESH_PIDS[$i]}"; wait "${MESH_PIDS[$i]}" 2>/dev/null; unset "MESH_PIDS[$i]"
done
ok_if "n1 sees n2 and n3 dead" mesh_wait_members 1 dead 2 30
is "n1 cluster: 1 reachable" "$(cluster_field 1 reachable)" 1
is "n1 cluster: 2 dead" "$(cluster_field 1 dead)" 2
is "n1 cluster: no longer should_serve" "$(cluster_field 1 should_serve)" false
c 1 cluster >/dev/null
is "meshctl cluster exits 1 on the minority side" "$?" 1
ok_if "the dead nodes' metadata is gone (owner-bound)" until_ok 10 meta_is 1 n3 ''
ok_if "n1's own metadata remains" meta_is 1 n1 'gpu=h100,zone=z1'
ok_if "n1 still healthy" c 1 health
tap_done
