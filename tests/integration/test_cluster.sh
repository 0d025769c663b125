#!/usr/bin/env bash
# Integration: SWIM membership between real meshd processes (net_af_packet on veth in
# namespaces, event polling, fast timing profile): 3 nodes join through a seed; every
# node sees 3 alive; meshctl lists members; kill -9 of a node is seen dead by all others;
# the same name restarted (new boot generation) rejoins and is alive everywhere; a node
# with another cluster id is never admitted (its frames are counted as bad_cluster);
# SIGTERM announces a graceful leave that the others record as "left".
# Usage: test_cluster.sh MESHD MESHCTL   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns tc 'rm -f /tmp/${MESH_NS}-*.sock'

start() { # start I [ARGS]
  local i=$1; shift
  mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" "$@"
}

mesh_topo_up 4
start 1
start 2 --seed 10.99.0.1
start 3 --seed 10.99.0.1
for i in 1 2 3; do ok_if "node $i up" mesh_wait_tel "$i" /mesh/info port 1 30; done
for i in 1 2 3; do ok_if "node $i sees 3 alive" mesh_wait_members "$i" alive 3; done
out=$("$CTL" -s "/tmp/${MESH_NS}-2.sock" members)
ok_if "meshctl members on node 2 lists n1, n2, n3" \
  test "$(grep -cE '^n[123] .* alive' <<<"$out")" -eq 3

# another cluster: same seeds, different cluster id -> never admitted
start 4 --seed 10.99.0.1 --cluster-id 7
ok_if "foreign-cluster node up" mesh_wait_tel 4 /mesh/info port 1 30
sleep 1
is "foreign node not admitted on node 1" "$(mesh_tel_get 1 /mesh/members total)" 3
ok_if "node 1 counted its frames as bad_cluster" \
  test "$(mesh_tel_get 1 /mesh/stats net.rx_drop_frame_bad_cluster)" -gt 0
is "foreign node sees only itself" "$(mesh_tel_get 4 /mesh/members alive)" 1
mesh_node_stop 4 KILL

# crash
g_before=$(mesh_tel_get 1 /mesh/member,n3 generation)
kill -KILL "${MESH_PIDS[3]}"; wait "${MESH_PIDS[3]}" 2>/dev/null; unset 'MESH_PIDS[3]'
for i in 1 2; do ok_if "node $i sees the killed node dead" mesh_wait_members "$i" dead 1; done

# restart with the same name: a new generation replaces the dead record
start 3 --seed 10.99.0.2
for i in 1 2 3; do ok_if "node $i sees 3 alive after the restart" mesh_wait_members "$i" alive 3; done
g_new=$(mesh_tel_get 1 /mesh/member,n3 generation)
ok_if "restarted node rejoined with a higher generation ($g_before -> $g_new)" \
  test -n "$g_before" -a -n "$g_new" -a "$g_new" \> "$g_before"

# graceful leave
mesh_node_stop 2 TERM
is "node 2 exits 0 after leaving" "$?" 0
for i in 1 3; do ok_if "node $i records node 2 as left" mesh_wait_members "$i" left 1; done
grep -q "leaving the cluster" "$MESH_LOGDIR/n2.log"
ok_if "node 2 logged its leave" test $? -eq 0
tap_done
