#!/usr/bin/env bash
# `--config FILE` on every archive command (issue 15): an archive made by `recistry init --config` is filled
# through --config (index, registry, reads, accounts, review settings), and then every command that reads an
# archive is run twice on it, once with --config and once with --archive DIR, and must print the same thing
# and exit the same way. `init --config` must give the same schema as `init --archive`. The error cases:
# neither option, both naming different folders (both naming the same folder is accepted), a config without
# [archive] path, an unreadable config, a folder whose database.url names another database than the config's,
# a database that is not a PostgreSQL URI, an unknown [archive] key for the daemon, `init --database` with
# --config. The daemon and the server start on a config whose [archive] database is empty (SQLite).
set -euo pipefail
: "${RECISTRY:?}" "${RCY_SOURCE_DIR:?}"
R=$RECISTRY
tmp=${RCY_TEST_TMP:-/tmp}/archive_config.$$
rm -rf "$tmp"
mkdir -p "$tmp"
PIDS=
trap 'for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
s=$RCY_SOURCE_DIR/sample-dicom
a=$tmp/archive
c=$tmp/registry.ini
export SOURCE_DATE_EPOCH=1700000000
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$c" <<INI
; shared by ingest and serve
[archive]
path = $a
database =
[dicom]
ae_title = RECISTRY
port = $port
[http]
port = 0
[site:S014]
ae_title = SITE014
subject_pattern = ^CIREL-014-[0-9]{4}\$
[site:S027]
ae_title = SITE027
subject_pattern = ^CIREL-027-[0-9]{4}\$
[site:S031]
ae_title = SITE031
subject_pattern = ^CIREL-031-[0-9]{4}\$
INI

