#!/usr/bin/env bash
# setup-hugepages.sh: reserve and mount hugepages for meshd (DPDK), show them, undo it.
#
#   setup-hugepages.sh [--size 2M|1G] (--reserve TOTAL | --pages N | N) [--node N|all]
#                      [--mount DIR] [--no-mount] [--exact] [--dry-run]   reserve (root)
#   setup-hugepages.sh --show                          per node total/free, mounts, state
#   setup-hugepages.sh --undo [--dry-run]              restore what this script changed (root)
#
# Installed as <libexecdir>/meshd/setup-hugepages.sh (/usr/libexec/meshd/ for a /usr
# install); in a source tree it is scripts/setup-hugepages.sh.
#
# Reserving: --reserve TOTAL (e.g. 2G, 512M; suffix K, M, G or T, default M) is a total
# size, rounded up to whole pages of SIZE (default 2M) and split evenly over the selected
# NUMA nodes (default: all nodes; the first nodes get one page more when it does not
# divide). --pages N (or a bare N) asks N pages on EACH selected node instead. Counts go
# through /sys/devices/system/node/nodeX/hugepages/hugepages-<kB>kB/nr_hugepages; where
# there are no per-node files, /sys/kernel/mm/hugepages/hugepages-<kB>kB/nr_hugepages, and
# last /proc/sys/vm/nr_hugepages (default page size only). A node that already has N or
# more pages is left alone (several meshd instances can share; --exact sets exactly N).
# Then a hugetlbfs with that pagesize is mounted on DIR (default /dev/hugepages, or
# /dev/hugepages-1G for 1G pages) unless it is mounted already or --no-mount is given.
# Running it twice changes nothing the second time.
#
# --dry-run: check everything as for a real run (arguments, page size, memory), print
# what would be written, mounted, created or restored, and change nothing: no count, no
# mount, no directory, no state or lock file. It needs no root.
#
# Every change is recorded, before it is made, in the state file
# ${MESH_STATE_DIR:-/run/meshd}/hugepages.state: the ORIGINAL page count of each file
# touched (kept from the first run that touched it), each hugetlbfs this script mounted
# and each directory it created. --undo writes the original counts back, unmounts only
# those mounts, removes only those directories, then deletes the state file. /run is a
# tmpfs, so the state lives exactly as long as the reservation does (until reboot).
#
# Refusals (nothing is changed):
#   exit 2  bad arguments, or a page size this machine does not support
#   exit 3  not root (reserve/undo), or the pages would leave too little memory: the
#           additional memory must fit in MemAvailable minus a reserve of
#           max(512 MB, 5 % of MemTotal)
#   exit 1  the kernel reserved fewer pages than asked (fragmented memory, typical for
#           1G pages after boot: reserve those on the kernel command line, see
#           doc/deployment.md) -- the counts of this run are put back and how many pages
#           were obtained is reported; or a mount/unmount failed (a hugetlbfs in use by a
#           running DPDK process cannot be unmounted: stop meshd first)
#
# Environment:
#   MESH_STATE_DIR            state directory (default /run/meshd)
#   MESH_HUGEPAGES_FAKE_ROOT  TESTING ONLY. Read sysfs and proc under DIR instead of / (DIR/sys/...,
#                             DIR/proc/meminfo, DIR/proc/mounts), write counts there,
#                             "mount" by adding a line to DIR/proc/mounts, keep the state
#                             in DIR/run/meshd, and do not require root. A file
#                             max_hugepages next to a fake nr_hugepages caps what a write
#                             "obtains", like a kernel short of memory.
set -euo pipefail

PROG=setup-hugepages.sh
FAKE=${MESH_HUGEPAGES_FAKE_ROOT:-}
SYS=$FAKE/sys
PROC=$FAKE/proc
if [ -n "$FAKE" ]; then
  STATE_DIR=${MESH_STATE_DIR:-$FAKE/run/meshd}
else
  STATE_DIR=${MESH_STATE_DIR:-/run/meshd}
fi
STATE=$STATE_DIR/hugepages.state

