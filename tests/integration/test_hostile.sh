#!/usr/bin/env bash
# Integration: hostile input on the segment (issue 14, item 5 and the start of item 7).
# Three meshd nodes (net_af_packet on veth in namespaces on one bridge); the spare
# namespace m4 is the attacker (mesh_hostile, raw frames with its own MAC); the client
# namespace c (10.99.0.100, a kernel stack) is the third party whose address is spoofed.
# While a client writes through meshctl to all three nodes, the attacker sends to every
# node: gratuitous ARP and forged replies claiming each member's address, an ARP table
# flood (random addresses and MACs), junk datagrams, keyless-valid frames with random
# sender ids, and HELLO/MSGS frames whose source is the third party (reflection).
# Asserts: no node exits, RSS grows < 64 MiB, nobody is declared dead or suspect, every
# member's neighbour entry (/mesh/neighbours) still holds the member's real MAC on every
# node, the ARP ignore counters moved, the stores converge (equal /mesh/kv/stats
# digests) and hold the last write, and the bytes meshd sent to the third party are at
# most the bytes the attacker sent in its name (nftables counters on the bridge).
# Usage: test_hostile.sh MESHD MESHCTL MESH_HOSTILE [keyless|keyed]   (root; 77 = skipped)
set -u
export MESHD=$1
CTL=$2
HOSTILE=$3
VARIANT=${4:-keyless}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
work=
mesh_test_netns th 'rm -f /tmp/${MESH_NS}-*.sock; [ -n "$work" ] && rm -rf "$work"'
work=$(mktemp -d /tmp/hostile.XXXXXX)
N=3
TP=10.99.0.100      # the third party (client namespace)
EVIL_IP=10.99.0.200 # the attacker's own claims
sock() { echo "/tmp/${MESH_NS}-$1.sock"; }
say() { echo "# t=$SECONDS s: $*"; }

keyargs=()
if [ "$VARIANT" = keyed ]; then
  printf '1 %s primary\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    >"$work/cluster.keys"
  chmod 600 "$work/cluster.keys"
  keyargs=(--key-file "$work/cluster.keys")
fi

mesh_topo_up 4
for i in $(seq 1 $N); do
  seeds=()
  for j in $(seq 1 $N); do [ "$j" != "$i" ] && seeds+=(--seed "$(mesh_ip "$j")"); done
  mesh_node_start "$i" --ctl-socket "$(sock "$i")" "${seeds[@]}" "${keyargs[@]}"
done
for i in $(seq 1 $N); do ok_if "node $i up" mesh_wait_tel "$i" /mesh/info port 1 30; done
for i in $(seq 1 $N); do ok_if "node $i sees 3 alive" mesh_wait_members "$i" alive 3 30; done
declare -A MAC=()
for i in $(seq 1 $N); do MAC[$i]=$(mesh_tel_get "$i" /mesh/info mac); done
say "MACs: ${MAC[*]} ($VARIANT)"

# /mesh/neighbours of node I: "IP MAC" lines
neigh() {
  mesh_tel "$1" /mesh/neighbours | python3 -c '
import json, sys
for e in next(iter(json.load(sys.stdin).values()))["entries"]:
    print(e)'
}
# every member's entry on every node holds its real MAC
neigh_real() {
  local i j out
  for i in $(seq 1 $N); do
    out=$(neigh "$i")
    for j in $(seq 1 $N); do
      [ "$i" = "$j" ] && continue
      grep -qx "$(mesh_ip "$j") ${MAC[$j]}" <<<"$out" && continue
      say "n$i has no $(mesh_ip "$j") ${MAC[$j]}: $(tr '\n' ' ' <<<"$out")"
      return 1
    done
  done
}
ok_if "before: every node has the other members at their real MACs" neigh_real
neigh_real >&2
rss() { awk '/VmRSS/ {print $2}' "/proc/${MESH_PIDS[$1]}/status"; }
declare -A RSS0=()
for i in $(seq 1 $N); do RSS0[$i]=$(rss "$i"); done
ctr() { mesh_tel_get "$1" /mesh/stats "net.$2"; }

# reflection meter: bytes the attacker sends as the third party, bytes sent to it
ip netns exec "${MESH_NS}sw" nft -f - <<NFT
table bridge hostile {
  counter as_tp {}
  counter to_tp {}
  chain hostile_fwd {
    type filter hook forward priority 0; policy accept;
    iifname "p4" ip saddr $TP counter name as_tp
    iifname != "p4" ip daddr $TP counter name to_tp
  }
}
NFT
nft_bytes() {
  ip netns exec "${MESH_NS}sw" nft list counter bridge hostile "$1" |
    awk '/bytes/ {for (k = 1; k < NF; k++) if ($k == "bytes") print $(k + 1)}'
}

# the client: writes round-robin to the three nodes until told to stop
client() {
  local k=0 ok=0 fail=0
  while [ ! -e "$work/stop" ]; do
    k=$((k + 1))
    if "$CTL" -s "$(sock $(( k % N + 1 )))" --timeout 2000 put "worker:hostile$k" "v$k" >/dev/null 2>&1
    then ok=$((ok + 1)); else fail=$((fail + 1)); fi
  done
  echo "$k $ok $fail" >"$work/client"
}
client &
CLIENT=$!

