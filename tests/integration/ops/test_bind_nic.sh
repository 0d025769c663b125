#!/usr/bin/env bash
# Integration (ops): scripts/bind-nic.sh. Never binds or unbinds a real device.
#   real, read-only: --list shows this machine's NIC; its host link (0000:00:03.0, eth0,
#   the only NIC of these VMs) is refused under --dry-run by PCI address, short address
#   and interface name, before any command is printed; the driver, addresses and routes of
#   eth0 are the same afterwards; non-network/unknown devices and bad options are refused
#   fake machine (MESH_BIND_FAKE_ROOT: fake sysfs, ip, dpdk-devbind.py, modprobe):
#   --list markers; refusals (address, route, address on a bond above the port, mlx5,
#   vfio-pci without IOMMU); driver choice (IOMMU -> vfio-pci, none -> uio_pci_generic,
#   vfio no-IOMMU mode); --dry-run prints and changes nothing; bind/undo bookkeeping
#   (original driver recorded, no-op re-bind, unbound original, --undo of one device and
#   of all); modprobe and dpdk-devbind.py failures
# Usage: test_bind_nic.sh SCRIPTS_DIR   (root for the real part; without root only the
# fake part runs)
set -u
SCRIPTS=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tap.sh"
source "$here/ops_lib.sh"
BN=$SCRIPTS/bind-nic.sh
T=$(mktemp -d /tmp/ops-bn.XXXXXX)
trap 'rm -rf "$T"' EXIT
export MESH_STATE_DIR=$T/state

# --- real machine, read-only ---
HOST_PCI=0000:00:03.0
if [ -e "/sys/bus/pci/devices/$HOST_PCI" ] && [ -e /sys/class/net/eth0 ] &&
   [ -n "$(ip -o addr show dev eth0 2>/dev/null)" ]; then
  drv_before=$(readlink "/sys/bus/pci/devices/$HOST_PCI/driver")
  addr_before=$(ip -o addr show dev eth0)
  route_before=$(ip route show table all dev eth0)
  capture "$BN" --list
  expect "real --list: exit 0, $HOST_PCI eth0 marked DANGER: host link" 0 \
    "^$HOST_PCI .* eth0 .*DANGER: host link"
  for dev in "$HOST_PCI" 00:03.0 eth0; do
    capture "$BN" --dry-run "$dev"
    expect "real: host link refused by name '$dev' under --dry-run, exit 3" 3 \
      "DANGER: $HOST_PCI \(eth0" "refusing to bind"
    expect_not "real: nothing printed as a command for '$dev'" '^\+ '
  done
  capture "$BN" --dry-run --driver uio_pci_generic "$HOST_PCI"
  expect "real: host link refused with an explicit --driver too" 3 "refusing to bind"
  if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
    capture setpriv --reuid=65534 --regid=65534 --clear-groups "$BN" "$HOST_PCI"
    expect "real: binding without root refused, exit 3" 3 "must run as root"
  fi
  is "real: eth0 driver unchanged" "$(readlink "/sys/bus/pci/devices/$HOST_PCI/driver")" "$drv_before"
  is "real: eth0 addresses unchanged" "$(ip -o addr show dev eth0)" "$addr_before"
  is "real: eth0 routes unchanged" "$(ip route show table all dev eth0)" "$route_before"
  ok_if "real: no state file written" test ! -e "$MESH_STATE_DIR/bind-nic.state"
  capture "$BN" --dry-run --undo
  expect "real: --undo with nothing recorded, exit 0" 0 "nothing to undo"
else
  echo "# real part skipped: no $HOST_PCI/eth0 with an address here"
fi
capture "$BN" --dry-run 0000:99:1f.7
expect "unknown device refused, exit 2" 2 "no PCI device or interface"
capture "$BN" --dry-run --driver igb_uio 0000:99:1f.7
expect "unsupported driver refused, exit 2" 2 "unsupported driver"
capture "$BN" --frobnicate
expect "unknown option refused, exit 2" 2 "unknown option"