die() { local rc=$1; shift; echo "$PROG: $*" >&2; exit "$rc"; }
say() { echo "$PROG: $*"; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

# --- arguments ---
MODE=reserve SIZE=2M PAGES='' TOTAL='' NODE=all MOUNT='' NO_MOUNT=0 EXACT=0 DRY=0
while [ $# -gt 0 ]; do
  case $1 in
    --size) [ $# -ge 2 ] || die 2 "--size needs a value (2M or 1G)"; SIZE=$2; shift 2 ;;
    --size=*) SIZE=${1#*=}; shift ;;
    --pages) [ $# -ge 2 ] || die 2 "--pages needs a number"; PAGES=$2; shift 2 ;;
    --pages=*) PAGES=${1#*=}; shift ;;
    --reserve) [ $# -ge 2 ] || die 2 "--reserve needs a size (e.g. 2G)"; TOTAL=$2; shift 2 ;;
    --reserve=*) TOTAL=${1#*=}; shift ;;
    --dry-run) DRY=1; shift ;;
    --node) [ $# -ge 2 ] || die 2 "--node needs a number or 'all'"; NODE=$2; shift 2 ;;
    --node=*) NODE=${1#*=}; shift ;;
    --mount) [ $# -ge 2 ] || die 2 "--mount needs a directory"; MOUNT=$2; shift 2 ;;
    --mount=*) MOUNT=${1#*=}; shift ;;
    --no-mount) NO_MOUNT=1; shift ;;
    --exact) EXACT=1; shift ;;
    --show) MODE=show; shift ;;
    --undo) MODE=undo; shift ;;
    -h|--help) usage; exit 0 ;;
    [0-9]*) PAGES=$1; shift ;;  # positional page count: setup-hugepages.sh 1024
    *) die 2 "unknown argument '$1' (see --help)" ;;
  esac
done

# page size in kB from 2M / 2MB / 2048k / 2048kB / 1G / 1GB / 1048576kB
size_kb() {
  case ${1^^} in
    2M|2MB|2048K|2048KB) echo 2048 ;;
    1G|1GB|1024M|1024MB|1048576K|1048576KB) echo 1048576 ;;
    *) return 1 ;;
  esac
}
# a total size in kB from 2G / 512M / 4096K / 1T (no suffix: MB); empty if malformed
total_kb() {
  local n=${1%[KkMmGgTt]} u=${1:${#1}-1}
  [[ $n =~ ^[0-9]{1,9}$ ]] || return 1
  n=$((10#$n))
  case $u in
    [Kk]) echo "$n" ;;
    [Gg]) echo $((n * 1048576)) ;;
    [Tt]) echo $((n * 1073741824)) ;;
    *) echo $((n * 1024)) ;;
  esac
}
kb_human() { if [ "$1" -ge 1048576 ]; then echo "$(($1 / 1048576))G"; else echo "$(($1 / 1024))M"; fi; }
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' "$PROC/meminfo"; }

