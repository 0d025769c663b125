#!/usr/bin/env bash
# Integration: a nemesis over five real meshd nodes (net_af_packet on veth in namespaces on
# one bridge, event polling, fast SWIM profile), issue 13 item 8.
#
# A seeded schedule (printed "seed=N"; replay with MESH_NEMESIS_SEED=N; nemesis.py
# schedule prints it) runs for MESH_NEMESIS_SECONDS (default 60) while three clients
# (nemesis.py client: meshctl in loops) write lww keys (one op in 25 a 100 KiB value, through @FILE),
# delete them and set epoch_max counters (rl-set, including stale values that must lose) on
# random live nodes. Every attempt is logged with the node it went to, its exit status and,
# for puts, the version the node gave it. Faults:
#   - partitions and heals: nftables drop rules between bridge ports (bridge family,
#     forward hook): one node isolated, or a 2|3 split; up to two at once;
#   - loss windows: 10-95 % of a node's frames both ways (nftables numgen);
#   - permanent mild rx faults on three nodes (--fault-inject dup / delay / loss+dup, the
#     same arguments on every restart);
#   - kill -9 of a node and a restart under the same name with the same arguments;
#   - SIGSTOP pauses (0.8-4 s), then SIGCONT (at most two nodes down at once);
#   - floods from a spare namespace (AF_PACKET, its own MAC; ~15,000 frames per node):
#     random junk, truncations, bit flips, junk behind a real header, and replays of
#     frames captured on the bridge ports earlier in the run, to their receiver (late
#     duplicates, old channel epochs) and to other nodes ("rebind": a frame for B to C).
# At the end everything is healed (rules removed, paused nodes continued, killed nodes
# restarted) and the test asserts, within MESH_NEMESIS_CONVERGE_S (default 30) seconds of
# that heal: identical /mesh/kv/stats digests on all five nodes, and every node sees five
# alive; then that every acknowledged write is present or superseded on every node
# (nemesis.py check: for lww the version on every node is >= the version of every write
# acked by a node that was not killed afterwards, values are ones we wrote, byte-exact,
# and a delete acked over the key's latest version by a node not killed afterwards stays
# deleted; epoch_max values are >= every such acked value); a self-test of that check on
# fabricated lost writes; VmRSS of every meshd < 1 GiB; no meshd exited unless killed.
# On a failure the counters that explain stalls are printed twice, 5 s apart.
# Logs ($MESH_LOGDIR/nemesis-VARIANT): schedule, events (wall clock), client-*.jsonl (every
# attempt), acked.tsv (every acknowledged write, its node, killed afterwards or not),
# check.out, violations.txt, node logs (n3.log.1 ... are earlier lives of restarted nodes).
# Environment: MESH_NEMESIS_SEED, MESH_NEMESIS_SECONDS (60), MESH_NEMESIS_CONVERGE_S (30),
# MESH_NEMESIS_CLIENTS (3), MESH_NEMESIS_PRELOAD (keys written before, 0),
# MESH_NEMESIS_STRICT_ORDER (1: lww must also keep real-time order, see nemesis.py).
# Usage: test_nemesis.sh MESHD MESHCTL [keyless|keyed]   (root; 77 = skipped)
set -u
export MESHD=$1 # used by netns-lib.sh (mesh_node_start)
CTL=$2
VARIANT=${3:-keyless}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
declare -A BG=() KILLED=() STOPPED=() CRASHED=() PARTS=() LOSS=() RXFAULT=() FAULTS=()
CLIENT_PIDS=()
work=
mesh_test_netns nm 'nem_cleanup'
N=5
SEED=${MESH_NEMESIS_SEED:-$(( ($(od -An -N4 -tu4 /dev/urandom) % 999999) + 1 ))}
SECS=${MESH_NEMESIS_SECONDS:-60}
CONVERGE_S=${MESH_NEMESIS_CONVERGE_S:-30}
CLIENTS=${MESH_NEMESIS_CLIENTS:-3}
# MESH_NEMESIS_PRELOAD=70000: a store larger than one peer queue (65,536 ops) written
# before the nemesis, so every restart is a large, flow-controlled catch-up (off in CI: a
# catch-up storm makes the run too long for the CI budget)
PRELOAD=${MESH_NEMESIS_PRELOAD:-0}
PY=$(python3 -c 'import sys; print(sys.executable)')  # once: no version-manager shim per call
NEM=("$PY" "$here/nemesis.py")
MESH_LOGDIR=${MESH_LOGDIR:-/tmp/nemesis-logs}/nemesis-$VARIANT
rm -rf "$MESH_LOGDIR"
mkdir -p "$MESH_LOGDIR"
work=$(mktemp -d /tmp/nemesis.XXXXXX)
mkdir -p "$work/cap"
echo "# nemesis seed=$SEED variant=$VARIANT seconds=$SECS (replay: MESH_NEMESIS_SEED=$SEED" \
  "MESH_NEMESIS_SECONDS=$SECS); logs in $MESH_LOGDIR"

