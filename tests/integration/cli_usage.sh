#!/usr/bin/env bash
# The command-line conventions every subcommand keeps: --help prints its usage and exits 0; an unknown
# option, an option missing its value or a missing required option exits 2 with a message naming it.
set -euo pipefail
: "${RECISTRY:?}"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { # CODE PATTERN -- ARGS...
  local want=$1 pattern=$2; shift 3
  local got=0
  "$RECISTRY" "$@" >"$T/out" 2>"$T/err" || got=$?
  [ "$got" = "$want" ] || fail "recistry $* exited $got, expected $want: $(cat "$T/err")"
  grep -q -- "$pattern" "$T/out" "$T/err" || fail "recistry $*: no '$pattern' in: $(cat "$T/out" "$T/err")"
}
for cmd in recist concordance sample init ingest studies verify pull serve; do
  expect 0 "usage: recistry $cmd" -- "$cmd" --help
done
expect 0 "usage: recistry user add" -- user --help
expect 0 "usage: recistry audit verify" -- audit --help
expect 0 "usage: recistry reads" -- reads --help
for cmd in init studies verify; do
  expect 2 "unknown option '--bogus'" -- "$cmd" --archive "$T" --bogus
  expect 2 "missing value after '--archive'" -- "$cmd" --archive
  expect 2 "\-\-archive DIR is required" -- "$cmd"
done
for cmd in ingest serve; do
  expect 2 "\-\-config FILE is required" -- "$cmd"
  expect 2 "unexpected argument 'extra'" -- "$cmd" --config x.ini extra
done
expect 2 "\-\-study UID is required" -- pull --config x.ini --site S014
expect 2 "\-\-role ROLE is required" -- user add --archive "$T" --name x
expect 2 "expected the action 'verify'" -- audit
expect 2 "unknown command 'bogus'" -- bogus
expect 2 "usage: recistry <command>" --
echo "cli_usage: all checks passed"
