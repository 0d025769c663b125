# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # settings read by the drivers; here, root, upd_* set by them
# peer-lib.sh: what the comparison-peer drivers (bench/peers/<peer>/run.sh) share: the
# common options and their checks, --repeat, the output directory, logging, the namespace
# topology (scripts/netns-lib.sh, "kernel" mode) with its cleanup trap, starting the
# peers and waiting for full membership, loss, the idle window, the SIGKILL phase,
# stopping the peers and the common part of meta.json.
#
# A driver sets here (its directory), root (the repository), PEER_NAME (log prefix and
# build-bench/<PEER_NAME>-results) and sources this file, which sets the common defaults;
# it then overrides what differs (profile, ...) and defines:
#   start_peer I ARGS...  start node I's peer in namespace ${MESH_NS}m<I>, in the background,
#                         its pid in MESH_PIDS[I] (mesh_topo_down stops what is recorded there)
#   mark_all              a CPU mark on every running peer
#   victim_dead I         (with --kill) survivor n<I> has reported n$victim dead since the kill
# and, where it has any:
#   PEER_FLAGS=(...)      its options that take no value
#   peer_opt ARGS...      handle its own option "$1" (value "$2"); return 1 if unknown
#   peer_cleanup_extra    run by the exit trap after the topology is down
#
# Then, in this order: peer_parse_args HELP_END "$@" (applies --quick), the profile's
# defaults, peer_check_common [UINT_VAR...], peer_run_repeats (exits when --repeat > 1),
# peer_setup NS_PREFIX, peer_life_bound, peer_topo_up, peer_start_all, peer_wait_ready,
# peer_idle_phase, the update phase, peer_kill_phase, peer_stop_all, meta.json (with
# $(peer_meta_common)), peer_analyse.

# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/.. source=../../scripts/netns-lib.sh
source "$root/scripts/netns-lib.sh"

nodes=8 updates=500 rate=50 loss=0 kill=0 out="" quick=0
idle="" drain="" killwait="" valsize=16
peer_args=()
explicit_nodes=0 explicit_updates=0 repeat=1 pass=()
PEER_FLAGS=()

log() { printf '[%s %s %s] %s\n' "$PEER_NAME" "$profile" "$(date +%T)" "$*" >&2; }
now_ns() { date +%s%N; }

peer_opt() { return 1; }
peer_cleanup_extra() { :; }

# peer_parse_args HELP_END ARGS...: the options; --help prints lines 2..HELP_END of the
# driver. Every option but --repeat and --out is kept in pass (for the repeats).
peer_parse_args() {
  local help_end=$1 n f; shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --repeat) repeat=$2; shift 2; continue ;;
      --out) out=$2; shift 2; continue ;;
    esac
    n=2
    for f in --kill --quick "${PEER_FLAGS[@]}"; do [ "$1" = "$f" ] && n=1; done
    if [ "$n" = 1 ]; then pass+=("$1"); else pass+=("$1" "${2:-}"); fi
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
      -h|--help) sed -n "2,${help_end}p" "$0"; exit 0 ;;
      *)
        peer_opt "$@" || { echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2; }
        shift "$n" ;;
    esac
  done
  if [ "$quick" = 1 ]; then
    [ "$explicit_nodes" = 1 ] || nodes=4
    [ "$explicit_updates" = 1 ] || updates=100
    idle=${idle:-3}
  fi
}

