#!/usr/bin/env bash
# Integration: authenticated clusters (real meshd processes, AEAD frames). Two nodes hold
# keys A and C with different primaries, as during a key rotation, and still form one
# cluster and replicate. A node with the wrong key, and a node without keys, are never
# admitted; their frames are counted (bad_auth / plaintext). Key file errors name the
# file and line.
# Usage: test_keys.sh MESHD MESHCTL   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns tk 'rm -rf "$tmp" /tmp/${MESH_NS}-*.sock'
tmp=$(mktemp -d)

A=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
B=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
C=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '# rotation in progress: A seals here\n1 %s primary\n2 %s\n' "$A" "$C" >"$tmp/n1.keys"
printf '1 %s\n2 %s primary\n' "$A" "$C" >"$tmp/n2.keys"
printf '1 %s primary\n' "$B" >"$tmp/wrong.keys"
printf '1 %s\n1 %s\n' "$A" "$C" >"$tmp/dup.keys"
printf '1 %s\n' "${A:0:60}" >"$tmp/short.keys"
chmod 600 "$tmp"/*.keys

start() { local i=$1; shift; mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" "$@"; }

mesh_topo_up 4
start 1 --key-file "$tmp/n1.keys"
start 2 --key-file "$tmp/n2.keys" --seed 10.99.0.1
start 3 --key-file "$tmp/wrong.keys" --seed 10.99.0.1
start 4 --seed 10.99.0.1
for i in 1 2 3 4; do ok_if "node $i up" mesh_wait_tel "$i" /mesh/info port 1 30; done
is "node 1 seals frames with AEAD" "$(mesh_tel_get 1 /mesh/info frames)" "xchacha20poly1305"
ok_if "nodes with different primaries (A, C) form one cluster" mesh_wait_members 1 alive 2 15
ok_if "... seen from node 2 too" mesh_wait_members 2 alive 2 15
sleep 1
is "wrong-key node never admitted" "$(mesh_tel_get 1 /mesh/members total)" 2
is "wrong-key node sees only itself" "$(mesh_tel_get 3 /mesh/members alive)" 1
is "keyless node sees only itself" "$(mesh_tel_get 4 /mesh/members alive)" 1
ok_if "wrong-key frames counted as bad_auth on node 1" \
  test "$(mesh_tel_get 1 /mesh/stats net.rx_drop_frame_bad_auth)" -gt 0
ok_if "keyless frames counted as plaintext on node 1" \
  test "$(mesh_tel_get 1 /mesh/stats net.rx_drop_frame_plaintext)" -gt 0
"$CTL" -s "/tmp/${MESH_NS}-1.sock" put config:secret s3cr3t >/dev/null
got=
for _ in $(seq 1 100); do
  got=$("$CTL" -s "/tmp/${MESH_NS}-2.sock" get config:secret 2>/dev/null) && break
  sleep 0.05
done
is "put replicates between the keyed nodes" "$got" "s3cr3t"
"$CTL" -s "/tmp/${MESH_NS}-3.sock" get config:secret >/dev/null 2>&1
is "the wrong-key node did not receive it" "$?" 1

chk() { "$MESHD" --no-huge -m 64 --no-pci --no-shconf --no-telemetry --file-prefix "${MESH_NS}x" \
  --log-level=lib.eal:warning -- --name x --ip 10.0.0.1 --key-file "$1" 2>&1; }
out=$(chk "$tmp/dup.keys"); rc=$?
ok_if "duplicate key id refused with its line ($out)" test $rc -eq 2 -a -n "$(grep ':2: key 1: duplicate' <<<"$out")"
out=$(chk "$tmp/short.keys"); rc=$?
ok_if "short key refused with its line ($out)" test $rc -eq 2 -a -n "$(grep 'short.keys:1:' <<<"$out")"
out=$(chk "$tmp/none.keys"); rc=$?
ok_if "missing key file refused ($out)" test $rc -eq 2
tap_done
