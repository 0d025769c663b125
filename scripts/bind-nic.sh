#!/usr/bin/env bash
# bind-nic.sh: hand a NIC to DPDK (vfio-pci or uio_pci_generic) safely, and give it back.
# A careful wrapper over dpdk-devbind.py (Debian package "dpdk").
#
#   bind-nic.sh --list                        network PCI devices: address, interface,
#                                             driver, addresses/routes, DANGER markers
#   bind-nic.sh [--dry-run] [--force] [--driver vfio-pci|uio_pci_generic] DEVICE
#                                             bind DEVICE (0000:5e:00.0, 5e:00.0 or its
#                                             kernel interface name) to a DPDK driver
#   bind-nic.sh [--dry-run] --undo [DEVICE]   give DEVICE (default: every device this
#                                             script bound) back to its original driver
#
# Safety rules (a refusal exits 3 and changes nothing):
# * A device whose kernel interface (or an interface stacked on it: bond, bridge, VLAN)
#   carries an IPv4 address, a non-link-local IPv6 address, or any route (the default
#   route above all) is the host's own link: binding it cuts the machine off the network.
#   It is marked "DANGER: host link" in --list and refused unless --force is given.
#   IPv6 link-local addresses and routes (fe80::/64, ff00::/8) alone do not count.
# * mlx5 (ConnectX) ports are never bound: mlx5 is bifurcated, DPDK drives it while the
#   kernel driver mlx5_core keeps it (see drivers-config/mlx5.ini). --force overrides.
# * vfio-pci needs an IOMMU (VT-d/AMD-Vi on in the BIOS, intel_iommu=on iommu=pt on the
#   kernel command line). Without one, vfio-pci works only in vfio's "no-IOMMU" mode
#   (modprobe vfio enable_unsafe_noiommu_mode=1: no DMA isolation, taints the kernel,
#   IOVA as physical addresses), which this script never turns on by itself. With the
#   default --driver auto it picks vfio-pci when there is an IOMMU (or no-IOMMU mode is
#   already on) and uio_pci_generic otherwise; an explicit --driver vfio-pci without
#   either is refused with that explanation. The module is loaded with modprobe; if
#   vfio-pci cannot be loaded under --driver auto, uio_pci_generic is tried.
#
# Every bind is recorded, before dpdk-devbind.py runs, in the state file
# ${MESH_STATE_DIR:-/run/meshd}/bind-nic.state (one line: PCI ORIGINAL_DRIVER NEW_DRIVER
# INTERFACE; the first original driver is kept if a device is bound twice); --undo binds
# the original driver back (or unbinds, if there was none) and drops the line.
# --dry-run prints every command that would change something ("+ command"), runs none,
# and leaves the state file alone; it needs no root. Binding an already bound device is a
# no-op (exit 0).
#
# Exit status: 0 done (or nothing to do), 1 a command failed, 2 bad arguments or no such
# device, 3 refused by a safety rule (or not root).
#
# Environment:
#   MESH_STATE_DIR      state directory (default /run/meshd)
#   MESH_DEVBIND        dpdk-devbind.py to use (default: dpdk-devbind.py from PATH)
#   MESH_BIND_FAKE_ROOT TESTING ONLY: point the script at a fake machine in DIR. sysfs is
#                       read from DIR/sys (bus/pci/devices/ADDR/{class,vendor,device,
#                       driver -> .../drivers/NAME, [virtioN/]net/IFACE}, class/net/IFACE/
#                       upper_*, kernel/iommu_groups/, module/vfio/parameters/...,
#                       bus/pci/drivers/NAME), the commands are DIR/bin/ip,
#                       DIR/bin/dpdk-devbind.py and DIR/bin/modprobe (never the real
#                       ones), the state lives in DIR/run/meshd and root is not required.
#                       The script calls "ip -o addr show dev IF",
#                       "ip -o route show table all dev IF" and
#                       "ip -o -6 route show table all dev IF".
set -euo pipefail