echo "== init --config and init --archive make the same archive"
"$R" init --config "$c" >"$tmp/out" || fail "init --config: $(cat "$tmp/out")"
grep -qF "archive created at $a" "$tmp/out" || fail "init --config printed: $(cat "$tmp/out")"
[ -f "$a/recistry.db" ] && [ -d "$a/storage" ] || fail "init --config made no archive at $a"
"$R" init --archive "$tmp/plain" >/dev/null
schema() { /usr/bin/python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute("select type, name, sql from sqlite_master order by type, name"):
    print(row)' "$1"; }
[ "$(schema "$a/recistry.db")" = "$(schema "$tmp/plain/recistry.db")" ] || fail "init --config and --archive: schemas differ"
[ -n "$(schema "$a/recistry.db")" ] || fail "empty schema"
set +e
"$R" init --config "$c" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "already exists" "$tmp/err" || fail "init --config over an archive: $rc $(cat "$tmp/err")"

echo "== filling the archive through --config"
# one instance per study, and the whole of one series (for segment): enough for every command, and quick
dcm=("$s"/S014/CIREL-014-0001/BL/*.dcm)
for f in "$s"/S0*/*/*/*_0001.dcm; do case $f in */S014/CIREL-014-0001/BL/*) ;; *) dcm+=("$f") ;; esac; done
"$R" reads index --config "$c" "${dcm[@]}" >/dev/null
"$R" registry import --config "$c" "$s/registry.csv" >/dev/null
"$R" reads import --config "$c" --role site "$s/reads/site.json" >/dev/null
"$R" reads import --config "$c" --role central --reader alice "$s/reads/central.json" >/dev/null
printf 'qa-password-1\n' >"$tmp/pw"
"$R" user add --config "$c" --name quality --role qa --password-file "$tmp/pw" >/dev/null
"$R" adjudication config --config "$c" --pd-tolerance-days 7 --reason "archive_config test" >/dev/null
# --config on reads import still checks the sites' subject patterns (the config is the ingest one): with a
# config on the same archive whose S014 pattern excludes CIREL-014-0001, the check fails; without it, it passes.
sed 's/^subject_pattern = ^CIREL-014-.*/subject_pattern = ^CIREL-014-9[0-9]{3}$/' "$c" >"$tmp/strict.ini"
set +e
"$R" reads import --config "$tmp/strict.ini" --role central --reader bob --check "$s/reads/central.json" \
  >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc = 1 ] && grep -qF "subject CIREL-014-0001: does not match site S014's subject_pattern" "$tmp/err" ||
  fail "reads import --config without the site check: $rc $(cat "$tmp/err")"
"$R" reads import --archive "$a" --role central --reader bob --check "$s/reads/central.json" >/dev/null

# The same fill through --archive on a second archive gives the same registry and reads.
b=$tmp/plain
"$R" reads index --archive "$b" "${dcm[@]}" >/dev/null
"$R" registry import --archive "$b" "$s/registry.csv" >/dev/null
"$R" reads import --archive "$b" --role site "$s/reads/site.json" >/dev/null
"$R" reads import --archive "$b" --role central --reader alice "$s/reads/central.json" >/dev/null
for args in "registry list --json" "reads export --role site --json" "reads export --final --json"; do
  # shellcheck disable=SC2086
  "$R" $args --config "$c" >"$tmp/x1"
  # shellcheck disable=SC2086
  "$R" $args --archive "$b" >"$tmp/x2"
  # when each row was written differs between the two archives, and nothing else may
  sed -Ei 's/"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"/"TIME"/g' "$tmp/x1" "$tmp/x2"
  [ -s "$tmp/x1" ] && cmp -s "$tmp/x1" "$tmp/x2" ||
    fail "$args: the archive filled through --config differs from --archive's: $(diff "$tmp/x1" "$tmp/x2" | head -5)"
done

echo "== every archive command: --config and --archive give the same result"
sop=$(dcmdump +P 0008,0018 "$s/S014/CIREL-014-0001/BL/CT_0004.dcm" | sed 's/.*\[\(.*\)\].*/\1/')
[ -n "$sop" ] || fail "no SOP Instance UID"
mkdir -p "$tmp/cohort"
jq -r '"subject,normal_liver_mean_gy,perfused_normal_liver_mean_gy,tumour_mean_gy,response_3m,ttp_days,progression,lsf",
       (to_entries[] | "\(.value.subject_id),\(30 + .key),\(40 + .key),\(150 + 20 * .key),SD,200,1,0.05")' \
  "$s/reads/central.json" >"$tmp/cohort/patients.csv"
jq -r '"subject,lesion_id,mean_gy,d70_gy,volume_ml,pct_change_3m",
       (to_entries[] | .key as $k | .value.subject_id as $s | .value.assessments[0].target[] |
        "\($s),\(.lesion_id),\(120 + 10 * $k),,10,0")' "$s/reads/central.json" >"$tmp/cohort/tumours.csv"
n=0
same() { # ARGS... with ARCHIVE where the archive goes; OUT in an argument is replaced by a fresh output path
  n=$((n + 1))
  local one=() two=() x
  for x in "$@"; do
    case $x in
      ARCHIVE) one+=(--config "$c"); two+=(--archive "$a") ;;
      OUT*) one+=("$tmp/o1_$n${x#OUT}"); two+=("$tmp/o2_$n${x#OUT}") ;;
      *) one+=("$x"); two+=("$x") ;;
    esac
  done
  local r1=0 r2=0
  "$R" "${one[@]}" >"$tmp/s1" 2>"$tmp/e1" || r1=$?
  "$R" "${two[@]}" >"$tmp/s2" 2>"$tmp/e2" || r2=$?
  [ $r1 = $r2 ] || fail "$*: exit $r1 with --config, $r2 with --archive: $(cat "$tmp/e1")"
  # output paths, and how long it took, may differ
  sed -Ei "s#$tmp/o[12]_$n#OUT#g; s/(\"[a-z_]+_ms\": )[0-9.]+/\1MS/g" "$tmp/s1" "$tmp/s2" "$tmp/e1" "$tmp/e2"
  cmp -s "$tmp/s1" "$tmp/s2" || fail "$*: stdout differs: $(diff "$tmp/s1" "$tmp/s2" | head -5)"
  cmp -s "$tmp/e1" "$tmp/e2" || fail "$*: stderr differs: $(diff "$tmp/e1" "$tmp/e2" | head -5)"
  local o1 o2
  o1=$(ls -d "$tmp/o1_$n"* 2>/dev/null || true) o2=$(ls -d "$tmp/o2_$n"* 2>/dev/null || true)
  if [ -n "$o1$o2" ]; then
    [ -n "$o1" ] && [ -n "$o2" ] || fail "$*: wrote '$o1' with --config, '$o2' with --archive"
    # an export's own time stamp (exported_at) may fall on another second
    find "$o1" "$o2" -name '*.csv' -exec sed -Ei 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z/TIME/g' {} +
    diff -r "$o1" "$o2" >/dev/null || fail "$*: the files written differ: $(diff -r "$o1" "$o2" | head -5)"
  fi
  [ "${EXPECT_RC:-0}" = "$r1" ] || fail "$*: exit $r1 (expected ${EXPECT_RC:-0}): $(head -c 300 "$tmp/e1")"
  echo "ok $n - $* (exit $r1)"
}
same studies ARCHIVE --json
same verify ARCHIVE
same reads export ARCHIVE --role central --reader alice --json
same adjudication list ARCHIVE --json
same adjudication show ARCHIVE --subject CIREL-014-0001
same adjudication config ARCHIVE
same adjudication qc ARCHIVE --json
same audit verify ARCHIVE
same audit list ARCHIVE --json
same concordance ARCHIVE --pair site:central
same endpoints ARCHIVE --reader central --json
same export csv ARCHIVE --out OUT.csv
same export sdtm ARCHIVE --reader central --out OUT
same report subject ARCHIVE --subject CIREL-014-0001 --out OUT.pdf
same report cohort ARCHIVE --reader site --out OUT.pdf
same segment ARCHIVE --instance "$sop" --point 256,256 --json
same dose-response --cohort "$tmp/cohort" ARCHIVE --bootstrap 0 --json
EXPECT_RC=1 same dose ARCHIVE --subject CIREL-014-0001 --no-flags
grep -q "no PET" "$tmp/e1" || fail "dose on a CT-only subject: $(cat "$tmp/e1")"
# SR export: imported reads point at no image, so no report is written, but each read of the archive is named
same export sr ARCHIVE --reader central --out OUT
grep -q "central alice read of CIREL-014-0001, BL" "$tmp/e1" || fail "export sr read no read: $(cat "$tmp/e1")"

