#!/usr/bin/env bash
# run.sh: run N tarantool SWIM peers (peer.lua, Debian's tarantool 2.6 `swim` module) on
# meshd's namespace topology (scripts/netns-lib.sh, "kernel" mode: node i = namespace
# ${MESH_NS}m<i>, eth0 10.99.0.i/24 on one bridge), drive payload updates from node 1,
# optionally SIGKILL one node and time its detection, measure idle CPU per node, tear
# everything down and analyse. Same interface and phases as bench/peers/memberlist/run.sh.
#
#   run.sh [--nodes N] [--profile default|fast|fastest] [--updates U] [--rate R]
#          [--loss PCT] [--kill] [--out DIR] [--quick] [--idle S] [--drain S]
#          [--kill-wait S] [--value-size B] [--peer-arg ARG]... [--repeat K]
#
# --repeat K runs the whole thing K times (fresh topology each time) into DIR/r<k> and
# pools them with "analyze.py --combine DIR DIR/r*" (DIR/combined.md, DIR/combined.json).
#
# Phases (progress on stderr):
#   1. topology up, start node 1, then nodes 2..N probing 10.99.0.1:3301 (the seed)
#   2. wait until every node sees N alive members ("ready")
#   3. loss on (if --loss), settle 1 s, idle window: CPU marks on all peers
#   4. update phase: "start" to the writer (node 1), U payload updates at R/s, drain
#   5. --kill: SIGKILL node N, wait until every survivor reports it dead (bounded)
#   6. graceful leave: SIGTERM the highest-numbered live node other than n1 (swim:quit()),
#      wait (<= 5 s) until the others report it "left"
#   7. SIGTERM the rest, topology down, analyze.py DIR
# Peers are controlled through one-word datagrams on unix sockets (tarantool has no Lua
# signal handlers): "mark" (CPU mark), "start" (writer). See peer.lua.
# Output: DIR/n<i>.jsonl (peer events), DIR/n<i>.log (tarantool's stderr), DIR/meta.json,
#         DIR/summary.md and DIR/summary.json (from analyze.py).
# Needs root (ip netns, nftables) and tarantool (apt-get install -y tarantool).
# Every wait is bounded; a trap always cleans up.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)

nodes=8 profile=default updates=500 rate=50 loss=0 kill=0 out="" quick=0
idle="" drain="" killwait="" valsize=16 port=3301
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
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then
  [ "$explicit_nodes" = 1 ] || nodes=4
  [ "$explicit_updates" = 1 ] || updates=100
  idle=${idle:-3}
fi
# default: heartbeat 1 s, ack timeout 30 s; the kill wait outlasts the ack timeout so that
# "not detected" means more than one full ack timeout without a verdict.
case "$profile" in
  default) idle=${idle:-10}; drain=${drain:-5}; killwait=${killwait:-40} ;;
  fast|fastest) idle=${idle:-10}; drain=${drain:-2}; killwait=${killwait:-10} ;;
  *) echo "run.sh: --profile default|fast|fastest" >&2; exit 2 ;;
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
if ! command -v tarantool >/dev/null; then
  echo "run.sh: tarantool not found; apt-get install -y tarantool (or scripts/install-deps.sh --bench)" >&2
  exit 2
fi

if ! [[ $repeat =~ ^[0-9]+$ ]] || [ "$repeat" -lt 1 ]; then echo "run.sh: --repeat must be >= 1" >&2; exit 2; fi
if [ "$repeat" -gt 1 ]; then
  out=${out:-$root/build-bench/tarantool-results/$(date -u +%Y%m%dT%H%M%SZ)-$profile-n$nodes-x$repeat}
  mkdir -p "$out"
  dirs=()
  for k in $(seq 1 "$repeat"); do
    echo "[tarantool $profile $(date +%T)] repeat $k/$repeat" >&2
    "$0" "${pass[@]}" --out "$out/r$k" >/dev/null
    dirs+=("$out/r$k")
  done
  python3 "$here/analyze.py" --combine "$out" "${dirs[@]}"
  exit 0
fi

log() { printf '[tarantool %s %s] %s\n' "$profile" "$(date +%T)" "$*" >&2; }
now_ns() { date +%s%N; }