# --- fake machine ---
F=$T/fake
export MESH_BIND_FAKE_ROOT=$F
unset MESH_STATE_DIR
STATE=$F/run/meshd/bind-nic.state
mkdev() { # ADDR CLASS VENDOR DEVICE DRIVER|- [IFACE [virtio]]
  local d=$F/sys/bus/pci/devices/$1
  mkdir -p "$d"
  echo "$2" >"$d/class"; echo "$3" >"$d/vendor"; echo "$4" >"$d/device"
  if [ "$5" != - ]; then
    mkdir -p "$F/sys/bus/pci/drivers/$5"
    ln -s "../../../bus/pci/drivers/$5" "$d/driver"
  fi
  if [ -n "${6:-}" ]; then
    if [ -n "${7:-}" ]; then mkdir -p "$d/virtio0/net/$6"; else mkdir -p "$d/net/$6"; fi
    mkdir -p "$F/sys/class/net/$6"
    touch "$F/ip/$6.addr" "$F/ip/$6.route"
  fi
}
mkfake() {
  rm -rf "$F"
  mkdir -p "$F/bin" "$F/ip" "$F/sys/kernel/iommu_groups" "$F/sys/bus/pci/drivers"
  cat >"$F/bin/ip" <<'EOS'
#!/bin/sh
# fake ip: -o addr show dev IF | -o [-6] route show table all dev IF
F=$MESH_BIND_FAKE_ROOT
for last; do :; done
case "$*" in
  "-o addr show dev "*) cat "$F/ip/$last.addr" 2>/dev/null ;;
  "-o route show table all dev "*) cat "$F/ip/$last.route" 2>/dev/null ;;
  "-o -6 route show table all dev "*) ;;
  *) echo "fake ip: unexpected: $*" >&2; exit 1 ;;
esac
EOS
  cat >"$F/bin/dpdk-devbind.py" <<'EOS'
#!/bin/sh
# fake dpdk-devbind.py: log, then move the driver symlink
F=$MESH_BIND_FAKE_ROOT
echo "$*" >>"$F/devbind.log"
[ -e "$F/devbind.fail" ] && { echo "fake devbind: failing" >&2; exit 1; }
[ "$1" = --force ] && shift
case $1 in
  -b) rm -f "$F/sys/bus/pci/devices/$3/driver"
      ln -s "../../../bus/pci/drivers/$2" "$F/sys/bus/pci/devices/$3/driver" ;;
  -u) rm -f "$F/sys/bus/pci/devices/$2/driver" ;;
  *) exit 2 ;;
esac
EOS
  cat >"$F/bin/modprobe" <<'EOS'
#!/bin/sh
F=$MESH_BIND_FAKE_ROOT
echo "$*" >>"$F/modprobe.log"
grep -qx "$1" "$F/modprobe.fail" 2>/dev/null && { echo "modprobe: FATAL: Module $1 not found" >&2; exit 1; }
mkdir -p "$F/sys/bus/pci/drivers/$1"
EOS
  chmod +x "$F/bin/"*
  # the host link: virtio, eth0 with addresses and the default route
  mkdev 0000:00:03.0 0x020000 0x1af4 0x1041 virtio-pci eth0 virtio
  printf '2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever\n2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever\n' >"$F/ip/eth0.addr"
  printf 'default via 192.0.2.1 \n192.0.2.0/24 proto kernel scope link src 192.0.2.2 \n' >"$F/ip/eth0.route"
  # a free ixgbe port
  mkdev 0000:5e:00.0 0x020000 0x8086 0x10fb ixgbe ens1f0
  # an ixgbe port enslaved to bond0, which carries the address
  mkdev 0000:5e:00.1 0x020000 0x8086 0x10fb ixgbe ens1f1
  mkdir -p "$F/sys/class/net/bond0"; ln -s ../bond0 "$F/sys/class/net/ens1f1/upper_bond0"
  printf '7: bond0    inet 10.1.0.5/16 scope global bond0\\       valid_lft forever preferred_lft forever\n' >"$F/ip/bond0.addr"
  touch "$F/ip/bond0.route"
  # a port with only a route through it (no address)
  mkdev 0000:5e:00.2 0x020000 0x8086 0x10fb ixgbe ens1f2
  printf '10.50.0.0/16 via 10.1.0.1 \n' >"$F/ip/ens1f2.route"
  # mlx5 (bifurcated)
  mkdev 0000:3b:00.0 0x020000 0x15b3 0x1017 mlx5_core ens2
  # ice port that is up with an IPv6 link-local address only
  mkdev 0000:af:00.0 0x020000 0x8086 0x1592 ice ens3
  printf '9: ens3    inet6 fe80::2/64 scope link \\       valid_lft forever preferred_lft forever\n' >"$F/ip/ens3.addr"
  printf 'fe80::/64 proto kernel metric 256 pref medium\nmulticast ff00::/8 table local proto kernel metric 256 pref medium\n' >"$F/ip/ens3.route"
  # an ice port with no driver at all
  mkdev 0000:af:00.1 0x020000 0x8086 0x1592 -
  # not a NIC
  mkdev 0000:00:04.0 0xffff00 0x1af4 0x1042 virtio-pci
}
fdrv() { basename "$(readlink "$F/sys/bus/pci/devices/$1/driver" 2>/dev/null || echo -)"; }
iommu_on() { mkdir -p "$F/sys/kernel/iommu_groups/12"; }

