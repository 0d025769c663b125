#!/usr/bin/env bash
# Integration: meshd's command line and INI configuration. meshd parses its own options
# before EAL starts: --help and --version answer (exit 0) without EAL, on machines with no
# hugepages; every bad input ends with exit status 2 and a message that names the option,
# or the file, line, section and key, also before EAL starts. INI rules: '#' and ';'
# comments, duplicate keys and sections name both lines, decimal numbers ("010" is 10),
# sizes with K/M/G, [eal] args checked against EAL's option names. A valid file is
# accepted and fails later only because no port exists (exit 1, naming the missing port).
# Usage: test_config.sh MESHD
set -u
MESHD=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
cfg="$here/configs"
prefix="tc$$"
T=$(mktemp -d /tmp/test-config.XXXXXX)
trap 'rm -rf /var/run/dpdk/${prefix}* "$T"' EXIT

# with EAL options that let EAL start here (no hugepages, no PCI)
run() {
  timeout 30 "$MESHD" -l 0 --no-huge -m 64 --no-pci --no-shconf --no-telemetry \
    --file-prefix "$prefix" --log-level=lib.eal:warning -- "$@" 2>&1
}
# nothing else: EAL, if it were started, would fail here (no hugepages) and log "EAL:"
bare() { timeout 30 "$MESHD" "$@" 2>&1; }
check() { timeout 30 "$MESHD" --check-config "$@" 2>&1; }

# expect_with RUNNER RC PATTERNS WHAT ARGS...: exit status RC and output matching every
# line of PATTERNS (extended regular expressions; a line starting with '!' must NOT match)
expect_with() {
  local runner=$1 rc=$2 pats=$3 what=$4 out got bad='' p; shift 4
  out=$("$runner" "$@"); got=$?
  [ "$got" -eq "$rc" ] || bad="exit $got, want $rc"
  while IFS= read -r p; do
    if [ "${p:0:1}" = '!' ]; then
      ! grep -qE -- "${p:1}" <<<"$out" || bad+=" output matches '${p:1}'"
    else
      grep -qE -- "$p" <<<"$out" || bad+=" output lacks '$p'"
    fi
  done <<<"$pats"
  TAP_N=$((TAP_N + 1))
  if [ -z "$bad" ]; then
    echo "ok $TAP_N - $what"
  else
    echo "not ok $TAP_N - $what ($bad; output: $(tr '\n' ' ' <<<"$out" | cut -c1-600))"
    TAP_FAIL=$((TAP_FAIL + 1))
  fi
}
expect() { expect_with run "$@"; }
# ini_case NAME RC PATTERNS WHAT <FILE: meshd --check-config on FILE, saved as $T/NAME
ini_case() {
  local f=$T/$1; shift
  cat >"$f"
  expect_with check "$@" "$f"
}

# ---- meshd's own options come first: no EAL for help, version, errors
no_eal='!^EAL:'
expect_with bare 0 $'^Usage: meshd\n--name NAME +\\[node\\] name\n--check-config FILE\n'"$no_eal" \
  "meshd --help: usage with the options, exit 0, EAL not started" --help
expect_with bare 0 $'^Usage: meshd\n--config FILE\n'"$no_eal" \
  "meshd -- --help: the same" -- --help
expect_with bare 0 $'^meshd [0-9]+\\.[0-9]+\n'"$no_eal" "meshd --version without EAL" --version
expect_with bare 0 $'^meshd [0-9]+\\.[0-9]+\n'"$no_eal" "meshd -- --version without EAL" -- --version
expect_with bare 0 $'^Usage: meshd\n'"$no_eal" \
  "meshd --file-prefix P -- --help: EAL options ignored for help" --file-prefix "${prefix}h" -- --help
ok_if "... and EAL created no runtime directory" test ! -e "/var/run/dpdk/${prefix}h"
expect_with bare 0 $'EAL common options\n--file-prefix' "--help-eal prints EAL's options" --help-eal
expect_with bare 2 $'unknown option \'--frobnicate\'\n'"$no_eal" \
  "unknown meshd option: exit 2 before EAL" -- --frobnicate
expect_with bare 2 $'unknown EAL option \'--frobnicate\'\n'"$no_eal" \
  "unknown EAL option: exit 2 before EAL" --frobnicate -- --name a --ip 10.0.0.1
expect_with bare 2 $'\'--name\' is a meshd option: put it after "--"\n'"$no_eal" \
  "meshd option before -- is explained" --name a --ip 10.0.0.1
expect_with bare 2 $'EAL option \'--file-prefix\' needs a value\n'"$no_eal" \
  "EAL option without its value refused before EAL" --file-prefix
