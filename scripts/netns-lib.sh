# shellcheck shell=bash
# netns-lib.sh: the namespace topology used by meshd's integration tests, demo and
# benchmarks (see doc/architecture.md, "Test topology"). Source it, set MESH_NS (a short
# unique prefix) and MESHD (path to the meshd binary), then:
#
#   mesh_topo_up N [kernel] bridge namespace ${MESH_NS}sw + N node namespaces ${MESH_NS}m<i>
#                           (eth0 carries no kernel IP: DPDK af_packet owns it; with
#                           "kernel", eth0 of node i gets 10.99.0.i/24 for kernel-socket
#                           peers such as the memberlist benchmark) + a client namespace
#                           ${MESH_NS}c with 10.99.0.100/24 for kernel tools
#   mesh_loss I PCT         drop PCT % of node I's outgoing frames (nftables netdev ingress
#                           on its bridge port; PCT 0 removes the rule)
#   mesh_node_start I ARGS  start meshd node I (10.99.0.I) in its namespace, backoff mode,
#                           unique --file-prefix ${MESH_NS}n<I>; ARGS go after "--";
#                           MESH_LCORES='(0-2)@(0-1)' replaces the single "-l CPU".
#                           Keyed: --key-file $(mesh_keys) unless ARGS name --key-file
#                           or --insecure-plaintext; MESH_KEYLESS=1 passes
#                           --insecure-plaintext instead (a --config file's own key
#                           setting is overridden or, with insecure_plaintext, refused)
#   mesh_keys               the namespace set's key file, /tmp/${MESH_NS}-cluster.keys
#                           (or $MESH_KEYS), made with "meshd keygen" on first use
#   mesh_node_stop I [SIG]  signal node I (TERM by default) and wait for it
#   mesh_tel I CMD          one telemetry query through dpdk-telemetry.py, JSON on stdout
#   mesh_tel_get I CMD PATH value at a dotted PATH in the reply (e.g. net.rx_hello)
#   mesh_wait_members I FIELD N  wait until /mesh/members FIELD of node I equals N
#   mesh_topo_down          kill recorded nodes, delete namespaces and DPDK runtime dirs
#
# Addresses stay inside these namespaces (10.99.0.0/24); nothing leaves the machine.

MESH_NS=${MESH_NS:-mx$$}
MESH_LOGDIR=${MESH_LOGDIR:-}
MESH_EAL_MEM=${MESH_EAL_MEM:-128}
declare -gA MESH_PIDS=()
MESH_N=0

mesh_ip() { echo "10.99.0.$1"; }

mesh_topo_up() {
  local n=$1 kernel=${2:-} i
  MESH_N=$n
  MESH_LOGDIR=${MESH_LOGDIR:-/tmp/${MESH_NS}-logs}
  mkdir -p "$MESH_LOGDIR"
  ip netns add "${MESH_NS}sw"
  ip -n "${MESH_NS}sw" link add br0 type bridge
  ip -n "${MESH_NS}sw" link set br0 up
  # a plain L2 switch: bridged frames skip the IP/ARP netfilter hooks and the IP route
  # lookup that br_netfilter adds where it is loaded (the sender's CPU pays for them, in
  # its sendto); the tests' nftables rules use the bridge and netdev families
  for f in iptables ip6tables arptables; do
    ip netns exec "${MESH_NS}sw" sysctl -qw "net.bridge.bridge-nf-call-$f=0" 2>/dev/null || true
  done
  for i in $(seq 1 "$n") c; do
    local ns="${MESH_NS}m$i" port="p$i"
    [ "$i" = c ] && ns="${MESH_NS}c" && port="pc"
    ip netns add "$ns"
    ip link add eth0 netns "$ns" type veth peer name "$port" netns "${MESH_NS}sw"
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "${MESH_NS}sw" link set "$port" master br0
    ip -n "${MESH_NS}sw" link set "$port" up
  done
  ip -n "${MESH_NS}c" addr add 10.99.0.100/24 dev eth0
  if [ "$kernel" = kernel ]; then
    for i in $(seq 1 "$n"); do
      ip -n "${MESH_NS}m$i" addr add "$(mesh_ip "$i")/24" dev eth0
    done
  fi
}

mesh_loss() {
  local i=$1 pct=$2
  ip netns exec "${MESH_NS}sw" nft delete table netdev "loss_p$i" 2>/dev/null || true
  [ "$pct" -gt 0 ] || return 0
  ip netns exec "${MESH_NS}sw" nft -f - <<NFT
table netdev loss_p$i {
  chain in { type filter hook ingress device p$i priority 0; numgen random mod 100 < $pct drop; }
}
NFT
}

