#!/usr/bin/env bash
# Integration: a large store catches up a restarted node (issue 13, "Why" 1), between real
# meshd processes (net_af_packet on veth in namespaces, event polling):
# three nodes, MESH_CATCHUP_KEYS (default 100,000) keys of 64 B written through the client
# API (mesh_kv_load: lib/client, 4 connections) on n1; every node holds them all with equal
# store digests; n3 is killed with SIGKILL and started again (a new life, empty store): it
# holds every key and all digests are equal within MESH_CATCHUP_S (default 45) seconds of
# its start. Before flow control the restarted node stopped at 65,536 + some keys for good.
# Usage: test_catchup.sh MESHD MESHCTL LOAD   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
LOAD=$3
KEYS=${MESH_CATCHUP_KEYS:-100000}
BOUND=${MESH_CATCHUP_S:-45}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns tk 'rm -f /tmp/${MESH_NS}-*.sock'

start() { local i=$1; shift; mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" "$@"; }
keys_on() { mesh_tel_get "$1" /mesh/kv/stats worker.keys; }
# equal_within S: every node holds $KEYS worker: keys and the three digests are equal
equal_within() {
  local deadline=$((SECONDS + $1)) a b c3
  while [ $SECONDS -lt $deadline ]; do
    if [ "$(keys_on 1)" = "$KEYS" ] && [ "$(keys_on 2)" = "$KEYS" ] &&
       [ "$(keys_on 3)" = "$KEYS" ]; then
      a=$(mesh_tel_get 1 /mesh/kv/stats digest); b=$(mesh_tel_get 2 /mesh/kv/stats digest)
      c3=$(mesh_tel_get 3 /mesh/kv/stats digest)
      [ -n "$a" ] && [ "$a" = "$b" ] && [ "$b" = "$c3" ] && return 0
    fi
    sleep 0.2
  done
  return 1
}

mesh_topo_up 3
start 1
start 2 --seed 10.99.0.1
start 3 --seed 10.99.0.1 --seed 10.99.0.2
for i in 1 2 3; do ok_if "node $i sees 3 alive" mesh_wait_members "$i" alive 3 30; done

t0=$(date +%s%N)
out=$("$LOAD" --conns 4 "/tmp/${MESH_NS}-1.sock" worker:k 0 "$KEYS")
echo "# load: $out"
ok_if "n1 took $KEYS puts through the client API" grep -q "\"ops\": *$KEYS\b" <<<"$out"
ok_if "every node holds $KEYS keys, digests equal" equal_within 60
echo "# written and replicated in $(( ($(date +%s%N) - t0) / 1000000 )) ms (machine shared: inflated)"

kill -KILL "${MESH_PIDS[3]}"; wait "${MESH_PIDS[3]}" 2>/dev/null; unset 'MESH_PIDS[3]'
ok_if "n1 sees n3 dead" mesh_wait_members 1 dead 1 30
t0=$(date +%s%N)
start 3 --seed 10.99.0.1 --seed 10.99.0.2
ok_if "restarted n3 holds all $KEYS keys, digests equal within ${BOUND} s" equal_within "$BOUND"
echo "# restarted n3: $(keys_on 3) keys, equal $(( ($(date +%s%N) - t0) / 1000000 )) ms after its start (incl. EAL start; machine shared: inflated)"
ok_if "restarted n3 rejoined" mesh_wait_members 1 alive 3 30
v=$("$CTL" -s "/tmp/${MESH_NS}-3.sock" get "worker:k$((KEYS - 1))")
ok_if "n3 reads the last key of the load ($v)" grep -q "^worker:k$((KEYS - 1))=" <<<"$v"
for i in 1 2 3; do ok_if "node $i still healthy" "$CTL" -s "/tmp/${MESH_NS}-$i.sock" health; done
tap_done