# --- show ---
show() {
  local d n nodes=0 size kb
  printf '%-8s %-8s %10s %10s\n' SIZE NODE TOTAL FREE
  for d in "$SYS"/kernel/mm/hugepages/hugepages-*kB; do
    [ -d "$d" ] || continue
    size=${d##*/hugepages-}; kb=${size%kB}
    nodes=0
    for n in "$SYS"/devices/system/node/node[0-9]*; do
      [ -r "$n/hugepages/hugepages-${kb}kB/nr_hugepages" ] || continue
      nodes=1
      printf '%-8s %-8s %10s %10s\n' "$(kb_human "$kb")" "${n##*/}" \
        "$(cat "$n/hugepages/hugepages-${kb}kB/nr_hugepages")" \
        "$(cat "$n/hugepages/hugepages-${kb}kB/free_hugepages" 2>/dev/null || echo ?)"
    done
    if [ $nodes -eq 0 ]; then
      printf '%-8s %-8s %10s %10s\n' "$(kb_human "$kb")" all \
        "$(cat "$d/nr_hugepages")" "$(cat "$d/free_hugepages" 2>/dev/null || echo ?)"
    fi
  done
  if [ ! -d "$SYS/kernel/mm/hugepages" ] && [ -r "$PROC/sys/vm/nr_hugepages" ]; then
    printf '%-8s %-8s %10s %10s\n' "$(kb_human "$(meminfo Hugepagesize)")" all \
      "$(meminfo HugePages_Total)" "$(meminfo HugePages_Free)"
  fi
  echo "hugetlbfs mounts:"
  awk '$3 == "hugetlbfs" { print "  " $2 " (" $4 ")"; n++ } END { if (!n) print "  none" }' \
    "$PROC/mounts"
  if [ -s "$STATE" ]; then
    echo "changed by $PROG (undo with --undo), state $STATE:"
    awk '$1 == "pages" { print "  " $2 ": was " $3 }
         $1 == "mount" { print "  mounted " $2 }
         $1 == "mkdir" { print "  created " $2 }' "$STATE"
  fi
}

need_root() {
  [ -n "$FAKE" ] || [ $DRY -eq 1 ] && return 0
  [ "$(id -u)" -eq 0 ] ||
    die 3 "must run as root: $1 (try: sudo $0 ...)"
}

lock_state() {
  [ $DRY -eq 0 ] || return 0
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/hugepages.lock"
  flock -w 30 9 || die 1 "another $PROG holds $STATE_DIR/hugepages.lock"
}

write_count() { # FILE N: what the kernel obtained is read back by the caller
  local f=$1 n=$2 max
  if [ -n "$FAKE" ] && [ -r "${f%/*}/max_hugepages" ]; then
    max=$(cat "${f%/*}/max_hugepages")
    [ "$n" -gt "$max" ] && n=$max
  fi
  echo "$n" >"$f"
}

is_hugetlbfs_mount() { # DIR -> prints the mount options if DIR is a hugetlbfs mount
  awk -v d="$1" '$2 == d && $3 == "hugetlbfs" { print $4; found = 1; exit } END { exit !found }' \
    "$PROC/mounts"
}

do_mount() { # KB DIR
  local opt
  opt="pagesize=$(kb_human "$1")"
  if [ -n "$FAKE" ]; then
    mkdir -p "$FAKE$2"
    echo "nodev $2 hugetlbfs rw,relatime,$opt 0 0" >>"$PROC/mounts"
  else
    mount -t hugetlbfs -o "$opt" nodev "$2"
  fi
}

do_umount() { # DIR
  if [ -n "$FAKE" ]; then
    awk -v d="$1" '!($2 == d && $3 == "hugetlbfs")' "$PROC/mounts" >"$PROC/mounts.new"
    mv "$PROC/mounts.new" "$PROC/mounts"
  else
    umount "$1"
  fi
}

dir_path() { echo "$FAKE$1"; } # where DIR lives (under the fake root when testing)

# pagesize=2M / pagesize=1024M in mount options -> kB
opt_pagesize_kb() {
  local v
  v=$(echo "$1" | tr ',' '\n' | sed -n 's/^pagesize=//p')
  [ -n "$v" ] || { meminfo Hugepagesize; return; }
  case $v in
    *G) echo $((${v%G} * 1048576)) ;;
    *M) echo $((${v%M} * 1024)) ;;
    *K|*k) echo "${v%?}" ;;
    *) echo "$v" ;;
  esac
}

# --- undo ---
undo() {
  need_root "restoring nr_hugepages and unmounting hugetlbfs"
  lock_state
  if [ ! -s "$STATE" ]; then
    say "nothing to undo (no $STATE)"
    return 0
  fi
  if [ $DRY -eq 1 ]; then
    say "dry run: --undo would, from $STATE (nothing changed):"
    tac "$STATE" | awk '$1 == "mount" { print "  unmount " $2 }'
    tac "$STATE" | awk '$1 == "mkdir" { print "  remove the directory " $2 " if empty" }'
    awk '$1 == "pages" { print "  restore " $2 " to " $3 }' "$STATE"
    return 0
  fi
  local kind a b rc=0 now
  # mounts first (reverse order), then directories, then page counts
  while read -r kind a _; do
    [ "$kind" = mount ] || continue
    if is_hugetlbfs_mount "$a" >/dev/null; then
      if do_umount "$a"; then
        say "unmounted $a"
      else
        echo "$PROG: cannot unmount $a: in use by a running DPDK process? stop meshd first" >&2
        rc=1
      fi
    fi
  done < <(tac "$STATE")
  [ $rc -eq 0 ] || die 1 "undo incomplete; state kept in $STATE"
  while read -r kind a _; do
    [ "$kind" = mkdir ] || continue
    if rmdir "$(dir_path "$a")" 2>/dev/null; then say "removed directory $a"; fi
  done < <(tac "$STATE")
  while read -r kind a b; do
    [ "$kind" = pages ] || continue
    write_count "$a" "$b" 2>/dev/null || { echo "$PROG: cannot write $a" >&2; rc=1; continue; }
    now=$(cat "$a")
    if [ "$now" != "$b" ]; then
      echo "$PROG: $a is $now, not the original $b (pages still in use?)" >&2
      rc=1
    else
      say "restored $a to $b"
    fi
  done <"$STATE"
  [ $rc -eq 0 ] || die 1 "undo incomplete; state kept in $STATE"
  rm -f "$STATE"
  say "undo complete"
}

