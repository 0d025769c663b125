#!/usr/bin/env bash
# Integration (ops): what `meson install` puts on a machine, checked in a DESTDIR.
#   files: meshd, meshctl, libmeshclient (+ .so link), mesh_client.h, meshclient.pc, the
#   systemd unit and env file, the helper scripts, man pages, example configs, deployment.md
#   the unit: paths substituted for this prefix, systemd-analyze verify clean (offline),
#   ExecStart run as written (instance "ops", config in a temporary confdir, node in a
#   network namespace on a veth): the node comes up, the installed meshctl reaches it,
#   SIGTERM (KillSignal) ends it with 0; a broken config exits 2 (RestartPreventExitStatus)
#   man pages: groff -ww without warnings, man -l renders them
#   the installed binaries find their libraries; meshd --check-config accepts every
#   installed example config (keyed: its key_file pointed at a key from the installed
#   meshd keygen)
#   the key file step (install-keys.sh): a DESTDIR install makes no key; run for a real
#   confdir it makes cluster.keys with keygen (mode 0600) and keeps an existing one
#   a tiny C client compiled and linked only through the installed meshclient.pc
#   (PKG_CONFIG_PATH + PKG_CONFIG_SYSROOT_DIR into the DESTDIR), run against no node:
#   ENOENT for a missing socket, ECONNREFUSED for a socket nobody listens on
# Usage: test_install.sh BUILD_DIR   (root for the namespace part; 77 = skipped)
set -u
BUILD=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tap.sh"
source "$here/ops_lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root (network namespace)"; exit 77; }
T=$(mktemp -d /tmp/ops-inst.XXXXXX)
D=$T/destdir
NS=opsi$$
PREFIX_DPDK=opsi$$
npid=
cleanup() {
  [ -n "$npid" ] && kill -KILL "$npid" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "/var/run/dpdk/$PREFIX_DPDK" "/var/run/dpdk/${PREFIX_DPDK}b"
  rm -rf "$T"
}
trap cleanup EXIT

capture meson install -C "$BUILD" --no-rebuild --destdir "$D"
expect "meson install --destdir exits 0" 0
[ "$rc" -eq 0 ] || { tap_done; exit; }

opt() { # meson option value
  meson introspect "$BUILD" --buildoptions |
    python3 -c "import json,sys; print(next(o['value'] for o in json.load(sys.stdin) if o['name'] == '$1'))"
}
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
prefix=$(opt prefix)
libdir=$(abs "$(opt libdir)")
P=$D$prefix
SBIN=$D$(abs "$(opt sbindir)")
BIN=$D$(abs "$(opt bindir)")
LIB=$D$libdir
INC=$D$(abs "$(opt includedir)")
MAN=$D$(abs "$(opt mandir)")
DATA=$D$(abs "$(opt datadir)")
sysconf=$(opt sysconfdir)
if [ "$prefix" = /usr ] && [ "$sysconf" = etc ]; then sysconf=/etc; fi
CONFDIR=$(abs "$sysconf")/meshd
LIBEXEC=$D$(abs "$(opt libexecdir)")/meshd
if [ "$prefix" = /usr ]; then
  UNITDIR=$D$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
else
  UNITDIR=$P/lib/systemd/system
fi
UNIT=$UNITDIR/meshd@.service

# --- files ---
ok_if "meshd installed in sbindir" test -x "$SBIN/meshd"
ok_if "meshctl installed in bindir" test -x "$BIN/meshctl"
ok_if "libmeshclient.so.0.1.0 installed" test -f "$LIB/libmeshclient.so.0.1.0"
ok_if "libmeshclient.so development link" test -L "$LIB/libmeshclient.so"
ok_if "mesh_client.h installed" test -f "$INC/mesh_client.h"
ok_if "meshclient.pc installed" test -f "$LIB/pkgconfig/meshclient.pc"
ok_if "meshd@.service installed in $UNITDIR" test -f "$UNIT"
ok_if "meshd.env installed in $CONFDIR" test -f "$D$CONFDIR/meshd.env"
ok_if "setup-hugepages.sh installed, executable" test -x "$LIBEXEC/setup-hugepages.sh"
ok_if "bind-nic.sh installed, executable" test -x "$LIBEXEC/bind-nic.sh"
ok_if "meshd.8 installed" test -f "$MAN/man8/meshd.8"
ok_if "meshctl.1 installed" test -f "$MAN/man1/meshctl.1"
ok_if "example configs installed" test -f "$DATA/meshd/drivers-config/af_packet-veth.ini"
ok_if "deployment.md installed" test -f "$DATA/doc/meshd/deployment.md"

