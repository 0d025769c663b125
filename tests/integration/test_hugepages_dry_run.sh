#!/usr/bin/env bash
# Integration: scripts/setup-hugepages.sh --dry-run and --reserve TOTAL.
#   this machine: --dry-run of a reservation that would raise node 0 and mount a new
#   hugetlbfs, of --reserve over all nodes and of --undo prints what it would do and
#   changes nothing: every nr_hugepages in sysfs, /proc/sys/vm/nr_hugepages, the hugetlbfs
#   mounts, no state directory, no mount point created; it needs no root
#   fake sysfs (MESH_HUGEPAGES_FAKE_ROOT, two nodes): --reserve splits a total over the
#   nodes (the first gets the odd page), rounds up to whole pages, --node puts it all on
#   one node; --reserve with --pages and a bad size are refused; --dry-run and
#   --undo --dry-run leave the fake files and the state as they were
# Usage: test_hugepages_dry_run.sh SCRIPTS_DIR   (root; 77 = skipped)
set -u
HP=$1/setup-hugepages.sh
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
T=$(mktemp -d /tmp/hp-dry.XXXXXX)
trap 'rm -rf "$T"' EXIT
# run CMD...: out=<stdout and stderr>, rc=<exit status>
run() { out=$("$@" 2>&1); rc=$?; }
has() { grep -qxF -- "$2" <<<"$1"; }

snapshot() { # every hugepage count the kernel exposes, and the hugetlbfs mounts
  grep -H . /sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages \
    /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages /proc/sys/vm/nr_hugepages 2>/dev/null
  awk '$3 == "hugetlbfs"' /proc/mounts
}

# --- this machine ---
NODE0=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
if [ -r "$NODE0" ]; then
  before=$(snapshot)
  cur=$(cat "$NODE0")
  export MESH_STATE_DIR=$T/state
  run "$HP" --dry-run --size 2M --pages $((cur + 64)) --node 0 --mount "$T/mnt"
  is "--dry-run --pages: exit 0" "$rc" 0
  ok_if "--dry-run says it would raise node0 ($cur -> $((cur + 64)))" \
    has "$out" "setup-hugepages.sh: node0: would set $cur -> $((cur + 64)) x 2M ($NODE0)"
  ok_if "--dry-run says it would create and mount $T/mnt" has "$out" \
    "setup-hugepages.sh: would create the directory $T/mnt"$'\n'"setup-hugepages.sh: would mount hugetlbfs (pagesize=2M) on $T/mnt"
  is "--dry-run ends with 'nothing changed'" "$(tail -1 <<<"$out")" "setup-hugepages.sh: dry run: nothing changed"
  run "$HP" --dry-run --reserve 128M --mount "$T/mnt"
  n=$(ls -d /sys/devices/system/node/node[0-9]*/hugepages/hugepages-2048kB | wc -l)
  is "--dry-run --reserve 128M: 64 pages over the $n node(s)" "$rc:$(head -1 <<<"$out")" \
    "0:setup-hugepages.sh: --reserve 128M: 64 x 2M over $n node(s)"
  run "$HP" --undo --dry-run
  is "--undo --dry-run without state: nothing to undo" "$rc:$out" \
    "0:setup-hugepages.sh: nothing to undo (no $T/state/hugepages.state)"
  run setpriv --reuid=65534 --regid=65534 --clear-groups "$HP" --dry-run --pages $((cur + 64)) --node 0 \
    --mount "$T/mnt"
  is "--dry-run needs no root" "$rc" 0
  is "--dry-run changed no count and no mount" "$(snapshot)" "$before"
  ok_if "--dry-run created no mount point" test ! -e "$T/mnt"
  ok_if "--dry-run created no state directory" test ! -e "$T/state"
  unset MESH_STATE_DIR
else
  echo "# no per-node 2M hugepages here: the real --dry-run checks are skipped"
fi

# --- fake sysfs: two nodes ---
F=$T/fake
mkfake() {
  local d
  rm -rf "$F"
  for d in sys/kernel/mm/hugepages/hugepages-2048kB \
           sys/devices/system/node/node{0,1}/hugepages/hugepages-2048kB; do
    mkdir -p "$F/$d" && echo 0 >"$F/$d/nr_hugepages" && echo 0 >"$F/$d/free_hugepages"
  done
  mkdir -p "$F/proc/sys/vm" && echo 0 >"$F/proc/sys/vm/nr_hugepages"
  printf 'MemTotal: 16000000 kB\nMemAvailable: 12000000 kB\nHugepagesize: 2048 kB\n' >"$F/proc/meminfo"
  echo "proc /proc proc rw 0 0" >"$F/proc/mounts"
}
fhp() { MESH_HUGEPAGES_FAKE_ROOT=$F "$HP" "$@"; }
counts() { cat "$F"/sys/devices/system/node/node{0,1}/hugepages/hugepages-2048kB/nr_hugepages | tr '\n' ' '; }
fstate() { (cd "$F" && find . | sort && find . -type f -exec cat {} +); }

mkfake
run fhp --reserve 10M
is "--reserve 10M: 5 x 2M over 2 nodes" "$rc:$(head -1 <<<"$out")" "0:setup-hugepages.sh: --reserve 10M: 5 x 2M over 2 node(s)"
is "--reserve 10M: node0 3, node1 2" "$(counts)" "3 2 "
run fhp --undo --dry-run
is "--undo --dry-run lists what it would restore" "$rc:$out" "0:setup-hugepages.sh: dry run: --undo would, from $F/run/meshd/hugepages.state (nothing changed):
  unmount /dev/hugepages
  remove the directory /dev/hugepages if empty
  restore $F/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages to 0
  restore $F/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages to 0"
is "--undo --dry-run changed nothing" "$(counts)$(grep -c hugetlbfs "$F/proc/mounts")" "3 2 1"
run fhp --undo
is "--undo after --reserve: both nodes back to 0" "$rc:$(counts)" "0:0 0 "

mkfake
run fhp --reserve 3M --node 1 --no-mount
is "--reserve 3M --node 1: rounded up to 2 pages, all on node1" "$rc:$(head -1 <<<"$out"):$(counts)" \
  "0:setup-hugepages.sh: --reserve 3M: 2 x 2M over 1 node(s), rounded up to whole pages:0 2 "

mkfake
before=$(fstate)
run fhp --dry-run --reserve 1G
is "fake --dry-run --reserve 1G: exit 0" "$rc" 0
ok_if "fake --dry-run: would set node1 0 -> 256" \
  has "$out" "setup-hugepages.sh: node1: would set 0 -> 256 x 2M ($F/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages)"
is "fake --dry-run: no file written, no mount, no state" "$(fstate)" "$before"
run fhp --reserve 1G --pages 3
is "--reserve with --pages: exit 2" "$rc:$out" "2:setup-hugepages.sh: give --reserve TOTAL or --pages N, not both"
run fhp --reserve 2X
is "--reserve 2X: exit 2" "$rc:$out" "2:setup-hugepages.sh: bad size '2X' (a number with K, M, G or T: 2G, 512M)"
is "refusals changed nothing" "$(fstate)" "$before"
tap_done
