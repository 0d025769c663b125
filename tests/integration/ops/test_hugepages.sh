#!/usr/bin/env bash
# Integration (ops): scripts/setup-hugepages.sh.
#   real, on this machine: reserve (current + 64) x 2M on node 0 and mount a private
#   hugetlbfs, idempotent re-run, EAL really maps pages from it, --exact, --show,
#   --undo back to exactly the original counts and mounts; 1G: reserved and undone, or
#   refused with the counts put back; refusals (bad size, bad count, absurd count, not
#   root) change nothing
#   fake sysfs (MESH_HUGEPAGES_FAKE_ROOT): two NUMA nodes, --node, a kernel that grants
#   fewer pages than asked (rolled back), the global and /proc fallbacks, a mount with
#   another page size
# The original hugepage counts and hugetlbfs mounts are restored on any exit (trap).
# Usage: test_hugepages.sh SCRIPTS_DIR [MESHD]   (root; 77 = skipped)
set -u
SCRIPTS=$1
MESHD=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tap.sh"
source "$here/ops_lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
HP=$SCRIPTS/setup-hugepages.sh
NODE0=/sys/devices/system/node/node0/hugepages
[ -d "$NODE0/hugepages-2048kB" ] || { echo "skip: no per-node 2M hugepages here"; exit 77; }

T=$(mktemp -d /tmp/ops-hp.XXXXXX)
export MESH_STATE_DIR=$T/state
STATE=$MESH_STATE_DIR/hugepages.state
MNT=$T/mnt/hp2m
MNT1G=$T/mnt/hp1g
PREFIX=opshp$$

snapshot() { # every hugepage count of every node and size, and the hugetlbfs mounts
  local f
  for f in /sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages \
           /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages; do
    echo "$f $(cat "$f")"
  done
  awk '$3 == "hugetlbfs" { print "mount", $2, $4 }' /proc/mounts | sort
}
ORIG=$(snapshot)
ORIG2M=$(cat "$NODE0/hugepages-2048kB/nr_hugepages")
ORIG1G=$(cat "$NODE0/hugepages-1048576kB/nr_hugepages" 2>/dev/null || echo 0)