PROG=bind-nic.sh
FAKE=${MESH_BIND_FAKE_ROOT:-}
if [ -n "$FAKE" ]; then
  [ -d "$FAKE" ] || { echo "$PROG: MESH_BIND_FAKE_ROOT=$FAKE is not a directory" >&2; exit 2; }
  SYS=$FAKE/sys
  IP=$FAKE/bin/ip
  DEVBIND=$FAKE/bin/dpdk-devbind.py
  MODPROBE=$FAKE/bin/modprobe
  STATE_DIR=${MESH_STATE_DIR:-$FAKE/run/meshd}
else
  SYS=/sys
  IP=ip
  DEVBIND=${MESH_DEVBIND:-dpdk-devbind.py}
  MODPROBE=modprobe
  STATE_DIR=${MESH_STATE_DIR:-/run/meshd}
fi
STATE=$STATE_DIR/bind-nic.state
PCI=$SYS/bus/pci/devices

die() { local rc=$1; shift; echo "$PROG: $*" >&2; exit "$rc"; }
say() { echo "$PROG: $*"; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

MODE=bind DRY=0 FORCE=0 DRIVER=auto TARGET=''
while [ $# -gt 0 ]; do
  case $1 in
    --list|-l) MODE=list; shift ;;
    --dry-run|-n) DRY=1; shift ;;
    --force) FORCE=1; shift ;;
    --driver) [ $# -ge 2 ] || die 2 "--driver needs a value"; DRIVER=$2; shift 2 ;;
    --driver=*) DRIVER=${1#*=}; shift ;;
    --undo) MODE=undo; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die 2 "unknown option '$1' (see --help)" ;;
    *) [ -z "$TARGET" ] || die 2 "one device at a time ('$TARGET', '$1')"; TARGET=$1; shift ;;
  esac
done
case $DRIVER in
  auto|vfio-pci|uio_pci_generic) ;;
  *) die 2 "unsupported driver '$DRIVER' (vfio-pci or uio_pci_generic)" ;;
esac

# run CMD...: every command that changes the machine goes through here
run() {
  echo "+ $*"
  [ $DRY -eq 1 ] && return 0
  "$@"
}

need_root() {
  [ $DRY -eq 1 ] && return 0
  [ -n "$FAKE" ] && return 0
  [ "$(id -u)" -eq 0 ] || die 3 "must run as root to $1 (or use --dry-run)"
}

