#!/bin/sh
# meson install step (scripts/meson.build): make the cluster key file CONFDIR/cluster.keys,
# which the shipped configurations name ([cluster] key_file), with "meshd keygen" when it
# is absent; an existing file is kept. Not in a staged install (meson install --destdir,
# a package build): a key baked into a package would be shared by every host that
# installs it. There the host's own step (a package's postinst, or the operator) runs
# "meshd keygen CONFDIR/cluster.keys". Copy the one file to every node of a cluster.
# Usage: install-keys.sh MESHD CONFDIR
set -eu
meshd=$1
confdir=$2
keys=$confdir/cluster.keys
if [ -n "${DESTDIR:-}" ] ||
   [ "${MESON_INSTALL_DESTDIR_PREFIX:-}" != "${MESON_INSTALL_PREFIX:-}" ]; then
  echo "install-keys: staged install (DESTDIR): no key file made; on the host run: meshd keygen $keys"
  exit 0
fi
if [ -e "$keys" ] || [ -L "$keys" ]; then
  echo "install-keys: $keys exists, kept"
  exit 0
fi
mkdir -p "$confdir"
"$meshd" keygen "$keys"
