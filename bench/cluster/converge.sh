#!/usr/bin/env bash
# bench/cluster/converge.sh: convergence figures of a 3-node meshd cluster on the test
# topology (one network namespace per node, net_af_packet on veth, backoff polling), for
# issue 13's targets. Keys are written through the client API (mesh_load, 64 B values);
# "equal" means every node holds the expected live key count and all store digests are
# equal (converge_tel.py, polling each node's telemetry socket every 2 ms). Phases:
#   catchup  load K keys on n1, wait equal, SIGKILL n3 and start it again (a new life with
#            an empty store): time from its start to equal, and from the first member it
#            logs alive (it has joined; EAL start-up excluded). Target: 100 k <= 1 s.
#   tombs    delete --tombs keys on n1, then (in the background, through the next phases)
#            the time until no node holds a tombstone. Target: grace (300 s, the store's
#            default; meshd has no setting for it) + 2 s. Waited for before the next
#            restart: a node restarted meanwhile gets the tombstones anew, and its grace
#            runs from then.
#   rest     --idle-s seconds at rest: CPU of each meshd (/proc/PID/stat), anti-entropy
#            digests sent and received and frames sent per peer and second (node counters).
#            Target: <= 1 % of a core and <= 1 frame/s per peer.
#   partition n3 cut off (its bridge port down) for --partition-s seconds while n1 writes
#            --div keys and n3 writes --div other keys; heal; time to equal. Target: <= 2 s.
#   catchup  again at the larger sizes of --keys (target: 1 M <= 5 s).
# Writes DIR/converge.json (one object per line) and a log; progress on stderr.
# MESHD_EXTRA: more meshd arguments for every node (e.g. "--profile lan").
#   converge.sh [--keys "100000 1000000"] [--div 100000] [--partition-s 60] [--idle-s 20]
#               [--tombs 1000 (0: no tombstone phase)] [--conns 4] [--build DIR] [--out DIR]
set -uo pipefail   # no -e: netns-lib probes expect failures
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/cluster
keys_list="100000 1000000" div=100000 part_s=60 idle_s=20 tombs=1000 conns=4
build=$root/build out=$root/build-bench/converge
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys_list=$2; shift ;;
    --div) div=$2; shift ;;
    --partition-s) part_s=$2; shift ;;
    --idle-s) idle_s=$2; shift ;;
    --tombs) tombs=$2; shift ;;
    --conns) conns=$2; shift ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "converge.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "converge.sh: needs root (namespaces)" >&2; exit 2; }
MESHD=$build/app/meshd/meshd
LOAD=$build/bench/cluster/mesh_load
TEL=$here/converge_tel.py
[ -x "$MESHD" ] && [ -x "$LOAD" ] || { echo "converge.sh: build first (ninja -C $build)" >&2; exit 2; }
mkdir -p "$out"
res=$out/converge.json
: >"$res"
MESH_NS="mc$$x"
MESH_LOGDIR=$out/logs
MESH_EAL_MEM=${MESH_EAL_MEM:-256}
source "$root/scripts/netns-lib.sh"
tomb_pid=""
trap '[ -n "$tomb_pid" ] && kill "$tomb_pid" 2>/dev/null; mesh_topo_down; rm -f /tmp/${MESH_NS}-*.sock' EXIT
log() { echo "converge: $*" >&2; }
sock() { echo "/tmp/${MESH_NS}-$1.sock"; }
prefixes() { local i; for i in "$@"; do printf '%sn%s ' "$MESH_NS" "$i"; done; }
seeds=("" "" "--seed 10.99.0.1" "--seed 10.99.0.1 --seed 10.99.0.2")
start() {  # start I: node I with its control socket and seeds
  # shellcheck disable=SC2086
  mesh_node_start "$1" --ctl-socket "$(sock "$1")" ${seeds[$1]} ${MESHD_EXTRA:-}
}
record() { echo "$1" >>"$res"; log "$1"; }
now() { date +%s%N; }
# equal T0 TIMEOUT KEYS [--log FILE]: every node holds KEYS live keys and the digests are
# equal (with --log: also when that node first logged a member alive)
equal() {
  # shellcheck disable=SC2046
  python3 "$TEL" equal "$1" "$2" "$3" "${@:4}" $(prefixes 1 2 3)
}
load() {  # load NODE PREFIX FIRST COUNT TAG [--delete]
  "$LOAD" --conns "$conns" --tag "$5" ${6:-} "$(sock "$1")" "$2" "$3" "$4"
}
ticks() { awk '{print $14 + $15}' "/proc/${MESH_PIDS[$1]}/stat" 2>/dev/null || echo 0; }
ctr() {  # ctr I NAME...: node counters of node I (/mesh/stats node group), one per line
  local i=$1; shift
  python3 "$TEL" stats "${MESH_NS}n$i" | python3 -c '
import json, sys
d = json.load(sys.stdin)["stats"] or {}
flat = {}
for g, v in d.items():
    if isinstance(v, dict):
        for k, x in v.items():
            flat[k] = x
            flat[g + "." + k] = x
for n in sys.argv[1:]:
    print(flat.get(n, 0))' "$@"
}

mesh_topo_up 3
for i in 1 2 3; do start "$i"; sleep 0.3; done
for i in 1 2 3; do
  mesh_wait_members "$i" alive 3 30 || { log "node $i never saw 3 alive"; exit 1; }
done
log "3 nodes up (logs in $MESH_LOGDIR)"
total=0 loaded=0 first=1

