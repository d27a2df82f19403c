#!/usr/bin/env bash
# `recistry registry import|list` as a data manager uses it: a registry export with a BOM, CRLF and quoted
# fields is imported; a file with one bad row stores nothing and names each bad line and column; a row that
# would move a subject to another site than its images' is refused; a re-import replaces a row with its audit
# row (before and after); usage errors exit 2.
set -euo pipefail
: "${RECISTRY:?RECISTRY must name the recistry program}"
tmp="${RCY_TEST_TMP:-/tmp}/registry_cli.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
a="$tmp/archive"
"$RECISTRY" init --archive "$a" >/dev/null
# Images of CIREL-014-0001 (site S014) in the archive.
"$RECISTRY" reads index --archive "$a" "$RCY_SOURCE_DIR"/sample-dicom/S014/CIREL-014-0001/BL/CT_0010.dcm >/dev/null

printf '\xef\xbb\xbfsubject_id,site_id,treatment_start,indication,liver_only,death_date,last_contact_date\r\n' >"$tmp/good.csv"
printf '"CIREL-014-0001",S014,2019-10-02,"salvage",yes,,2020-06-30\r\n' >>"$tmp/good.csv"
printf 'CIREL-027-0001,S027,2019-10-08,first_line,no,2020-03-01,\r\n' >>"$tmp/good.csv"
out=$("$RECISTRY" registry import --archive "$a" "$tmp/good.csv") || fail "a valid registry file was refused"
[[ "$out" == *"imported 2 subject(s)"*"2 new or changed"* ]] || fail "import summary: $out"
"$RECISTRY" registry list --archive "$a" --json >"$tmp/list.json"
jq -e 'length == 2 and .[0].subject_id == "CIREL-014-0001" and .[0].treatment_start == "2019-10-02"
       and .[0].liver_only == true and .[0].death_date == null and .[1].death_date == "2020-03-01"
       and .[1].last_contact_date == null and (.[0].updated_by | startswith("os:"))' "$tmp/list.json" >/dev/null ||
  fail "listed registry: $(cat "$tmp/list.json")"

# One bad row among good ones: nothing stored, every bad line named with its column.
cat >"$tmp/bad.csv" <<'CSV'
subject_id,site_id,treatment_start,indication,last_contact_date,death_date
CIREL-014-0009,S014,2019-10-03,salvage,2020-06-30,
CIREL-031-0001,S031,2019-13-01,salvage,2020-06-30,
CIREL-031-0002,S031,2019-10-01,second_line,2020-06-30,
CIREL-031-0003,S031,2019-10-01,salvage,2019-09-30,
CIREL-031-0004,S031,2019-10-01,salvage,,2019-09-01
CIREL-031-0005,S031,2019-10-01,salvage,,
CIREL-014-0001,S027,2019-10-02,salvage,2020-06-30,
CSV
set +e
"$RECISTRY" registry import --archive "$a" "$tmp/bad.csv" 2>"$tmp/bad.err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "bad file: exit $rc, expected 1"
for want in "line 3: treatment_start: '2019-13-01' is not an ISO date" "line 4: indication: 'second_line'" \
            "line 5: last_contact_date: 2019-09-30 is before the treatment start" \
            "line 6: death_date: 2019-09-01 is before the treatment start" \
            "line 7: last_contact_date: required when there is no death_date" \
            "line 8: site_id: S027, but the archive holds images of CIREL-014-0001 from site S014" \
            "6 error(s); nothing imported"; do
  grep -qF "$want" "$tmp/bad.err" || fail "missing '$want' in: $(cat "$tmp/bad.err")"
done
"$RECISTRY" registry list --archive "$a" --json | jq -e '.[0].treatment_start == "2019-10-02" and length == 2' >/dev/null ||
  fail "a refused file changed the registry"

# Unknown column, empty file, binary file: refused, exit 1.
printf 'subject_id,site_id,treatment_start,indication,last_contact_date,arm\nX,S014,2019-10-02,salvage,2020-01-01,A\n' >"$tmp/col.csv"
: >"$tmp/empty.csv"
head -c 256 "$RCY_SOURCE_DIR"/sample-dicom/S014/CIREL-014-0001/BL/CT_0010.dcm >"$tmp/bin.csv"
for f in col empty bin; do
  set +e
  "$RECISTRY" registry import --archive "$a" "$tmp/$f.csv" 2>"$tmp/$f.err"
  rc=$?
  set -e
  [ $rc -eq 1 ] || fail "$f.csv: exit $rc, expected 1"
done
grep -q "unknown column 'arm'" "$tmp/col.err" || fail "unknown column not named: $(cat "$tmp/col.err")"
grep -q "empty" "$tmp/empty.err" || fail "empty file: $(cat "$tmp/empty.err")"
grep -Eq "NUL byte|not UTF-8" "$tmp/bin.err" || fail "binary file: $(cat "$tmp/bin.err")"

# A re-import that changes one subject: one audited replacement with before and after.
sed 's/2019-10-02/2019-10-04/' "$tmp/good.csv" >"$tmp/again.csv"
out=$("$RECISTRY" registry import --archive "$a" "$tmp/again.csv")
[[ "$out" == *"1 new or changed, 1 unchanged"* ]] || fail "re-import summary: $out"
n=$(sqlite3 "$a/recistry.db" "SELECT count(*) FROM audit_log WHERE action = 'registry.import'")
[ "$n" = 3 ] || fail "expected 3 registry.import audit rows, found $n"
sqlite3 "$a/recistry.db" "SELECT before_json, after_json FROM audit_log ORDER BY seq DESC LIMIT 1" |
  grep -q '"treatment_start":"2019-10-02".*"treatment_start":"2019-10-04"' || fail "audit row lacks before/after"
"$RECISTRY" audit verify --archive "$a" >/dev/null || fail "audit chain broken"

set +e
"$RECISTRY" registry import --archive "$a" >/dev/null 2>&1; u1=$?
"$RECISTRY" registry frobnicate --archive "$a" >/dev/null 2>&1; u2=$?
set -e
[ $u1 -eq 2 ] && [ $u2 -eq 2 ] || fail "usage errors must exit 2 ($u1, $u2)"
# The generator's registry file imports as it is, next to its images.
"$RECISTRY" init --archive "$tmp/demo" >/dev/null
"$RECISTRY" reads index --archive "$tmp/demo" "$RCY_SOURCE_DIR"/sample-dicom/S0*/*/BL/*_0001.dcm >/dev/null
"$RECISTRY" registry import --archive "$tmp/demo" "$RCY_SOURCE_DIR/sample-dicom/registry.csv" >/dev/null ||
  fail "sample-dicom/registry.csv was refused"
echo "registry_cli: ok"