nem_cleanup() {
  local p
  for p in "${BG[@]}" "${CLIENT_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${MESH_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
  [ -n "$work" ] && rm -rf "$work"
  rm -f /tmp/"${MESH_NS}"-*.sock
}

sock() { echo "/tmp/${MESH_NS}-$1.sock"; }
prefixes() { local i s=; for i in $(seq 1 $N); do s+="${s:+,}${MESH_NS}n$i"; done; echo "$s"; }
live_prefixes() {
  local i s=
  for i in $(seq 1 $N); do [ -z "${CRASHED[$i]:-}" ] && s+="${s:+,}${MESH_NS}n$i"; done
  echo "$s"
}
now_us() { echo "${EPOCHREALTIME/./}"; }
T0=$(now_us)
event() { echo "$EPOCHREALTIME $*" >>"$MESH_LOGDIR/events"; }
say() { printf '# t=%6.1fs %s\n' "$(( $(now_us) - T0 ))e-6" "$*"; }

# ---- keys, node arguments
if [ "$VARIANT" = keyed ]; then
  key=$(printf 'nemesis-key-%s' "$SEED" | sha256sum | cut -c1-64)
  printf '1 %s primary\n' "$key" >"$work/cluster.keys"
  chmod 600 "$work/cluster.keys"
fi
while read -r _ act i spec; do
  [ "$act" = rxfault ] && RXFAULT[$i]=$spec
done < <("${NEM[@]}" schedule --seed "$SEED" --seconds "$SECS" --nodes $N | tee "$MESH_LOGDIR/schedule")
node_args() {
  local i=$1 j
  echo -n "--ctl-socket $(sock "$i")"
  for j in $(seq 1 $N); do [ "$j" != "$i" ] && echo -n " --seed $(mesh_ip "$j")"; done
  if [ "$VARIANT" = keyed ]; then echo -n " --key-file $work/cluster.keys"
  else echo -n " --insecure-plaintext"; fi
  [ -n "${RXFAULT[$i]:-}" ] && echo -n " --fault-inject ${RXFAULT[$i]}"
  echo
}
RESTARTS=0
start_node() {
  local i=$1
  [ -f "$MESH_LOGDIR/n$i.log" ] && mv "$MESH_LOGDIR/n$i.log" "$MESH_LOGDIR/n$i.log.$((++RESTARTS))"
  # shellcheck disable=SC2046
  mesh_node_start "$i" $(node_args "$i")
}
write_live() {
  local i s=
  for i in $(seq 1 $N); do
    [ -z "${KILLED[$i]:-}" ] && [ -z "${CRASHED[$i]:-}" ] && s+="$i "
  done
  echo "$s" >"$work/live.tmp" && mv "$work/live.tmp" "$work/live"
}
# a node we did not kill that is gone has crashed: record it (once) with its exit status
check_crashes() {
  local i pid rc
  for i in $(seq 1 $N); do
    [ -n "${KILLED[$i]:-}" ] || [ -n "${CRASHED[$i]:-}" ] && continue
    pid=${MESH_PIDS[$i]:-}
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null ||
       grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
      rc=0; wait "$pid" 2>/dev/null || rc=$?
      CRASHED[$i]="n$i (pid $pid) exited with status $rc, not killed by the test"
      say "CRASH: ${CRASHED[$i]}"
      event crash "$i" "$rc"
      unset "MESH_PIDS[$i]"
      write_live
    fi
  done
}

