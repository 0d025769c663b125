#!/usr/bin/env bash
# Integration: the Rust client (lib/client/rust, crate meshclient on tokio + prost, built
# offline from Debian's crate registry) against a live 4-node cluster: `cargo test
# --offline` (binary keys and values, refusals with their Error code, keys pages, watch of
# a change made on another node, a multi-part value, many requests in flight, members,
# version 2: hello, batch, pipelined puts, watch with snapshot and resume, membership
# events, metadata, cluster state), then tests/owner_kill.rs alone (owned keys written
# through n4, n4 killed with SIGKILL, the dead event and the keys gone on n1 and n2), and
# the put_get and batch_watch examples. One TAP line per cargo test. Build output goes to
# TARGET (the meson build dir).
# Usage: test_client_rust.sh MESHD CRATEDIR TARGET   (root; 77 = skipped: cargo, protoc
# or the Debian crates missing)
set -u
MESHD=$1
CRATE=$2
export CARGO_TARGET_DIR=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"

# Debian's toolchain first: the crates in /usr/share/cargo/registry are chosen for it
cargo=$(command -v /usr/bin/cargo || command -v cargo) ||
  { echo "skip: cargo missing"; exit 77; }
command -v protoc >/dev/null || { echo "skip: protoc missing (protobuf-compiler)"; exit 77; }
for c in tokio prost prost-build; do
  ls -d /usr/share/cargo/registry/"$c"-[0-9]* >/dev/null 2>&1 ||
    { echo "skip: Debian crate $c missing (librust-$c-dev)"; exit 77; }
done
cd "$CRATE" || exit 1
# build before the nodes start: a cold build takes minutes on a small machine
build_start=$SECONDS
"$cargo" test --offline --no-run --all-targets -j "$(nproc)" >/tmp/tr$$-build.log 2>&1
rc=$?
tail -n 5 /tmp/tr$$-build.log
[ $rc -eq 0 ] || cat /tmp/tr$$-build.log
rm -f /tmp/tr$$-build.log
echo "# cargo build: $((SECONDS - build_start)) s"

mesh_test_netns tr 'rm -f /tmp/${MESH_NS}-*.sock'
ok_if "cargo builds the crate, its tests and example offline" test $rc -eq 0
mesh_cluster_up 4

out=/tmp/${MESH_NS}-cargo.log
export MESH_SOCKS="/tmp/${MESH_NS}-1.sock:/tmp/${MESH_NS}-2.sock:/tmp/${MESH_NS}-3.sock"
export MESH_SOCK_N4="/tmp/${MESH_NS}-4.sock" MESH_PID_N4="${MESH_PIDS[4]}"
# everything but the kill first, then the kill alone
timeout 240 "$cargo" test --offline -- --test-threads 2 --skip owner_bound_keys \
  --show-output >"$out" 2>&1
rc=$?
timeout 120 "$cargo" test --offline --test owner_kill -- --show-output >>"$out" 2>&1
rc2=$?
[ "$rc" -eq 0 ] && rc=$rc2
mesh_node_stop 4 KILL 2>/dev/null || true   # reap n4, killed by the test
cat "$out"
grep -E '^(pipelined|batched|single put|n4 dead|owned keys gone)' "$out" | sed 's/^/# /'
n=0
while IFS= read -r line; do
  what=${line#test }
  what=${what%% ... *}
  n=$((n + 1))
  case "$line" in
    *" ... ok") ok_if "rust: $what" true ;;
    *) ok_if "rust: $what (${line##* ... })" false ;;
  esac
done < <(grep -E '^test .* \.\.\. ' "$out")
ok_if "rust: cargo test ran tests ($n) and exited 0 (rc $rc)" test "$rc" -eq 0 -a "$n" -gt 0

ex=$("$cargo" run --offline -q --example put_get -- "/tmp/${MESH_NS}-2.sock" 2>&1)
echo "$ex"
ok_if "rust: example put_get reads back its write" grep -q '^get: hello' <<<"$ex"
ok_if "rust: example put_get sees its own event" grep -q '^event: worker:example = hello' <<<"$ex"
ex=$("$cargo" run --offline -q --example batch_watch -- "/tmp/${MESH_NS}-2.sock" 2>&1)
echo "$ex"
ok_if "rust: example batch_watch writes its batch" grep -q '^batch: 1000 puts, 0 refused' <<<"$ex"
ok_if "rust: example batch_watch resumes" grep -q '^resumed: true missed: false' <<<"$ex"
ok_if "rust: example batch_watch gets the changes made meanwhile" \
  grep -q '^change: worker:ex-0002 deleted' <<<"$ex"
rm -f "$out"
tap_done
