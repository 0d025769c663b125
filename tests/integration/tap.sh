# shellcheck shell=bash
# Tiny TAP-style helpers for the integration scripts: each check prints "ok N - what" or
# "not ok N - what"; tap_done prints "N passed, N failed" and exits non-zero on failure.
TAP_N=0
TAP_FAIL=0

ok_if() {
  local what=$1; shift
  TAP_N=$((TAP_N + 1))
  if "$@" >/dev/null 2>&1; then
    echo "ok $TAP_N - $what"
  else
    echo "not ok $TAP_N - $what"
    TAP_FAIL=$((TAP_FAIL + 1))
  fi
}

is() {
  local what=$1 got=$2 want=$3
  TAP_N=$((TAP_N + 1))
  if [ "$got" = "$want" ]; then
    echo "ok $TAP_N - $what"
  else
    echo "not ok $TAP_N - $what (got '$got', want '$want')"
    TAP_FAIL=$((TAP_FAIL + 1))
  fi
}

tap_done() {
  echo "$((TAP_N - TAP_FAIL)) passed, $TAP_FAIL failed"
  if [ "$TAP_FAIL" -ne 0 ] && [ -d "${MESH_LOGDIR:-}" ]; then
    for f in "$MESH_LOGDIR"/*.log; do echo "--- $f"; tail -n 20 "$f"; done
  fi
  [ "$TAP_FAIL" -eq 0 ]
}