# --- device facts ---
net_devices() { # PCI addresses of network-class devices (class 0x02xxxx)
  local d
  for d in "$PCI"/*; do
    [ -r "$d/class" ] || continue
    case $(cat "$d/class") in 0x02*) echo "${d##*/}" ;; esac
  done
}
dev_driver() { # ADDR -> driver name or "-"
  local l
  if l=$(readlink "$PCI/$1/driver" 2>/dev/null); then echo "${l##*/}"; else echo -; fi
}
dev_ifaces() { # ADDR -> kernel interface names (net/IF or virtioN/net/IF)
  find "$PCI/$1/" -mindepth 2 -maxdepth 3 -path '*/net/*' -prune 2>/dev/null |
    sed 's|.*/||' | sort -u
}
dev_ids() { echo "$(sed 's/^0x//' "$PCI/$1/vendor"):$(sed 's/^0x//' "$PCI/$1/device")"; }
ifaces_stacked() { # IF -> IF and every interface stacked on it (upper_*), 3 levels
  local i u seen=" $1 " queue=("$1")
  while [ ${#queue[@]} -gt 0 ]; do
    i=${queue[0]}; queue=("${queue[@]:1}")
    echo "$i"
    for u in "$SYS/class/net/$i"/upper_*; do
      [ -e "$u" ] || continue
      u=${u##*/upper_}
      case $seen in *" $u "*) continue ;; esac
      seen+="$u "; queue+=("$u")
      [ ${#seen} -lt 400 ] || break
    done
  done
}
# what makes an interface "in use": addresses (not IPv6 link-local) and routes (not the
# automatic IPv6 link-local/multicast ones); one "addr X" / "route R" line each
if_usage() { # IF
  local i
  for i in $(ifaces_stacked "$1"); do
    "$IP" -o addr show dev "$i" 2>/dev/null |
      awk -v i="$i" -v ifn="$1" '$3 == "inet" || ($3 == "inet6" && $0 !~ / scope link /) {
        print "addr " $4 (i == ifn ? "" : " on " i) }' || true
    { "$IP" -o route show table all dev "$i" 2>/dev/null
      "$IP" -o -6 route show table all dev "$i" 2>/dev/null; } |
      grep -v -E 'fe80::|^multicast ff00::/8|^(local|broadcast) ' | sed 's/  */ /g; s/ $//' |
      sort -u | awk -v i="$i" -v ifn="$1" '{ print "route " $0 (i == ifn ? "" : " (on " i ")") }' ||
      true
  done
}
dev_usage() { # ADDR -> if_usage of each of its interfaces
  local i
  for i in $(dev_ifaces "$1"); do if_usage "$i"; done
}
resolve() { # DEVICE (0000:00:03.0, 00:03.0 or ifname) -> full PCI address
  local t=$1 a
  case $t in
    [0-9a-fA-F][0-9a-fA-F]:[0-9a-fA-F][0-9a-fA-F].[0-7]) t=0000:$t ;;
  esac
  if [ -e "$PCI/$t" ]; then echo "$t"; return 0; fi
  for a in $(net_devices); do
    if dev_ifaces "$a" | grep -qx -- "$1"; then echo "$a"; return 0; fi
  done
  return 1
}
is_dpdk_driver() { case $1 in vfio-pci|uio_pci_generic|igb_uio) return 0 ;; esac; return 1; }
have_iommu() { [ -n "$(ls -A "$SYS/kernel/iommu_groups" 2>/dev/null)" ]; }
noiommu_on() {
  local f=$SYS/module/vfio/parameters/enable_unsafe_noiommu_mode
  [ -r "$f" ] && grep -qi '^[y1]' "$f"
}

# --- list ---
summary() { # if_usage lines -> "192.0.2.2/24, fd00::2/64; default route; 6 routes"
  local addrs routes
  addrs=$(awk '$1 == "addr" { print $2 ($3 == "on" ? " on " $4 : "") }' <<<"$1" | paste -sd, - | sed 's/,/, /g')
  routes=$(grep -c '^route ' <<<"$1" || true)
  echo "${addrs:-no address}$(grep -q '^route default' <<<"$1" && echo '; default route'); $routes route(s)"
}
list() {
  local a drv ifs use mark n=0
  printf '%-14s %-10s %-10s %-16s %s\n' PCI VENDOR:DEV IFACE DRIVER STATUS
  for a in $(net_devices); do
    n=$((n + 1))
    drv=$(dev_driver "$a")
    ifs=$(dev_ifaces "$a" | paste -sd, -)
    use=$(dev_usage "$a")
    if [ -n "$use" ]; then
      mark="DANGER: host link ($(summary "$use")) - do not bind"
    elif is_dpdk_driver "$drv"; then
      mark="bound to DPDK driver"
    elif [ "$drv" = mlx5_core ]; then
      mark="mlx5: bifurcated, use as is (do not bind)"
    elif [ -n "$ifs" ]; then
      mark="candidate (no address, no route)"
    else
      mark="candidate"
    fi
    printf '%-14s %-10s %-10s %-16s %s\n' "$a" "$(dev_ids "$a")" "${ifs:--}" "$drv" "$mark"
  done
  [ $n -gt 0 ] || echo "(no network PCI devices)"
  if have_iommu; then echo "IOMMU: on (vfio-pci usable)"
  elif noiommu_on; then echo "IOMMU: none; vfio no-IOMMU mode is ON (unsafe, no DMA isolation)"
  else echo "IOMMU: none (vfio-pci unusable; uio_pci_generic, or vfio no-IOMMU mode, see --help)"; fi
  if [ -s "$STATE" ]; then
    echo "bound by $PROG (undo with --undo):"
    awk '{ print "  " $1 ": " $2 " -> " $3 (NF > 3 && $4 != "-" ? " (was " $4 ")" : "") }' "$STATE"
  fi
}

# --- bind ---
load_driver() { # DRIVER -> 0 if usable (or would be, in a dry run)
  [ -d "$SYS/bus/pci/drivers/$1" ] && return 0
  run "$MODPROBE" "$1" || return 1
  [ $DRY -eq 1 ] && return 0
  [ -d "$SYS/bus/pci/drivers/$1" ]
}

bind() {
  [ -n "$TARGET" ] || die 2 "which device? (see --list)"
  local addr drv use ifs want
  addr=$(resolve "$TARGET") || die 2 "no PCI device or interface '$TARGET' (see --list)"
  case $(cat "$PCI/$addr/class") in
    0x02*) ;;
    *) die 2 "$addr is not a network device (class $(cat "$PCI/$addr/class"))" ;;
  esac
  drv=$(dev_driver "$addr")
  ifs=$(dev_ifaces "$addr" | paste -sd, -)
  need_root "bind $addr"

  if [ "$DRIVER" != auto ] && [ "$drv" = "$DRIVER" ]; then
    say "$addr is already bound to $drv; nothing to do"; return 0
  fi
  if [ "$DRIVER" = auto ] && is_dpdk_driver "$drv"; then
    say "$addr is already bound to $drv; nothing to do"; return 0
  fi
  use=$(dev_usage "$addr")
  if [ -n "$use" ]; then
    echo "$PROG: DANGER: $addr (${ifs:-no interface}, driver $drv) is a host link in use:" >&2
    while IFS= read -r l; do echo "    $l"; done <<<"$use" >&2
    if [ $FORCE -eq 0 ]; then
      die 3 "refusing to bind it: this would cut the host off that network. Remove the addresses and routes first, or pass --force if you really mean it"
    fi
    echo "$PROG: --force given: binding it anyway" >&2
  fi
  if [ "$drv" = mlx5_core ] && [ $FORCE -eq 0 ]; then
    die 3 "refusing: $addr is an mlx5 (ConnectX) port; mlx5 is bifurcated and DPDK uses it while it stays on mlx5_core (see drivers-config/mlx5.ini). --force overrides"
  fi

  # which driver
  want=$DRIVER
  if [ "$want" = auto ]; then
    if have_iommu || noiommu_on; then want=vfio-pci; else want=uio_pci_generic
      say "no IOMMU on this machine: using uio_pci_generic (no DMA isolation; vfio-pci needs an IOMMU, or vfio's unsafe no-IOMMU mode: modprobe vfio enable_unsafe_noiommu_mode=1)"
    fi
  elif [ "$want" = vfio-pci ] && ! have_iommu && ! noiommu_on; then
    die 3 "refusing vfio-pci: this machine has no IOMMU (no $SYS/kernel/iommu_groups). Turn on VT-d/AMD-Vi in the BIOS and boot with intel_iommu=on iommu=pt (AMD: amd_iommu=on), or use --driver uio_pci_generic, or enable vfio's unsafe no-IOMMU mode yourself (modprobe vfio enable_unsafe_noiommu_mode=1; no DMA isolation, taints the kernel)"
  fi
  if [ "$want" = vfio-pci ] && have_iommu && [ -d "$PCI/$addr/iommu_group/devices" ]; then
    local o od
    for o in "$PCI/$addr/iommu_group/devices"/*; do
      o=${o##*/}; [ "$o" = "$addr" ] && continue
      od=$(dev_driver "$o")
      [ "$od" = - ] || [ "$od" = vfio-pci ] ||
        echo "$PROG: warning: $o shares IOMMU group $(basename "$(readlink "$PCI/$addr/iommu_group")") and is on $od; vfio needs every device of the group on vfio-pci or unbound" >&2
    done
  fi
  if ! load_driver "$want"; then
    if [ "$DRIVER" = auto ] && [ "$want" = vfio-pci ] && load_driver uio_pci_generic; then
      say "vfio-pci could not be loaded; using uio_pci_generic"
      want=uio_pci_generic
    else
      die 1 "cannot load the $want kernel module (is it built for this kernel? Debian: linux-image-$(uname -r))"
    fi
  fi
  [ "$drv" != "$want" ] || { say "$addr is already bound to $want; nothing to do"; return 0; }

  local added=0
  if [ $DRY -eq 0 ]; then
    mkdir -p "$STATE_DIR"
    if ! grep -q "^$addr " "$STATE" 2>/dev/null; then
      echo "$addr $drv $want ${ifs:--}" >>"$STATE"; added=1
    fi
  fi
  local -a cmd=("$DEVBIND")
  [ $FORCE -eq 1 ] && cmd+=(--force)
  cmd+=(-b "$want" "$addr")
  if ! run "${cmd[@]}" || { [ $DRY -eq 0 ] && [ "$(dev_driver "$addr")" != "$want" ]; }; then
    if [ $added -eq 1 ]; then
      grep -v "^$addr " "$STATE" >"$STATE.new" || true
      mv "$STATE.new" "$STATE"; [ -s "$STATE" ] || rm -f "$STATE"
    fi
    die 1 "binding $addr to $want failed (driver now: $(dev_driver "$addr"))"
  fi
  if [ $DRY -eq 1 ]; then
    say "dry run: would bind $addr ($drv${ifs:+, $ifs}) to $want and record it in $STATE; nothing changed"
  else
    say "$addr bound to $want (was $drv); use it with EAL -a $addr; undo: $0 --undo $addr"
  fi
}

