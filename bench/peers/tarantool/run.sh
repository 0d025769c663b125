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
# The common options, phases and cleanup are in ../peer-lib.sh.
PEER_NAME=tarantool
# shellcheck source-path=SCRIPTDIR source=../peer-lib.sh
source "$here/../peer-lib.sh"

profile=default port=3301
peer_parse_args 26 "$@"
# default: heartbeat 1 s, ack timeout 30 s; the kill wait outlasts the ack timeout so that
# "not detected" means more than one full ack timeout without a verdict.
case "$profile" in
  default) idle=${idle:-10}; drain=${drain:-5}; killwait=${killwait:-40} ;;
  fast|fastest) idle=${idle:-10}; drain=${drain:-2}; killwait=${killwait:-10} ;;
  *) echo "run.sh: --profile default|fast|fastest" >&2; exit 2 ;;
esac
# shellcheck disable=SC2119  # (no arguments)
peer_check_common
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 2; }
if ! command -v tarantool >/dev/null; then
  echo "run.sh: tarantool not found; apt-get install -y tarantool (or scripts/install-deps.sh --bench)" >&2
  exit 2
fi

peer_run_repeats

ctldir=""
peer_cleanup_extra() { [ -z "$ctldir" ] || rm -rf "$ctldir"; }
peer_setup ttb
# Control sockets live in a short private directory (AF_UNIX paths are limited to 108 B).
ctldir=$(mktemp -d /tmp/ttb.XXXXXX)

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

peer_life_bound

loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)   # other load on the host skews CPU-bound tails
peer_topo_up

start_peer() {
  local i=$1; shift
  ip netns exec "${MESH_NS}m$i" tarantool "$here/peer.lua" --index "$i" \
    --bind "$(mesh_ip "$i"):$port" --seeds "$(mesh_ip 1):$port" --profile "$profile" \
    --expect "$nodes" --duration "$life" --value-size "$valsize" \
    --out "$out/n$i.jsonl" --ctl "$ctldir/n$i.ctl" "${peer_args[@]}" "$@" \
    >>"$out/n$i.log" 2>&1 &
  MESH_PIDS[$i]=$!
}

peer_start_all --writer --updates "$updates" --rate "$rate"
peer_wait_ready
for i in $(seq 1 "$nodes"); do
  [ -S "$ctldir/n$i.ctl" ] || { log "n$i has no control socket; see $out/n$i.log"; exit 1; }
done
log "full membership on all $nodes nodes"

mark_all() { ctl mark "${!MESH_PIDS[@]}"; }
peer_idle_phase

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
victim_dead() { dead_since "$out/n$1.jsonl" "n$victim" "$kill_ns"; }
peer_kill_phase

# Graceful leave: SIGTERM one survivor first (peer.lua's on_shutdown runs swim:quit(),
# which sends "left" to the members) and time until every other peer reports it left.
leaver=0 leave_ns=0
for i in "${!MESH_PIDS[@]}"; do [ "$i" -ne 1 ] && [ "$i" -gt "$leaver" ] && leaver=$i; done
if [ "$leaver" -gt 0 ]; then
  log "graceful leave: SIGTERM n$leaver; waiting up to 5 s for the others to report it left"
  leave_ns=$(now_ns)
  kill -TERM "${MESH_PIDS[$leaver]}" 2>/dev/null || true
  deadline=$(( SECONDS + 5 ))
  peer_reap "$leaver" "$deadline" 0.05
  while :; do
    seen=0
    for i in "${!MESH_PIDS[@]}"; do
      grep -q "\"node\":\"n$leaver\",\"state\":\"left\"" "$out/n$i.jsonl" 2>/dev/null && seen=$((seen + 1))
    done
    [ "$seen" -eq "${#MESH_PIDS[@]}" ] && break
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.05
  done
  log "leave of n$leaver seen by $seen/${#MESH_PIDS[@]} peers"
fi

peer_stop_all "SIGTERM: graceful leave"

tt_version=$(tarantool --version 2>/dev/null | head -n 1 | awk '{print $2}')
deb_version=$(dpkg-query -W -f='${Version}' tarantool 2>/dev/null || echo unknown)
cat >"$out/meta.json" <<JSON
{"peer": "tarantool", "tarantool_version": "$tt_version", "tarantool_deb": "$deb_version",
$(peer_meta_common)
 "leaver": "$( [ "$leaver" = 0 ] && echo "" || echo "n$leaver")", "leave_ns": $leave_ns,
 "kill": $kill, "victim": "$( [ "$victim" = 0 ] && echo "" || echo "n$victim")", "kill_ns": $kill_ns,
 "stop_ns": $stop_ns, "loadavg_start": "$loadavg_start", "loadavg_end": "$(cut -d' ' -f1-3 /proc/loadavg)",
 "host": "$(hostname)", "cpus": $(nproc), "kernel": "$(uname -r)",
 "date_utc": "$(date -u +%FT%TZ)"}
JSON
peer_analyse
