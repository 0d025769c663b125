#!/usr/bin/env bash
# run.sh: run N memberlist peers on meshd's namespace topology (scripts/netns-lib.sh,
# "kernel" mode: node i = namespace ${MESH_NS}m<i>, eth0 10.99.0.i/24 on one bridge),
# drive updates from node 1, optionally SIGKILL one node and time its detection,
# measure idle CPU per node, tear everything down and analyse.
#
#   run.sh [--nodes N] [--profile lan|fast|local] [--updates U] [--rate R] [--loss PCT]
#          [--kill] [--out DIR] [--quick] [--idle S] [--drain S] [--kill-wait S]
#          [--value-size B] [--peer-arg ARG]... [--bin PATH] [--repeat K]
#          [--sweep "R1 R2 ..."] [--sweep-secs S] [--sweep-bound MS]
#          [--soak S] [--soak-rate R] [--leave] [--leave-wait S]
#
# --updates 0 skips the update phase's stream (e.g. for a pure soak or sweep run).
# --repeat K runs the whole thing K times (fresh topology each time) into DIR/r<k> and
# pools them with "analyze.py --combine DIR DIR/r*" (DIR/combined.md, DIR/combined.json).
#
# Phases (progress on stderr):
#   1. topology up, start node 1, then nodes 2..N joining 10.99.0.1
#   2. wait until every node sees N members ("ready")
#   3. loss on (if --loss), settle 1 s, idle window: CPU marks (SIGUSR2) on all peers
#   4. update phase: SIGUSR1 to the writer (node 1), U updates at R/s, drain
#   4b. --sweep: for each rate R_k, one writer stage of R_k x --sweep-secs updates
#      (SIGUSR1), drain; CPU marks around each stage
#   4c. --soak S: S seconds with the loss (if any) still on, CPU marks at both ends;
#      --soak-rate R adds a writer stage of R/s for those S seconds
#   5. --kill: SIGKILL node N, wait until every survivor reports it dead (bounded)
#   5b. --leave: SIGHUP node N (N-1 with --kill): Leave + Shutdown; wait until every
#      survivor reports it left or dead (bounded by --leave-wait)
#   6. SIGTERM all peers, topology down, analyze.py DIR
# Output: DIR/n<i>.jsonl (peer events), DIR/n<i>.log (memberlist log), DIR/meta.json,
#         DIR/summary.md and DIR/summary.json (from analyze.py), DIR/latency_to_all_ms.txt,
#         DIR/detection_ms.txt, DIR/leave_ms.txt (and sweep_<rate>_latency_to_all_ms.txt).
# Needs root (ip netns, nftables). Every wait is bounded; a trap always cleans up.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)

