#!/usr/bin/env bash
# Integration: two meshd nodes (real EAL, net_af_packet on veth in namespaces joined by a
# bridge) and a kernel UDP client in a third namespace.
# Node 1 runs to completion on one lcore; node 2 splits rx, merge and tx over three lcores
# floating on the 2 CPUs (--lcores '(0-2)@(0-1)') joined by SPSC rings.
# The nodes are keyed (mesh_node_start's cluster key) and the kernel client seals its
# hellos with the same key (MESH_PROBE_KEYS), so a corrupted payload fails the tag.
# Checks: ARP resolution and hello round trips from the kernel client; hellos between the
# two meshd nodes; the split node's lcores and rings; every kind of malformed input dropped under its own counter while the
# node keeps answering; telemetry answers; SIGTERM shuts down cleanly (exit 0).
# Usage: test_hello.sh MESHD PROBE   (root; exits 77 = skipped when not root)
set -u
MESHD=$1
PROBE=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"

mesh_test_netns th
# the nodes are keyed (mesh_node_start); the kernel client seals with the same key
export MESH_PROBE_KEYS; MESH_PROBE_KEYS=$(mesh_keys)

mesh_topo_up 2
mesh_node_start 1 --peer 10.99.0.2 --hello-interval-ms 100
MESH_LCORES='(0-2)@(0-1)' mesh_node_start 2 --peer 10.99.0.1 --hello-interval-ms 100 \
  --lcore-rx 1 --lcore-merge 2 --lcore-tx 0

ok_if "node 1 telemetry answers /mesh/info" mesh_wait_tel 1 /mesh/info port 1 30
ok_if "node 2 telemetry answers /mesh/info" mesh_wait_tel 2 /mesh/info port 1 30
is "node 1 /mesh/info name" "$(mesh_tel_get 1 /mesh/info name)" "n1"
is "node 1 /mesh/info poll mode" "$(mesh_tel_get 1 /mesh/info poll_mode)" "${MESH_POLL_MODE:-event}"

cli() { ip netns exec "${MESH_NS}c" "$@"; }
out=$(cli "$PROBE" hello 10.99.0.1 39527 20)
ok_if "kernel client: 20/20 hellos answered by node 1 ($out)" test $? -eq 0
mac1=$(mesh_tel_get 1 /mesh/info mac)
neigh=$(cli ip neigh show 10.99.0.1)
ok_if "kernel client resolved node 1 by ARP ($neigh)" grep -qi "lladdr $mac1" <<<"$neigh"
ok_if "node 1 answered ARP" test "$(mesh_tel_get 1 /mesh/stats net.tx_arp_reply)" -ge 1
ok_if "node 1 counted hellos" test "$(mesh_tel_get 1 /mesh/stats node.node_rx_hello)" -ge 20

ok_if "node 1 gets hello replies from node 2" \
  mesh_wait_tel 1 /mesh/stats node.node_rx_hello_reply 3 20
ok_if "node 2 gets hello replies from node 1" \
  mesh_wait_tel 2 /mesh/stats node.node_rx_hello_reply 3 20
is "node 1 sees its peer answering" "$(mesh_tel_get 1 /mesh/stats hello.peers_answering)" 1
is "node 1 runs all roles on one lcore" "$(mesh_tel_get 1 /mesh/lcores lcore0.roles)" "rx+merge+tx"
is "node 2 rx role on lcore 1" "$(mesh_tel_get 2 /mesh/lcores lcore1.roles)" "rx"
is "node 2 merge role on lcore 2" "$(mesh_tel_get 2 /mesh/lcores lcore2.roles)" "merge"
is "node 2 tx role on lcore 0" "$(mesh_tel_get 2 /mesh/lcores lcore0.roles)" "tx"
ok_if "node 2 frames crossed the rx->merge ring" \
  test "$(mesh_tel_get 2 /mesh/stats handoff.rx_merge_deq)" -ge 3
ok_if "node 2 replies crossed the merge->tx ring" \
  test "$(mesh_tel_get 2 /mesh/stats handoff.merge_tx_deq)" -ge 3
is "node 2 rings dropped nothing" "$(mesh_tel_get 2 /mesh/stats handoff.handoff_drop_rx_merge)" 0
out=$(cli "$PROBE" hello 10.99.0.2 39527 20)
ok_if "kernel client: 20/20 hellos answered by split node 2 ($out)" test $? -eq 0

# malformed input: each kind must land in its own counter
declare -A want=(
  [short]=rx_drop_frame_short [magic]=rx_drop_frame_bad_magic
  [version]=rx_drop_frame_bad_version [type]=rx_drop_frame_bad_type
  [flags]=rx_drop_frame_bad_flags [length]=rx_drop_frame_bad_length
  [checksum]=rx_drop_frame_bad_auth [cluster]=rx_drop_frame_bad_cluster
  [oversize]=rx_drop_frame_bad_length
)
for kind in short magic version type flags length checksum cluster oversize; do
  before=$(mesh_tel_get 1 /mesh/stats "net.${want[$kind]}")
  cli "$PROBE" bad 10.99.0.1 39527 "$kind"
  rc=$?
  after=$(mesh_tel_get 1 /mesh/stats "net.${want[$kind]}")
  ok_if "'$kind' datagram unanswered and counted in ${want[$kind]} ($before -> $after)" \
    test "$rc" -eq 0 -a "$after" -gt "$before"
done
for i in $(seq 1 50); do cli "$PROBE" bad 10.99.0.1 39527 random >/dev/null || true; done
before=$(mesh_tel_get 1 /mesh/stats net.rx_drop_wrong_port)
cli "$PROBE" bad 10.99.0.1 39528 magic
ok_if "datagram to another port counted in rx_drop_wrong_port" \
  test "$(mesh_tel_get 1 /mesh/stats net.rx_drop_wrong_port)" -gt "$before"
before=$(mesh_tel_get 1 /mesh/stats net.rx_drop_ethertype)
cli "$PROBE" raw eth0 "$mac1" 0x88b5  # IEEE local experimental (br_netfilter drops malformed IPv6)
ok_if "non-IPv4 frame counted in rx_drop_ethertype" \
  mesh_wait_tel 1 /mesh/stats net.rx_drop_ethertype $((before + 1)) 5
out=$(cli "$PROBE" hello 10.99.0.1 39527 10)
ok_if "node 1 still answers after 60 malformed datagrams ($out)" test $? -eq 0

bad=$(mesh_tel 1 /mesh/info,extra)
ok_if "bad telemetry parameter answers an error object" grep -q '"error"' <<<"$bad"

mesh_node_stop 1 TERM
rc=$?
is "node 1 exits 0 on SIGTERM" "$rc" 0
ok_if "node 1 removed its telemetry socket" test ! -e "/var/run/dpdk/${MESH_NS}n1/dpdk_telemetry.v2"
mesh_node_stop 2 INT
is "node 2 exits 0 on SIGINT" "$?" 0
grep -q "shutting down" "$MESH_LOGDIR/n1.log"
ok_if "node 1 logged its shutdown" test $? -eq 0

tap_done