cleanup() {
  local m f v
  rm -rf "/var/run/dpdk/$PREFIX"
  [ -s "$STATE" ] && "$HP" --undo >/dev/null 2>&1
  for m in "$MNT" "$MNT1G"; do
    mountpoint -q "$m" 2>/dev/null && umount "$m"
  done
  # whatever the script did or did not do: put back every original count
  while read -r f v; do
    case $f in /*) [ "$(cat "$f")" = "$v" ] || echo "$v" >"$f" 2>/dev/null ;; esac
  done <<<"$ORIG"
  [ "$(snapshot)" = "$ORIG" ] || echo "# WARNING: hugepage state differs from the original"
  rm -rf "$T"
}
trap cleanup EXIT

# --- real: reserve, idempotent, usable, --exact, --show, --undo ---
W=$((ORIG2M + 64))
capture "$HP" --size 2M --pages "$W" --node 0 --mount "$MNT"
expect "reserve $W x 2M on node0, mount $MNT: exit 0, --show output" 0 \
  "node0: $ORIG2M -> $W x 2M" "^2M +node0 +$W "
is "node0 has $W 2M pages" "$(cat "$NODE0/hugepages-2048kB/nr_hugepages")" "$W"
ok_if "hugetlbfs mounted on $MNT with pagesize=2M" \
  grep -q " $MNT hugetlbfs .*pagesize=2M" /proc/mounts
ok_if "state file records the original count" \
  grep -qx "pages $NODE0/hugepages-2048kB/nr_hugepages $ORIG2M" "$STATE"
ok_if "state file records the mount it made" grep -qx "mount $MNT" "$STATE"
ok_if "state file records the directory it created" grep -qx "mkdir $MNT" "$STATE"

before=$(cat "$STATE")
capture "$HP" --size 2M --pages "$W" --node 0 --mount "$MNT"
expect "second identical run: exit 0, unchanged, already mounted" 0 unchanged 'already mounted'
is "second run leaves the state file as it was" "$(cat "$STATE")" "$before"
is "second run does not mount twice" "$(grep -c " $MNT hugetlbfs" /proc/mounts)" 1

capture "$HP" --pages $((ORIG2M + 32)) --node 0 --mount "$MNT"
is "asking for fewer pages without --exact keeps $W" \
  "$(cat "$NODE0/hugepages-2048kB/nr_hugepages")" "$W"

if [ -n "$MESHD" ]; then
  # meshd answers --help before EAL starts; a node with no port starts EAL (mapping its
  # memory from the hugepages), then stops at the missing port with exit 1
  capture timeout 60 "$MESHD" -l 0 -m 32 --huge-dir "$MNT" --no-pci --no-telemetry \
        --file-prefix "$PREFIX" -- --name hp --ip 10.0.0.1 --ctl-socket "$MNT/hp.sock" \
        --insecure-plaintext
  expect "EAL maps 32 MB from the reserved hugepages, then meshd finds no port" 1 \
    'port 0 does not exist'
  is "pages are free again after meshd exits" \
    "$(cat "$NODE0/hugepages-2048kB/free_hugepages")" "$(cat "$NODE0/hugepages-2048kB/nr_hugepages")"
  rm -rf "/var/run/dpdk/$PREFIX"
fi

capture "$HP" --exact --pages $((ORIG2M + 32)) --node 0 --mount "$MNT"
is "--exact lowers node0 to $((ORIG2M + 32))" \
  "$(cat "$NODE0/hugepages-2048kB/nr_hugepages")" $((ORIG2M + 32))
ok_if "the state file still holds the first original ($ORIG2M)" \
  grep -qx "pages $NODE0/hugepages-2048kB/nr_hugepages $ORIG2M" "$STATE"

capture "$HP" --show
expect "--show lists the mount and what was changed" 0 "$MNT" "was $ORIG2M"
capture setpriv --reuid=65534 --regid=65534 --clear-groups "$HP" --show
expect "--show works without root" 0 "^2M +node0"

capture "$HP" --undo
expect "--undo: exit 0, unmounted, restored" 0 "unmounted $MNT" "restored .* to $ORIG2M" "undo complete"
is "node0 back to $ORIG2M 2M pages" "$(cat "$NODE0/hugepages-2048kB/nr_hugepages")" "$ORIG2M"
ok_if "mount removed" test "$(grep -c " $MNT " /proc/mounts)" -eq 0
ok_if "directory it created removed" test ! -e "$MNT"
ok_if "state file removed" test ! -e "$STATE"
is "hugepage counts and mounts exactly as before the test" "$(snapshot)" "$ORIG"
capture "$HP" --undo
expect "--undo again: nothing to undo, exit 0" 0 "nothing to undo"

# --- real: 1G pages (may be refused: memory too fragmented); the counts end as before ---
if [ -d "$NODE0/hugepages-1048576kB" ]; then
  capture "$HP" --size 1G --pages $((ORIG1G + 1)) --node 0 --mount "$MNT1G"
  if [ $rc -eq 0 ]; then
    ok_if "1G: reserved and mounted" grep -q " $MNT1G hugetlbfs .*pagesize=1024M" /proc/mounts
    capture "$HP" --undo
    expect "1G: undone" 0 "undo complete"
  elif [ $rc -eq 1 ]; then
    expect "1G: kernel short of memory, refused and rolled back" 1 "reserved only"
  else
    expect "1G: refused for lack of memory" 3 "must stay free"
  fi
  is "1G: counts and mounts as before" "$(snapshot)" "$ORIG"
fi

# --- refusals change nothing ---
capture "$HP" --size 3M --pages 4 --mount "$MNT"
expect "unsupported size 3M refused, exit 2" 2 "unsupported page size '3M'"
capture "$HP" --size 2M --pages lots
expect "non-numeric count refused, exit 2" 2 "bad page count"
capture "$HP" --size 2M
expect "missing count refused, exit 2" 2 "give the number of pages"
capture "$HP" --size 2M --pages 99999999 --mount "$MNT"
expect "absurd count (99999999 x 2M) refused for lack of memory, exit 3" 3 "must stay free"
capture "$HP" --size 2M --pages 4 --node 7 --mount "$MNT"
expect "unknown NUMA node refused, exit 2" 2 "no NUMA node 7"
capture setpriv --reuid=65534 --regid=65534 --clear-groups "$HP" --pages 4 --mount "$MNT"
expect "not root (uid 65534) refused, exit 3" 3 "must run as root"
capture setpriv --reuid=65534 --regid=65534 --clear-groups "$HP" --undo
expect "--undo as not root refused, exit 3" 3 "must run as root"
is "refusals left the counts and mounts as they were" "$(snapshot)" "$ORIG"
ok_if "refusals left no state file" test ! -e "$STATE"

# --- fake sysfs: NUMA, shortfall, fallbacks ---
F=$T/fake
mkfake() { # NODES: a fake machine with NODES nodes (0: no per-node files), 2M and 1G
  rm -rf "$F"; mkdir -p "$F/proc/sys/vm"
  local n s
  for s in 2048 1048576; do
    mkdir -p "$F/sys/kernel/mm/hugepages/hugepages-${s}kB"
    echo 0 >"$F/sys/kernel/mm/hugepages/hugepages-${s}kB/nr_hugepages"
    echo 0 >"$F/sys/kernel/mm/hugepages/hugepages-${s}kB/free_hugepages"
    for ((n = 0; n < $1; n++)); do
      mkdir -p "$F/sys/devices/system/node/node$n/hugepages/hugepages-${s}kB"
      echo 0 >"$F/sys/devices/system/node/node$n/hugepages/hugepages-${s}kB/nr_hugepages"
      echo 0 >"$F/sys/devices/system/node/node$n/hugepages/hugepages-${s}kB/free_hugepages"
    done
  done
  printf 'MemTotal: 16000000 kB\nMemAvailable: 12000000 kB\nHugepagesize: 2048 kB\nHugePages_Total: 0\nHugePages_Free: 0\n' >"$F/proc/meminfo"
  echo 0 >"$F/proc/sys/vm/nr_hugepages"
  echo "proc /proc proc rw 0 0" >"$F/proc/mounts"
}
fhp() { MESH_HUGEPAGES_FAKE_ROOT=$F MESH_STATE_DIR='' "$HP" "$@"; }
fnode() { cat "$F/sys/devices/system/node/node$1/hugepages/hugepages-${2:-2048}kB/nr_hugepages"; }

mkfake 2
capture fhp --pages 8
expect "fake 2 nodes: exit 0" 0 "node0: 0 -> 8" "node1: 0 -> 8"
is "fake 2 nodes: 8 pages on each node" "$(fnode 0) $(fnode 1)" "8 8"
ok_if "fake: /dev/hugepages mounted (fake mounts)" grep -q " /dev/hugepages hugetlbfs .*pagesize=2M" "$F/proc/mounts"
capture fhp --undo
is "fake: undo restores both nodes" "$(fnode 0) $(fnode 1)" "0 0"
ok_if "fake: undo unmounts" test "$(grep -c hugetlbfs "$F/proc/mounts")" -eq 0
capture fhp --pages 4 --node 1 --no-mount
is "fake --node 1: only node1 changes" "$(fnode 0) $(fnode 1)" "0 4"
fhp --undo >/dev/null 2>&1

mkfake 2
echo 5 >"$F/sys/devices/system/node/node1/hugepages/hugepages-2048kB/max_hugepages"
capture fhp --pages 8
expect "fake shortfall: exit 1 and reports 5 of 8" 1 "node1: asked for 8 x 2M, the kernel reserved only 5"
is "fake shortfall: both nodes rolled back" "$(fnode 0) $(fnode 1)" "0 0"
ok_if "fake shortfall: no state file" test ! -e "$F/run/meshd/hugepages.state"
ok_if "fake shortfall: no mount" test "$(grep -c hugetlbfs "$F/proc/mounts")" -eq 0

mkfake 0
capture fhp --pages 6 --no-mount
is "fake, no per-node files: global sysfs file written" \
  "$(cat "$F/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" 6
fhp --undo >/dev/null 2>&1
rm -rf "$F/sys/kernel"
capture fhp --pages 6 --no-mount
is "fake, no sysfs at all: /proc/sys/vm/nr_hugepages written" \
  "$(cat "$F/proc/sys/vm/nr_hugepages")" 6
fhp --undo >/dev/null 2>&1
is "fake: /proc fallback undone" "$(cat "$F/proc/sys/vm/nr_hugepages")" 0
capture fhp --size 1G --pages 1 --no-mount
expect "fake, no sysfs: 1G (not the default size) is unsupported, exit 2" 2 "not supported by this machine"

mkfake 1
echo "nodev /mnt/hp hugetlbfs rw,relatime,pagesize=1024M 0 0" >>"$F/proc/mounts"
capture fhp --pages 4 --mount /mnt/hp
expect "fake: a 1G hugetlbfs already on the mount point refused, exit 1" 1 "already a hugetlbfs mount for 1G"
is "fake: pages rolled back after the mount refusal" "$(fnode 0)" 0

tap_done