mkfake
capture "$BN" --list
expect "fake --list: eth0 host link marked DANGER (address, default route)" 0 \
  '^0000:00:03.0 .*eth0 .*DANGER: host link \(192.0.2.2/24; default route'
expect "fake --list: ens1f1 marked DANGER through bond0" 0 '^0000:5e:00.1 .*DANGER: host link \(10.1.0.5/16'
expect "fake --list: ens1f2 marked DANGER for its route" 0 '^0000:5e:00.2 .*DANGER: host link \(no address; 1 route'
expect "fake --list: ens1f0 is a candidate" 0 '^0000:5e:00.0 +8086:10fb +ens1f0 +ixgbe +candidate'
expect "fake --list: link-local-only ens3 is a candidate" 0 '^0000:af:00.0 .*ens3 .*candidate'
expect "fake --list: mlx5 marked bifurcated" 0 '^0000:3b:00.0 .*mlx5: bifurcated'
expect "fake --list: no IOMMU reported" 0 '^IOMMU: none'
expect_not "fake --list: the non-NIC 0000:00:04.0 is not listed" '^0000:00:04.0'

capture "$BN" --dry-run eth0
expect "fake: eth0 refused, exit 3" 3 "DANGER: 0000:00:03.0 \(eth0" "addr 192.0.2.2/24" "route default via 192.0.2.1"
expect_not "fake: the IPv6 link-local address does not count" "fe80"
capture "$BN" --dry-run 5e:00.1
expect "fake: port under a bond with an address refused, exit 3" 3 "addr 10.1.0.5/16 on bond0"
capture "$BN" --dry-run ens1f2
expect "fake: port carrying a route refused, exit 3" 3 "route 10.50.0.0/16 via 10.1.0.1"
capture "$BN" --dry-run 0000:3b:00.0
expect "fake: mlx5 refused, exit 3" 3 "bifurcated"
capture "$BN" --dry-run 0000:00:04.0
expect "fake: non-network device refused, exit 2" 2 "not a network device"

capture "$BN" --dry-run ens1f0
expect "fake dry run, no IOMMU: uio_pci_generic chosen, commands printed" 0 \
  "no IOMMU" "^\+ $F/bin/modprobe uio_pci_generic$" \
  "^\+ $F/bin/dpdk-devbind.py -b uio_pci_generic 0000:5e:00.0$" "nothing changed"
capture "$BN" --dry-run --driver vfio-pci ens1f0
expect "fake: vfio-pci without IOMMU refused with the no-IOMMU explanation, exit 3" 3 \
  "no IOMMU" "enable_unsafe_noiommu_mode=1" "uio_pci_generic"
mkdir -p "$F/sys/module/vfio/parameters"; echo Y >"$F/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
capture "$BN" --dry-run --driver vfio-pci ens1f0
expect "fake: vfio-pci accepted in vfio no-IOMMU mode" 0 "^\+ .*dpdk-devbind.py -b vfio-pci 0000:5e:00.0$"
rm -rf "$F/sys/module"
capture "$BN" --dry-run --force eth0
expect "fake: --force --dry-run on the host link prints the forced command" 0 \
  "DANGER" "^\+ .*dpdk-devbind.py --force -b uio_pci_generic 0000:00:03.0$"
