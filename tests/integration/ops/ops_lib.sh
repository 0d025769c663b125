# shellcheck shell=bash
# Helpers for the ops tests on top of ../tap.sh. Run a command, keeping its output and
# status, then check them; on a failed check the output is printed as TAP comments.
#   capture CMD...                 out=<stdout+stderr>, rc=<exit status>
#   expect WHAT RC [REGEX...]      ok if rc == RC and the output matches every REGEX
#   expect_not WHAT REGEX          ok if the output does not match REGEX
#   contains TEXT REGEX            for ok_if: TEXT matches REGEX (grep -E)
out=
rc=0
capture() { out=$("$@" 2>&1); rc=$?; }
contains() { grep -Eq -- "$2" <<<"$1"; }
_ops_diag() { sed 's/^/#   /' <<<"$out"; }
expect() {
  local what=$1 want=$2 p fail=''
  shift 2
  [ "$rc" = "$want" ] || fail="exit $rc, want $want"
  for p in "$@"; do
    contains "$out" "$p" || fail="${fail:+$fail; }no match for '$p'"
  done
  if [ -z "$fail" ]; then
    ok_if "$what" true
  else
    ok_if "$what ($fail)" false
    _ops_diag
  fi
}
expect_not() {
  if contains "$out" "$2"; then ok_if "$1 (matched '$2')" false; _ops_diag; else ok_if "$1" true; fi
}
