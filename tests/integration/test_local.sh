#!/usr/bin/env bash
# Integration: the local surfaces of one meshd node and their bounds (doc/security.md,
# "Local surfaces"), each against a hostile or careless local client:
#  - the client socket takes ctl_socket_mode and ctl_socket_group whatever the umask;
#  - the metrics endpoint binds 127.0.0.1 for a bare PORT, --check-config warns about
#    0.0.0.0; 20 idle or trickling TCP connections to it neither slow meshctl put/get nor
#    lock out a well-behaved scrape, and are closed after their timeout (counted);
#  - a value in parts over ctl_client_parts_max is refused (counted);
#  - a client that sends requests and never reads is disconnected at its output cap
#    (counted) and the node's RSS stays bounded;
#  - a watcher that reads late loses events at its output cap, and every lost event is
#    reported in Event.dropped: events received + dropped = events written.
# Usage: test_local.sh MESHD MESHCTL PKGDIR PB2DIR   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
PKG=$3
PB2=$4
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
PY=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import google.protobuf' 2>/dev/null; then PY=$(command -v "$p"); break; fi
done
[ -n "$PY" ] || { echo "skip: no python3 with google.protobuf (python3-protobuf)"; exit 77; }
[ -f "$PB2/client_pb2.py" ] || { echo "skip: client_pb2.py not generated"; exit 77; }
mesh_test_netns tl 'rm -rf "$tmp"'
tmp=$(mktemp -d)
sock=$tmp/n1.sock
MPORT=9464
export PYTHONPATH="$PKG:$PB2" PYTHONDONTWRITEBYTECODE=1 SOCK=$sock MPORT CTL