out=${out:-$root/build-bench/tarantool-results/$(date -u +%Y%m%dT%H%M%SZ)-$profile-n$nodes}
mkdir -p "$out"
rm -f "$out"/n*.jsonl "$out"/n*.log "$out"/meta.json "$out"/summary.*
out=$(cd "$out" && pwd)

# Unique prefix; "x" keeps it from being a prefix of another run's (mesh_topo_down greps ^prefix).
MESH_NS="ttb$$x"
export MESH_LOGDIR="$out"
# shellcheck source=../../../scripts/netns-lib.sh
source "$root/scripts/netns-lib.sh"
declare -A PIDS=()
# Control sockets live in a short private directory (AF_UNIX paths are limited to 108 B).
ctldir=$(mktemp -d /tmp/ttb.XXXXXX)

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
  rm -rf "$ctldir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ctl CMD I...: send CMD to the control socket of nodes I... (one python3 for all of them).
ctl() {
  local cmd=$1 i paths=(); shift
  for i in "$@"; do paths+=("$ctldir/n$i.ctl"); done
  python3 - "$cmd" "${paths[@]}" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for p in sys.argv[2:]:
    try:
        s.sendto(sys.argv[1].encode(), p)
    except OSError as e:
        print(f"ctl {sys.argv[1]} -> {p}: {e}", file=sys.stderr)
PY
}

# A hard bound on every peer's lifetime (they are also stopped explicitly).
life=$(( 60 + idle + upd_s + 30 + drain + killwait + 30 ))
life=$(( life < 600 ? life : 600 ))

loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)   # other load on the host skews CPU-bound tails
log "topology: $nodes node namespaces ($MESH_NS*), kernel addresses 10.99.0.1-$nodes"
mesh_topo_up "$nodes" kernel

start_peer() {
  local i=$1; shift
  ip netns exec "${MESH_NS}m$i" tarantool "$here/peer.lua" --index "$i" \
    --bind "$(mesh_ip "$i"):$port" --seeds "$(mesh_ip 1):$port" --profile "$profile" \
    --expect "$nodes" --duration "$life" --value-size "$valsize" \
    --out "$out/n$i.jsonl" --ctl "$ctldir/n$i.ctl" "${peer_args[@]}" "$@" \
    >>"$out/n$i.log" 2>&1 &
  PIDS[$i]=$!
}

log "starting $nodes peers (profile $profile${peer_args:+, extra: ${peer_args[*]}})"
start_peer 1 --writer --updates "$updates" --rate "$rate"
for _ in $(seq 1 50); do grep -q '"ev":"start"' "$out/n1.jsonl" 2>/dev/null && break; sleep 0.1; done
for i in $(seq 2 "$nodes"); do start_peer "$i"; done

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
for i in $(seq 1 "$nodes"); do
  [ -S "$ctldir/n$i.ctl" ] || { log "n$i has no control socket; see $out/n$i.log"; exit 1; }
done
log "full membership on all $nodes nodes"

if [ "$loss" -gt 0 ]; then
  log "loss: dropping $loss % of every node's outgoing frames (nftables on the bridge ports)"
  for i in $(seq 1 "$nodes"); do mesh_loss "$i" "$loss"; done
fi

mark_all() { ctl mark "${!PIDS[@]}"; }
sleep 1
idle_start=$(now_ns); mark_all            # mark 0
log "idle window ${idle}s"
sleep "$idle"
idle_end=$(now_ns); mark_all              # mark 1

upd_start=$(now_ns); mark_all             # mark 2
log "updates: $updates payload updates from n1 at $rate/s"
ctl start 1
deadline=$(( SECONDS + upd_s + 30 ))
until grep -q '"ev":"writer_done"' "$out/n1.jsonl" 2>/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || { log "writer did not finish in time"; exit 1; }
  sleep 0.2
done
log "writer done; draining ${drain}s"
sleep "$drain"
upd_end=$(now_ns); mark_all               # mark 3

