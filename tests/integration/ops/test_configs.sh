#!/usr/bin/env bash
# Integration (ops): configuration files an operator deploys.
#   every drivers-config/*.ini is keyed (key_file = /etc/meshd/cluster.keys) and, with that
#   path pointed at a key made by `meshd keygen`, passes `meshd --check-config` (exit 0,
#   "keyed", nothing started);
#   a file with an unknown key, a bad value or a missing file exits 2 naming the problem
#   scripts/systemd/meshd.env: only comments and KEY=VALUE lines, the same keys as the
#   unit's Environment= defaults
#   the unit's hugepage ExecStartPre, with systemd's "$$" -> "$" unescaping, run against
#   a fake sysfs: does nothing when MESHD_HUGEPAGES is empty, reserves the pages on the
#   node and size given when it is set
#   the man pages are current: every option in `meshd -- --help` is in meshd.8, every
#   option and command in `meshctl --help` is in meshctl.1
# Usage: test_configs.sh MESHD DRIVERS_CONFIG_DIR SCRIPTS_DIR UNIT_FILE MESHCTL MAN_DIR
set -u
MESHD=$1
DIR=$2
SCRIPTS=$3
UNIT=$4
MESHCTL=$5
MANDIR=$6
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tap.sh"
source "$here/ops_lib.sh"
T=$(mktemp -d /tmp/ops-cfg.XXXXXX)
trap 'rm -rf "$T"' EXIT

n=0
capture "$MESHD" keygen "$T/cluster.keys"
expect "meshd keygen" 0
for f in "$DIR"/*.ini; do
  b=$(basename "$f")
  is "$b: key_file = /etc/meshd/cluster.keys" "$(grep -c '^key_file = /etc/meshd/cluster.keys$' "$f")" 1
  sed "s|^key_file = .*|key_file = $T/cluster.keys|" "$f" >"$T/$b"
  capture "$MESHD" --check-config "$T/$b"
  expect "check-config $b" 0 ", keyed\)$"
  n=$((n + 1))
done
ok_if "found the drivers-config files ($n)" test "$n" -ge 8

sed 's/^\[node\]/[node]\nnmae = typo/' "$DIR/af_packet-veth.ini" >"$T/bad-key.ini"
capture "$MESHD" --check-config "$T/bad-key.ini"
expect "unknown key: exit 2, file and key named" 2 "bad-key.ini" "nmae"
sed 's/^ip = .*/ip = 10.99.0.256/' "$DIR/af_packet-veth.ini" >"$T/bad-ip.ini"
capture "$MESHD" --check-config "$T/bad-ip.ini"
expect "bad address: exit 2, value named" 2 "10.99.0.256"
capture "$MESHD" --check-config "$T/missing.ini"
expect "missing file: exit 2" 2 "missing.ini"

# meshd.env vs the unit
ENV=$SCRIPTS/systemd/meshd.env
ok_if "meshd.env has only comments, blank and KEY=VALUE lines" \
  test "$(grep -Evc '^(#.*|[A-Z_][A-Z0-9_]*=.*|)$' "$ENV")" -eq 0
