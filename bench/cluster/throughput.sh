#!/usr/bin/env bash
# bench/cluster/throughput.sh: saturation throughput of meshd on the test topology (one
# network namespace per node, net_af_packet on veth, event polling; scripts/netns-lib.sh
# as bench/cluster/run.sh uses it). For each N: start N nodes, run mesh_blast (batched,
# pipelined client protocol v2 writer) on node 1's control socket, then poll every node's
# live key count in the blast namespace (/mesh/kv/stats "keys", DPDK telemetry) until all
# hold every key or --converge-timeout passes. Measured per N:
#   written rate     puts accepted by node 1 / blast seconds (mesh_blast's ops_per_s)
#   full delivery    seconds from the blast's start until every node held every key
#   delivery %       keys on the poorest node / count at the end
#   CPU per update   (user+sys of every meshd process over blast + convergence, from
#                    /proc/PID/stat, + the writer's getrusage) / updates; per-thread split
#                    from /proc/PID/task/*/stat (where the time goes)
#   apply latency    p50/p99 origin-to-apply from meshd's /mesh/latency,lww histograms on
#                    nodes 2..N (lat.py snap/diff around the run)
# Writes OUT/throughput-N<n>.json per N; with --report, a markdown table and a PNG plot (gnuplot)
# (and the ratio to memberlist fast's saturation from --ml DIR, a memberlist run.sh
# --sweep result directory).
# --rates "0 R..." runs each N once per rate: 0 saturates (the writer sends as fast as node 1
# takes), R > 0 paces the writer at R puts/s (sustained load: delivery and apply latency
# at that rate). The written rate is what node 1 accepted; the delivered rate is count /
# full delivery time (what every node received).
#   throughput.sh [--nodes "3 5 8"] [--rates "0 R..."] [--count N] [--conns C] [--batch B] [--inflight W]
#                 [--value-bytes V] [--converge-timeout S] [--build DIR] [--out DIR]
#                 [--writer c|rust]  (rust: lib/client/rust/examples/blast.rs, saturating only)
#                 [--ml "DIR..."] [--report BASE] [--report-only]  (BASE.md/.json/.png;
#                 --report-only rebuilds them from OUT without running anything)
# Needs root (namespaces); the trap tears the topology down.
set -uo pipefail   # no -e: netns-lib probes expect failures
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/cluster
nodes_list="3 5 8" rates="0" rate=0 count="" conns=2 batch=1024 inflight=4 vbytes=16 ctimeout=120
writer=c
build=$root/build out="$root/build-bench/throughput" ml="" report="" one="" report_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes_list=$2; shift ;;
    --count) count=$2; shift ;;
    --rates) rates=$2; shift ;;
    --rate) rate=$2; shift ;;   # internal (one run)
    --conns) conns=$2; shift ;;
    --batch) batch=$2; shift ;;
    --inflight) inflight=$2; shift ;;
    --value-bytes) vbytes=$2; shift ;;
    --converge-timeout) ctimeout=$2; shift ;;
    --writer) writer=$2; shift ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --ml) ml=$2; shift ;;
    --report) report=$2; shift ;;
    --report-only) report_only=1 ;;
    --one) one=$2; shift ;;   # internal: one N in this process (its own trap)
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "throughput.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "throughput.sh: needs root (namespaces)" >&2; exit 2; }
MESHD=$build/app/meshd/meshd
BLAST=$build/bench/cluster/mesh_blast
[ -x "$MESHD" ] && [ -x "$BLAST" ] || { echo "throughput.sh: build first (ninja -C $build)" >&2; exit 2; }
if [ "$writer" = rust ]; then
  # the Rust client's twin of mesh_blast (lib/client/rust/examples/blast.rs), release build
  export CARGO_TARGET_DIR=$build/lib/client/rust/target
  (cd "$root/lib/client/rust" && cargo build --offline --release -q --example blast) ||
    { echo "throughput.sh: cargo could not build the rust writer" >&2; exit 2; }
  BLAST=$CARGO_TARGET_DIR/release/examples/blast
  [ "$rates" = 0 ] || { echo "throughput.sh: the rust writer only saturates (--rates 0)" >&2; exit 2; }