# peer_check_common [VAR...]: the common settings (and VAR...) are non-negative integers,
# --rate > 0, 2 <= --nodes <= 64, --kill has a survivor to spare; sets upd_s.
peer_check_common() {
  local v
  for v in nodes updates loss idle drain killwait valsize "$@"; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: --$v must be a non-negative integer" >&2; exit 2; }
  done
  if ! [[ $rate =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk "BEGIN{exit !($rate > 0)}"; then
    echo "run.sh: --rate must be > 0" >&2; exit 2
  fi
  upd_s=$(awk "BEGIN{print int($updates / $rate) + 1}")   # seconds the update stream lasts
  if [ "$nodes" -lt 2 ] || [ "$nodes" -gt 64 ]; then echo "run.sh: --nodes must be 2..64" >&2; exit 2; fi
  [ "$kill" = 0 ] || [ "$nodes" -ge 3 ] || { echo "run.sh: --kill needs >= 3 nodes" >&2; exit 2; }
}

# peer_run_repeats: with --repeat K > 1, run the driver K times into DIR/r<k>, pool them
# with "analyze.py --combine DIR DIR/r*" and exit.
peer_run_repeats() {
  local k dirs=()
  if ! [[ $repeat =~ ^[0-9]+$ ]] || [ "$repeat" -lt 1 ]; then echo "run.sh: --repeat must be >= 1" >&2; exit 2; fi
  [ "$repeat" -gt 1 ] || return 0
  out=${out:-$root/build-bench/$PEER_NAME-results/$(date -u +%Y%m%dT%H%M%SZ)-$profile-n$nodes-x$repeat}
  mkdir -p "$out"
  for k in $(seq 1 "$repeat"); do
    echo "[$PEER_NAME $profile $(date +%T)] repeat $k/$repeat" >&2
    "$0" "${pass[@]}" --out "$out/r$k" >/dev/null
    dirs+=("$out/r$k")
  done
  python3 "$here/analyze.py" --combine "$out" "${dirs[@]}"
  exit 0
}

# peer_setup NS_PREFIX: a fresh output directory (out, made absolute), the namespace
# prefix, and the trap that stops every peer and removes the topology on exit.
peer_setup() {
  out=${out:-$root/build-bench/$PEER_NAME-results/$(date -u +%Y%m%dT%H%M%SZ)-$profile-n$nodes}
  mkdir -p "$out"
  rm -f "$out"/n*.jsonl "$out"/n*.log "$out"/meta.json "$out"/summary.*
  out=$(cd "$out" && pwd)
  # Unique prefix; "x" keeps it from being a prefix of another run's (mesh_topo_down greps ^prefix).
  MESH_NS="$1$$x"
  export MESH_LOGDIR="$out"
  trap peer_cleanup EXIT
  trap 'exit 130' INT TERM
}

peer_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  mesh_topo_down >/dev/null 2>&1 || true   # TERM, then KILL, every peer in MESH_PIDS
  peer_cleanup_extra
  exit "$rc"
}

# peer_life_bound: life = a hard bound on every peer's lifetime in seconds (they are also
# stopped explicitly), for the common phases; a driver adds its own.
peer_life_bound() {
  life=$(( 60 + idle + upd_s + 30 + drain + killwait + 30 ))
  life=$(( life < 600 ? life : 600 ))
}

peer_topo_up() {
  log "topology: $nodes node namespaces ($MESH_NS*), kernel addresses 10.99.0.1-$nodes"
  mesh_topo_up "$nodes" kernel
}

# peer_start_all WRITER_ARGS... [-- OTHER_ARGS...]: start node 1 (the writer), wait
# (<= 5 s) for its "start" event, then nodes 2..N.
peer_start_all() {
  local w=() i
  while [ $# -gt 0 ] && [ "$1" != -- ]; do w+=("$1"); shift; done
  [ $# -eq 0 ] || shift
  log "starting $nodes peers (profile $profile${peer_args:+, extra: ${peer_args[*]}})"
  start_peer 1 "${w[@]}"
  for _ in $(seq 1 50); do grep -q '"ev":"start"' "$out/n1.jsonl" 2>/dev/null && break; sleep 0.1; done
  for i in $(seq 2 "$nodes"); do start_peer "$i" "$@"; done
}

# peer_wait_ready: wait (<= 40 s) until every peer reports full membership ("ready");
# fail if one exits.
peer_wait_ready() {
  local deadline=$(( SECONDS + 40 )) ready i
  while :; do
    ready=0
    for i in $(seq 1 "$nodes"); do
      grep -q '"ev":"ready"' "$out/n$i.jsonl" 2>/dev/null && ready=$((ready + 1))
      kill -0 "${MESH_PIDS[$i]}" 2>/dev/null || { log "peer n$i exited early; see $out/n$i.log"; exit 1; }
    done
    [ "$ready" -eq "$nodes" ] && break
    [ "$SECONDS" -lt "$deadline" ] || { log "only $ready/$nodes peers saw full membership in 40 s"; exit 1; }
    sleep 0.2
  done
}

# peer_idle_phase: loss on (if --loss), settle 1 s, idle window between marks 0 and 1
# (idle_start, idle_end).
peer_idle_phase() {
  local i
  if [ "$loss" -gt 0 ]; then
    log "loss: dropping $loss % of every node's outgoing frames (nftables on the bridge ports)"
    for i in $(seq 1 "$nodes"); do mesh_loss "$i" "$loss"; done
  fi
  sleep 1
  idle_start=$(now_ns); mark_all            # mark 0
  log "idle window ${idle}s"
  sleep "$idle"
  idle_end=$(now_ns); mark_all              # mark 1
}

# Offsets: byte size of every peer's event file, so that a wait only looks at new lines.
declare -gA OFF=()
snap_offsets() { local i; for i in $(seq 1 "$nodes"); do OFF[$i]=$(stat -c %s "$out/n$i.jsonl" 2>/dev/null || echo 0); done; }
# seen_since I REGEX: node I's event file has a line matching REGEX after its offset.
seen_since() { tail -c +"$(( ${OFF[$1]} + 1 ))" "$out/n$1.jsonl" 2>/dev/null | grep -Eq "$2"; }

# peer_wait_seen SECS PRED I...: poll every 0.1 s, for at most SECS seconds, until
# "PRED I" holds for every I; peer_seen = for how many it held at the last poll.
# Returns 1 when the time ran out.
peer_wait_seen() {
  local dl=$(( SECONDS + $1 )) pred=$2 i; shift 2
  while :; do
    peer_seen=0
    for i in "$@"; do "$pred" "$i" && peer_seen=$((peer_seen + 1)); done
    [ "$peer_seen" -eq $# ] && return 0
    [ "$SECONDS" -lt "$dl" ] || return 1
    sleep 0.1
  done
}

# peer_kill_phase: with --kill, SIGKILL node N (victim) at kill_ns and wait (<= --kill-wait)
# until every survivor reports it dead (victim_dead); detected = how many did.
peer_kill_phase() {
  victim=0 kill_ns=0 detected=0
  [ "$kill" = 1 ] || return 0
  victim=$nodes
  log "SIGKILL n$victim; waiting up to ${killwait}s for all survivors to mark it dead"
  snap_offsets
  kill_ns=$(now_ns)
  kill -KILL "${MESH_PIDS[$victim]}"
  wait "${MESH_PIDS[$victim]}" 2>/dev/null || true
  unset "MESH_PIDS[$victim]"
  peer_wait_seen "$killwait" victim_dead $(seq 1 $((nodes - 1))) ||
    log "only $peer_seen/$((nodes - 1)) survivors detected the kill in ${killwait}s"
  detected=$peer_seen
  sleep 0.2
  log "detected by $detected/$((nodes - 1)) survivors"
}

# peer_reap I DEADLINE [POLL]: wait (until SECONDS reaches DEADLINE) for node I's peer to
# exit, then SIGKILL and reap it.
peer_reap() {
  local pid=${MESH_PIDS[$1]}
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$2" ]; do sleep "${3:-0.1}"; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "MESH_PIDS[$1]"
}

# peer_stop_all [NOTE]: stop_ns, SIGTERM every peer still running, reap them (<= 10 s),
# topology down.
peer_stop_all() {
  local i deadline
  stop_ns=$(now_ns)
  log "stopping peers${1:+ ($1)}"
  for i in "${!MESH_PIDS[@]}"; do kill -TERM "${MESH_PIDS[$i]}" 2>/dev/null || true; done
  deadline=$(( SECONDS + 10 ))
  for i in "${!MESH_PIDS[@]}"; do peer_reap "$i" "$deadline"; done
  mesh_topo_down >/dev/null 2>&1 || true
}

# peer_meta_common: the lines of meta.json that every driver writes.
peer_meta_common() {
  cat <<JSON
 "nodes": $nodes, "profile": "$profile", "peer_args": "${peer_args[*]}",
 "updates": $updates, "rate": $rate, "value_size": $valsize, "loss_pct": $loss, "writer": "n1",
 "idle_s": $idle, "drain_s": $drain, "kill_wait_s": $killwait,
 "marks": {"idle_start": 0, "idle_end": 1, "updates_start": 2, "updates_end": 3},
 "idle_start_ns": $idle_start, "idle_end_ns": $idle_end,
 "updates_start_ns": $upd_start, "updates_end_ns": $upd_end,
JSON
}

peer_analyse() {
  log "analysing $out"
  python3 "$here/analyze.py" "$out"
}