nodes=8 profile=lan updates=500 rate=50 loss=0 kill=0 out="" quick=0
idle="" drain="" killwait="" valsize=16 bin=$root/build-bench/memberlist-peer
peer_args=()
sweep="" sweep_secs=3 sweep_bound=50 soak=0 soak_rate=0 leave=0 leavewait=""
explicit_nodes=0 explicit_updates=0 repeat=1 pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift 2; continue ;;
    --out) out=$2; shift 2; continue ;;
  esac
  case "$1" in
    --kill|--quick|--leave) pass+=("$1") ;;
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
    --sweep) sweep=$2; shift 2 ;;
    --sweep-secs) sweep_secs=$2; shift 2 ;;
    --sweep-bound) sweep_bound=$2; shift 2 ;;
    --soak) soak=$2; shift 2 ;;
    --soak-rate) soak_rate=$2; shift 2 ;;
    --leave) leave=1; shift ;;
    --leave-wait) leavewait=$2; shift 2 ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
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
leavewait=${leavewait:-$killwait}
for v in nodes updates loss idle drain killwait valsize sweep_secs sweep_bound soak soak_rate leavewait; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: --$v must be a non-negative integer" >&2; exit 2; }
done
if ! [[ $rate =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk "BEGIN{exit !($rate > 0)}"; then
  echo "run.sh: --rate must be > 0" >&2; exit 2
fi
upd_s=$(awk "BEGIN{print int($updates / $rate) + 1}")   # seconds the update stream lasts
if [ "$nodes" -lt 2 ] || [ "$nodes" -gt 64 ]; then echo "run.sh: --nodes must be 2..64" >&2; exit 2; fi
[ "$kill" = 0 ] || [ "$nodes" -ge 3 ] || { echo "run.sh: --kill needs >= 3 nodes" >&2; exit 2; }
[ "$leave" = 0 ] || [ "$nodes" -ge $((3 + kill)) ] || { echo "run.sh: --leave needs >= 3 nodes (4 with --kill)" >&2; exit 2; }
sweep_rates=()
for r in $sweep; do
  if ! [[ $r =~ ^[0-9]+$ ]] || [ "$r" -eq 0 ]; then echo "run.sh: --sweep takes positive integer rates" >&2; exit 2; fi
  sweep_rates+=("$r")
done
[ "$sweep_secs" -gt 0 ] || { echo "run.sh: --sweep-secs must be > 0" >&2; exit 2; }
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
# Writer stages after stage 0 (the update phase): one per sweep rate, then the soak load.
stages="" stage=1 sweep_s=0
for r in "${sweep_rates[@]}"; do
  stages+="${stages:+,}$r:$(( r * sweep_secs ))"; stage=$((stage + 1))
  sweep_s=$(( sweep_s + sweep_secs + drain + 2 ))
done
soak_stage=-1
if [ "$soak" -gt 0 ] && [ "$soak_rate" -gt 0 ]; then
  stages+="${stages:+,}$soak_rate:$(( soak_rate * soak ))"; soak_stage=$stage
fi
life=$(( 60 + idle + upd_s + 30 + drain + killwait + 30 ))
life=$(( life < 600 ? life : 600 ))
life=$(( life + sweep_s + soak + (leave ? leavewait + 10 : 0) ))

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
start_peer 1 --writer --updates "$updates" --rate "$rate" ${stages:+--stages "$stages"}
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

# A CPU mark on every running peer. Marks are counted (mark_n is the index of the next
# one); the pause keeps two marks in a row from merging into one pending signal.
mark_n=0
mark_all() {
  local i
  for i in "${!PIDS[@]}"; do kill -USR2 "${PIDS[$i]}" 2>/dev/null || true; done
  mark_n=$((mark_n + 1)); sleep 0.05
}
# wait_stage K S: wait (<= S seconds) for the writer's writer_done of stage K.
wait_stage() {
  local k=$1 dl=$(( SECONDS + $2 ))
  until grep -q "\"ev\":\"writer_done\",.*\"stage\":$k," "$out/n1.jsonl" 2>/dev/null; do
    [ "$SECONDS" -lt "$dl" ] || return 1
    sleep 0.1
  done
}
# offsets: byte size of every peer's event file, so that a wait only looks at new lines.
declare -A OFF=()
snap_offsets() { local i; for i in $(seq 1 "$nodes"); do OFF[$i]=$(stat -c %s "$out/n$i.jsonl" 2>/dev/null || echo 0); done; }
seen_since() { tail -c +"$(( ${OFF[$1]} + 1 ))" "$out/n$1.jsonl" 2>/dev/null | grep -Eq "$2"; }
sleep 1
idle_start=$(now_ns); mark_all            # mark 0
log "idle window ${idle}s"
sleep "$idle"
idle_end=$(now_ns); mark_all              # mark 1

upd_start=$(now_ns); mark_all             # mark 2
log "updates: $updates from n1 at $rate/s"
kill -USR1 "${PIDS[1]}"
wait_stage 0 $(( upd_s + 30 )) || { log "writer did not finish in time"; exit 1; }
if [ "$updates" -gt 0 ]; then
  log "writer done; draining ${drain}s"
  sleep "$drain"
fi
upd_end=$(now_ns); mark_all               # mark 3

sweep_json=""
k=1
for r in "${sweep_rates[@]}"; do
  sleep 0.2
  m0=$mark_n; s0=$(now_ns); mark_all
  log "sweep: $(( r * sweep_secs )) updates at $r/s (stage $k)"
  kill -USR1 "${PIDS[1]}"
  wait_stage "$k" $(( sweep_secs + 30 )) || { log "writer did not finish sweep stage $k in time"; exit 1; }
  sleep "$drain"
  m1=$mark_n; s1=$(now_ns); mark_all
  sweep_json+="${sweep_json:+, }{\"rate\": $r, \"stage\": $k, \"updates\": $(( r * sweep_secs )), \"mark_start\": $m0, \"mark_end\": $m1, \"start_ns\": $s0, \"end_ns\": $s1}"
  k=$((k + 1))
done

soak_json=null
if [ "$soak" -gt 0 ]; then
  sleep 0.2
  m0=$mark_n; s0=$(now_ns); mark_all
  log "soak: ${soak}s, loss $loss %, load ${soak_rate}/s"
  [ "$soak_stage" -lt 0 ] || kill -USR1 "${PIDS[1]}"
  sleep "$soak"
  m1=$mark_n; s1=$(now_ns); mark_all
  soak_json="{\"seconds\": $soak, \"rate\": $soak_rate, \"stage\": $soak_stage, \"mark_start\": $m0, \"mark_end\": $m1, \"start_ns\": $s0, \"end_ns\": $s1}"
fi

victim=0 kill_ns=0 detected=0
if [ "$kill" = 1 ]; then
  victim=$nodes
  log "SIGKILL n$victim; waiting up to ${killwait}s for all survivors to mark it dead"
  snap_offsets
  kill_ns=$(now_ns)
  kill -KILL "${PIDS[$victim]}"
  wait "${PIDS[$victim]}" 2>/dev/null || true
  unset "PIDS[$victim]"
  deadline=$(( SECONDS + killwait ))
  while :; do
    detected=0
    for i in $(seq 1 $((nodes - 1))); do
      seen_since "$i" "\"node\":\"n$victim\",\"state\":\"dead\"" && detected=$((detected + 1))
    done
    [ "$detected" -eq $((nodes - 1)) ] && break
    [ "$SECONDS" -lt "$deadline" ] || { log "only $detected/$((nodes - 1)) survivors detected the kill in ${killwait}s"; break; }
    sleep 0.1
  done
  sleep 0.2
  log "detected by $detected/$((nodes - 1)) survivors"
fi

leaver=0 leave_ns=0 left=0
if [ "$leave" = 1 ]; then
  leaver=$(( kill ? nodes - 1 : nodes ))
  survivors=()
  for i in "${!PIDS[@]}"; do [ "$i" = "$leaver" ] || survivors+=("$i"); done
  log "SIGHUP n$leaver (Leave + Shutdown); waiting up to ${leavewait}s for ${#survivors[@]} survivors to see it go"
  snap_offsets
  leave_ns=$(now_ns)
  kill -HUP "${PIDS[$leaver]}"
  deadline=$(( SECONDS + leavewait ))
  while :; do
    left=0
    for i in "${survivors[@]}"; do
      seen_since "$i" "\"node\":\"n$leaver\",\"state\":\"(left|dead)\"" && left=$((left + 1))
    done
    [ "$left" -eq "${#survivors[@]}" ] && break
    [ "$SECONDS" -lt "$deadline" ] || { log "only $left/${#survivors[@]} survivors saw n$leaver go in ${leavewait}s"; break; }
    sleep 0.1
  done
  # the leaver exits by itself after Leave + Shutdown
  dl=$(( SECONDS + 10 ))
  while kill -0 "${PIDS[$leaver]}" 2>/dev/null && [ "$SECONDS" -lt "$dl" ]; do sleep 0.1; done
  kill -KILL "${PIDS[$leaver]}" 2>/dev/null || true
  wait "${PIDS[$leaver]}" 2>/dev/null || true
  unset "PIDS[$leaver]"
  sleep 0.2
  log "n$leaver gone on $left/${#survivors[@]} survivors"
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
 "leave": $leave, "leaver": "$( [ "$leaver" = 0 ] && echo "" || echo "n$leaver")", "leave_ns": $leave_ns,
 "leave_wait_s": $leavewait, "stages": "$stages",
 "sweep": [${sweep_json}], "sweep_secs": $sweep_secs, "sweep_bound_ms": $sweep_bound,
 "soak": $soak_json,
 "stop_ns": $stop_ns, "host": "$(hostname)", "cpus": $(nproc), "kernel": "$(uname -r)",
 "date_utc": "$(date -u +%FT%TZ)"}
JSON
log "analysing $out"
python3 "$here/analyze.py" "$out"
