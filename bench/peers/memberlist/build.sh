#!/usr/bin/env bash
# build.sh: build the memberlist comparison peer OFFLINE from Debian's Go packages
# (GOPATH mode, no module downloads, no network) into build-bench/memberlist-peer.
#
#   bench/peers/memberlist/build.sh [OUTPUT]      (default: <repo>/build-bench/memberlist-peer)
#
# Needs: apt-get install -y golang-go golang-github-hashicorp-memberlist-dev
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-$root/build-bench/memberlist-peer}
bdir=$root/build-bench/memberlist-go

need="apt-get install -y golang-go golang-github-hashicorp-memberlist-dev"
if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' not found; install Debian's Go toolchain: $need" >&2
  exit 2
fi
ml=/usr/share/gocode/src/github.com/hashicorp/memberlist
if [ ! -f "$ml/memberlist.go" ]; then
  echo "build.sh: memberlist sources not found under $ml; install them: $need" >&2
  exit 2
fi
mlver=$(dpkg-query -W -f '${Version}' golang-github-hashicorp-memberlist-dev 2>/dev/null || echo unknown)

mkdir -p "$bdir/gopath/src" "$bdir/gocache" "$(dirname "$out")"
# GOPATH mode: the package is built from a staging copy inside a build-local GOPATH
# entry so that nothing is written into the source tree.
stage=$bdir/gopath/src/meshd-bench/memberlist-peer
rm -rf "$stage"; mkdir -p "$stage"
cp "$here/peer.go" "$stage/"

export GO111MODULE=off GOPATH="/usr/share/gocode:$bdir/gopath" GOCACHE="$bdir/gocache" \
       GOPROXY=off GOFLAGS='' CGO_ENABLED=0
echo "build.sh: $(go version), memberlist (Debian) $mlver" >&2
(cd "$stage" && go vet . && go build -trimpath -o "$out" .)
echo "$mlver" >"$out.memberlist-version"
echo "build.sh: built $out" >&2