elif [ "$writer" != c ]; then
  echo "throughput.sh: --writer c|rust" >&2; exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
args=(--count "${count:-0}" --conns "$conns" --batch "$batch" --inflight "$inflight"
      --value-bytes "$vbytes" --converge-timeout "$ctimeout" --build "$build" --out "$out"
      --writer "$writer")

if [ -z "$one" ]; then
  for n in $nodes_list; do
    [ "$report_only" = 1 ] && break
    for r in $rates; do
      c=$count   # default: about 10 s of writing (saturating: what node 1 takes on 2 cores)
      [ -n "$c" ] || c=$(( r > 0 ? r * 10 : (n <= 3 ? 3000000 : (n <= 5 ? 1500000 : 1000000)) ))
      args[1]=$c
      "$0" --one "$n" --rate "$r" "${args[@]}" || echo "throughput.sh: N=$n rate $r failed (rc $?)" >&2
    done
  done
  [ -n "$report" ] || exit 0
  python3 - "$out" "$report" "$ml" "$nodes_list" "$rates" <<'PY'
import json, os, sys
out, base, ml, nodes, rates = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(), sys.argv[5].split()
runs = []
for n in nodes:
    for rt in rates:
        try:
            runs.append(json.load(open(os.path.join(out, f"throughput-N{n}-r{rt}.json"))))
        except (OSError, ValueError):
            pass
mlsat = None
for d in ml.split():   # memberlist run.sh --sweep result directories: the best rate over all
    try:
        s = json.load(open(os.path.join(d, "summary.json")))
    except (OSError, ValueError) as e:
        print(f"throughput.sh: memberlist summary: {e}", file=sys.stderr)
        continue
    for w in s.get("sweep") or []:
        # saturation: the highest achieved rate still delivered (>= 99 %, p99 to all < 50 ms),
        # the bound memberlist's analyze.py uses for "max rate"
        if (w.get("delivered_pct") or 0) < 99.0 or not 0 <= (w.get("p99_ms") or 1e9) < 50:
            continue
        if mlsat is None or w["achieved"] > mlsat["achieved"]:
            mlsat = {"rate": w["rate"], "achieved": w["achieved"], "delivered_pct": w["delivered_pct"],
                     "cpu_us_per_update": w.get("cpu_us_per_update_total"),
                     "cpu_us_above_idle": w.get("cpu_us_per_update"), "p99_ms": w["p99_ms"],
                     "p50_ms": w.get("p50_ms"), "dir": d}
def f(v, d=1):
    return "—" if v is None else f"{v:,.{d}f}"
lines = ["| N | writer | written/s | delivered to all /s | ratio to memberlist fast (delivered) "
         "| full delivery (s) | delivered | apply p50 / p99 (ms) | CPU µs/update (meshd + writer) "
         "| memberlist CPU ÷ meshd CPU | busy refusals | load (1 min) |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|"]
for r in runs:
    ach = mlsat.get("achieved") if mlsat else None
    ratio = (r["delivered_per_s"] / ach) if ach and r.get("delivered_per_s") else None
    cratio = (mlsat["cpu_us_per_update"] / r["cpu_us_per_update"]) if mlsat and mlsat.get("cpu_us_per_update") else None
    lat = r.get("apply_latency") or {}
    mode = f"paced {r['rate']:,}/s" if r.get("rate") else "saturating"
    lines.append(f"| {r['nodes']} | {mode} | {f(r['written_per_s'], 0)} | {f(r.get('delivered_per_s'), 0)} | {f(ratio, 1)}× | "
                 f"{f(r['full_delivery_s'], 2)} | {f(r['delivered_pct'], 2)} % | "
                 f"{f(lat.get('p50_ms'), 2)} / {f(lat.get('p99_ms'), 2)} | "
                 f"{f(r['cpu_us_per_update'], 2)} ({f(r['cpu_us_meshd'], 2)} + "
                 f"{f(r['cpu_us_writer'], 2)}) | {f(cratio, 0)}× | {r['blast']['busy']:,} | {r.get('load_1m', '—')} |")
