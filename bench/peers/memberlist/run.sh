#!/usr/bin/env bash
# run.sh: run N memberlist peers on meshd's namespace topology (scripts/netns-lib.sh,
# "kernel" mode: node i = namespace ${MESH_NS}m<i>, eth0 10.99.0.i/24 on one bridge),
# drive updates from node 1, optionally SIGKILL one node and time its detection,
# measure idle CPU per node, tear everything down and analyse.
#
#   run.sh [--nodes N] [--profile lan|fast|local] [--updates U] [--rate R] [--loss PCT]
#          [--kill] [--out DIR] [--quick] [--idle S] [--drain S] [--kill-wait S]
#          [--value-size B] [--peer-arg ARG]... [--bin PATH] [--repeat K]
#
# --repeat K runs the whole thing K times (fresh topology each time) into DIR/r<k> and
# pools them with "analyze.py --combine DIR DIR/r*" (DIR/combined.md, DIR/combined.json).
#
# Phases (progress on stderr):
#   1. topology up, start node 1, then nodes 2..N joining 10.99.0.1
#   2. wait until every node sees N members ("ready")
#   3. loss on (if --loss), settle 1 s, idle window: CPU marks (SIGUSR2) on all peers
#   4. update phase: SIGUSR1 to the writer (node 1), U updates at R/s, drain
#   5. --kill: SIGKILL node N, wait until every survivor reports it dead (bounded)
#   6. SIGTERM all peers, topology down, analyze.py DIR
# Output: DIR/n<i>.jsonl (peer events), DIR/n<i>.log (memberlist log), DIR/meta.json,
#         DIR/summary.md and DIR/summary.json (from analyze.py).
# Needs root (ip netns, nftables). Every wait is bounded; a trap always cleans up.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)

nodes=8 profile=lan updates=500 rate=50 loss=0 kill=0 out="" quick=0
idle="" drain="" killwait="" valsize=16 bin=$root/build-bench/memberlist-peer
peer_args=()
explicit_nodes=0 explicit_updates=0 repeat=1 pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift 2; continue ;;
    --out) out=$2; shift 2; continue ;;
  esac
  case "$1" in
    --kill|--quick) pass+=("$1") ;;
    *) pass+=("$1" "${2:-}") ;;
  esac
  case "$1" in
    --nodes) nodes=$2; explicit_nodes=1; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --updates) updates=$2; explicit_updates=1; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --loss) loss=$2; shift 2 ;;
    --kill) kill=1; shift ;;
    --quick) quick=1; shift ;;
    --idle) idle=$2; shift 2 ;;
    --drain) drain=$2; shift 2 ;;
    --kill-wait) killwait=$2; shift 2 ;;
    --value-size) valsize=$2; shift 2 ;;
    --peer-arg) peer_args+=("$2"); shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  [ "$explicit_nodes" = 1 ] || nodes=4
  [ "$explicit_updates" = 1 ] || updates=100
  idle=${idle:-3}
fi
case "$profile" in
  lan|local) idle=${idle:-10}; drain=${drain:-5}; killwait=${killwait:-45} ;;
  fast) idle=${idle:-10}; drain=${drain:-2}; killwait=${killwait:-15} ;;
  *) echo "run.sh: --profile lan|fast|local" >&2; exit 2 ;;