c() { "$CTL" -s "$sock" "$@"; }
# python3 with the script on stdin, in node 1's namespace (127.0.0.1 is the node's)
py() { ip netns exec "${MESH_NS}m1" "$PY" - "$@"; }
# a ctl counter (retried: telemetry can time out on a loaded host)
stat_of() {
  local v k
  for k in 1 2 3; do
    v=$(mesh_tel_get 1 /mesh/stats,ctl "ctl.$1"); [ -n "$v" ] && break
  done
  echo "$v"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/${MESH_PIDS[1]}/status"; }

# --check-config: the metrics address
cat >"$tmp/pub.ini" <<EOF
[node]
name = a
ip = 10.99.0.1
metrics_listen = 0.0.0.0:$MPORT
[cluster]
insecure_plaintext = yes
EOF
out=$("$MESHD" --check-config "$tmp/pub.ini" 2>&1); rc=$?
ok_if "check-config accepts metrics_listen 0.0.0.0 (rc $rc)" test $rc -eq 0
ok_if "check-config warns about 0.0.0.0 ($out)" grep -q "warning: metrics_listen 0.0.0.0" <<<"$out"
sed -i "s/^metrics_listen = .*/metrics_listen = $MPORT/" "$tmp/pub.ini"
out=$("$MESHD" --check-config "$tmp/pub.ini" 2>&1); rc=$?
ok_if "check-config: a bare PORT is fine and not warned about ($out)" \
  test $rc -eq 0 -a -z "$(grep warning <<<"$out")"
out=$("$MESHD" -- --ctl-socket-group no-such-group-here --name a --ip 10.0.0.1 \
  --insecure-plaintext 2>&1); rc=$?
ok_if "an unknown ctl_socket_group is a config error, exit 2 ($out)" \
  test $rc -eq 2 -a -n "$(grep "no such group" <<<"$out")"

mesh_topo_up 1
old_umask=$(umask)
umask 0000 # the socket's mode must not come from the umask
mesh_node_start 1 --ctl-socket "$sock" --metrics-listen "$MPORT" --ctl-socket-mode 0640 \
  --ctl-socket-group daemon --ctl-client-out-max 256K --ctl-client-parts-max 1M \
  --ctl-clients-max-bytes 16M
umask "$old_umask"
ok_if "node answers telemetry" mesh_wait_tel 1 /mesh/info port 1 30
ok_if "node serves its socket" c health

# (1) socket mode and group; peer credentials logged
is "socket mode 0640 under umask 0000, group daemon" "$(stat -c '%a %G' "$sock")" "640 daemon"
mesh_tel 1 "/mesh/log_level,meshd.app:debug" >/dev/null
c health >/dev/null
ok_if "peer credentials of a client logged (debug)" \
  grep -qE "client [0-9]+ connected: pid [0-9]+ uid 0 gid 0" "$MESH_LOGDIR/n1.log"

# (2) metrics bind
ok_if "a bare PORT binds 127.0.0.1 only" \
  ip netns exec "${MESH_NS}m1" ss -Hltn "sport = :$MPORT" | grep -q "127.0.0.1:$MPORT"

# (3) slowloris: 20 idle or trickling connections, meanwhile put/get and a scrape
py >"$tmp/slow.out" 2>&1 <<'EOF'
import os, socket, subprocess, time, urllib.request
port, sock, ctl = int(os.environ["MPORT"]), os.environ["SOCK"], os.environ["CTL"]
conns = []
for i in range(20):  # silent connections
    conns.append(socket.create_connection(("127.0.0.1", port)))
time.sleep(0.2)
worst = 0.0
for k in range(5):
    t = time.monotonic()
    subprocess.run([ctl, "-s", sock, "put", f"worker:s{k}", "v"], check=True,
                   stdout=subprocess.DEVNULL)
    got = subprocess.run([ctl, "-s", sock, "get", f"worker:s{k}"], check=True,
                         capture_output=True, text=True).stdout.strip()
    assert got == "v", got
    worst = max(worst, time.monotonic() - t)
for s in conns[1::2]:  # tricklers: a few bytes, never the end of the headers
    try:
        s.send(b"GET /met")
        s.send(b"r")
    except OSError:
        pass  # already closed: its 2 s ran out under a slow put/get loop
t = time.monotonic()
text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
print("scrape_s %.3f ok %d" % (time.monotonic() - t, "meshd_build_info" in text))
print("putget_worst_s %.3f" % worst)
time.sleep(2.5)  # past the request timeout
closed = 0
for s in conns:
    s.settimeout(1)
    try:
        closed += s.recv(1) == b""
    except OSError:
        closed += 1
print("closed", closed)
EOF
cat "$tmp/slow.out"
worst=$(awk '/^putget_worst_s/ { print $2 }' "$tmp/slow.out")
# (the endpoint on the control thread stalled it 200 ms per connection: 4 s for 20)
ok_if "put+get under 20 idle metrics connections: worst ${worst:-?} s < 1.5 s" \
  awk -v w="${worst:-9}" 'BEGIN { exit !(w < 1.5) }'
ok_if "a well-behaved scrape still works ($(grep scrape_s "$tmp/slow.out"))" \
  grep -q "^scrape_s .* ok 1" "$tmp/slow.out"
is "every idle connection closed after the timeout" \
  "$(awk '/^closed/ { print $2 }' "$tmp/slow.out")" 20
to=$(stat_of ctl_metrics_drop_timeout); ev=$(stat_of ctl_metrics_drop_evicted)
ok_if "idle connections counted (timeout $to, evicted $ev)" test $(( ${to:-0} + ${ev:-0} )) -ge 20

# (4) byte caps: a value in parts over ctl_client_parts_max
py >"$tmp/parts.out" 2>&1 <<'EOF'
import os
from meshclient import Client, MeshError
with Client(os.environ["SOCK"]) as cl:
    try:
        cl.publish(b"td:big", b"x" * (2 << 20))
        print("published")
    except MeshError as e:
        print("refused", e)
    cl.publish(b"td:small", b"y" * (512 << 10))
    print("small ok")
EOF
cat "$tmp/parts.out"
ok_if "a 2 MiB value in parts refused over a 1 MiB ctl_client_parts_max" \
  grep -q "^refused.*ctl_client_parts_max" "$tmp/parts.out"
ok_if "a 512 KiB value in parts still goes" grep -q "^small ok" "$tmp/parts.out"
n=$(stat_of ctl_parts_drop_client_cap)
is "parts refusal counted" "$n" 1

# (5) a client that sends and never reads: disconnected at its cap, RSS bounded
rss0=$(rss_kib)
py >"$tmp/flood.out" 2>&1 <<'EOF'
import os, socket
from meshclient import _proto as p
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(os.environ["SOCK"])
s.settimeout(10)
n = 0
try:
    for n in range(1, 200001):
        req = p.put_req(b"worker:flood", b"z" * 1024)
        req.id = n
        s.send(req.SerializeToString())
    print("never cut off", n)
except OSError as e:
    print("cut off after", n, type(e).__name__)
EOF
cat "$tmp/flood.out"
rss1=$(rss_kib)
ok_if "a client that never reads is cut off" grep -q "^cut off after" "$tmp/flood.out"
n=$(stat_of ctl_slow_disconnects)
ok_if "slow disconnect counted ($n)" test "${n:-0}" -ge 1
ok_if "node RSS grew < 32 MiB ($rss0 -> $rss1 KiB)" test $(( rss1 - rss0 )) -lt 32768
ok_if "the node still serves" c put worker:after-flood yes

# (6) a watcher that reads late: every lost event is in Event.dropped
py >"$tmp/watch.out" 2>&1 <<'EOF'
import os, socket, time
from meshclient import Client, _proto as p
N = 3000
w = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
w.connect(os.environ["SOCK"])
w.settimeout(5)
req = p.subscribe_req(b"config:slow")
req.id = 1
w.send(req.SerializeToString())
while not p.decode(w.recv(p.MAX_MSG)).HasField("subscribe"):
    pass
got = dropped = replied = 0
def drain(until=None):
    global got, dropped, replied
    while True:
        try:
            r = p.decode(w.recv(p.MAX_MSG))
        except socket.timeout:
            return
        replied += r.id == 2
        if p.is_event(r):
            got += 1
            dropped += r.event.dropped
            if r.event.key == until:
                return
with Client(os.environ["SOCK"]) as cl:
    for i in range(N):
        cl.put(b"config:slow%05d" % i, b"v" * 1024)
    time.sleep(0.5)
    req = p.stats_req("ctl")  # behind on its events, the watcher still gets replies
    req.id = 2
    w.send(req.SerializeToString())
    w.settimeout(1)
    drain()
    # the losses at the end of the burst ride on the next event: a marker
    cl.put(b"config:slowmark", b"m")
    w.settimeout(5)
    drain(b"config:slowmark")
print("written", N + 1, "received", got, "dropped", dropped, "replied", replied)
EOF
cat "$tmp/watch.out"
read -r _ written _ got _ dropped _ replied < "$tmp/watch.out"
ok_if "the late watcher lost events (dropped ${dropped:-?})" test "${dropped:-0}" -gt 0
is "the late watcher still got its reply (not cut off)" "${replied:-}" 1
is "received + Event.dropped = events written" "$(( ${got:-0} + ${dropped:-0} ))" "${written:-x}"
n=$(stat_of ctl_out_drop_client_cap); r=$(stat_of ctl_events_lost_reported)
ok_if "the control layer's drops counted (out cap $n, reported $r)" \
  test "${n:-0}" -ge 1 -a "${r:-0}" -ge 1

mesh_node_stop 1
is "node stops cleanly" "$?" 0
tap_done