if mlsat:
    lines.append(f"| 3 | memberlist fast, one writer at {mlsat['rate']:,}/s | {f(mlsat['achieved'], 0)} | "
                 f"{f(mlsat['achieved'], 0)} | 1× | — | {f(mlsat['delivered_pct'], 2)} % | "
                 f"to all {f(mlsat['p50_ms'], 2)} / {f(mlsat['p99_ms'], 2)} | {f(mlsat['cpu_us_per_update'], 1)} | 1× | — | — |")
threads = []
for r in runs:
    th = r.get("threads_cpu_s") or {}
    tot = sum(th.values()) or 1
    threads.append(f"- N = {r['nodes']}, rate {r.get('rate') or 'saturating'}: per node "
                   + " / ".join(f"{c:.2f}" for c in r.get("node_cpu_s", [])) + " s; by thread: " + ", ".join(
        f"{k} {v:.2f} s ({100 * v / tot:.0f} %)" for k, v in sorted(th.items(), key=lambda kv: -kv[1])))
md = {"table": "\n".join(lines), "threads": "\n".join(threads),
      "memberlist": mlsat, "runs": runs}
json.dump(md, open(base + ".json", "w"), indent=1)
with open(base + ".md", "w") as fh:
    fh.write(md["table"] + "\n\nmeshd CPU by thread name, summed over nodes (blast + convergence):\n\n"
             + md["threads"] + "\n")
# plot (gnuplot, as bench/report.py and converge_report.py do; matplotlib is not installed)
import subprocess
sat = [r for r in runs if not r.get("rate")] or runs
dat = base + ".dat"
with open(dat, "w") as fh:
    for r in sat:
        fh.write('"N=%d" %s %s %s\n' % (r["nodes"], r["written_per_s"],
                                        r.get("delivered_per_s") or "NaN", r["cpu_us_per_update"]))
ml_rate = mlsat["achieved"] if mlsat else "NaN"
ml_cpu = mlsat["cpu_us_per_update"] if mlsat else "NaN"
try:
    subprocess.run(["gnuplot"], check=True, input=f"""
set terminal png size 1100,500 noenhanced
set output "{base}.png"
set multiplot layout 1,2 title "meshd saturation (mesh_blast into node 1; one shared 2-CPU host)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set grid ytics
set key top right font ",9"
set ylabel "updates/s"
set yrange [1000:2000000]
plot "{dat}" using 2:xtic(1) title "written (accepted by node 1)", "" using 3 title "delivered to all", \\
     {ml_rate} with lines lw 2 dt 2 title "memberlist fast, N=3", 500000 with lines lw 1 dt 3 title "target N=3"
set ylabel "CPU us per update (all nodes + writer)"
set yrange [0.5:1000]
plot "{dat}" using 4:xtic(1) title "meshd", {ml_cpu} with lines lw 2 dt 2 title "memberlist fast, N=3", \\
     3 with lines lw 1 dt 3 title "target"
unset multiplot
""".encode())
except (OSError, subprocess.CalledProcessError) as e:
    print(f"throughput.sh: no plot ({e})", file=sys.stderr)
os.remove(dat)
print(md["table"])
PY
  exit 0
fi

