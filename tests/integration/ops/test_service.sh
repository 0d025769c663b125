#!/usr/bin/env bash
# Integration (ops): meshd as a systemd service, without a running systemd.
#   the unit: Type=notify, WatchdogSec, ExecReload=SIGHUP, the instance name as node name,
#     SystemCallFilter and UMask; "systemd-analyze security --offline=true" exposure <= 3.0
#   the notify protocol, against a socket of our own (NOTIFY_SOCKET, WATCHDOG_USEC): READY=1
#     only once the client socket answers, WATCHDOG=1 while the merge loop runs,
#     RELOADING=1 + READY=1 on SIGHUP, STOPPING=1 on SIGTERM (exit 0)
#   one name: with no --file-prefix, EAL's runtime directory is the node name, so
#     "dpdk-telemetry.py -f NAME" and "meshctl -s /run/meshd/NAME.sock" use one word
#   /mesh/members entries are dicts (self first); /mesh/peers,START is paged
#   log types registered at start (--log-level=help lists meshd.swim); levels set at run
#     time through /mesh/log_level and by SIGHUP from the config file's [eal] section
#   SIGHUP re-reads the key file (a rotation: new primary), the node stays up; a broken
#     key file on reload keeps the old keys
#   every system call the node makes (strace -f, start to exit) is allowed by the unit's
#     SystemCallFilter (@system-service minus @privileged)
# Usage: test_service.sh MESHD MESHCTL UNIT   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
UNIT=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tap.sh"
source "$here/ops_lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root (network namespace)"; exit 77; }
T=$(mktemp -d /tmp/ops-svc.XXXXXX)
NS=opsv$$
NAME=opsv$$
npid=
lpid=
cleanup() {
  [ -n "$npid" ] && kill -KILL "$npid" 2>/dev/null
  [ -n "$lpid" ] && kill "$lpid" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "/var/run/dpdk/$NAME" "$T"
}
trap cleanup EXIT

# --- the unit file ---
for k in Type=notify NotifyAccess=main WatchdogSec=30 'ExecReload=/bin/kill -HUP $MAINPID' \
         UMask=0077 SystemCallFilter=@system-service SystemCallFilter=~@privileged \
         SystemCallErrorNumber=EPERM; do
  ok_if "unit has $k" grep -qxF -- "$k" "$UNIT"
done
ok_if "unit ExecStart names the node after the instance (--name %i)" \
  grep -q '^ExecStart=.* --config .*/%i\.ini --name %i ' "$UNIT"
if command -v systemd-analyze >/dev/null; then
  cp "$UNIT" "$T/meshd@ops.service"
  capture env SYSTEMD_LOG_LEVEL=warning systemd-analyze security --offline=true \
    --no-pager "$T/meshd@ops.service"
  score=$(sed -n 's/.*Overall exposure level for meshd@ops.service: \([0-9.]*\).*/\1/p' <<<"$out")
  ok_if "systemd-analyze security: exposure ${score:-?} <= 3.0" \
    awk -v s="${score:-99}" 'BEGIN { exit !(s <= 3.0) }'
else
  ok_if "systemd-analyze is installed (security score)" false
fi

# --- allowed system calls: @system-service minus @privileged, nested groups expanded ---
expand() { # a syscall group, recursively
  systemd-analyze syscall-filter --no-pager "$1" | sed -n 's/^    //p' | grep -v '^#' |
    while read -r s; do case $s in @*) expand "$s" ;; ?*) echo "$s" ;; esac; done
}
expand @system-service | sort -u >"$T/allow"
expand @privileged | sort -u >"$T/deny"
comm -23 "$T/allow" "$T/deny" >"$T/allowed"
ok_if "the filter allows sched_setaffinity and mbind (EAL), denies iopl" \
  sh -c "grep -qx sched_setaffinity '$T/allowed' && grep -qx mbind '$T/allowed' && ! grep -qx iopl '$T/allowed'"

# --- a node with a notify socket of our own ---
A=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
C=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '1 %s primary\n' "$A" >"$T/k.keys"
chmod 600 "$T/k.keys"
python3 - "$T/notify.sock" "$T/notify.log" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
EOF
lpid=$!
ini() { # $1: extra [eal] options
  cat >"$T/node.ini" <<EOF
[eal]
args = -l 0 --no-huge -m 128 --no-pci --no-shconf --vdev=net_af_packet0,iface=eth0 --log-level=lib.eal:warning $1
[node]
name = $NAME
ip = 10.97.0.1
ctl_socket = $T/n.sock
[cluster]
key_file = $T/k.keys
EOF
}
ini ""
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth0 type veth peer name peer0
ip -n "$NS" link set eth0 up
ip -n "$NS" link set peer0 up
for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
# strace -f from the first system call to exit; WATCHDOG_USEC 2 s: fed every 500 ms
ip netns exec "$NS" env NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=2000000 \
  strace -f -qq -o "$T/strace.log" "$MESHD" -- --config "$T/node.ini" >"$T/node.log" 2>&1 &
