#!/usr/bin/env bash
# Integration: the Prometheus endpoint (--metrics-listen) of a 2-node cluster (real EAL,
# af_packet in namespaces). promtool finds the scrape clean; a real Prometheus server,
# run inside node 2's namespace, scrapes it every second and answers queries for the
# node's series; the text has the names, labels, HELP lines, gauges and histogram that
# doc/telemetry.md promises; HEAD /metrics answers 200 with headers only.
# Usage: test_metrics.sh MESHD MESHCTL PROBE VERSION   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
PROBE=$3
VERSION=$4
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns tm 'kill "$prom_pid" 2>/dev/null; wait "$prom_pid" 2>/dev/null; rm -rf "$tmp"'
for tool in promtool prometheus; do
  command -v "$tool" >/dev/null || { echo "$tool missing: run scripts/install-deps.sh"; exit 1; }
done
tmp=$(mktemp -d)
prom_pid=
MPORT=9464

c() { local i=$1; shift; "$CTL" -s "$tmp/n$i.sock" "$@"; }
# in node I's namespace, python3 with the script on stdin and ARGS
py() { local i=$1; shift; ip netns exec "${MESH_NS}m$i" python3 - "$@"; }
scrape() { py "$1" "http://127.0.0.1:$MPORT/metrics" <<<'
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")'; }
# sample VALUE of the series written exactly as NAME{LABELS} in scrape file F
val() { awk -v s="$2" '$1 == s { print $2 }' "$1"; }

mesh_topo_up 2
# keyless: the checksum drop cause below is the plaintext frame check (a keyed node
# drops a plaintext frame before it reaches the checksum, as rx_drop_frame_plaintext)
mesh_node_start 1 --ctl-socket "$tmp/n1.sock" --metrics-listen "127.0.0.1:$MPORT" \
  --insecure-plaintext
mesh_node_start 2 --ctl-socket "$tmp/n2.sock" --metrics-listen "127.0.0.1:$MPORT" \
  --seed 10.99.0.1 --insecure-plaintext
for i in 1 2; do ok_if "node $i sees 2 alive" mesh_wait_members "$i" alive 2; done

c 1 put worker:w1 up >/dev/null
c 1 put config:k1 v1 >/dev/null
c 1 put config:k2 v2 >/dev/null
c 1 del config:k2 >/dev/null
deadline=$((SECONDS + 10))
until [ "$(c 2 get worker:w1 2>/dev/null)" = up ] || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
ip netns exec "${MESH_NS}c" "$PROBE" bad 10.99.0.2 39527 magic >/dev/null 2>&1
ip netns exec "${MESH_NS}c" "$PROBE" bad 10.99.0.2 39527 checksum >/dev/null 2>&1
sleep 0.3 # members and peers are republished every 100 ms
scrape 2 >"$tmp/n2.prom"
scrape 1 >"$tmp/n1.prom"

# (a) promtool: parses, and no lint finding (names, units, HELP, _total)
for i in 2 1; do
  out=$(promtool check metrics <"$tmp/n$i.prom" 2>&1); rc=$?
  ok_if "promtool check metrics: node $i clean (rc $rc) ${out%%$'\n'*}" test $rc -eq 0 -a -z "$out"
done

# (c) exact names, labels and HELP lines
f=$tmp/n2.prom
is "build info" "$(val "$f" "meshd_build_info{version=\"$VERSION\"}")" 1
ok_if "HELP from the counter's description" \
  grep -qxF '# HELP meshd_crdt_put_total local writes (client puts) applied' "$tmp/n1.prom"
is "counters end in _total" "$(val "$tmp/n1.prom" meshd_crdt_put_total)" 3
ok_if "TYPE of a counter" grep -qxF '# TYPE meshd_net_rx_packets_total counter' "$f"
ok_if "drop causes are labels: one HELP for the family, listing each cause" \
  grep -qE '^# HELP meshd_net_rx_drops_total packets dropped, by cause: .*; '\
'bad_auth = AEAD tag did not verify;' "$f"
is "rx drop cause from the frame check (bad magic)" \
  "$(val "$f" 'meshd_net_rx_drops_total{cause="bad_magic"}')" 1
is "rx drop cause from the frame check (bad checksum)" \
  "$(val "$f" 'meshd_net_rx_drops_total{cause="bad_checksum"}')" 1
is "rx drop cause from the packet parser" \
  "$(val "$f" 'meshd_net_rx_drops_total{cause="wrong_port"}')" 0
is "tx drops are labelled too" "$(val "$f" 'meshd_net_tx_drops_total{cause="nombuf"}')" 0
is "no drop cause left in a metric name" "$(grep -cE '^meshd_net_(rx|tx)_drop_' "$f")" 0
is "members alive gauge" "$(val "$f" 'meshd_members{status="alive"}')" 2
is "members dead gauge" "$(val "$f" 'meshd_members{status="dead"}')" 0
ok_if "members is a gauge" grep -qxF '# TYPE meshd_members gauge' "$f"
is "replication peers gauge" "$(val "$f" meshd_replication_peers)" 1
is "keys per namespace" "$(val "$f" 'meshd_namespace_keys{namespace="config:",kind="lww"}')" 1
is "tombstones per namespace" \
  "$(val "$f" 'meshd_namespace_tombstones{namespace="config:",kind="lww"}')" 1
is "stream namespaces: no keys gauge" "$(grep -c '^meshd_namespace_keys{namespace="td:"' "$f")" 0
is "stream namespaces: buffered gauge" \
  "$(val "$f" 'meshd_namespace_buffered{namespace="td:",kind="broadcast"}')" 0
is "handoff ring drops labelled by ring" \
  "$(val "$f" 'meshd_handoff_drops_total{ring="ctl_merge"}')" 0
is "handoff ring depth gauge" "$(val "$f" 'meshd_handoff_ring_depth{ring="ctl_merge"}')" 0
ok_if "latency is a histogram" \
  grep -qxF '# TYPE meshd_replication_latency_seconds histogram' "$f"
ok_if "latency histogram: cumulative buckets, +Inf = count >= 1, sum > 0" py 2 "$f" <<'EOF'
import re, sys
b = []; total = None; s = None
for line in open(sys.argv[1]):
    m = re.match(r'meshd_replication_latency_seconds_(bucket|count|sum)'
                 r'\{kind="lww"(?:,le="([^"]+)")?\} (\S+)$', line)
    if not m: continue
    if m[1] == "bucket": b.append((float(m[2]), float(m[3])))
    elif m[1] == "count": total = float(m[3])
    else: s = float(m[3])
up = all(b[i][0] < b[i + 1][0] and b[i][1] <= b[i + 1][1] for i in range(len(b) - 1))
ok = len(b) > 5 and b[-1][0] == float("inf") and up
sys.exit(0 if ok and total == b[-1][1] and total >= 1 and s > 0 else 1)
EOF
ok_if "every family has one HELP and one TYPE, together" py 2 "$f" <<'EOF'
import sys
help, typ = {}, {}
for line in open(sys.argv[1]):
    p = line.split(" ")
    if line.startswith("# HELP "): help[p[2]] = help.get(p[2], 0) + 1
    if line.startswith("# TYPE "): typ[p[2]] = typ.get(p[2], 0) + 1
sys.exit(0 if typ and help == typ and set(help.values()) == {1} else 1)
EOF

# HEAD: 200 and the headers of the text, no body
head=$(py 2 "$MPORT" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"HEAD /metrics HTTP/1.0\r\n\r\n")
r = b""
while True:
    d = s.recv(65536)
    if not d: break
    r += d
h, _, body = r.partition(b"\r\n\r\n")
length = [l.split(b":")[1] for l in h.split(b"\r\n") if l.lower().startswith(b"content-length")]
print(h.split(b"\r\n")[0].decode(), int(length[0]) > 1000 if length else False, len(body))
EOF
)
is "HEAD /metrics: 200, the text's Content-Length, no body" "$head" "HTTP/1.0 200 OK True 0"