# --- undo ---
undo() {
  local addr='' a orig new ifs rc=0 cur
  if [ -n "$TARGET" ]; then
    addr=$(resolve "$TARGET") || die 2 "no PCI device '$TARGET'"
  fi
  if [ ! -s "$STATE" ]; then say "nothing to undo (no $STATE)"; return 0; fi
  if [ -n "$addr" ] && ! grep -q "^$addr " "$STATE"; then
    say "$addr was not bound by $PROG; nothing to undo"; return 0
  fi
  need_root "restore kernel drivers"
  while read -r a orig new ifs; do
    [ -z "$addr" ] || [ "$a" = "$addr" ] || continue
    [ "$ifs" != - ] || ifs=''
    cur=$(dev_driver "$a")
    if [ "$cur" = "$orig" ]; then
      say "$a is on $orig already"
    elif [ "$orig" = - ]; then
      run "$DEVBIND" -u "$a" || rc=1
    else
      run "$DEVBIND" -b "$orig" "$a" || rc=1
    fi
    if [ $DRY -eq 0 ]; then
      cur=$(dev_driver "$a")
      if [ "$cur" = "$orig" ]; then
        grep -v "^$a " "$STATE" >"$STATE.new" || true
        mv "$STATE.new" "$STATE"
        say "$a restored to $orig${ifs:+ ($ifs)} (was $new)"
      else
        echo "$PROG: $a is on $cur, could not restore $orig; kept in $STATE" >&2
        rc=1
      fi
    fi
  done < <(tac "$STATE")
  [ -s "$STATE" ] || rm -f "$STATE"
  [ $DRY -eq 0 ] || say "dry run: nothing changed"
  return $rc
}

case $MODE in
  list) list ;;
  bind) bind ;;
  undo) undo || exit 1 ;;
esac
