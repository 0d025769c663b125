#!/usr/bin/env bash
# Integration: the Python client (lib/client/python, package meshclient) against a live
# 3-node cluster plus a fourth node whose owner-bound keys must vanish once the test kills
# it (-9): its unittest suite (sync Client and asyncio AsyncClient: binary keys and values,
# refusals and Error names, keys pages, watch, pipelined puts, batch, watch with snapshot
# and resume, membership events, metadata, cluster state, owner-bound keys). One TAP line
# per unittest test; a test skipped because the node lacks the feature is "ok # SKIP".
# Usage: test_client_py.sh MESHD PKGDIR PB2DIR   (root; 77 = skipped: python3-protobuf
# or protoc missing)
set -u
MESHD=$1
PKG=$2
PB2=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"

py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import google.protobuf' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "skip: no python3 with google.protobuf (python3-protobuf)"; exit 77; }
[ -f "$PB2/client_pb2.py" ] ||
  { echo "skip: client_pb2.py not generated (protoc missing)"; exit 77; }

mesh_test_netns tq 'rm -f /tmp/${MESH_NS}-*.sock'
mesh_cluster_up 4   # n4: the owner node the test kills

out=/tmp/${MESH_NS}-unittest.log
figs=/tmp/${MESH_NS}-figures.txt
MESH_SOCKS="/tmp/${MESH_NS}-1.sock:/tmp/${MESH_NS}-2.sock:/tmp/${MESH_NS}-3.sock" \
  MESH_SOCK_OWNER="/tmp/${MESH_NS}-4.sock" MESH_PID_OWNER="${MESH_PIDS[4]}" \
  MESH_PY_FIGURES="$figs" PYTHONPATH="$PKG:$PB2" PYTHONDONTWRITEBYTECODE=1 \
  timeout 240 "$py" -m unittest discover -b -s "$PKG/tests" -t "$PKG/tests" -v >"$out" 2>&1
rc=$?
cat "$out"
n=0
while IFS= read -r line; do
  what=${line%% ... *}
  n=$((n + 1))
  case "$line" in
    *" ... ok") ok_if "python: $what" true ;;
    *" ... skipped "*) TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP python: $what: ${line##* ... skipped }" ;;
    *) ok_if "python: $what (${line##* ... })" false ;;
  esac
done < <(grep -E '^test_.* \.\.\. ' "$out")
ok_if "python: unittest ran tests ($n) and exited 0 (rc $rc)" test "$rc" -eq 0 -a "$n" -gt 0
mesh_node_stop 4 KILL 2>/dev/null || true   # reap the killed owner
[ -f "$figs" ] && sed 's/^/# /' "$figs"
rm -f "$out" "$figs"
tap_done
