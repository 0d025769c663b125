#!/usr/bin/env bash
# Integration: the example files in drivers-config/. Every file passes
# `meshd --check-config`; the tested ones start a real node from the file alone (EAL
# arguments included, via its [eal] section) plus name/address overrides:
#   af_packet-veth.ini  node in a namespace on a bridged veth, kernel client hellos
#   tap.ini             node behind a tap in a namespace, kernel side of the tap says hello
# Usage: test_drivers_config.sh MESHD PROBE DRIVERS_CONFIG_DIR   (root; 77 = skipped)
set -u
MESHD=$1
PROBE=$2
DIR=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns td 'ip netns del ${MESH_NS}tap 2>/dev/null; kill $tpid 2>/dev/null; rm -rf /var/run/dpdk/${MESH_NS}*'
tpid=

# every file is keyed: its key_file (/etc/meshd/cluster.keys) pointed at a generated key,
# it passes --check-config as "keyed"; without a key file, exit 2 naming insecure_plaintext
keys=$(mesh_keys)
export MESH_PROBE_KEYS=$keys # the kernel-side hellos are sealed like the nodes' frames
cfgs=$(mktemp -d /tmp/td-cfg.XXXXXX)
trap 'mesh_topo_down; ip netns del ${MESH_NS}tap 2>/dev/null; kill $tpid 2>/dev/null; rm -rf /var/run/dpdk/${MESH_NS}* "$cfgs"' EXIT
for f in "$DIR"/*.ini; do
  b=$(basename "$f")
  is "$b names /etc/meshd/cluster.keys" "$(grep -c '^key_file = /etc/meshd/cluster.keys$' "$f")" 1
  sed "s|^key_file = .*|key_file = $keys|" "$f" >"$cfgs/$b"
  out=$("$MESHD" --check-config "$cfgs/$b" 2>&1)
  ok_if "check-config $b ($out)" test $? -eq 0 -a -n "$(grep -E ', keyed\)$' <<<"$out")"
done
sed '/^key_file = /d' "$DIR/af_packet-veth.ini" >"$cfgs/nokey.ini"
out=$("$MESHD" --check-config "$cfgs/nokey.ini" 2>&1)
ok_if "without its key_file a shipped file is refused, naming insecure_plaintext ($out)" \
  test $? -eq 2 -a -n "$(grep insecure_plaintext <<<"$out")"

# af_packet-veth.ini: the file's EAL arguments, a unique file prefix from the command line
mesh_topo_up 1
ip netns exec "${MESH_NS}m1" timeout 120 "$MESHD" --file-prefix "${MESH_NS}n1" -- \
  --config "$DIR/af_packet-veth.ini" --name cfg1 --ip 10.99.0.1 --key-file "$keys" \
  --ctl-socket "/tmp/${MESH_NS}.sock" >"$MESH_LOGDIR/cfg1.log" 2>&1 &
MESH_PIDS[1]=$!
ok_if "af_packet-veth.ini node comes up" mesh_wait_tel 1 /mesh/info port 1 30
is "name override applied" "$(mesh_tel_get 1 /mesh/info name)" "cfg1"
is "the node seals its frames (keyed)" "$(mesh_tel_get 1 /mesh/info frames)" "xchacha20poly1305"
out=$(ip netns exec "${MESH_NS}c" "$PROBE" hello 10.99.0.1 39527 5)
ok_if "af_packet-veth.ini node answers hellos ($out)" test $? -eq 0

# tap.ini: the tap appears in the node's namespace; its kernel side gets 10.98.0.2
ip netns add "${MESH_NS}tap"
ip netns exec "${MESH_NS}tap" ip link set lo up
ip netns exec "${MESH_NS}tap" timeout 120 "$MESHD" --file-prefix "${MESH_NS}tap" -- \
  --config "$DIR/tap.ini" --key-file "$keys" --ctl-socket "/tmp/${MESH_NS}-tap.sock" \
  >"$MESH_LOGDIR/tap.log" 2>&1 &
tpid=$!
for _ in $(seq 1 100); do
  ip netns exec "${MESH_NS}tap" ip link show mtap0 >/dev/null 2>&1 && break
  sleep 0.1
done
ip netns exec "${MESH_NS}tap" ip addr add 10.98.0.2/24 dev mtap0
ip netns exec "${MESH_NS}tap" ip link set mtap0 up
# mtap0 exists from EAL's device probe on, but until the port starts no queue is attached
# to it and the kernel drops what it sends there (the first ARP request: the first hello
# then waits for the kernel's ARP retry, 1 s). meshd opens its control socket only after
# the port started: hello once it exists
for _ in $(seq 1 300); do
  [ -S "/tmp/${MESH_NS}-tap.sock" ] && break
  sleep 0.1
done
ok_if "tap.ini node comes up (control socket)" test -S "/tmp/${MESH_NS}-tap.sock"
out=$(ip netns exec "${MESH_NS}tap" "$PROBE" hello 10.98.0.1 39527 5)
ok_if "tap.ini node answers hellos from the tap's kernel side ($out)" test $? -eq 0
kill -TERM "$tpid"; wait "$tpid"
is "tap node exits 0" "$?" 0
tpid=
tap_done
