#!/usr/bin/env bash
# The full meshd test suite (the README's test command; .ci/run calls exactly this).
# Installs what is missing, then builds and tests three configurations:
#   build-test        gcc, -Werror: unit, sim and integration suites (real EAL, netns)
#   build-test-asan   pure libraries under ASan+UBSan: unit and sim suites
#   build-test-fuzz   clang + libFuzzer: every fuzz target for a bounded time
# and ends with one line "N passed, N failed, N skipped" counted from meson's testlog.json
# files. Exits non-zero if anything failed or nothing ran. Needs root (apt, namespaces).
#
#   sudo ./scripts/test.sh [--no-install] [--suite NAME]...   (suites: unit sim integration fuzz)
set -uo pipefail
cd "$(dirname "$0")/.."

install=1
suites=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0 ;;
    --suite) suites+=("$2"); shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ ${#suites[@]} -gt 0 ] || suites=(unit sim integration fuzz)
want() { local s; for s in "${suites[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: run as root (installs packages, creates network namespaces)" >&2
  exit 2
fi
start=$SECONDS
if [ "$install" = 1 ]; then
  ./scripts/install-deps.sh || { echo "test.sh: dependency install failed" >&2; exit 1; }
fi

status=0
logs=()
step() { echo; echo "=== $* ($((SECONDS - start)) s)"; }

# setup DIR [meson options...]: configure (or reconfigure) a build directory.
setup() {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
  else
    rm -rf "$dir"
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
  fi || { cat "$dir.setup.log"; echo "test.sh: meson setup $dir failed"; return 1; }
}

# run_suites DIR MULTIPLIER SUITE...: build, then run the suites that were asked for.
run_suites() {
  local dir=$1 mult=$2; shift 2
  local args=() s
  for s in "$@"; do want "$s" && args+=(--suite "$s"); done
  [ ${#args[@]} -gt 0 ] || return 0
  if ! ninja -C "$dir" >"$dir.ninja.log" 2>&1; then
    tail -n 40 "$dir.ninja.log"; echo "test.sh: build in $dir failed"; status=1; return 1
  fi
  rm -f "$dir/meson-logs/testlog.json"
  meson test -C "$dir" --no-rebuild --print-errorlogs --timeout-multiplier "$mult" \
    "${args[@]}" || status=1
  logs+=("$dir/meson-logs/testlog.json")
}

step "build-test: gcc, unit + sim + integration"
if setup build-test -Dbuildtype=debugoptimized; then
  run_suites build-test 1 unit sim integration
else
  status=1
fi

step "build-test-asan: pure libraries under ASan/UBSan, unit + sim"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if setup build-test-asan -Dpure_only=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbenchmarks=false; then
  run_suites build-test-asan 3 unit sim
else
  status=1
fi

step "build-test-fuzz: clang + libFuzzer, every fuzz target"
if CC=clang setup build-test-fuzz -Dpure_only=true -Dfuzzers=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false; then
  run_suites build-test-fuzz 1 fuzz
else
  status=1
fi

step "summary"
python3 - "${logs[@]}" <<'PY' || status=1
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        print(f"missing {path}")
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
PY
exit $status