ok_if "fake: dry runs ran no devbind and no modprobe" \
  test ! -e "$F/devbind.log" -a ! -e "$F/modprobe.log"
ok_if "fake: dry runs wrote no state" test ! -e "$STATE"
is "fake: dry runs changed no driver" "$(fdrv 0000:5e:00.0) $(fdrv 0000:00:03.0)" "ixgbe virtio-pci"

iommu_on
capture "$BN" ens1f0
expect "fake bind with IOMMU: vfio-pci loaded and bound, exit 0" 0 \
  "^\+ $F/bin/modprobe vfio-pci$" "bound to vfio-pci \(was ixgbe\)" "-a 0000:5e:00.0"
is "fake: driver is now vfio-pci" "$(fdrv 0000:5e:00.0)" vfio-pci
ok_if "fake: state records the original driver" grep -qx "0000:5e:00.0 ixgbe vfio-pci ens1f0" "$STATE"
capture "$BN" ens1f0
expect "fake: binding again is a no-op" 0 "already bound to vfio-pci"
is "fake: no second devbind call" "$(wc -l <"$F/devbind.log")" 1
capture "$BN" 0000:af:00.1
expect "fake: bind an unbound port" 0 "bound to vfio-pci \(was -\)"
ok_if "fake: state records no original driver as '-'" grep -qx "0000:af:00.1 - vfio-pci -" "$STATE"
capture "$BN" --list
expect "fake --list shows what the script bound" 0 "bound to DPDK driver" "0000:5e:00.0: ixgbe -> vfio-pci"

before=$(cat "$STATE")
capture "$BN" --dry-run --undo
expect "fake --dry-run --undo prints both restores" 0 \
  "^\+ .*dpdk-devbind.py -u 0000:af:00.1$" "^\+ .*dpdk-devbind.py -b ixgbe 0000:5e:00.0$"
is "fake --dry-run --undo keeps the state" "$(cat "$STATE")" "$before"
is "fake --dry-run --undo changes no driver" "$(fdrv 0000:5e:00.0) $(fdrv 0000:af:00.1)" "vfio-pci vfio-pci"
capture "$BN" --undo ens1f0
expect "fake --undo ens1f0 restores ixgbe" 0 "0000:5e:00.0 restored to ixgbe"
is "fake: ens1f0 back on ixgbe, af:00.1 still on vfio-pci" \
  "$(fdrv 0000:5e:00.0) $(fdrv 0000:af:00.1)" "ixgbe vfio-pci"
is "fake: state keeps only the other device" "$(cat "$STATE")" "0000:af:00.1 - vfio-pci -"
capture "$BN" --undo
expect "fake --undo (all) unbinds the port that had no driver" 0 "0000:af:00.1 restored to -"
is "fake: af:00.1 unbound again" "$(fdrv 0000:af:00.1)" -
ok_if "fake: state file removed after the last undo" test ! -e "$STATE"
capture "$BN" --undo
expect "fake: --undo with nothing left, exit 0" 0 "nothing to undo"

mkfake; iommu_on
echo vfio-pci >"$F/modprobe.fail"
capture "$BN" ens1f0
expect "fake: vfio-pci module missing, auto falls back to uio_pci_generic" 0 \
  "using uio_pci_generic" "bound to uio_pci_generic"
"$BN" --undo >/dev/null 2>&1
capture "$BN" --driver vfio-pci ens1f0
expect "fake: explicit --driver vfio-pci that cannot be loaded fails, exit 1" 1 "cannot load the vfio-pci kernel module"
ok_if "fake: nothing recorded after the failed load" test ! -e "$STATE"
rm -f "$F/modprobe.fail"
touch "$F/devbind.fail"
capture "$BN" ens1f0
expect "fake: dpdk-devbind.py failure reported, exit 1" 1 "binding 0000:5e:00.0 to vfio-pci failed"
ok_if "fake: the failed bind left no state line" test ! -s "$STATE"
is "fake: driver unchanged after the failed bind" "$(fdrv 0000:5e:00.0)" ixgbe

tap_done