# --- installed binaries run and find their libraries ---
export LD_LIBRARY_PATH=$LIB
capture ldd "$SBIN/meshd" "$BIN/meshctl"
expect_not "installed meshd and meshctl resolve every library" "not found"
capture "$BIN/meshctl" --help
expect "installed meshctl --help" 0 "^Usage: meshctl"
n=0
capture "$SBIN/meshd" keygen "$T/cluster.keys"
expect "installed meshd keygen" 0
for f in "$DATA"/meshd/drivers-config/*.ini; do
  sed "s|^key_file = .*|key_file = $T/cluster.keys|" "$f" >"$T/$(basename "$f")"
  capture "$SBIN/meshd" --check-config "$T/$(basename "$f")"
  expect "installed meshd --check-config $(basename "$f")" 0 ", keyed\)$"
  n=$((n + 1))
done
is "every drivers-config file is installed" "$n" \
  "$(find "$here/../../../drivers-config" -maxdepth 1 -name '*.ini' | wc -l)"

# --- the cluster key file ---
ok_if "a DESTDIR install makes no key file (a package must not carry one)" \
  test ! -e "$D$CONFDIR/cluster.keys"
IK=$here/../../../scripts/install-keys.sh
capture env -u DESTDIR "$IK" "$SBIN/meshd" "$T/conf"
expect "install-keys.sh on a real confdir makes cluster.keys" 0
is "... mode 0600" "$(stat -c %a "$T/conf/cluster.keys" 2>&1)" 600
ok_if "... in the key-file format" grep -qE '^1 [0-9a-f]{64} primary$' "$T/conf/cluster.keys"
sum=$(sha256sum <"$T/conf/cluster.keys")
capture env -u DESTDIR "$IK" "$SBIN/meshd" "$T/conf"
expect "install-keys.sh again keeps the existing key file" 0 "exists, kept"
is "... unchanged" "$(sha256sum <"$T/conf/cluster.keys")" "$sum"

# --- man pages ---
for m in "$MAN/man8/meshd.8" "$MAN/man1/meshctl.1" "$MAN/man5/meshd.ini.5" \
         "$MAN/man3/libmeshclient.3"; do
  capture groff -ww -z -man "$m"
  expect "groff -ww: $(basename "$m") has no warnings" 0
  expect_not "groff -ww: $(basename "$m") prints nothing" "."
  capture env MANWIDTH=80 man -l "$m"
  case $m in
    *.[18]) last="^EXIT STATUS" ;;  # commands
    *.3) last="^RETURN VALUE" ;;
    *) last="^SEE ALSO" ;;
  esac
  expect "man -l renders $(basename "$m")" 0 "^NAME" "^SYNOPSIS" "$last"
done

# --- the unit ---
ok_if "unit ExecStart runs the installed meshd with confdir/%i.ini" \
  grep -qx "ExecStart=$prefix/$(opt sbindir)/meshd -- --config $CONFDIR/%i.ini --name %i \$MESHD_ARGS" "$UNIT"
ok_if "unit hugepage step uses the installed setup-hugepages.sh" \
  grep -q "^ExecStartPre=+/bin/sh -c .*${LIBEXEC#"$D"}/setup-hugepages.sh" "$UNIT"
for k in Type=notify KillSignal=SIGTERM Restart=on-failure RestartPreventExitStatus=2 RuntimeDirectory=meshd \
         "EnvironmentFile=-$CONFDIR/meshd.env" "EnvironmentFile=-$CONFDIR/%i.env"; do
  ok_if "unit has $k" grep -qx -- "$k" "$UNIT"
done
ok_if "unit has no unsubstituted @variables@" test "$(grep -c '@[a-z]*@' "$UNIT")" -eq 0
if command -v systemd-analyze >/dev/null; then
  # offline: a copy whose binaries point into the DESTDIR; man pages from the DESTDIR
  mkdir -p "$T/units"
  sed -e "s|=$prefix/|=$P/|; s|exec ${LIBEXEC#"$D"}/|exec $LIBEXEC/|" "$UNIT" >"$T/units/meshd@ops.service"
  capture env MANPATH="$MAN" SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$T/units/meshd@ops.service"
  expect "systemd-analyze verify meshd@ops.service: exit 0" 0
  expect_not "systemd-analyze verify: no warnings" "."
else
  echo "# systemd-analyze not installed: unit not verified"
fi

# --- the unit's ExecStart, run as systemd would (instance ops) ---
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
exec_start=${exec_start//%i/ops}
exec_start=${exec_start//\$MESHD_ARGS/}
exec_start=${exec_start//$CONFDIR/$T/etc}
exec_start=${exec_start/#$prefix\//$P/}
mkdir -p "$T/etc"
cat >"$T/etc/ops.ini" <<EOF
[eal]
args = -l 0 --no-huge -m 128 --no-pci --no-shconf --file-prefix $PREFIX_DPDK --vdev=net_af_packet0,iface=eth0 --log-level=lib.eal:warning
[node]
name = ops
ip = 10.96.0.1
ctl_socket = $T/ops1.sock
[cluster]
key_file = $T/cluster.keys
EOF
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth0 type veth peer name peer0
ip -n "$NS" link set eth0 up
ip -n "$NS" link set peer0 up
# shellcheck disable=SC2086 # ExecStart is split on spaces, like systemd does here
ip netns exec "$NS" timeout 120 $exec_start >"$T/node.log" 2>&1 &
npid=$!
for _ in $(seq 1 100); do [ -S "$T/ops1.sock" ] && break; sleep 0.1; done
capture "$BIN/meshctl" -s "$T/ops1.sock" health
expect "ExecStart ($exec_start) starts a node; installed meshctl health" 0 "^ok"
capture "$BIN/meshctl" -s "$T/ops1.sock" put config:ops v1
capture "$BIN/meshctl" -s "$T/ops1.sock" get config:ops
expect "installed meshctl put/get through the node" 0 "v1"
kill -TERM "$npid"
wait "$npid"
rc=$?
npid=
is "SIGTERM (the unit's KillSignal) ends meshd with exit 0" "$rc" 0
sed -i -e 's/^ip = .*/ip = 10.96.0.300/' -e "s/--file-prefix $PREFIX_DPDK /--file-prefix ${PREFIX_DPDK}b /" \
  "$T/etc/ops.ini"
