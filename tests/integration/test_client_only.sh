#!/usr/bin/env bash
# Integration: libmeshclient builds and installs without DPDK. Configures a client_only
# build of this source tree with PKG_CONFIG_LIBDIR holding only the non-DPDK .pc files it
# needs (protobuf-c, jansson), checks meson found no dpdk dependency, builds and
# DESTDIR-installs it (library, header, meshclient.pc, client.proto, meshctl), then
# compiles and runs a small C program against the installed copy with
# `pkg-config --cflags --libs meshclient`. Needs no root and no node.
# Usage: test_client_only.sh SOURCE_ROOT
set -u
SRC=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/pc"
for p in libprotobuf-c jansson; do
  f=$(pkg-config --variable=pcfiledir "$p")/$p.pc
  cp "$f" "$tmp/pc/"
done
export PKG_CONFIG_LIBDIR=$tmp/pc PKG_CONFIG_PATH=
ok_if "libdpdk is hidden from pkg-config" test -z "$(pkg-config --modversion libdpdk 2>/dev/null)"

nice meson setup "$tmp/b" "$SRC" -Dclient_only=true -Dtests=false -Dbenchmarks=false \
  --prefix=/usr --libdir=lib >"$tmp/setup.log" 2>&1
rc=$?
is "client_only configures without DPDK" "$rc" 0
[ "$rc" -eq 0 ] || { tail -20 "$tmp/setup.log"; tap_done; exit 1; }
deps=$(meson introspect --dependencies "$tmp/b" 2>/dev/null | python3 -c '
import json, sys; print(" ".join(sorted(d["name"] for d in json.load(sys.stdin))))')
ok_if "no dpdk dependency ($deps)" bash -c "! grep -qi dpdk <<<'$deps'"
ok_if "only protobuf-c and jansson ($deps)" bash -c "grep -q libprotobuf-c <<<'$deps' && grep -q jansson <<<'$deps'"
nice ninja -C "$tmp/b" >"$tmp/build.log" 2>&1
rc=$?
is "client_only builds" "$rc" 0
[ "$rc" -eq 0 ] || tail -20 "$tmp/build.log"
ok_if "nothing DPDK was built" bash -c "! ls '$tmp/b/app' | grep -q meshd"
DESTDIR=$tmp/dest meson install -C "$tmp/b" --no-rebuild >"$tmp/install.log" 2>&1
is "DESTDIR install" "$?" 0
d=$tmp/dest/usr
for f in include/mesh_client.h lib/pkgconfig/meshclient.pc share/meshd/client.proto bin/meshctl; do
  ok_if "installed $f" test -s "$d/$f"
done
ok_if "installed libmeshclient.so" bash -c "ls '$d'/lib/libmeshclient.so*"
ok_if "installed client.proto is the source's" cmp "$SRC/proto/client.proto" "$d/share/meshd/client.proto"

cat >"$tmp/app.c" <<'CEOF'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <mesh_client.h>
int main(int argc, char **argv)
{
	struct mesh_client *c = mesh_client_connect(argc > 1 ? argv[1] : "/nonexistent.sock");
	if (c != NULL)
		return 1;
	printf("%s %s %d %s %s\n", mesh_client_error_name(MESH_CLIENT_E_QUOTA),
	       mesh_client_error_name(mesh_client_error_from_errno(-EDQUOT)), errno == ENOENT,
	       mesh_client_event_kind_name(MESH_CLIENT_EVENT_SNAPSHOT_END),
	       mesh_client_member_kind_name(MESH_CLIENT_MEMBER_DEAD));
	return 0;
}
CEOF
export PKG_CONFIG_LIBDIR=$d/lib/pkgconfig:$tmp/pc PKG_CONFIG_SYSROOT_DIR=$tmp/dest
flags=$(pkg-config --cflags --libs meshclient)
is "pkg-config meshclient" "$?" 0
# shellcheck disable=SC2086
cc -o "$tmp/app" "$tmp/app.c" $flags >"$tmp/cc.log" 2>&1
is "a program compiles against the installed copy ($flags)" "$?" 0
[ -s "$tmp/cc.log" ] && cat "$tmp/cc.log"
is "and runs with it (watch API included)" "$(LD_LIBRARY_PATH=$d/lib "$tmp/app" 2>&1)" \
  "QUOTA QUOTA 1 SNAPSHOT_END DEAD"
ok_if "the installed meshctl runs" env LD_LIBRARY_PATH="$d/lib" "$d/bin/meshctl" --version
tap_done