expect_with bare 2 $'/nonexistent/meshd.ini: cannot read: No such file\n'"$no_eal" \
  "missing --config file: exit 2 with its path, before EAL" -- --config /nonexistent/meshd.ini
expect_with bare 2 $'--check-config needs a FILE\n!Usage\n!EAL'  \
  "--check-config without FILE: meshd's usage error, not EAL's" --check-config
expect_with bare 2 $'--check-config FILE takes no other arguments\n'"$no_eal" \
  "--check-config with more arguments refused" --check-config "$cfg/good.ini" --name x
expect_with bare 0 $'good.ini: ok \\(node cfg-node at 10.99.0.7:40000\n'"$no_eal" \
  "meshd -- --check-config FILE works too" -- --check-config "$cfg/good.ini"

# ---- command line values
expect 2 "node name is required" "missing --name is refused" --ip 10.0.0.1
expect 2 "IPv4 address is required" "missing --ip is refused" --name a
expect 2 "--ip: invalid value '10.0.0.300'" "bad --ip names option and value" --name a --ip 10.0.0.300
expect 2 "--port: invalid value '0'" "port 0 is refused" --name a --ip 10.0.0.1 --port 0
expect 2 "--port: invalid value '65536'" "port above 65535 is refused" --name a --ip 10.0.0.1 --port 65536
expect 2 "--port: invalid value '0x10': expected a decimal number" "numbers are decimal: 0x refused for --port" --name a --ip 10.0.0.1 --port 0x10
expect 2 "--name: invalid value 'bad name'" "name with a space is refused" --name "bad name" --ip 10.0.0.1
expect 2 "--poll-mode: invalid value 'fast'" "unknown poll mode is refused" --name a --ip 10.0.0.1 --poll-mode fast
expect 2 "--peer: invalid value '10.0.0.2:x'" "bad peer port is refused" --name a --ip 10.0.0.1 --peer 10.0.0.2:x
expect 2 "unknown option '--frobnicate'" "unknown option is refused" --name a --ip 10.0.0.1 --frobnicate
expect 2 "a value is needed after '--port'" "option without its value is refused" --name a --ip 10.0.0.1 --port
expect 2 "unexpected argument 'stray'" "stray argument is refused" --name a --ip 10.0.0.1 stray
expect 2 "--suspicion-mult: invalid value '0'" "suspicion multiplier 0 is refused" --name a --ip 10.0.0.1 --suspicion-mult 0
expect 2 "--probe-interval-ms: invalid value '60001'" "probe interval above a minute is refused" --name a --ip 10.0.0.1 --probe-interval-ms 60001
expect 2 "probe timeout \(5 ms\) must be below the probe interval \(5 ms\)" "probe timeout not below the period is refused" --name a --ip 10.0.0.1 --probe-interval-ms 5 --probe-timeout-ms 5
expect 2 "probe timeout \(500 ms\) must be below the probe interval \(100 ms\)" "the lan profile's 500 ms timeout needs a longer period" --name a --ip 10.0.0.1 --profile lan --probe-interval-ms 100

# ---- INI files
expect 2 "bad-key.ini:5: \[node\] bogus: unknown key" "unknown INI key names file, line, section, key" --config "$cfg/bad-key.ini"
expect 2 "bad-port.ini:4: \[node\] port: invalid value '70000'" "bad INI value names file, line, section, key" --config "$cfg/bad-port.ini"
expect 2 "bad-syntax.ini:3: expected 'key = value'" "syntax error names its line" --config "$cfg/bad-syntax.ini"
expect 2 "bad-ns-overlap.ini:5: \[namespace worker:\]: .*already configured" "namespace clashing with a default names its line" --config "$cfg/bad-ns-overlap.ini"
expect 2 "bad-ns-kind.ini:6: \[namespace jobs:\] kind: invalid value 'fifo'" "unknown namespace kind names its line" --config "$cfg/bad-ns-kind.ini"
expect 2 "bad-ns-nokind.ini:4: \[namespace jobs:\]: 'kind' is required" "namespace without kind refused" --config "$cfg/bad-ns-nokind.ini"
expect 1 "port 0 does not exist" "namespaces file with defaults off accepted" --config "$cfg/good-ns.ini"
expect 2 "bad-section.ini:1: unknown section \[nodes\]" "unknown INI section is refused" --config "$cfg/bad-section.ini"
expect 1 "port 0 does not exist" "valid file accepted; missing port reported (exit 1)" --config "$cfg/good.ini"
expect 2 "--port: invalid value 'x'" "command line overrides are checked after the file" --config "$cfg/good.ini" --port x

ini_case dup-key.ini 2 'dup-key.ini:6: \[node\] port: duplicate key \(first at line 4\)' \
  "duplicate key names both lines" <<'X'