spid=$!
for _ in $(seq 1 300); do grep -q READY=1 "$T/notify.log" 2>/dev/null && break; sleep 0.1; done
npid=$(ps -o pid= --ppid "$spid" | tr -d ' ')
ok_if "READY=1 sent (STATUS names the node)" grep -q "READY=1 STATUS=node $NAME on 10.97.0.1" "$T/notify.log"
[ -n "$npid" ] || { echo "# the node did not start:"; sed 's/^/#   /' "$T/node.log"; tap_done; exit; }
capture "$CTL" -s "$T/n.sock" health
expect "at READY the client socket already answers" 0 "^ok"
ok_if "no --file-prefix: EAL's runtime directory is the node name" \
  test -S "/var/run/dpdk/$NAME/dpdk_telemetry.v2"
capture sh -c "echo /mesh/info | dpdk-telemetry.py -f '$NAME'"
expect "dpdk-telemetry.py -f $NAME reaches the node (one name)" 0 "\"name\": \"$NAME\""
sleep 2.2
n=$(grep -c '^WATCHDOG=1' "$T/notify.log")
ok_if "WATCHDOG=1 sent while the merge loop runs ($n in 2.2 s, want >= 3)" test "$n" -ge 3

# --- /mesh/members entries are dicts; /mesh/peers is paged ---
capture sh -c "echo /mesh/members | dpdk-telemetry.py -f '$NAME'"
expect "/mesh/members: a dict per member by name, self first" 0 \
  "\"members\": \{\"$NAME\": \{\"name\": \"$NAME\", \"address\": \"10.97.0.1:39527\", \"status\": \"alive\".*\"self\": 1\}\}"
capture sh -c "echo /mesh/peers,0 | dpdk-telemetry.py -f '$NAME'"
expect "/mesh/peers,0: total, start and a peers dict" 0 '"total": 0, "start": 0, "peers": \{\}'
capture sh -c "echo /mesh/peers,5 | dpdk-telemetry.py -f '$NAME'"
expect "/mesh/peers past the end: an error" 0 '"error": "bad start index'

# --- log levels at run time ---
capture sh -c "echo /mesh/log_level | dpdk-telemetry.py -f '$NAME'"
expect "/mesh/log_level lists meshd's types from the start" 0 '"meshd": \{.*"swim": "notice"' \
  '"crdt": "notice"' '"app": "info"'
capture sh -c "echo /mesh/log_level,meshd.crdt:debug | dpdk-telemetry.py -f '$NAME'"
expect "/mesh/log_level,meshd.crdt:debug sets it" 0 '"crdt": "debug"'
capture sh -c "echo /mesh/log_level,meshd.crdt:loud | dpdk-telemetry.py -f '$NAME'"
expect "/mesh/log_level with a bad level answers an error" 0 '"error": "log level .meshd.crdt:loud'

# --- SIGHUP: log levels from the file, keys ---
ini "--log-level=meshd.swim:debug"
printf '1 %s\n2 %s primary\n' "$A" "$C" >"$T/k.keys"
kill -HUP "$npid"
for _ in $(seq 1 50); do grep -q "reload: 2 key" "$T/node.log" && break; sleep 0.1; done
ok_if "SIGHUP: RELOADING=1 then READY=1 (reloaded)" \
  sh -c "grep -q '^RELOADING=1' '$T/notify.log' && grep -q 'READY=1 STATUS=node $NAME: reloaded' '$T/notify.log'"
ok_if "SIGHUP: the rotated key file is in use (primary id 2)" \
  grep -q "reload: 2 key(s) from $T/k.keys, primary id 2" "$T/node.log"
capture sh -c "echo /mesh/log_level | dpdk-telemetry.py -f '$NAME'"
expect "SIGHUP: --log-level of the [eal] section applied" 0 '"swim": "debug"'
printf '1 %s\n' "${A:0:60}" >"$T/k.keys"
kill -HUP "$npid"
for _ in $(seq 1 50); do grep -q "refused, keys unchanged" "$T/node.log" && break; sleep 0.1; done
ok_if "SIGHUP with a broken key file: refused, old keys kept" \
  grep -q "reload: key file $T/k.keys refused, keys unchanged" "$T/node.log"
capture "$CTL" -s "$T/n.sock" put config:svc v1
capture "$CTL" -s "$T/n.sock" get config:svc
expect "the node is still up after two reloads" 0 "v1"

# --- SIGTERM ---
kill -TERM "$npid"
wait "$spid"
rc=$?
npid=
is "SIGTERM: exit 0" "$rc" 0
ok_if "STOPPING=1 sent" grep -q '^STOPPING=1' "$T/notify.log"

# --- system calls the node made ---
sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z0-9_]+)[( ].*/\2/p' "$T/strace.log" | sort -u >"$T/used"
n=$(wc -l <"$T/used")
# iopl: EAL's start-up probe for port I/O (virtio legacy); refused with EPERM, as it is
# without CAP_SYS_RAWIO anyway, and EAL goes on
bad=$(comm -23 "$T/used" "$T/allowed" | grep -vx iopl | tr '\n' ' ')
ok_if "strace saw the node's system calls ($n distinct)" test "$n" -ge 30
ok_if "every system call is allowed by the unit's filter${bad:+ (not: $bad)}" test -z "$bad"

[ "$TAP_FAIL" -eq 0 ] || { echo "--- node.log"; tail -n 20 "$T/node.log"; echo "--- notify"; tail -n 5 "$T/notify.log"; }
tap_done