esac
for v in nodes updates loss idle drain killwait valsize; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: --$v must be a non-negative integer" >&2; exit 2; }
done
if ! [[ $rate =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk "BEGIN{exit !($rate > 0)}"; then
  echo "run.sh: --rate must be > 0" >&2; exit 2
fi
upd_s=$(awk "BEGIN{print int($updates / $rate) + 1}")   # seconds the update stream lasts
if [ "$nodes" -lt 2 ] || [ "$nodes" -gt 64 ]; then echo "run.sh: --nodes must be 2..64" >&2; exit 2; fi
[ "$kill" = 0 ] || [ "$nodes" -ge 3 ] || { echo "run.sh: --kill needs >= 3 nodes" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 2; }

if ! [[ $repeat =~ ^[0-9]+$ ]] || [ "$repeat" -lt 1 ]; then echo "run.sh: --repeat must be >= 1" >&2; exit 2; fi
if [ "$repeat" -gt 1 ]; then
  out=${out:-$root/build-bench/memberlist-results/$(date -u +%Y%m%dT%H%M%SZ)-$profile-n$nodes-x$repeat}
  mkdir -p "$out"
  dirs=()
  for k in $(seq 1 "$repeat"); do
    echo "[memberlist $profile $(date +%T)] repeat $k/$repeat" >&2
    "$0" "${pass[@]}" --out "$out/r$k" >/dev/null
    dirs+=("$out/r$k")
  done
  python3 "$here/analyze.py" --combine "$out" "${dirs[@]}"
  exit 0
fi

log() { printf '[memberlist %s %s] %s\n' "$profile" "$(date +%T)" "$*" >&2; }
now_ns() { date +%s%N; }

if [ ! -x "$bin" ] || [ "$here/peer.go" -nt "$bin" ]; then
  log "building peer"
  "$here/build.sh" "$bin"
fi

out=${out:-$root/build-bench/memberlist-results/$(date -u +%Y%m%dT%H%M%SZ)-$profile-n$nodes}
mkdir -p "$out"
rm -f "$out"/n*.jsonl "$out"/n*.log "$out"/meta.json "$out"/summary.*
out=$(cd "$out" && pwd)

# Unique prefix; "x" keeps it from being a prefix of another run's (mesh_topo_down greps ^prefix).
MESH_NS="mlb$$x"
export MESH_LOGDIR="$out"
# shellcheck source=../../../scripts/netns-lib.sh
source "$root/scripts/netns-lib.sh"
declare -A PIDS=()

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for i in "${!PIDS[@]}"; do kill -TERM "${PIDS[$i]}" 2>/dev/null || true; done
  sleep 0.3
  for i in "${!PIDS[@]}"; do
    kill -KILL "${PIDS[$i]}" 2>/dev/null || true
    wait "${PIDS[$i]}" 2>/dev/null || true
  done
  PIDS=()
  mesh_topo_down >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A hard bound on every peer's lifetime (they are also stopped explicitly).
life=$(( 60 + idle + upd_s + 30 + drain + killwait + 30 ))
life=$(( life < 600 ? life : 600 ))

log "topology: $nodes node namespaces ($MESH_NS*), kernel addresses 10.99.0.1-$nodes"
mesh_topo_up "$nodes" kernel

start_peer() {
  local i=$1; shift
  # memberlist logs go to --log; Go runtime errors (stderr) are appended to the same file.
  # shellcheck disable=SC2094
  ip netns exec "${MESH_NS}m$i" "$bin" --name "n$i" --bind "$(mesh_ip "$i")" --port 7946 \
    --profile "$profile" --expect "$nodes" --duration "${life}s" --value-size "$valsize" \
    --out "$out/n$i.jsonl" --log "$out/n$i.log" "${peer_args[@]}" "$@" \
    >>"$out/n$i.log" 2>&1 &
  PIDS[$i]=$!
}

log "starting $nodes peers (profile $profile${peer_args:+, extra: ${peer_args[*]}})"
start_peer 1 --writer --updates "$updates" --rate "$rate"
for _ in $(seq 1 50); do grep -q '"ev":"start"' "$out/n1.jsonl" 2>/dev/null && break; sleep 0.1; done
for i in $(seq 2 "$nodes"); do start_peer "$i" --join "$(mesh_ip 1)"; done

deadline=$(( SECONDS + 40 ))
while :; do
  ready=0
  for i in $(seq 1 "$nodes"); do
    grep -q '"ev":"ready"' "$out/n$i.jsonl" 2>/dev/null && ready=$((ready + 1))
    kill -0 "${PIDS[$i]}" 2>/dev/null || { log "peer n$i exited early; see $out/n$i.log"; exit 1; }
  done
  [ "$ready" -eq "$nodes" ] && break
  [ "$SECONDS" -lt "$deadline" ] || { log "only $ready/$nodes peers saw full membership in 40 s"; exit 1; }
  sleep 0.2
done
log "full membership on all $nodes nodes"

if [ "$loss" -gt 0 ]; then
  log "loss: dropping $loss % of every node's outgoing frames (nftables on the bridge ports)"
  for i in $(seq 1 "$nodes"); do mesh_loss "$i" "$loss"; done
fi

mark_all() { local i; for i in "${!PIDS[@]}"; do kill -USR2 "${PIDS[$i]}" 2>/dev/null || true; done; }
sleep 1
idle_start=$(now_ns); mark_all            # mark 0
log "idle window ${idle}s"
sleep "$idle"
idle_end=$(now_ns); mark_all              # mark 1

upd_start=$(now_ns); mark_all             # mark 2
log "updates: $updates from n1 at $rate/s"
kill -USR1 "${PIDS[1]}"
deadline=$(( SECONDS + upd_s + 30 ))
until grep -q '"ev":"writer_done"' "$out/n1.jsonl" 2>/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || { log "writer did not finish in time"; exit 1; }
  sleep 0.2
done
log "writer done; draining ${drain}s"
sleep "$drain"
upd_end=$(now_ns); mark_all               # mark 3

victim=0 kill_ns=0 detected=0
if [ "$kill" = 1 ]; then
  victim=$nodes
  log "SIGKILL n$victim; waiting up to ${killwait}s for all survivors to mark it dead"
  kill_ns=$(now_ns)
  kill -KILL "${PIDS[$victim]}"
  wait "${PIDS[$victim]}" 2>/dev/null || true
  unset "PIDS[$victim]"
  deadline=$(( SECONDS + killwait ))
  while :; do
    detected=0
    for i in $(seq 1 $((nodes - 1))); do
      grep -q "\"node\":\"n$victim\",\"state\":\"dead\"" "$out/n$i.jsonl" 2>/dev/null && detected=$((detected + 1))
    done
    [ "$detected" -eq $((nodes - 1)) ] && break
    [ "$SECONDS" -lt "$deadline" ] || { log "only $detected/$((nodes - 1)) survivors detected the kill in ${killwait}s"; break; }
    sleep 0.1
  done
  sleep 0.2
  log "detected by $detected/$((nodes - 1)) survivors"
fi

stop_ns=$(now_ns)
log "stopping peers"
for i in "${!PIDS[@]}"; do kill -TERM "${PIDS[$i]}" 2>/dev/null || true; done
deadline=$(( SECONDS + 10 ))
for i in "${!PIDS[@]}"; do
  while kill -0 "${PIDS[$i]}" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -KILL "${PIDS[$i]}" 2>/dev/null || true
  wait "${PIDS[$i]}" 2>/dev/null || true
done
PIDS=()
mesh_topo_down >/dev/null 2>&1 || true

cat >"$out/meta.json" <<JSON
{"peer": "memberlist", "memberlist_version": "$(cat "$bin.memberlist-version" 2>/dev/null || echo unknown)",
 "go_version": "$(go version 2>/dev/null | awk '{print $3}')",
 "nodes": $nodes, "profile": "$profile", "peer_args": "${peer_args[*]}",
 "updates": $updates, "rate": $rate, "value_size": $valsize, "loss_pct": $loss, "writer": "n1",
 "idle_s": $idle, "drain_s": $drain, "kill_wait_s": $killwait,
 "marks": {"idle_start": 0, "idle_end": 1, "updates_start": 2, "updates_end": 3},
 "idle_start_ns": $idle_start, "idle_end_ns": $idle_end,
 "updates_start_ns": $upd_start, "updates_end_ns": $upd_end,
 "kill": $kill, "victim": "$( [ "$victim" = 0 ] && echo "" || echo "n$victim")", "kill_ns": $kill_ns,
 "stop_ns": $stop_ns, "host": "$(hostname)", "cpus": $(nproc), "kernel": "$(uname -r)",
 "date_utc": "$(date -u +%FT%TZ)"}
JSON
log "analysing $out"
python3 "$here/analyze.py" "$out"