# mesh_keys: print the path of the cluster key file of this namespace set (every node
# started by mesh_node_start shares it), generating it with "$MESHD keygen" if absent.
# mesh_topo_down removes it (unless it is $MESH_KEYS).
mesh_keys() {
  local f=${MESH_KEYS:-/tmp/${MESH_NS}-cluster.keys}
  [ -e "$f" ] || "$MESHD" keygen "$f" >/dev/null || return 1
  echo "$f"
}

mesh_node_start() {
  local i=$1; shift
  local prefix="${MESH_NS}n$i" cpu=$(( (i - 1) % $(nproc) ))
  local cores=(-l "$cpu") key_opts=(--insecure-plaintext) a
  [ -n "${MESH_LCORES:-}" ] && cores=(--lcores "$MESH_LCORES")
  if [ "${MESH_KEYLESS:-0}" != 1 ]; then
    a=$(mesh_keys) || return 1
    key_opts=(--key-file "$a")
  fi
  for a in "$@"; do
    case $a in --key-file|--key-file=*|--insecure-plaintext) key_opts=() ;; esac
  done
  rm -rf "/var/run/dpdk/$prefix"
  ip netns exec "${MESH_NS}m$i" "$MESHD" "${cores[@]}" --no-huge -m "$MESH_EAL_MEM" --no-pci \
    --no-shconf --file-prefix "$prefix" --vdev=net_af_packet0,iface=eth0 \
    --log-level=lib.eal:warning --log-level='pmd.*:warning' -- \
    --name "n$i" --ip "$(mesh_ip "$i")" --poll-mode "${MESH_POLL_MODE:-event}" "${key_opts[@]}" "$@" \
    >"$MESH_LOGDIR/n$i.log" 2>&1 &
  MESH_PIDS[$i]=$!
}

mesh_node_stop() {
  local i=$1 sig=${2:-TERM} pid=${MESH_PIDS[$1]:-} rc=0
  [ -n "$pid" ] || return 0
  kill -s "$sig" "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || rc=$?
  unset "MESH_PIDS[$i]"
  return "$rc"
}

mesh_tel() {
  printf '%s\n' "$2" | timeout 10 dpdk-telemetry.py -f "${MESH_NS}n$1" 2>/dev/null | grep '^{' | tail -n 1
}

# mesh_tel_get I CMD PATH: the reply's value at PATH (dots separate keys), or empty.
mesh_tel_get() {
  mesh_tel "$1" "$2" | python3 -c '
import json, sys
path = sys.argv[1].split(".") if sys.argv[1] else []
try:
    v = next(iter(json.load(sys.stdin).values()))
    for k in path:
        v = v[k]
except Exception:
    sys.exit(0)
print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$3"
}

# mesh_wait_tel I CMD PATH MIN TIMEOUT_S: wait until the value at PATH is >= MIN.
mesh_wait_tel() {
  local i=$1 cmd=$2 path=$3 min=$4 deadline=$(( SECONDS + $5 )) v
  while [ "$SECONDS" -lt "$deadline" ]; do
    v=$(mesh_tel_get "$i" "$cmd" "$path")
    if [ -n "$v" ] && [ "$v" -ge "$min" ] 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

# mesh_wait_members I FIELD N [TIMEOUT_S]: wait until node I's /mesh/members FIELD (alive,
# suspect, dead, left, total) equals N (default timeout 20 s).
mesh_wait_members() {
  local deadline=$((SECONDS + ${4:-20}))
  while [ "$SECONDS" -lt "$deadline" ]; do
    [ "$(mesh_tel_get "$1" /mesh/members "$2")" = "$3" ] && return 0
    sleep 0.05
  done
  return 1
}

mesh_topo_down() {
  local i
  for i in "${!MESH_PIDS[@]}"; do
    kill -TERM "${MESH_PIDS[$i]}" 2>/dev/null || true
  done
  sleep 0.3
  for i in "${!MESH_PIDS[@]}"; do
    kill -KILL "${MESH_PIDS[$i]}" 2>/dev/null || true
    wait "${MESH_PIDS[$i]}" 2>/dev/null || true
  done
  MESH_PIDS=()
  for ns in $(ip netns list | awk '{print $1}' | grep "^${MESH_NS}" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf /var/run/dpdk/"${MESH_NS}"n*
  if [ -z "${MESH_KEYS:-}" ]; then rm -f "/tmp/${MESH_NS}-cluster.keys"; fi
}