# dead_since FILE NODE NS: FILE has a "dead" event for NODE at or after NS (a false "dead"
# before the kill, later refuted, must not end the wait).
dead_since() {
  awk -v pat="\"node\":\"$2\",\"state\":\"dead\"" -v since="$3" '
    index($0, pat) { t = $0; sub(/.*"t_ns":/, "", t); sub(/[^0-9].*/, "", t); if (t + 0 >= since + 0) { f = 1; exit } }
    END { exit !f }' "$1" 2>/dev/null
}

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
      dead_since "$out/n$i.jsonl" "n$victim" "$kill_ns" && detected=$((detected + 1))
    done
    [ "$detected" -eq $((nodes - 1)) ] && break
    [ "$SECONDS" -lt "$deadline" ] || { log "only $detected/$((nodes - 1)) survivors detected the kill in ${killwait}s"; break; }
    sleep 0.1
  done
  sleep 0.2
  log "detected by $detected/$((nodes - 1)) survivors"
fi

# Graceful leave: SIGTERM one survivor first (peer.lua's on_shutdown runs swim:quit(),
# which sends "left" to the members) and time until every other peer reports it left.
leaver=0 leave_ns=0
for i in "${!PIDS[@]}"; do [ "$i" -ne 1 ] && [ "$i" -gt "$leaver" ] && leaver=$i; done
if [ "$leaver" -gt 0 ]; then
  log "graceful leave: SIGTERM n$leaver; waiting up to 5 s for the others to report it left"
  leave_ns=$(now_ns)
  kill -TERM "${PIDS[$leaver]}" 2>/dev/null || true
  deadline=$(( SECONDS + 5 ))
  while kill -0 "${PIDS[$leaver]}" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
  kill -KILL "${PIDS[$leaver]}" 2>/dev/null || true
  wait "${PIDS[$leaver]}" 2>/dev/null || true
  unset "PIDS[$leaver]"
  while :; do
    seen=0
    for i in "${!PIDS[@]}"; do
      grep -q "\"node\":\"n$leaver\",\"state\":\"left\"" "$out/n$i.jsonl" 2>/dev/null && seen=$((seen + 1))
    done
    [ "$seen" -eq "${#PIDS[@]}" ] && break
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.05
  done
  log "leave of n$leaver seen by $seen/${#PIDS[@]} peers"
fi

stop_ns=$(now_ns)
log "stopping peers (SIGTERM: graceful leave)"
for i in "${!PIDS[@]}"; do kill -TERM "${PIDS[$i]}" 2>/dev/null || true; done
deadline=$(( SECONDS + 10 ))
for i in "${!PIDS[@]}"; do
  while kill -0 "${PIDS[$i]}" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -KILL "${PIDS[$i]}" 2>/dev/null || true
  wait "${PIDS[$i]}" 2>/dev/null || true
done
PIDS=()
mesh_topo_down >/dev/null 2>&1 || true

tt_version=$(tarantool --version 2>/dev/null | head -n 1 | awk '{print $2}')
deb_version=$(dpkg-query -W -f='${Version}' tarantool 2>/dev/null || echo unknown)
cat >"$out/meta.json" <<JSON
{"peer": "tarantool", "tarantool_version": "$tt_version", "tarantool_deb": "$deb_version",
 "nodes": $nodes, "profile": "$profile", "peer_args": "${peer_args[*]}",
 "updates": $updates, "rate": $rate, "value_size": $valsize, "loss_pct": $loss, "writer": "n1",
 "idle_s": $idle, "drain_s": $drain, "kill_wait_s": $killwait,
 "marks": {"idle_start": 0, "idle_end": 1, "updates_start": 2, "updates_end": 3},
 "idle_start_ns": $idle_start, "idle_end_ns": $idle_end,
 "updates_start_ns": $upd_start, "updates_end_ns": $upd_end,
 "leaver": "$( [ "$leaver" = 0 ] && echo "" || echo "n$leaver")", "leave_ns": $leave_ns,
 "kill": $kill, "victim": "$( [ "$victim" = 0 ] && echo "" || echo "n$victim")", "kill_ns": $kill_ns,
 "stop_ns": $stop_ns, "loadavg_start": "$loadavg_start", "loadavg_end": "$(cut -d' ' -f1-3 /proc/loadavg)",
 "host": "$(hostname)", "cpus": $(nproc), "kernel": "$(uname -r)",
 "date_utc": "$(date -u +%FT%TZ)"}
JSON
log "analysing $out"
python3 "$here/analyze.py" "$out"