# ---- nftables: every active partition and loss window, one atomic replace
ports() { local s='' x; for x in ${1//,/ }; do s+="${s:+, }\"p$x\""; done; echo "$s"; }
nft_apply() {
  local rules='' id a b port pct
  for id in "${!PARTS[@]}"; do
    a=${PARTS[$id]%|*}; b=${PARTS[$id]#*|}
    rules+="    iifname { $(ports "$a") } oifname { $(ports "$b") } drop"$'\n'
    rules+="    iifname { $(ports "$b") } oifname { $(ports "$a") } drop"$'\n'
  done
  for id in "${!LOSS[@]}"; do
    read -r port pct <<<"${LOSS[$id]}"
    rules+="    iifname \"p$port\" numgen random mod 100 < $pct drop"$'\n'
    rules+="    oifname \"p$port\" numgen random mod 100 < $pct drop"$'\n'
  done
  ip netns exec "${MESH_NS}sw" nft -f - <<NFT || say "nft failed"
table bridge nemesis
delete table bridge nemesis
table bridge nemesis {
  chain c {
    type filter hook forward priority 0; policy accept;
$rules  }
}
NFT
}

# ---- topology, nodes
mesh_topo_up $N
TARGETS=
for i in $(seq 1 $N); do
  mac=$(ip netns exec "${MESH_NS}m$i" cat /sys/class/net/eth0/address)
  TARGETS+="${TARGETS:+,}$(mesh_ip "$i")=$mac"
done
nft_apply
for i in $(seq 1 $N); do start_node "$i"; done
T0=$(now_us)
out=$("${NEM[@]}" members --prefixes "$(prefixes)" --want $N --timeout 60)
ok_if "all $N nodes see $N alive before the nemesis ($out s)" test "${out%% *}" != timeout
if [ "${out%% *}" = timeout ]; then
  echo "# $out"; "${NEM[@]}" diag --prefixes "$(prefixes)"; tap_done; exit 1
fi
for i in $(seq 1 $N); do
  [ -n "${RXFAULT[$i]:-}" ] && echo "# n$i runs with --fault-inject ${RXFAULT[$i]}"
done
socks() { local i s=''; for i in $(seq 1 $N); do s+="${s:+,}$(sock "$i")"; done; echo "$s"; }
if [ "$PRELOAD" -gt 0 ]; then
  lib=$(ldd "$CTL" | awk '/libmeshclient/ {print $3}')
  out=$("${NEM[@]}" preload --lib "$lib" --socks "$(socks)" --count "$PRELOAD")
  ok_if "preload: $out" test $? -eq 0
  out=$("${NEM[@]}" converge --prefixes "$(prefixes)" --timeout 60)
  ok_if "preload replicated: equal digests on all nodes (${out%% *} s)" test "${out%% *}" != timeout
fi

# ---- clients and the schedule
write_live
: >"$MESH_LOGDIR/events"
T0=$(now_us)
for c in $(seq 1 "$CLIENTS"); do
  "${NEM[@]}" client --id "$c" --seed "$SEED" --seconds "$SECS" --ctl "$CTL" \
    --sock "/tmp/${MESH_NS}-%.sock" --live "$work/live" --log "$MESH_LOGDIR/client-$c.jsonl" \
    --tmp "$work" --nodes $N >"$MESH_LOGDIR/client-$c.out" 2>&1 &
  CLIENT_PIDS+=($!)
done
NCAP=0
FLOOD_FRAMES=0
LAST_EVENT=$T0
bg() { local name=$1; shift; "$@" >"$MESH_LOGDIR/$name.out" 2>&1 & BG[$name]=$!; }
while read -r t act a1 a2 a3 a4; do
  [ "$act" = rxfault ] && continue
  target=$(( T0 + t * 1000 )); now=$(now_us)
  if [ "$target" -gt "$now" ]; then
    d=$(( target - now )); sleep "$((d / 1000000)).$(printf '%06d' $((d % 1000000)))"
  fi
  check_crashes
  LAST_EVENT=$(now_us)
  case $act in
  part_on)
    PARTS[$a1]=$a2; nft_apply; FAULTS[partition]=$(( ${FAULTS[partition]:-0} + 1 ))
    event part_on "$a2"; say "partition ${a2}" ;;
  part_off)
    unset "PARTS[$a1]"; nft_apply; event part_off "$a1"; say "heal partition #$a1" ;;
  loss_on)
    LOSS[$a1]="$a2 $a3"; nft_apply; FAULTS[loss]=$(( ${FAULTS[loss]:-0} + 1 ))
    event loss_on "$a2" "$a3"; say "loss ${a3}% on n$a2" ;;
  loss_off)
    unset "LOSS[$a1]"; nft_apply; event loss_off "$a1"; say "loss window #$a1 over" ;;
  kill)
    [ -n "${CRASHED[$a1]:-}" ] && continue
    KILLED[$a1]=1; write_live
    event kill "$a1"; kill -KILL "${MESH_PIDS[$a1]}" 2>/dev/null
    wait "${MESH_PIDS[$a1]}" 2>/dev/null; unset "MESH_PIDS[$a1]"
    FAULTS[kill]=$(( ${FAULTS[kill]:-0} + 1 )); say "kill -9 n$a1" ;;
  restart)
    [ -z "${KILLED[$a1]:-}" ] && continue
    start_node "$a1"; unset "KILLED[$a1]"; write_live; event restart "$a1"; say "restart n$a1" ;;
  stop)
    [ -n "${CRASHED[$a1]:-}" ] || [ -n "${KILLED[$a1]:-}" ] && continue
    kill -STOP "${MESH_PIDS[$a1]}"; STOPPED[$a1]=1; event stop "$a1"
    FAULTS[pause]=$(( ${FAULTS[pause]:-0} + 1 )); say "SIGSTOP n$a1" ;;
  cont)
    [ -z "${STOPPED[$a1]:-}" ] && continue
    kill -CONT "${MESH_PIDS[$a1]}" 2>/dev/null; unset "STOPPED[$a1]"; event cont "$a1"
    say "SIGCONT n$a1" ;;
  capture)
    NCAP=$((NCAP + 1))
    bg "capture-$NCAP" ip netns exec "${MESH_NS}sw" "${NEM[@]}" capture \
      --ports "$(seq -s, -f 'p%g' 1 $N)" --ms "$a1" --out "$work/cap/cap-$NCAP.bin"
    event capture "$a1" ;;
  flood)
    FAULTS[flood]=$(( ${FAULTS[flood]:-0} + 1 )); FLOOD_FRAMES=$((FLOOD_FRAMES + a1))
    bg "flood-$t" ip netns exec "${MESH_NS}c" "${NEM[@]}" flood --pool "$work/cap" \
      --targets "$TARGETS" --count "$a1" --rate "$a2" --seed "$a3" --mode "$a4"
    event flood "$a1" "$a4"; say "flood $a1 frames ($a4) at $a2/s" ;;
  esac
