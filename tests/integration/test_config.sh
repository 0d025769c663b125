#!/usr/bin/env bash
# Integration: meshd's command line and INI configuration errors. Real EAL, no port: every
# bad input must end with exit status 2 and a message that names the option, or the file,
# section and key; a valid file is accepted and fails later only because no port exists
# (exit 1, naming the missing port).
# Usage: test_config.sh MESHD
set -u
MESHD=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
cfg="$here/configs"
prefix="tc$$"
trap 'rm -rf /var/run/dpdk/${prefix}*' EXIT

run() {
  timeout 30 "$MESHD" -l 0 --no-huge -m 64 --no-pci --no-shconf --no-telemetry \
    --file-prefix "$prefix" --log-level=lib.eal:warning -- "$@" 2>&1
}

# expect RC PATTERN WHAT ARGS...: exit status RC and output matching PATTERN
expect() {
  local rc=$1 pat=$2 what=$3 out got; shift 3
  out=$(run "$@"); got=$?
  TAP_N=$((TAP_N + 1))
  if [ "$got" -eq "$rc" ] && grep -qE -- "$pat" <<<"$out"; then
    echo "ok $TAP_N - $what"
  else
    echo "not ok $TAP_N - $what (exit $got, want $rc; output: $(tr '\n' ' ' <<<"$out"))"
    TAP_FAIL=$((TAP_FAIL + 1))
  fi
}

expect 0 "Usage: meshd" "--help prints usage and exits 0" --help
expect 0 "^meshd [0-9]" "--version prints the version" --version
expect 2 "node name is required" "missing --name is refused" --ip 10.0.0.1
expect 2 "IPv4 address is required" "missing --ip is refused" --name a
expect 2 "--ip: invalid value '10.0.0.300'" "bad --ip names option and value" --name a --ip 10.0.0.300
expect 2 "--port: invalid value '0'" "port 0 is refused" --name a --ip 10.0.0.1 --port 0
expect 2 "--port: invalid value '65536'" "port above 65535 is refused" --name a --ip 10.0.0.1 --port 65536
expect 2 "--name: invalid value 'bad name'" "name with a space is refused" --name "bad name" --ip 10.0.0.1
expect 2 "--poll-mode: invalid value 'fast'" "unknown poll mode is refused" --name a --ip 10.0.0.1 --poll-mode fast
expect 2 "--peer: invalid value '10.0.0.2:x'" "bad peer port is refused" --name a --ip 10.0.0.1 --peer 10.0.0.2:x
expect 2 "bad command line" "unknown option is refused" --name a --ip 10.0.0.1 --frobnicate
expect 2 "unexpected argument 'stray'" "stray argument is refused" --name a --ip 10.0.0.1 stray
expect 2 "bad-key.ini:5: \[node\] bogus: unknown key" "unknown INI key names file, line, section, key" --config "$cfg/bad-key.ini"
expect 2 "bad-port.ini:4: \[node\] port: invalid value '70000'" "bad INI value names file, line, section, key" --config "$cfg/bad-port.ini"
expect 2 "bad-syntax.ini:3: expected 'key = value'" "syntax error names its line" --config "$cfg/bad-syntax.ini"
expect 2 "bad-comment.ini:1: comments start with ';'" "'#' comment refused with a hint" --config "$cfg/bad-comment.ini"
expect 2 "bad-ns-overlap.ini:5: \[namespace worker:\]: .*already configured" "namespace clashing with a default names its line" --config "$cfg/bad-ns-overlap.ini"
expect 2 "bad-ns-kind.ini:6: \[namespace jobs:\] kind: invalid value 'fifo'" "unknown namespace kind names its line" --config "$cfg/bad-ns-kind.ini"
expect 2 "bad-ns-nokind.ini:4: \[namespace jobs:\]: 'kind' is required" "namespace without kind refused" --config "$cfg/bad-ns-nokind.ini"
expect 1 "port 0 does not exist" "namespaces file with defaults off accepted" --config "$cfg/good-ns.ini"
expect 2 "unknown section \[nodes\]" "unknown INI section is refused" --config "$cfg/bad-section.ini"
expect 2 "/nonexistent.ini: cannot read" "missing config file is refused" --config /nonexistent.ini
expect 1 "port 0 does not exist" "valid file accepted; missing port reported (exit 1)" --config "$cfg/good.ini"
expect 2 "--port: invalid value 'x'" "command line overrides are checked after the file" --config "$cfg/good.ini" --port x
expect 2 "--suspicion-mult: invalid value '0'" "suspicion multiplier 0 is refused" --name a --ip 10.0.0.1 --suspicion-mult 0
expect 2 "--probe-interval-ms: invalid value '60001'" "probe interval above a minute is refused" --name a --ip 10.0.0.1 --probe-interval-ms 60001
expect 2 "probe timeout \(5 ms\) must be below the probe interval \(5 ms\)" "probe timeout not below the period is refused" --name a --ip 10.0.0.1 --probe-interval-ms 5 --probe-timeout-ms 5
expect 2 "probe timeout \(500 ms\) must be below the probe interval \(100 ms\)" "the lan profile's 500 ms timeout needs a longer period" --name a --ip 10.0.0.1 --profile lan --probe-interval-ms 100

tap_done
