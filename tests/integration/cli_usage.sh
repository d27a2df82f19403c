#!/usr/bin/env bash
# The command-line conventions every subcommand keeps: --help prints its usage and exits 0; an unknown
# option, an option missing its value or a missing required option exits 2 with a message naming it; every
# archive command takes --archive DIR or --config FILE.
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
  expect 2 "\-\-archive DIR or \-\-config FILE is required" -- "$cmd"
  expect 2 "missing value after '--config'" -- "$cmd" --config
done
# Every command that opens an archive names it by --archive DIR or --config FILE, and says so in its usage.
for cmd in init studies verify user reads registry endpoints adjudication export report audit segment dose \
  dose-response concordance; do
  "$RECISTRY" "$cmd" --help >"$T/out" 2>&1 || true
  grep -q -- "--config" "$T/out" || fail "recistry $cmd --help does not mention --config"
done
for args in "adjudication list" "adjudication show --subject X" "audit verify" "audit list" "export csv --out x.csv" \
  "export sdtm --reader site --out x" "export sr --reader site --out x" "segment --instance 1.2 --point 1,1" \
  "user add --name x --role qa"; do
  # shellcheck disable=SC2086
  expect 2 "\-\-archive DIR or \-\-config FILE is required" -- $args
done
for cmd in ingest serve; do
  expect 2 "\-\-config FILE is required" -- "$cmd"
  expect 2 "unexpected argument 'extra'" -- "$cmd" --config x.ini extra
done
expect 2 "\-\-site ID is required" -- pull --config x.ini
expect 2 "\-\-study cannot be combined with \-\-subject" -- pull --config x.ini --site S014 --study 1.2 --subject X
expect 2 "\-\-config FILE is required" -- pull status
expect 0 "usage: recistry pull status" -- pull status --help
expect 2 "\-\-role ROLE is required" -- user add --archive "$T" --name x
expect 2 "expected the action 'verify'" -- audit
expect 2 "unknown command 'bogus'" -- bogus
expect 2 "usage: recistry <command>" --
echo "cli_usage: all checks passed"
