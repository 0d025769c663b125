#!/usr/bin/env bash
# run-fuzz.sh FUZZER SEED_DIR: run one libFuzzer target for $MESH_FUZZ_SECONDS (default 10)
# seconds over the committed seeds, writing new inputs to a scratch corpus. Exit status is
# libFuzzer's: non-zero on any crash, leak, timeout or sanitizer report.
set -euo pipefail
fuzzer=$1
seeds=$2
secs=${MESH_FUZZ_SECONDS:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# libFuzzer exits 77 on a crash by default, which meson reads as SKIP: make it a failure
args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$work/")
[ -d "$seeds" ] || seeds=
exec_status=0
"$fuzzer" "${args[@]}" "$work" ${seeds:+"$seeds"} 2>&1 | tail -n 25 || exec_status=${PIPESTATUS[0]}
if [ "$exec_status" -ne 0 ]; then
  for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
    [ -e "$f" ] && { echo "artifact: $f"; od -A d -t x1 "$f" | head -20; }
  done
fi
exit "$exec_status"