# shellcheck disable=SC2086
capture ip netns exec "$NS" timeout 60 $exec_start
expect "a broken config exits 2 (not restarted: RestartPreventExitStatus=2)" 2
capture "$SBIN/meshd" --check-config "$T/etc/ops.ini"
expect "meshd --check-config names the bad key" 2 "ip"

# --- a tiny client built only from the installed pkg-config file ---
cat >"$T/client.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <mesh_client.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : MESH_CLIENT_SOCKET_DIR "/no-such-node.sock";
	struct mesh_client *c = mesh_client_connect(path);

	if (c == NULL) {
		int e = errno;
		printf("connect %s: %s (%s)\n", path, strerror(e),
		       e == ENOENT ? "ENOENT" : e == ECONNREFUSED ? "ECONNREFUSED" : "other");
		return e == ENOENT || e == ECONNREFUSED ? 3 : 1;
	}
	mesh_client_close(c);
	return 0;
}
EOF
pc() { PKG_CONFIG_PATH=$LIB/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D pkg-config "$@"; }
capture pc --modversion meshclient
expect "pkg-config finds meshclient in the DESTDIR" 0 "^0.1.0$"
flags=$(pc --cflags --libs meshclient)
ok_if "pkg-config flags point into the DESTDIR ($flags)" contains "$flags" "-I$INC( |$).*-L$LIB|-L$LIB.*-I$INC"
# shellcheck disable=SC2086
capture cc -Wall -Werror -o "$T/client" "$T/client.c" $flags
expect "tiny client compiles and links against the installed library" 0
capture ldd "$T/client"
expect "tiny client loads libmeshclient from the DESTDIR" 0 "libmeshclient.so.0 => $LIB/libmeshclient.so.0"
capture "$T/client" "$T/no-such-dir/x.sock"
expect "tiny client, no node (missing socket): fails cleanly with ENOENT" 3 "\(ENOENT\)"
python3 -c "import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind('$T/stale.sock')"
capture "$T/client" "$T/stale.sock"
expect "tiny client, no node (stale socket): fails cleanly with ECONNREFUSED" 3 "\(ECONNREFUSED\)"
capture "$BIN/meshctl" -s "$T/stale.sock" health
expect "installed meshctl, no node: exit 3" 3 "cannot connect"

tap_done