[node]
name = n1
ip = 10.99.0.1
port = 40000

port = 40001
X
ini_case dup-section.ini 2 'dup-section.ini:5: \[node\]: duplicate section \(first at line 1\)' \
  "duplicate section names both lines" <<'X'
[node]
name = n1
[hello]
interval_ms = 100
[node]
ip = 10.99.0.1
X
ini_case dup-ns.ini 2 'dup-ns.ini:6: \[namespace jobs:\]: duplicate section \(first at line 4\)' \
  "duplicate namespace section names both lines" <<'X'
[node]
name = n1
ip = 10.99.0.1
[namespace jobs:]
kind = lww
[namespace jobs:]
kind = lww
X
ini_case repeat.ini 0 '2 seed\(s\), 2 hello peer\(s\)' "seed and peer may repeat" <<'X'
[node]
name = n1
ip = 10.99.0.1
[cluster]
insecure_plaintext = yes
seed = 10.99.0.2
seed = 10.99.0.3
[hello]
peer = 10.99.0.2
peer = 10.99.0.3
X
ini_case comments.ini 0 'comments.ini: ok \(node c1 at 10.99.0.5:40000,' \
  "'#' and ';' comments accepted, whole-line and trailing" <<'X'
# a '#' comment
; a ';' comment
   # indented comment
[node]   # after a section header
name = c1 ; trailing ';' comment
ip = 10.99.0.5	# trailing '#' comment after a tab
port = 40000 # trailing
[eal] ; comment
args = -l 0 --no-huge   # EAL options, then a comment
[cluster]
insecure_plaintext = true ; keyless
X
ini_case decimal.ini 0 'decimal.ini: ok \(node d1 at 10.99.0.6:10, cluster 0x10,' \
  "'010' is read as 10 (decimal), 0x hex kept for cluster_id" <<'X'
[node]
name = d1
ip = 10.99.0.6
port = 010
cluster_id = 0x10
[cluster]
insecure_plaintext = yes
X
ini_case hex-port.ini 2 "hex-port.ini:4: \[node\] port: invalid value '0x10': expected a decimal number" \
  "0x hex refused where it is not documented (port)" <<'X'
[node]
name = d1
ip = 10.99.0.6
port = 0x10
X
ini_case size.ini 0 'size.ini: ok \(node s1 at .*, 2 namespace section\(s\)' \
  "sizes with units accepted (4M, 64K, 1g)" <<'X'
[node]
name = s1
ip = 10.99.0.7
[namespace events:]
kind = broadcast
max_bytes = 4M
[namespace jobs:]
kind = lww
max_value = 64K
max_bytes = 1g
[cluster]
insecure_plaintext = yes
X
# refused: an unknown unit; and K is 1024, so 4194304K is 4 GiB (not 4.19e9), above the
# 32 bits of max_value
for kv in 'max_bytes = 4Q' 'max_value = 4194304K'; do
  ini_case size-bad.ini 2 "size-bad.ini:6: \[namespace jobs:\] ${kv% =*}: invalid value '${kv#*= }'" \
    "size refused with its line: $kv" <<X
[node]
name = s1
ip = 10.99.0.7
[namespace jobs:]
kind = lww
$kv
X
done
ini_case eal-bad.ini 2 "eal-bad.ini:6: \[eal\] args: unknown EAL option '--file-prefx'" \
  "--check-config refuses an unknown [eal] option with its line" <<'X'
[node]
name = e1
ip = 10.99.0.8
[eal]
; a typo in an EAL option
args = -l 0 --no-huge --file-prefx e1
X
ini_case eal-noval.ini 2 "eal-noval.ini:2: \[eal\] args: EAL option '-m' needs a value" \
  "--check-config refuses an [eal] option without its value" <<'X'
[eal]
args = --no-huge -m
[node]
name = e1
ip = 10.99.0.8
X
expect_with bare 2 "eal-bad.ini:6: \[eal\] args: unknown EAL option '--file-prefx'" \
  "a bad [eal] option stops meshd before EAL too" -- --config "$T/eal-bad.ini"
ini_case eal-good.ini 0 'eal-good.ini: ok' "--check-config accepts valid [eal] options" <<X
[eal]
args = -l 0 --no-huge -m 64 --no-pci --no-shconf --no-telemetry --file-prefix ${prefix}e --log-level=lib.eal:warning --huge-unlink=never
[node]
name = e2
ip = 10.99.0.9
[cluster]
insecure_plaintext = yes
X
# no EAL options on the command line: without the file's --no-huge EAL could not start
expect_with bare 1 'port 0 does not exist' \
  "meshd -- --config FILE starts EAL with the file's [eal] args" -- --config "$T/eal-good.ini"