catchup() {  # catchup K: load up to K keys on n1, wait equal, restart n3, time to equal
  local k=$1 lr t0 r
  if [ "$k" -gt "$loaded" ]; then
    t0=$(now)
    lr=$(load 1 "worker:k" "$loaded" $((k - loaded)) "v") || log "load errors: $lr"
    total=$((total + k - loaded)) loaded=$k
    r=$(equal "$t0" 600 "$total")
    record "{\"phase\": \"load\", \"keys\": $k, \"load\": $lr, \"replicated\": $r}"
  fi
  mesh_node_stop 3 KILL
  t0=$(now)
  start 3
  r=$(equal "$t0" 120 "$total" --log "$MESH_LOGDIR/n3.log")
  record "{\"phase\": \"catchup\", \"keys\": $k, \"store_keys\": $total, \"from_start\": $r}"
}

# ---- catch-up at the first size
read -r -a sizes <<<"$keys_list"
catchup "${sizes[0]}"

# ---- tombstones: delete, then watch in the background until gone everywhere
if [ "$tombs" -gt 0 ]; then
  t_del=$(now)
  lr=$(load 1 "worker:k" 0 "$tombs" "v" --delete)
  total=$((total - tombs))
  r=$(equal "$t_del" 60 "$total")
  record "{\"phase\": \"delete\", \"keys\": $tombs, \"load\": $lr, \"replicated\": $r}"
  # shellcheck disable=SC2046
  python3 "$TEL" tombs "$t_del" 900 $(prefixes 1 2 3) >"$out/tombs.json" &
  tomb_pid=$!
fi

# ---- at rest
sleep 3
declare -A t0c=()
read -r -a c0 <<<"$(for i in 1 2 3; do ctr "$i" node_ae_digests_sent node_ae_digests_rx node_tx_frames | tr '\n' ' '; done)"
s0=$(now)
for i in 1 2 3; do t0c[$i]=$(ticks "$i"); done
sleep "$idle_s"
s1=$(now)
declare -A t1c=()
for i in 1 2 3; do t1c[$i]=$(ticks "$i"); done
read -r -a c1 <<<"$(for i in 1 2 3; do ctr "$i" node_ae_digests_sent node_ae_digests_rx node_tx_frames | tr '\n' ' '; done)"
hz=$(getconf CLK_TCK)
cpu=() dsent=() drx=() frames=()
for i in 1 2 3; do
  j=$(( (i - 1) * 3 ))
  cpu+=("$(echo "scale=3; 100 * (${t1c[$i]} - ${t0c[$i]}) * 1000000000 / ($hz * ($s1 - $s0))" | bc)")
  dsent+=("$(( ${c1[$j]} - ${c0[$j]} ))")
  drx+=("$(( ${c1[$((j + 1))]} - ${c0[$((j + 1))]} ))")
  frames+=("$(( ${c1[$((j + 2))]} - ${c0[$((j + 2))]} ))")
done
secs=$(echo "scale=3; ($s1 - $s0) / 1000000000" | bc)
record "$(python3 -c '
import json, sys
secs = float(sys.argv[1]); cpu, sent, rx, fr = (list(map(float, a.split())) for a in sys.argv[2:6])
peers = 2
print(json.dumps({"phase": "rest", "seconds": secs, "cpu_pct": cpu,
  "ae_digests_sent_per_s_per_peer": [round(x / secs / peers, 3) for x in sent],
  "ae_digests_rx_per_s_per_peer": [round(x / secs / peers, 3) for x in rx],
  "frames_per_s_per_peer": [round(x / secs / peers, 3) for x in fr]}))' \
  "$secs" "${cpu[*]}" "${dsent[*]}" "${drx[*]}" "${frames[*]}")"

# ---- partition: n3 alone, both sides write, heal
t_cut=$(now)
ip -n "${MESH_NS}sw" link set p3 down
load 1 "worker:d1-" 0 "$div" "side1" >"$out/div1.json" & l1=$!
load 3 "worker:d3-" 0 "$div" "side3" >"$out/div3.json" & l3=$!
wait "$l1" "$l3"
total=$((total + 2 * div))
left=$(( part_s * 1000 - ($(now) - t_cut) / 1000000 ))
[ "$left" -gt 0 ] && sleep "$(echo "scale=3; $left / 1000" | bc)"
t_heal=$(now)
ip -n "${MESH_NS}sw" link set p3 up
r=$(equal "$t_heal" 120 "$total")
record "{\"phase\": \"partition\", \"seconds\": $(( (t_heal - t_cut) / 1000000000 )), \"div_keys_per_side\": $div, \"store_keys\": $total, \"side1\": $(cat "$out/div1.json"), \"side3\": $(cat "$out/div3.json"), \"from_heal\": $r}"
for i in 1 2 3; do
  record "{\"phase\": \"counters\", \"node\": $i, \"after\": \"partition\", $(ctr "$i" node_peer_parked node_peer_resumed node_peer_added node_peer_removed node_ae_ops_pushed node_ae_skip_catchup node_export_backpressure | paste -sd' ' | awk '{printf "\"parked\": %s, \"resumed\": %s, \"added\": %s, \"removed\": %s, \"ae_ops_pushed\": %s, \"ae_skip_catchup\": %s, \"export_backpressure\": %s", $1, $2, $3, $4, $5, $6, $7}')}"
done

# ---- tombstones: wait for the background watch (before any restart: a restarted node
# receives the tombstones anew, and its grace runs from then)
if [ -n "$tomb_pid" ]; then
  log "waiting for tombstone GC (grace 300 s after the delete)"
  wait "$tomb_pid"
  tomb_pid=""
  record "{\"phase\": \"tombs\", \"keys\": $tombs, \"after_delete\": $(cat "$out/tombs.json")}"
fi

# ---- catch-up at the larger sizes
for k in "${sizes[@]:1}"; do catchup "$k"; done
log "results: $res"