# (b) a real Prometheus server scrapes node 2 every second
pport=$(py 2 <<<'
import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: meshd
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
ip netns exec "${MESH_NS}m2" prometheus --config.file="$tmp/prometheus.yml" \
  --storage.tsdb.path="$tmp/tsdb" --web.listen-address="127.0.0.1:$pport" \
  --log.level=warn >"$MESH_LOGDIR/prometheus.log" 2>&1 &
prom_pid=$!
# query EXPR [LABEL]: the first result's value (or its LABEL), "" when there is none yet
query() { py 2 "http://127.0.0.1:$pport/api/v1/query" "$@" <<'EOF'
import json, sys, urllib.parse, urllib.request
try:
    u = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
    r = json.load(urllib.request.urlopen(u, timeout=5))["data"]["result"]
    print(r[0]["metric"][sys.argv[3]] if len(sys.argv) > 3 else r[0]["value"][1])
except Exception:
    pass
EOF
}
deadline=$((SECONDS + 60))
until [ "$(query 'up{job="meshd"}')" = 1 ] || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
is "Prometheus scraped the node (up == 1)" "$(query 'up{job="meshd"}')" 1
is "Prometheus sees meshd_build_info" "$(query meshd_build_info)" 1
is "Prometheus sees the build's version label" "$(query meshd_build_info version)" "$VERSION"
is "Prometheus sees the alive members" "$(query 'meshd_members{status="alive"}')" 2
is "Prometheus sees a labelled drop cause" \
  "$(query 'meshd_net_rx_drops_total{cause="bad_magic"}')" 1
ok_if "Prometheus sums the drop causes" test -n "$(query 'sum(meshd_net_rx_drops_total) >= 2')"
ok_if "Prometheus computes a latency quantile from the histogram" test -n \
  "$(query 'histogram_quantile(0.5,
            sum by (le) (meshd_replication_latency_seconds_bucket{kind="lww"})) > 0')"
help=$(py 2 "http://127.0.0.1:$pport/api/v1/metadata" meshd_replication_peers <<'EOF'
import json, sys, urllib.request
try:
    u = sys.argv[1] + "?metric=" + sys.argv[2]
    print(json.load(urllib.request.urlopen(u, timeout=5))["data"][sys.argv[2]][0]["help"])
except Exception:
    pass
EOF
)
is "Prometheus read the node's HELP (metadata API)" "$help" \
  "members this node replicates to (alive or suspect)"

# the registry's other readers keep their names
is "telemetry /mesh/stats keeps the counter names" \
  "$(mesh_tel_get 2 /mesh/stats net.rx_drop_frame_bad_magic)" 1
is "meshctl stats keeps the counter names" "$(c 1 --json stats crdt | python3 -c '
import json, sys; print(json.load(sys.stdin)["crdt.crdt_put"])')" 3

mesh_node_stop 1 TERM
mesh_node_stop 2 TERM
tap_done