# ---------------------------------------------------------------- one N
nodes=$one
tag="N$nodes-r$rate"
MESH_NS="tp$$x"
source "$root/scripts/netns-lib.sh"
trap 'mesh_topo_down; rm -f /tmp/${MESH_NS}-*.sock; rm -rf "$res"' EXIT
log() { echo "[throughput N=$nodes rate=$rate $(date +%T)] $*" >&2; }
res=$(mktemp -d /tmp/tp-res.XXXXXX)
cat >"$res/kv.py" <<'PY'
# kv.py START_NS COUNT TIMEOUT_S NS_PREFIX TEL_PREFIX...: poll each node's live keys in
# namespace NS_PREFIX until all hold COUNT; one JSON object on stdout.
import json, os, socket, sys, time
start, count, timeout, nsp, prefixes = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5:]
def keys(p):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(os.path.join("/var/run/dpdk", p, "dpdk_telemetry.v2"))
    s.recv(16384)
    s.send(b"/mesh/kv/stats")
    d = json.loads(s.recv(1 << 16).decode())["/mesh/kv/stats"]
    s.close()
    return next((v["keys"] for v in d.values() if isinstance(v, dict) and v.get("prefix") == nsp), 0)
deadline, done, k = time.time() + timeout, None, []
while True:
    k = []
    for p in prefixes:
        try:
            k.append(keys(p))
        except (OSError, ValueError, KeyError):
            k.append(-1)
    if min(k) >= count:
        done = time.time_ns()
        break
    if time.time() > deadline:
        break
    time.sleep(0.05)
print(json.dumps({"keys": k, "full_delivery_s": round((done - start) / 1e9, 3) if done else None,
                  "delivered_pct": round(100.0 * max(0, min(k)) / count, 3) if count else None}))
PY
cat >"$res/threads.py" <<'PY'
# threads.py PID...: {"comm": ticks} summed over the threads of the given processes
import json, os, sys
t = {}
for pid in sys.argv[1:]:
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        continue
    for tid in tids:
        try:
            st = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        f = st[st.rindex(")") + 2:].split()
        t[comm] = t.get(comm, 0) + int(f[11]) + int(f[12])
print(json.dumps(t))
PY

