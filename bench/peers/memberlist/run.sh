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
# The common options, phases and cleanup are in ../peer-lib.sh.
PEER_NAME=memberlist
# shellcheck source-path=SCRIPTDIR source=../peer-lib.sh
source "$here/../peer-lib.sh"

profile=lan bin=$root/build-bench/memberlist-peer
sweep="" sweep_secs=3 sweep_bound=50 soak=0 soak_rate=0 leave=0 leavewait=""
PEER_FLAGS=(--leave)
peer_opt() {
  case "$1" in
    --bin) bin=$2 ;;
    --sweep) sweep=$2 ;;
    --sweep-secs) sweep_secs=$2 ;;
    --sweep-bound) sweep_bound=$2 ;;
    --soak) soak=$2 ;;
    --soak-rate) soak_rate=$2 ;;
    --leave) leave=1 ;;
    --leave-wait) leavewait=$2 ;;
    *) return 1 ;;
  esac
}
peer_parse_args 33 "$@"
case "$profile" in
  lan|local) idle=${idle:-10}; drain=${drain:-5}; killwait=${killwait:-45} ;;
  fast) idle=${idle:-10}; drain=${drain:-2}; killwait=${killwait:-15} ;;
  *) echo "run.sh: --profile lan|fast|local" >&2; exit 2 ;;
esac
leavewait=${leavewait:-$killwait}
peer_check_common sweep_secs sweep_bound soak soak_rate leavewait
[ "$leave" = 0 ] || [ "$nodes" -ge $((3 + kill)) ] || { echo "run.sh: --leave needs >= 3 nodes (4 with --kill)" >&2; exit 2; }
sweep_rates=()
for r in $sweep; do
  if ! [[ $r =~ ^[0-9]+$ ]] || [ "$r" -eq 0 ]; then echo "run.sh: --sweep takes positive integer rates" >&2; exit 2; fi
  sweep_rates+=("$r")
done
[ "$sweep_secs" -gt 0 ] || { echo "run.sh: --sweep-secs must be > 0" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 2; }

peer_run_repeats

if [ ! -x "$bin" ] || [ "$here/peer.go" -nt "$bin" ]; then
  log "building peer"
  "$here/build.sh" "$bin"
fi

peer_setup mlb

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
peer_life_bound
life=$(( life + sweep_s + soak + (leave ? leavewait + 10 : 0) ))

peer_topo_up

start_peer() {
  local i=$1; shift
  # memberlist logs go to --log; Go runtime errors (stderr) are appended to the same file.
  # shellcheck disable=SC2094
  ip netns exec "${MESH_NS}m$i" "$bin" --name "n$i" --bind "$(mesh_ip "$i")" --port 7946 \
    --profile "$profile" --expect "$nodes" --duration "${life}s" --value-size "$valsize" \
    --out "$out/n$i.jsonl" --log "$out/n$i.log" "${peer_args[@]}" "$@" \
    >>"$out/n$i.log" 2>&1 &
  MESH_PIDS[$i]=$!
}

peer_start_all --writer --updates "$updates" --rate "$rate" ${stages:+--stages "$stages"} -- --join "$(mesh_ip 1)"
peer_wait_ready
log "full membership on all $nodes nodes"

# A CPU mark on every running peer. Marks are counted (mark_n is the index of the next
# one); the pause keeps two marks in a row from merging into one pending signal.
mark_n=0
mark_all() {
  local i
  for i in "${!MESH_PIDS[@]}"; do kill -USR2 "${MESH_PIDS[$i]}" 2>/dev/null || true; done
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
peer_idle_phase

upd_start=$(now_ns); mark_all             # mark 2
log "updates: $updates from n1 at $rate/s"
kill -USR1 "${MESH_PIDS[1]}"
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
  kill -USR1 "${MESH_PIDS[1]}"
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
  [ "$soak_stage" -lt 0 ] || kill -USR1 "${MESH_PIDS[1]}"
  sleep "$soak"
  m1=$mark_n; s1=$(now_ns); mark_all
  soak_json="{\"seconds\": $soak, \"rate\": $soak_rate, \"stage\": $soak_stage, \"mark_start\": $m0, \"mark_end\": $m1, \"start_ns\": $s0, \"end_ns\": $s1}"
fi

victim_dead() { seen_since "$1" "\"node\":\"n$victim\",\"state\":\"dead\""; }
peer_kill_phase

leaver_gone() { seen_since "$1" "\"node\":\"n$leaver\",\"state\":\"(left|dead)\""; }
leaver=0 leave_ns=0 left=0
if [ "$leave" = 1 ]; then
  leaver=$(( kill ? nodes - 1 : nodes ))
  survivors=()
  for i in "${!MESH_PIDS[@]}"; do [ "$i" = "$leaver" ] || survivors+=("$i"); done
  log "SIGHUP n$leaver (Leave + Shutdown); waiting up to ${leavewait}s for ${#survivors[@]} survivors to see it go"
  snap_offsets
  leave_ns=$(now_ns)
  kill -HUP "${MESH_PIDS[$leaver]}"
  peer_wait_seen "$leavewait" leaver_gone "${survivors[@]}" ||
    log "only $peer_seen/${#survivors[@]} survivors saw n$leaver go in ${leavewait}s"
  left=$peer_seen
  # the leaver exits by itself after Leave + Shutdown
  peer_reap "$leaver" $(( SECONDS + 10 ))
  sleep 0.2
  log "n$leaver gone on $left/${#survivors[@]} survivors"
fi

# shellcheck disable=SC2119  # (no arguments)
peer_stop_all

cat >"$out/meta.json" <<JSON
{"peer": "memberlist", "memberlist_version": "$(cat "$bin.memberlist-version" 2>/dev/null || echo unknown)",
 "go_version": "$(go version 2>/dev/null | awk '{print $3}')",
$(peer_meta_common)
 "kill": $kill, "victim": "$( [ "$victim" = 0 ] && echo "" || echo "n$victim")", "kill_ns": $kill_ns,
 "leave": $leave, "leaver": "$( [ "$leaver" = 0 ] && echo "" || echo "n$leaver")", "leave_ns": $leave_ns,
 "leave_wait_s": $leavewait, "stages": "$stages",
 "sweep": [${sweep_json}], "sweep_secs": $sweep_secs, "sweep_bound_ms": $sweep_bound,
 "soak": $soak_json,
 "stop_ns": $stop_ns, "host": "$(hostname)", "cpus": $(nproc), "kernel": "$(uname -r)",
 "date_utc": "$(date -u +%FT%TZ)"}
JSON
peer_analyse