# ---- keyed by default (doc/security.md): keyless needs insecure_plaintext by name
nokey=$'no cluster key\n--key-file FILE\n--insecure-plaintext\ninsecure_plaintext = yes\nmeshd keygen FILE\n'"$no_eal"
expect_with bare 2 "$nokey" "no key file and no insecure_plaintext: exit 2 naming both, before EAL" \
  -- --name a --ip 10.0.0.1
ini_case nokey.ini 2 "$nokey" "--check-config applies the same rule" <<'X'
[node]
name = k1
ip = 10.99.0.10
X
expect 1 $'meshd.app: insecure_plaintext: no cluster keys, frames are only checksummed\nport 0 does not exist' \
  "--insecure-plaintext starts keyless with a warning" --name a --ip 10.0.0.1 --insecure-plaintext
expect 2 "unknown option '--insecure-plaintext=no'" \
  "--insecure-plaintext takes no value" --name a --ip 10.0.0.1 --insecure-plaintext=no
ini_case insecure-bad.ini 2 "insecure-bad.ini:5: \[cluster\] insecure_plaintext: invalid value 'maybe'" \
  "insecure_plaintext is yes or no" <<'X'
[node]
name = k1
ip = 10.99.0.10
[cluster]
insecure_plaintext = maybe
X
ini_case insecure-no.ini 2 "$nokey" "insecure_plaintext = no is keyed: no key file, exit 2" <<'X'
[node]
name = k1
ip = 10.99.0.10
[cluster]
insecure_plaintext = no
X

# meshd keygen FILE: a key file in the key-file format, mode 0600, never overwritten
K=$T/cluster.keys
out=$(umask 0; "$MESHD" keygen "$K" 2>&1); rc=$?
ok_if "keygen: exit 0 ($out)" test "$rc" -eq 0
is "keygen: mode 0600 even under umask 0" "$(stat -c %a "$K" 2>&1)" 600
ok_if "keygen: one 'ID HEX64 primary' line" \
  test "$(grep -cE '^1 [0-9a-f]{64} primary$' "$K")" -eq 1 -a "$(grep -cv '^#' "$K")" -eq 1
sum=$(sha256sum <"$K")
expect_with bare 2 $'exists; a key file is never overwritten\n'"$no_eal" \
  "keygen refuses an existing file" keygen "$K"
is "... and leaves it unchanged" "$(sha256sum <"$K")" "$sum"
ln -s "$T/elsewhere.keys" "$T/link.keys"
expect_with bare 2 'link.keys: ' "keygen refuses a symlink" keygen "$T/link.keys"
ok_if "... and writes nothing through it" test ! -e "$T/elsewhere.keys"
expect_with bare 2 'usage: meshd keygen FILE' "keygen without FILE: usage, exit 2" keygen
"$MESHD" keygen "$T/k2.keys" >/dev/null 2>&1
ok_if "two keygens make different keys" test "$(grep -v '^#' "$T/k2.keys")" != "$(grep -v '^#' "$K")"
expect 1 'port 0 does not exist' "a generated key file starts meshd (keyed)" \
  --name a --ip 10.0.0.1 --key-file "$K"
ini_case keyed.ini 0 'keyed.ini: ok \(node k1 at 10.99.0.10:39527, .*, keyed\)' \
  "--check-config: a file with key_file is keyed" <<X
[node]
name = k1
ip = 10.99.0.10
[cluster]
key_file = $K
X
ini_case keyed-missing.ini 2 'invalid key file .*: /nonexistent.keys: cannot read key file' \
  "--check-config loads the key file: a missing one is exit 2" <<'X'
[node]
name = k1
ip = 10.99.0.10
[cluster]
key_file = /nonexistent.keys
X
expect 1 'port 0 does not exist' "--key-file on the command line overrides the file's key_file" \
  --config "$T/keyed-missing.ini" --key-file "$K"
expect 2 'a key file and --insecure-plaintext .* exclude each other' \
  "key file and --insecure-plaintext together refused" --name a --ip 10.0.0.1 --key-file "$K" \
  --insecure-plaintext
expect 2 'accept-plaintext .*accept_plaintext.* needs a key file' \
  "--accept-plaintext without keys refused" --name a --ip 10.0.0.1 --insecure-plaintext \
  --accept-plaintext
expect 2 'send-plaintext .*send_plaintext.* needs a key file' \
  "--send-plaintext without keys refused" --name a --ip 10.0.0.1 --insecure-plaintext \
  --send-plaintext
expect 1 $'meshd.app: migration: keyless frames accepted, frames sent keyless\nport 0 does not exist' \
  "--send-plaintext with keys: a migration warning" --name a --ip 10.0.0.1 --key-file "$K" \
  --send-plaintext

tap_done