env_keys=$(sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' "$ENV" | sort | paste -sd' ' -)
unit_keys=$(sed -n 's/^Environment=//p' "$UNIT" | tr ' ' '\n' | sed -n 's/=.*//p' | sort | paste -sd' ' -)
is "meshd.env sets the keys the unit defaults" "$env_keys" "$unit_keys"

# the hugepage step of the unit, as systemd would run it (without the "+" prefix)
pre=$(sed -n 's|^ExecStartPre=+/bin/sh -c ||p' "$UNIT")
ok_if "unit has the hugepage ExecStartPre" test -n "$pre"
pre=${pre#\'}; pre=${pre%\'}
pre=${pre//\$\$/\$}
pre=$(sed "s|exec [^ ]*/setup-hugepages.sh|exec $SCRIPTS/setup-hugepages.sh|" <<<"$pre")
F=$T/fake
mkdir -p "$F/proc" "$F/sys/kernel/mm/hugepages/hugepages-2048kB" \
  "$F/sys/kernel/mm/hugepages/hugepages-1048576kB"
for nd in 0 1; do
  for s in 2048 1048576; do
    mkdir -p "$F/sys/devices/system/node/node$nd/hugepages/hugepages-${s}kB"
    echo 0 >"$F/sys/devices/system/node/node$nd/hugepages/hugepages-${s}kB/nr_hugepages"
  done
done
printf 'MemTotal: 16000000 kB\nMemAvailable: 12000000 kB\nHugepagesize: 2048 kB\n' >"$F/proc/meminfo"
: >"$F/proc/mounts"
nr() { cat "$F/sys/devices/system/node/node$1/hugepages/hugepages-$2kB/nr_hugepages"; }
export MESH_HUGEPAGES_FAKE_ROOT=$F
capture env MESHD_HUGEPAGES='' MESHD_HUGEPAGE_SIZE=2M MESHD_HUGEPAGE_NODE=all /bin/sh -c "$pre"
expect "ExecStartPre with MESHD_HUGEPAGES empty: exit 0, no output" 0
is "ExecStartPre with MESHD_HUGEPAGES empty: nothing reserved" "$(nr 0 2048) $(nr 1 2048)" "0 0"
capture env MESHD_HUGEPAGES=16 MESHD_HUGEPAGE_SIZE=2M MESHD_HUGEPAGE_NODE=all /bin/sh -c "$pre"
expect "ExecStartPre with MESHD_HUGEPAGES=16: exit 0" 0 "node0: 0 -> 16" "node1: 0 -> 16"
is "16 x 2M on both nodes" "$(nr 0 2048) $(nr 1 2048)" "16 16"
capture env MESHD_HUGEPAGES=2 MESHD_HUGEPAGE_SIZE=1G MESHD_HUGEPAGE_NODE=1 /bin/sh -c "$pre"
expect "ExecStartPre with 2 x 1G on node 1: exit 0" 0 "node1: 0 -> 2 x 1G"
is "2 x 1G on node1 only" "$(nr 0 1048576) $(nr 1 1048576)" "0 2"
capture env MESHD_HUGEPAGES=16 MESHD_HUGEPAGE_SIZE=2M MESHD_HUGEPAGE_NODE=all /bin/sh -c "$pre"
expect "ExecStartPre again (a second instance): unchanged, exit 0" 0 "already reserved"

# man pages vs --help
unset MESH_HUGEPAGES_FAKE_ROOT
capture "$MESHD" --no-huge -m 64 --no-pci --no-shconf --no-telemetry --file-prefix "opscfg$$" -- --help
rm -rf "/var/run/dpdk/opscfg$$"
expect "meshd -- --help" 0 "^Usage: meshd"
man8=$(sed 's/\\-/-/g' "$MANDIR/meshd.8")
missing=''
for o in $(grep -oE -- '--[a-z][a-z-]+' <<<"$out" | sort -u); do
  [ "$o" = --lcores ] && continue # an EAL option quoted in an example
  contains "$man8" "(^|[^a-z-])$o([^a-z-]|$)" || missing+=" $o"
done
is "meshd.8 documents every option of meshd -- --help" "${missing:-none}" none
capture "$MESHCTL" --help
expect "meshctl --help" 0 "^Usage: meshctl"
man1=$(sed 's/\\-/-/g' "$MANDIR/meshctl.1")
missing=''
for o in $(grep -oE -- '--[a-z][a-z-]+' <<<"$out" | sort -u); do
  contains "$man1" "(^|[^a-z-])$o([^a-z-]|$)" || missing+=" $o"
done
for c in $(sed -n 's/^  \([a-z]\+\) .*/\1/p' <<<"$out"); do
  contains "$man1" "^\.B[IR]? $c( |$)" || missing+=" $c"
done
is "meshctl.1 documents every option and command of meshctl --help" "${missing:-none}" none

tap_done