echo "== errors"
expect() { # CODE PATTERN -- ARGS...
  local want=$1 pattern=$2 got=0
  shift 3
  "$R" "$@" >"$tmp/out" 2>"$tmp/err" || got=$?
  [ "$got" = "$want" ] || fail "recistry $* exited $got, expected $want: $(cat "$tmp/err")"
  grep -qF -- "$pattern" "$tmp/err" || fail "recistry $*: no '$pattern' in: $(cat "$tmp/err")"
}
expect 2 "--archive DIR or --config FILE is required" -- studies --json
expect 2 "--archive DIR or --config FILE is required" -- init
expect 2 "--archive $tmp/plain and --config $c name different archives (its [archive] path is $a)" -- \
  studies --archive "$tmp/plain" --config "$c"
# both naming the same folder (spelled differently) is one archive
(cd "$tmp" && "$R" verify --archive ./archive/ --config "$c") >"$tmp/out" || fail "--archive and --config on one folder"
printf '[archive]\nsync = portable\n[http]\nport = 0\n' >"$tmp/nopath.ini"
expect 1 "config $tmp/nopath.ini: [archive] path is required" -- studies --config "$tmp/nopath.ini"
expect 1 "config $tmp/nopath.ini: [archive] path is required" -- init --config "$tmp/nopath.ini"
expect 1 "config $tmp/absent.ini: cannot be read" -- verify --config "$tmp/absent.ini"
printf '[archive]\npath = %s\ndatabase = mysql://x/y\n' "$a" >"$tmp/mysql.ini"
expect 1 "[archive] database: expected a postgresql:// URI" -- studies --config "$tmp/mysql.ini"
# A misspelt key must not quietly mean "SQLite in the folder".
printf '[archive]\npath = %s\ndatabse = postgresql:///x\n' "$a" >"$tmp/typo.ini"
expect 1 "[archive] databse: unknown key" -- studies --config "$tmp/typo.ini"
expect 2 "--database goes with --archive" -- init --config "$c" --database postgresql:///x
# An archive folder recording one PostgreSQL database, opened with a config naming another: refused.
mkdir -p "$tmp/pgdir"
echo "postgresql:///registry_a?host=/nonexistent" >"$tmp/pgdir/database.url"
printf '[archive]\npath = %s\ndatabase = postgresql:///registry_b?host=/nonexistent\n' "$tmp/pgdir" >"$tmp/pg.ini"
expect 1 "belongs to the database its database.url names" -- studies --config "$tmp/pg.ini"
expect 1 "belongs to the database its database.url names" -- audit verify --config "$tmp/pg.ini"
# init on a PostgreSQL database nobody serves fails and leaves no SQLite index behind.
set +e
"$R" init --archive "$tmp/pgnew" --database "postgresql:///nodb?host=$tmp/nosocket" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc = 1 ] && [ ! -e "$tmp/pgnew/recistry.db" ] || fail "init --database on no server: $rc $(cat "$tmp/err")"