done <"$MESH_LOGDIR/schedule"

# ---- end: clients stop, then heal everything
deadline=$((SECONDS + 20))
for p in "${CLIENT_PIDS[@]}"; do
  while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
done
CLIENT_PIDS=()
for name in "${!BG[@]}"; do
  deadline=$((SECONDS + 10))
  while kill -0 "${BG[$name]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  kill "${BG[$name]}" 2>/dev/null; wait "${BG[$name]}" 2>/dev/null
done
BG=()
check_crashes
PARTS=(); LOSS=(); nft_apply
for i in "${!STOPPED[@]}"; do kill -CONT "${MESH_PIDS[$i]}" 2>/dev/null; event cont "$i"; done
STOPPED=()
for i in "${!KILLED[@]}"; do start_node "$i"; event restart "$i"; done
KILLED=(); write_live
HEAL=$(now_us)
event heal
say "final heal: rules removed, paused nodes continued, killed nodes restarted"

conv=$("${NEM[@]}" converge --prefixes "$(live_prefixes)" --timeout "$CONVERGE_S")
conv_rc=$?
if [ $conv_rc -eq 0 ]; then
  since=$(printf '%.1f' "$(( $(now_us) - LAST_EVENT ))e-6") digest=${conv#* }
  conv="${conv%% *} s after the final heal, $since s after the last scheduled fault event;"
  conv+=" digest $digest"
fi
ok_if "identical store digests on all live nodes within ${CONVERGE_S} s of the final heal ($conv)" \
  test $conv_rc -eq 0
left=$(( CONVERGE_S - ($(now_us) - HEAL) / 1000000 )); [ $left -lt 5 ] && left=5
live_n=$(( N - ${#CRASHED[@]} ))
mem=$("${NEM[@]}" members --prefixes "$(live_prefixes)" --want $live_n --timeout "$left")
[ "${mem%% *}" != timeout ] && mem="$mem s"
ok_if "every live node sees $live_n alive after the heal ($mem)" test "${mem%% *}" != timeout
[ $conv_rc -ne 0 ] && { echo "# counters at the end of the wait:"; "${NEM[@]}" diag --prefixes "$(prefixes)"; }

"${NEM[@]}" check --logs "$MESH_LOGDIR" --events "$MESH_LOGDIR/events" --ctl "$CTL" \
  --sock "/tmp/${MESH_NS}-%.sock" --nodes $N >"$MESH_LOGDIR/check.out" 2>&1
check_rc=$?
sed 's/^/# /' "$MESH_LOGDIR/check.out"
ok_if "every acknowledged write is present or superseded on every node" test $check_rc -eq 0
if [ "$PRELOAD" -gt 0 ]; then
  out=$("${NEM[@]}" count --ctl "$CTL" --socks "$(socks)" --prefix worker:pre-)
  is "every node lists the $PRELOAD preloaded keys" "$out" "$(printf "$PRELOAD %.0s" $(seq 1 $N) | sed 's/ $//')"
fi
st=$("${NEM[@]}" check --selftest --logs "$MESH_LOGDIR" --events "$MESH_LOGDIR/events" --ctl "$CTL" \
  --sock "/tmp/${MESH_NS}-%.sock" --nodes $N 2>&1)
st_rc=$?
ok_if "the check fails on fabricated lost writes ($(tail -n 1 <<<"$st"))" test $st_rc -eq 0

maxrss=0
for i in "${!MESH_PIDS[@]}"; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/${MESH_PIDS[$i]}/status" 2>/dev/null)
  echo "# n$i VmRSS ${rss:-?} kB"
  [ "${rss:-0}" -gt "$maxrss" ] && maxrss=$rss
done
ok_if "every meshd's RSS below 1 GiB (max $((maxrss / 1024)) MiB)" test "$maxrss" -lt 1048576 -a "$maxrss" -gt 0
check_crashes
crashes=$(printf '%s; ' "${CRASHED[@]}")
is "no meshd exited unless the test killed it" "${crashes%; }" ""
for f in "$MESH_LOGDIR"/flood-*.out; do [ -f "$f" ] && grep -h '^flood' "$f"; done | \
  awk '{for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] != "pool") s[kv[1]] += kv[2] } }
       END { printf "# flood totals:"; for (k in s) printf " %s=%d", k, s[k]; printf "\n" }'
if [ $conv_rc -ne 0 ] || [ $check_rc -ne 0 ]; then
  sleep 5
  echo "# counters 5 s later:"
  "${NEM[@]}" diag --prefixes "$(prefixes)"
fi
ops=$("$PY" -c 'import json, sys
o = json.load(open(sys.argv[1]))["ops"]
print("%d attempted, %d acked (%d by nodes killed later)" %
      (o["attempted"], o["acked"], o["acked_then_killed"]))' "$MESH_LOGDIR/summary.json" 2>/dev/null)
faults=$(for k in "${!FAULTS[@]}"; do printf '%s=%s ' "$k" "${FAULTS[$k]}"; done)
echo "# summary: seed=$SEED variant=$VARIANT ops: ${ops:-?}; faults: ${faults}rx_fault_nodes=${#RXFAULT[@]}" \
  "flood_frames=$FLOOD_FRAMES restarts=$RESTARTS; convergence after the final heal: ${conv}"
tap_done