ticks() { local t=0 i; for i in "${!MESH_PIDS[@]}"; do t=$((t + $(awk '{print $14+$15}' "/proc/${MESH_PIDS[$i]}/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
prefixes() { for i in $(seq "$1" "$nodes"); do printf '%sn%s ' "$MESH_NS" "$i"; done; }

mesh_topo_up "$nodes"
mesh_node_start 1 --ctl-socket "/tmp/${MESH_NS}-1.sock" ${MESHD_EXTRA:-}
for i in $(seq 2 "$nodes"); do mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" --seed 10.99.0.1 ${MESHD_EXTRA:-}; done
for i in $(seq 1 "$nodes"); do mesh_wait_tel "$i" /mesh/info port 1 30; done
for i in $(seq 1 "$nodes"); do mesh_wait_members "$i" alive "$nodes" 30 || { log "membership did not converge"; exit 1; }; done
log "cluster up; blast: $count puts, $conns conns x $inflight batches of $batch in flight"
sleep 1
prefix="worker:tp/"
hz=$(getconf CLK_TCK)
# shellcheck disable=SC2046
python3 "$here/lat.py" snap "$res/h0.json" $(prefixes 2)
python3 "$res/threads.py" "${MESH_PIDS[@]}" >"$res/th0.json"
declare -A p0=()
for i in $(seq 1 "$nodes"); do p0[$i]=$(awk '{print $14+$15}' "/proc/${MESH_PIDS[$i]}/stat"); done
c0=$(ticks); s0=$(date +%s%N)
rate_opt=(--rate "$rate")
[ "$writer" = rust ] && rate_opt=()
"$BLAST" --conns "$conns" --batch "$batch" --inflight "$inflight" --value-bytes "$vbytes" \
  --count "$count" "${rate_opt[@]}" --prefix "$prefix" "/tmp/${MESH_NS}-1.sock" >"$res/blast.json"
brc=$?
load=$(cut -d' ' -f1 /proc/loadavg)
log "blast (rc $brc): $(cat "$res/blast.json")"
python3 "$res/threads.py" "${MESH_PIDS[@]}" >"$res/th1b.json"
c1b=$(ticks)
# shellcheck disable=SC2046
python3 "$res/kv.py" "$s0" "$count" "$ctimeout" "${prefix%%:*}:" $(prefixes 1) >"$res/kv.json"
c1=$(ticks); s1=$(date +%s%N)
python3 "$res/threads.py" "${MESH_PIDS[@]}" >"$res/th1.json"
log "delivery: $(cat "$res/kv.json")"
# shellcheck disable=SC2046
python3 "$here/lat.py" snap "$res/h1.json" $(prefixes 2)
python3 "$here/lat.py" diff "$res/h0.json" "$res/h1.json" lww >"$res/apply.json"
log "apply latency: $(cat "$res/apply.json")"
CTL=$build/app/meshctl/meshctl
for i in 1 2; do "$CTL" -s "/tmp/${MESH_NS}-$i.sock" stats >"$res/stats-n$i.txt" 2>/dev/null || true; done
pc=()
for i in $(seq 1 "$nodes"); do pc+=("$(( $(awk '{print $14+$15}' "/proc/${MESH_PIDS[$i]}/stat") - ${p0[$i]} ))"); done
python3 - "$out/throughput-$tag.json" "$nodes" "$res" "$((c1 - c0))" "$((c1b - c0))" "$hz" \
  "$(( (s1 - s0) / 1000000 ))" "$load" "$(uptime)" "$rate" "${pc[*]}" <<'PY'
import json, os, sys
path, nodes, res, dt, dtb, hz, ms, load, up, rate, pc = sys.argv[1:12]
nodes, dt, dtb, hz, ms = int(nodes), int(dt), int(dtb), int(hz), int(ms)
ld = lambda n: json.load(open(os.path.join(res, n)))
blast, kv, apply = ld("blast.json"), ld("kv.json"), ld("apply.json")
th0, th1b, th1 = ld("th0.json"), ld("th1b.json"), ld("th1.json")
ops = blast["ops"] or 1
meshd_s = dt / hz
def stats(n):
    out = {}
    try:
        for line in open(os.path.join(res, f"stats-n{n}.txt")):
            p = line.split()
            if len(p) == 3 and p[2].isdigit() and int(p[2]) and any(
                    w in p[1] for w in ("drop", "busy", "full", "retrans", "nack", "reject", "batch", "frames", "overflow")):
                out[p[1]] = int(p[2])
    except OSError:
        pass
    return out
r = {"nodes": nodes, "rate": int(float(rate)), "count": blast["count"], "blast": blast,
     "written_per_s": blast["ops_per_s"], "full_delivery_s": kv["full_delivery_s"],
     "delivered_per_s": round(blast["ops"] / kv["full_delivery_s"]) if kv["full_delivery_s"] else None,
     "node_cpu_s": [round(int(x) / hz, 2) for x in pc.split()],
     "delivered_pct": kv["delivered_pct"], "keys_per_node": kv["keys"],
     "apply_latency": apply, "wall_ms": ms,
     "meshd_cpu_s": round(meshd_s, 3), "meshd_cpu_s_during_blast": round(dtb / hz, 3),
     "writer_cpu_s": blast["writer_cpu_s"],
     "cpu_us_meshd": round(meshd_s * 1e6 / ops, 3),
     "cpu_us_writer": round(blast["writer_cpu_s"] * 1e6 / ops, 3),
     "cpu_us_per_update": round((meshd_s + blast["writer_cpu_s"]) * 1e6 / ops, 3),
     "threads_cpu_s": {k: round((v - th0.get(k, 0)) / hz, 2) for k, v in th1.items() if v - th0.get(k, 0) > 0},
     "threads_cpu_s_during_blast": {k: round((v - th0.get(k, 0)) / hz, 2) for k, v in th1b.items() if v - th0.get(k, 0) > 0},
     "counters_n1": stats(1), "counters_n2": stats(2),
     "load_1m": float(load), "uptime": up.strip()}
json.dump(r, open(path, "w"), indent=1)
print(json.dumps({k: r[k] for k in ("nodes", "rate", "written_per_s", "delivered_per_s", "full_delivery_s", "delivered_pct", "cpu_us_per_update", "node_cpu_s")}), file=sys.stderr)
PY