echo "== the daemon and the server read [archive] database"
sed 's/^database =$/database = mysql:\/\/x/' "$c" >"$tmp/bad_db.ini"
set +e
timeout 10 "$R" ingest --config "$tmp/bad_db.ini" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "expected a postgresql:// URI" "$tmp/err" || fail "ingest on a bad database: $rc $(cat "$tmp/err")"
set +e
timeout 10 "$R" serve --config "$tmp/bad_db.ini" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "expected a postgresql:// URI" "$tmp/err" || fail "serve on a bad database: $rc $(cat "$tmp/err")"
printf '[archive]\npath = %s\nbogus = 1\n[dicom]\nae_title = X\nport = 1\n[site:S014]\nae_title = SITE014\n' "$a" \
  >"$tmp/bogus.ini"
set +e
timeout 10 "$R" ingest --config "$tmp/bogus.ini" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "bogus" "$tmp/err" || fail "ingest with an unknown [archive] key: $rc $(cat "$tmp/err")"
# with database empty (SQLite) both start on the archive
TCP_NODELAY=1 "$R" ingest --config "$c" >"$tmp/ingest.out" 2>"$tmp/ingest.err" &
PIDS="$PIDS $!"
"$R" serve --config "$c" >"$tmp/serve.out" 2>"$tmp/serve.err" &
PIDS="$PIDS $!"
for _ in $(seq 100); do grep -q "listening on" "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$tmp/serve.out" | head -1)
[ -n "$url" ] || fail "serve did not start: $(cat "$tmp/serve.err")"
curl -sf -H 'Content-Type: application/json' --data-binary '{"name":"quality","password":"qa-password-1"}' \
  "${url%/}/api/login" >/dev/null || fail "serve: the account made through --config cannot log in"
for _ in $(seq 100); do grep -q "ready: AE" "$tmp/ingest.err" 2>/dev/null && break; sleep 0.1; done
grep -q "ready: AE" "$tmp/ingest.err" || fail "ingest did not start: $(cat "$tmp/ingest.err")"
echoscu -aet SITE014 -aec RECISTRY 127.0.0.1 "$port" || fail "ingest does not answer C-ECHO"
for p in $PIDS; do kill -0 "$p" || fail "a daemon exited: $(cat "$tmp/ingest.err" "$tmp/serve.err")"; done
echo "archive_config: all checks passed"