# the attacks, each node in turn, in parallel per node
attack() {
  local i=$1 j h=("$HOSTILE" eth0 "${MAC[$1]}" "$(mesh_ip "$1")")
  for j in $(seq 1 $N); do
    [ "$j" = "$i" ] && continue
    ip netns exec "${MESH_NS}m4" "${h[@]}" "$(mesh_ip "$j")" arp-grat 400 4000
    ip netns exec "${MESH_NS}m4" "${h[@]}" "$(mesh_ip "$j")" arp-reply 400 4000
  done
  ip netns exec "${MESH_NS}m4" "${h[@]}" "$EVIL_IP" arp-flood 20000 10000
  ip netns exec "${MESH_NS}m4" "${h[@]}" "$EVIL_IP" junk 5000 5000
  ip netns exec "${MESH_NS}m4" "${h[@]}" "$EVIL_IP" sid 20000 10000
  ip netns exec "${MESH_NS}m4" "${h[@]}" "$TP" sid 3000 3000
  # poison again at the end, when the table is full of the flood's leftovers
  for j in $(seq 1 $N); do
    [ "$j" = "$i" ] && continue
    ip netns exec "${MESH_NS}m4" "${h[@]}" "$(mesh_ip "$j")" arp-reply 200 2000
  done
}
T0=$SECONDS
# first HELLOs in the third party's name alone, so their reflection is measured apart
pids=()
for i in $(seq 1 $N); do
  ip netns exec "${MESH_NS}m4" "$HOSTILE" eth0 "${MAC[$i]}" "$(mesh_ip "$i")" "$TP" hello 3000 \
    3000 >"$work/hello-$i" 2>&1 & pids+=($!)
done
wait "${pids[@]}"
sleep 1
hello_as=$(nft_bytes as_tp); hello_to=$(nft_bytes to_tp)
pids=()
for i in $(seq 1 $N); do attack "$i" >"$work/attack-$i" 2>&1 & pids+=($!); done
wait "${pids[@]}"
say "attacks sent in $((SECONDS - T0)) s: $(cat "$work"/attack-* | tr '\n' ' ')"
sleep 2
touch "$work/stop"
wait "$CLIENT"
read -r tries acked failed <"$work/client"
say "client: $tries writes, $acked acknowledged, $failed failed"
ok_if "client writes were acknowledged during the attack" test "$acked" -gt 0

for i in $(seq 1 $N); do
  ok_if "node $i still running" kill -0 "${MESH_PIDS[$i]}"
  r=$(rss "$i")
  say "n$i RSS ${RSS0[$i]} -> $r KiB"
  ok_if "node $i RSS grew < 64 MiB (${RSS0[$i]} -> $r KiB)" test $(( r - RSS0[$i] )) -lt 65536
  is "node $i: no false deaths (dead)" "$(mesh_tel_get "$i" /mesh/members dead)" 0
  is "node $i: 3 alive" "$(mesh_tel_get "$i" /mesh/members alive)" 3
done
ok_if "after: every node still has the other members at their real MACs" neigh_real
neigh_real >&2
# the net counters of all nodes, summed: "name value" lines (one query per node)
for i in $(seq 1 $N); do mesh_tel "$i" "/mesh/stats,net"; done | python3 -c '
import collections, json, sys
s = collections.Counter()
for line in sys.stdin:
    v = next(iter(json.loads(line).values()))
    s.update(v.get("net", v) if isinstance(v, dict) else {})
for k, v in sorted(s.items()):
    print(k, v)' >"$work/net"
sum_ctr() { awk -v k="$1" '$1 == k {print $2}' "$work/net"; }
for c in rx_arp_ignored_gratuitous rx_arp_ignored_conflict rx_arp_ignored_unsolicited \
         rx_arp_ignored_request; do
  v=$(sum_ctr $c)
  ok_if "ARP counter $c moved (${v:-none})" test "${v:-0}" -gt 0
done
say "$(grep -E '^(neigh_|rx_arp_|rx_drop_frame|rx_frames)' "$work/net" | tr '\n' ' ')"

# convergence: one more write, then equal digests holding it
"$CTL" -s "$(sock 1)" put worker:hostile-last "done" >/dev/null
converged() {
  local d1 d i
  for i in $(seq 1 $N); do
    [ "$("$CTL" -s "$(sock "$i")" get worker:hostile-last 2>/dev/null)" = "done" ] || return 1
  done
  d1=$(mesh_tel_get 1 /mesh/kv/stats digest)
  for i in $(seq 2 $N); do
    d=$(mesh_tel_get "$i" /mesh/kv/stats digest)
    [ -n "$d1" ] && [ "$d" = "$d1" ] || return 1
  done
}
wait_converged() {
  local deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do converged && return 0; sleep 0.5; done
  return 1
}
ok_if "stores converge: equal digests holding the last write" wait_converged

say "HELLO reflection: attacker sent $hello_as B as $TP, meshd sent $hello_to B to it"
if [ "$VARIANT" = keyed ]; then
  ok_if "keyed: no HELLO reflection ($hello_to <= $hello_as B)" \
    test "${hello_to:-1}" -le "${hello_as:-0}"
else
  # not asserted yet: a keyless HELLO_REPLY carries the node's name, a few bytes more than
  # the request (issue 14 item 4, "no reply larger than the request", is still open)
  say "keyless HELLO reflection ratio: $hello_to / $hello_as B (known gap: issue 14 item 4)"
fi
as_tp=$(nft_bytes as_tp); to_tp=$(nft_bytes to_tp)
say "reflection: attacker sent $as_tp B as $TP, meshd sent $to_tp B to it"
ok_if "all classes: bytes to the spoofed source <= bytes in its name ($to_tp <= $as_tp B)" \
  test "${to_tp:-1}" -le "${as_tp:-0}"
tap_done