# --- reserve ---
reserve() {
  local kb
  kb=$(size_kb "$SIZE") || die 2 "unsupported page size '$SIZE' (use 2M or 1G)"
  [ -d "$SYS/kernel/mm/hugepages/hugepages-${kb}kB" ] ||
    [ "$(meminfo Hugepagesize)" = "$kb" ] ||
    die 2 "page size $SIZE is not supported by this machine (no $SYS/kernel/mm/hugepages/hugepages-${kb}kB; 1G pages need the pdpe1gb CPU flag)"
  [ -z "$PAGES" ] || [ -z "$TOTAL" ] || die 2 "give --reserve TOTAL or --pages N, not both"
  [ -n "$PAGES$TOTAL" ] ||
    die 2 "give the number of pages (--pages N, on each node) or a total size (--reserve 2G) (see --help)"
  local total=''
  if [ -n "$TOTAL" ]; then
    total=$(total_kb "$TOTAL") || die 2 "bad size '$TOTAL' (a number with K, M, G or T: 2G, 512M)"
  elif ! [[ $PAGES =~ ^[0-9]+$ ]] || [ ${#PAGES} -gt 9 ]; then
    die 2 "bad page count '$PAGES'"
  else
    PAGES=$((10#$PAGES))
  fi
  [ "$NODE" = all ] || [[ $NODE =~ ^[0-9]+$ ]] || die 2 "bad --node '$NODE' (a number or 'all')"
  if [ -z "$MOUNT" ]; then
    if [ "$kb" = 2048 ]; then MOUNT=/dev/hugepages; else MOUNT=/dev/hugepages-1G; fi
  fi
  case $MOUNT in /*) ;; *) die 2 "--mount needs an absolute path" ;; esac

  # the files to write: per node, else global
  local -a files=()
  local n f
  for n in "$SYS"/devices/system/node/node[0-9]*; do
    f=$n/hugepages/hugepages-${kb}kB/nr_hugepages
    [ -e "$f" ] || continue
    [ "$NODE" = all ] || [ "${n##*/}" = "node$NODE" ] || continue
    files+=("$f")
  done
  if [ ${#files[@]} -eq 0 ]; then
    if ls -d "$SYS"/devices/system/node/node[0-9]*/hugepages >/dev/null 2>&1; then
      die 2 "no NUMA node $NODE with $SIZE hugepages (nodes: $(cd "$SYS/devices/system/node" && echo node[0-9]*))"
    fi
    [ "$NODE" = all ] || [ "$NODE" = 0 ] || die 2 "no per-node hugepage files here; use --node all"
    if [ -e "$SYS/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages" ]; then
      files=("$SYS/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages")
    else
      files=("$PROC/sys/vm/nr_hugepages")
    fi
  fi

  # pages wanted in each file: N each, or the total split over them
  local -a wants=()
  local i pages
  if [ -n "$total" ]; then
    pages=$(( (total + kb - 1) / kb ))
    for i in "${!files[@]}"; do
      wants[i]=$(( pages / ${#files[@]} + (i < pages % ${#files[@]} ? 1 : 0) ))
    done
    local rounded=''
    [ $((pages * kb)) -eq "$total" ] || rounded=', rounded up to whole pages'
    say "--reserve $TOTAL: $pages x $(kb_human "$kb") over ${#files[@]} node(s)$rounded"
  else
    for i in "${!files[@]}"; do wants[i]=$PAGES; done
  fi

  need_root "writing ${files[0]} and mounting hugetlbfs"
  lock_state

  # memory check on the additional pages only
  local cur extra=0 avail memtotal keep
  for i in "${!files[@]}"; do
    cur=$(cat "${files[i]}")
    if [ "$cur" -lt "${wants[i]}" ]; then extra=$((extra + wants[i] - cur)); fi
  done
  avail=$(meminfo MemAvailable); memtotal=$(meminfo MemTotal)
  keep=$((memtotal / 20)); [ $keep -ge 524288 ] || keep=524288
  if [ $((extra * kb)) -gt $((avail - keep)) ]; then
    die 3 "refusing: the pages asked for need $(( extra * kb / 1024 )) MB more, but only $(( avail / 1024 )) MB are available and $(( keep / 1024 )) MB must stay free for the system"
  fi

  # apply; record originals first; remember this run's changes for a rollback
  local backup=''
  if [ $DRY -eq 0 ]; then touch "$STATE"; backup=$(cat "$STATE"); fi
  local -a done_f=() done_v=()
  local short=0 got want msg=
  for i in "${!files[@]}"; do
    f=${files[i]}
    cur=$(cat "$f")
    want=${wants[i]}
    if [ $EXACT -eq 0 ] && [ "$cur" -ge "$want" ]; then
      say "$(label "$f"): $cur x $(kb_human "$kb") already reserved (>= $want), unchanged"
      continue
    fi
    [ "$cur" -eq "$want" ] && { say "$(label "$f"): $cur x $(kb_human "$kb"), unchanged"; continue; }
    if [ $DRY -eq 1 ]; then
      say "$(label "$f"): would set $cur -> $want x $(kb_human "$kb") ($f)"
      continue
    fi
    grep -q "^pages $f " "$STATE" || echo "pages $f $cur" >>"$STATE"
    done_f+=("$f"); done_v+=("$cur")
    write_count "$f" "$want" 2>/dev/null || true
    got=$(cat "$f")
    if [ "$got" -ne "$want" ]; then
      short=1
      msg+="$(label "$f"): asked for $want x $(kb_human "$kb"), the kernel reserved only $got; "
      break
    fi
    say "$(label "$f"): $cur -> $got x $(kb_human "$kb")"
  done
  rollback() {
    local i
    [ $DRY -eq 0 ] || return 0
    for ((i = ${#done_f[@]} - 1; i >= 0; i--)); do
      write_count "${done_f[$i]}" "${done_v[$i]}" 2>/dev/null || true
    done
    if [ -n "$backup" ]; then printf '%s\n' "$backup" >"$STATE"; else rm -f "$STATE"; fi
  }
  if [ $short -eq 1 ]; then
    rollback
    die 1 "${msg}not enough contiguous free memory; restored the previous counts. For 1G pages reserve at boot (hugepagesz=1G hugepages=N on the kernel command line)."
  fi

  # mount
  local opts have
  if [ $NO_MOUNT -eq 0 ]; then
    if opts=$(is_hugetlbfs_mount "$MOUNT"); then
      have=$(opt_pagesize_kb "$opts")
      if [ "$have" != "$kb" ]; then
        rollback
        die 1 "$MOUNT is already a hugetlbfs mount for $(kb_human "$have") pages; use --mount DIR for $(kb_human "$kb") pages (restored the previous counts)"
      fi
      say "$MOUNT already mounted (hugetlbfs, $(kb_human "$kb") pages)"
    elif [ $DRY -eq 1 ]; then
      [ -d "$(dir_path "$MOUNT")" ] || say "would create the directory $MOUNT"
      say "would mount hugetlbfs (pagesize=$(kb_human "$kb")) on $MOUNT"
    else
      if [ ! -d "$(dir_path "$MOUNT")" ]; then
        echo "mkdir $MOUNT" >>"$STATE"
        mkdir -p "$(dir_path "$MOUNT")"
      fi
      echo "mount $MOUNT" >>"$STATE"
      if ! do_mount "$kb" "$MOUNT"; then
        rmdir "$(dir_path "$MOUNT")" 2>/dev/null || true
        rollback
        die 1 "mounting hugetlbfs on $MOUNT failed (restored the previous counts)"
      fi
      say "mounted hugetlbfs (pagesize=$(kb_human "$kb")) on $MOUNT"
    fi
  fi
  if [ $DRY -eq 1 ]; then
    say "dry run: nothing changed"
    return 0
  fi
  [ -s "$STATE" ] || rm -f "$STATE"
  show
}

label() { # a nr_hugepages path -> node0 / all
  case $1 in
    */node/node*) local t=${1#*/node/}; echo "${t%%/*}" ;;
    *) echo all ;;
  esac
}

case $MODE in
  show) show ;;
  undo) undo ;;
  reserve) reserve ;;
esac
