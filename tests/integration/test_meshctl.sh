#!/usr/bin/env bash
# Integration: meshctl's output conventions against one real meshd node (af_packet in a
# namespace): UTF-8 values come out of --json as the same characters, binary values
# round-trip through --hex/--base64 (and @FILE), results on stdout and errors on stderr
# (JSON errors too) with the documented exit statuses, argument validation (exit 2),
# rl-set and the decoded epoch_max get, --version, plain watch keeping one event on one
# line, and the bash completion (commands, and keys from the node). Every check compares
# exact output.
# Usage: test_meshctl.sh MESHD MESHCTL VERSION COMPLETION   (root; 77 = skipped)
set -u
MESHD=$1 CTL=$2 VERSION=$3 COMPLETION=$4
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns tm 'rm -rf "$tmp"'
sock=/tmp/${MESH_NS}-n1.sock
tmp=$(mktemp -d)

c() { "$CTL" -s "$sock" "$@"; }
hex() { od -An -tx1 | tr -d ' \n'; }
# run CMD...: out=<stdout>, err=<stderr>, rc=<exit status>
run() { out=$("$@" 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err"); }
json_field() { python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.load(sys.stdin)[sys.argv[1]], ensure_ascii=False))' "$1"; }

# --- without a node ---
is "--version" "$("$CTL" --version)" "meshctl $VERSION"
is "--json --version" "$("$CTL" --json --version)" "{\"version\": \"$VERSION\"}"
run "$CTL" -s "$sock" keys worker: abc
is "keys worker: abc: exit 2, nothing on stdout" "$rc:$out" "2:"
is "keys worker: abc: the reason on stderr" "$(head -1 <<<"$err")" \
  "meshctl: keys: 'abc' is not a decimal number >= 0"
run "$CTL" -s "$sock" keys worker: 10 more
is "keys with an extra argument: exit 2" "$rc:$out:$(head -1 <<<"$err")" \
  "2::meshctl: keys takes [PREFIX] [LIMIT]: unexpected argument 'more'"
run "$CTL" -s "$sock" --json get
is "--json get without a key: exit 2, JSON error on stderr only" "$rc:$out:$err" \
  '2::{"error": "get takes KEY", "errno": 22}'
run "$CTL" -s "$sock" --hex put worker:x 0g
is "--hex put of a non-hex value: exit 2" "$rc:$(head -1 <<<"$err")" "2:meshctl: put: '0g' is not hex"
run "$CTL" -s "$sock" rl-set worker:x 1 2
is "rl-set outside an epoch_max prefix: exit 2" "$rc:$(head -1 <<<"$err")" \
  "2:meshctl: rl-set: 'worker:x' is not under an epoch_max prefix (rl:, or give it with --epoch-prefix)"
run "$CTL" -s "$sock" rl-set rl:x 1 2x
is "rl-set with a bad count: exit 2" "$rc:$(head -1 <<<"$err")" \
  "2:meshctl: rl-set: '2x' is not a decimal number"
run "$CTL" --json -s "$tmp/none.sock" health
is "unreachable node with --json: exit 3, JSON error on stderr" "$rc:$out:$err" \
  "3::{\"error\": \"cannot connect to $tmp/none.sock: No such file or directory\", \"errno\": 2}"

# --- one node ---
mesh_topo_up 1
mesh_node_start 1 --ctl-socket "$sock"
ok_if "node answers" mesh_wait_tel 1 /mesh/info port 1 30

# UTF-8 through --json, byte-exact
utf='café ✓'
c put worker:utf "$utf" >/dev/null
run c --json get worker:utf
is "--json get: the value as the same UTF-8 characters" "$(grep -o '"value": "[^"]*"' <<<"$out")" \
  "\"value\": \"$utf\""
is "--json get: value bytes round-trip" "$(json_field value <<<"$out" | tr -d '"' | hex)" \
  "$(printf '%s' "$utf" | hex)"
is "plain get: the same bytes" "$(c get worker:utf | hex)" "$(printf '%s\n' "$utf" | hex)"

# binary: 00 ff 80 0a through --hex, --base64 and @FILE
is "--hex put" "$(c --hex put worker:bin 00ff800a)" OK
is "--hex get" "$(c --hex get worker:bin)" 00ff800a
is "--base64 get" "$(c --base64 get worker:bin)" "AP+ACg=="
is "--base64 put, --hex get" "$(c --base64 put worker:bin2 AP+ACg== >/dev/null; c --hex get worker:bin2)" \
  00ff800a
printf '\000\377\200\n' >"$tmp/bin"
is "put @FILE, --hex get" "$(c put worker:bin3 "@$tmp/bin" >/dev/null; c --hex get worker:bin3)" 00ff800a
is "--json get of a binary value: value_base64" "$(json_field value_base64 <<<"$(c --json get worker:bin)")" \
  '"AP+ACg=="'
is "--json --hex get: value_hex" "$(json_field value_hex <<<"$(c --json --hex get worker:bin)")" '"00ff800a"'
is "plain get of a binary value: the raw bytes and a newline" "$(c get worker:bin | hex)" 00ff800a0a

# errors on stderr, results on stdout
run c get worker:none
is "missing key: exit 1, stdout empty, reason on stderr" "$rc:$out:$err" "1::meshctl: worker:none: not found"
run c --json get worker:none
is "--json missing key: the result on stdout, exit 1" "$rc:$out:$err" \
  '1:{"key": "worker:none", "found": false}:'
run c --json put nope:x 1
is "--json refused put: exit 1, nothing on stdout" "$rc:$out" "1:"
ok_if "--json refused put: a JSON error object on stderr ($err)" python3 -c '
import json, sys
e = json.loads(sys.argv[1]); assert e["error"].startswith("put: ") and e["errno"] > 0' "$err"

# epoch_max: rl-set, decoded get
is "rl-set" "$(c rl-set rl:t 7 -3)" OK
is "get of an epoch_max key: epoch and count" "$(c get rl:t)" "epoch=7 count=-3"
is "--json get of an epoch_max key" "$(json_field value <<<"$(c --json get rl:t)")" \
  '{"epoch": 7, "count": -3}'
is "--hex get of an epoch_max key: the 16 bytes" "$(c --hex get rl:t)" 0000000000000007fffffffffffffffd
c rl-set rl:t 7 5 >/dev/null; c rl-set rl:t 7 1 >/dev/null
is "epoch_max merge: the higher count stays" "$(c get rl:t)" "epoch=7 count=5"
c rl-set rl:t 8 -1 >/dev/null
is "epoch_max merge: a higher epoch wins" "$(c get rl:t)" "epoch=8 count=-1"
is "--epoch-prefix: other prefixes are not decoded" "$(c --epoch-prefix other: get rl:t | hex)" \
  "$(printf '\000\000\000\000\000\000\000\010\377\377\377\377\377\377\377\377\n' | hex)"

# plain watch: one event, one line
c --timeout 10000 watch worker:w 3 >"$tmp/watch" 2>/dev/null &
wpid=$!
sleep 0.5
c put worker:w1 $'line1\nline2' >/dev/null
c put worker:w2 $'tab\there\\back\r' >/dev/null
c put worker:w3 $'\001\377 é' >/dev/null
wait "$wpid"
is "watch: exit 0 after 3 events" "$?" 0
is "watch: 3 events on 3 lines" "$(wc -l <"$tmp/watch")" 3
is "watch: newline escaped" "$(sed -n 1p "$tmp/watch")" 'put worker:w1 line1\nline2'
is "watch: tab, backslash, CR escaped" "$(sed -n 2p "$tmp/watch")" 'put worker:w2 tab\there\\back\r'
is "watch: control and non-UTF-8 bytes as \\xHH, UTF-8 kept" "$(sed -n 3p "$tmp/watch")" \
  'put worker:w3 \x01\xff é'
run c --timeout 300 watch worker:none 1
is "watch timeout: exit 1, reason on stderr" "$rc:$out:$(tail -1 <<<"$err")" \
  "1::meshctl: watch: no event within 300 ms"

# bash completion (the meshctl on PATH answers the key query)
cat >"$tmp/complete.sh" <<'EOF'
source "$1"
COMP_WORDBREAKS=' :' COMP_LINE=$2 COMP_POINT=${#2}
_meshctl
echo "${COMPREPLY[*]}"
EOF
complete_line() { PATH=$(dirname "$CTL"):$PATH bash "$tmp/complete.sh" "$COMPLETION" "$1"; }
is "completion: commands" "$(complete_line "meshctl --json rl")" rl-set
is "completion: options" "$(complete_line "meshctl --ba")" --base64
is "completion: keys from the node, after the last ':'" \
  "$(complete_line "meshctl -s $sock get worker:bi")" "bin bin2 bin3"

mesh_node_stop 1 TERM
tap_done
