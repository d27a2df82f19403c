#!/usr/bin/env bash
# `recistry reads import` and `reads export` as an operator runs them, on a real archive (synthetic CT
# indexed with `reads index`): every refusal (exit 1, one line per problem naming subject, timepoint,
# lesion and field; nothing stored, no audit row) and what a valid file stores (its export passes
# `recistry recist`). docs/api.md, "Command line". On PostgreSQL (pg/reads_import) the sections that never
# reach the index (schema, encodings, CSV syntax, plausibility) are skipped (lib/engine.sh).
set -uo pipefail
: "${RECISTRY:?}" "${RCY_SOURCE_DIR:?}" "${RCY_TEST_TMP:?}"
R=$RECISTRY
T=$RCY_TEST_TMP/reads_import
rm -rf "$T" && mkdir -p "$T"
A=$T/archive
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
source "$RCY_SOURCE_DIR/tests/integration/lib/engine.sh"

"$R" init --archive "$A" >/dev/null || { echo "FAIL: init" >&2; exit 1; }
LIB=$RCY_SOURCE_DIR/tests/integration/reader_lib
"$LIB/make_ct.sh" "$T/dcm/bl" S014 CIREL-014-0001 BL 20250106 2 30 &&
  "$LIB/make_ct.sh" "$T/dcm/fu" S014 CIREL-014-0001 FU1 20250303 2 20 &&
  "$LIB/make_ct.sh" "$T/dcm/b2" S014 CIREL-014-0002 BL 20250107 2 30 &&
  "$LIB/make_ct.sh" "$T/dcm/x" S015 CIREL-099-0001 BL 20250110 2 24 || { echo "FAIL: make_ct" >&2; exit 1; }
"$R" reads index --archive "$A" "$T"/dcm/*/*.dcm >/dev/null || { echo "FAIL: reads index" >&2; exit 1; }
cat >"$T/ingest.ini" <<INI
[archive]
path = $A
[dicom]
ae_title = RECISTRY
port = 11112
[site:S014]
ae_title = SITE014
subject_pattern = ^CIREL-014-[0-9]{4}\$
[site:S015]
ae_title = SITE015
subject_pattern = ^CIREL-015-[0-9]{4}\$
INI

# import_fails FILE EXPECTED_MESSAGE... : exit 1, every message on stderr, nothing on stdout
import_fails() {
  local file=$1; shift
  "$R" reads import --archive "$A" --role site "$file" >"$T/out" 2>"$T/err"
  local got=$?
  [ "$got" = 1 ] || fail "import $(basename "$file") exited $got, expected 1; stderr: $(head -c 400 "$T/err")"
  for m in "$@"; do grep -qF -- "$m" "$T/err" || fail "$(basename "$file"): stderr lacks '$m': $(head -c 600 "$T/err")"; done
  grep -q "nothing imported" "$T/err" || fail "$(basename "$file"): no 'nothing imported': $(head -c 300 "$T/err")"
  [ -s "$T/out" ] && fail "$(basename "$file"): printed on stdout: $(head -c 200 "$T/out")"
}
# nothing_stored SECTION : none of the section's refused files stored a read or wrote an audit row. Checked
# once per section, not per file (a recistry start each costs ~0.1 s of CPU): no read is stored and the audit
# log is as before the first refusal; both only ever grow (the log is append-only, import never deletes), so
# a file that had stored or logged anything would still show here.
audit_before=$("$R" audit verify --archive "$A" 2>&1)
nothing_stored() {
  [ "$("$R" audit verify --archive "$A" 2>&1)" = "$audit_before" ] || fail "$1: the audit log changed"
  [ "$("$R" reads export --archive "$A" --role site --json | jq length)" = 0 ] || fail "$1: something was stored"
}

good='{"subject_id":"CIREL-014-0001","assessments":[
 {"timepoint":"BL","date":"2025-01-06","target":[{"lesion_id":"T1","organ":"liver","nodal":false,"diameter_mm":31},
   {"lesion_id":"T2","organ":"liver","diameter_mm":22}],"non_target":[{"lesion_id":"NT1","organ":"peritoneum","state":"present"}],"new_lesions":[]},
 {"timepoint":"FU1","date":"2025-03-03","target":[{"lesion_id":"T1","diameter_mm":20},{"lesion_id":"T2","diameter_mm":15}],
   "non_target":[{"lesion_id":"NT1","state":"present"}],"new_lesions":[]}]}'
echo "$good" >"$T/good.json"
mutate() { jq -c "$1" "$T/good.json" >"$T/$2"; }

if engine_section "implausible values"; then
mutate '.assessments[1].target[0].diameter_mm = 1e308' huge.json
import_fails "$T/huge.json" \
  "subject CIREL-014-0001, timepoint FU1, lesion T1: diameter_mm: 1e+308 is not a plausible diameter (must be > 0 and <= 500 mm)"
mutate '.assessments[0].target[1].diameter_mm = 0' zero.json
import_fails "$T/zero.json" "subject CIREL-014-0001, timepoint BL, lesion T2: diameter_mm: 0 is not a plausible diameter"
mutate '.assessments[1].target[0] = {"lesion_id":"T1","fragments_mm":[12, 501]}' frag.json
import_fails "$T/frag.json" "subject CIREL-014-0001, timepoint FU1, lesion T1: fragments_mm[1]: 501 is not a plausible diameter"
mutate '.assessments[1].date = "2025-02-30"' baddate.json
import_fails "$T/baddate.json" "subject CIREL-014-0001, timepoint FU1: date: '2025-02-30' is not a real YYYY-MM-DD date"
mutate '.assessments[0].target[1].diameter_mm = 8' small.json
import_fails "$T/small.json" "subject CIREL-014-0001, timepoint BL, lesion T2: non-nodal target 8.0 mm at baseline (must be >= 10 mm)"
mutate '.assessments[1].target = [{"lesion_id":"T1","merged_into":"T2"},{"lesion_id":"T2","merged_into":"T1"}]' cycle.json
import_fails "$T/cycle.json" "subject CIREL-014-0001, timepoint FU1, lesion T1: merged_into 'T2', but T2 is itself merged_into 'T1'"
mutate '.assessments[1].non_target = []' missing.json
import_fails "$T/missing.json" "subject CIREL-014-0001, timepoint FU1, lesion NT1: not assessed"
nothing_stored "implausible values"
fi

if engine_section "strict schema"; then
mutate '. + {"lesions":[]}' unknown_key.json
import_fails "$T/unknown_key.json" "subject CIREL-014-0001: unknown key 'lesions'"
echo '{"subject_id":"CIREL-014-0001","lesions":[{"lesion_id":"T1","diameter_mm":30}]}' >"$T/lesions.json"
import_fails "$T/lesions.json" "subject CIREL-014-0001: unknown key 'lesions'" "subject CIREL-014-0001: missing \"assessments\""
mutate '.assessments[1].target[0].diameter = 20' unknown_lesion_key.json
import_fails "$T/unknown_lesion_key.json" "subject CIREL-014-0001, timepoint FU1, lesion T1: unknown key 'diameter'"
mutate '.assessments[1].target[0].diameter_mm = "20"' string_mm.json
import_fails "$T/string_mm.json" "subject CIREL-014-0001, timepoint FU1, lesion T1: diameter_mm: must be a number"
mutate '.assessments[1].target[0] += {"state":"too_small"}' two_values.json
import_fails "$T/two_values.json" "subject CIREL-014-0001, timepoint FU1, lesion T1: give exactly one of diameter_mm, state, fragments_mm, merged_into"
nothing_stored "strict schema"
fi

if engine_section "empty, binary and non-UTF-8 files"; then
: >"$T/empty.csv"
import_fails "$T/empty.csv" "empty.csv: the file is empty"
printf ' \n\n' >"$T/blank.json"
import_fails "$T/blank.json" "blank.json: the file is empty"
echo '[]' >"$T/none.json"
import_fails "$T/none.json" "none.json: no subjects in the file"
echo 'subject_id,timepoint,date,lesion_id,kind,organ,nodal,diameter_mm,state' >"$T/header.csv"
import_fails "$T/header.csv" "header.csv: no subjects in the file"
head -c 3000 /dev/urandom >"$T/random.bin"
printf '\x7fELF\x02\x01\x01\x00\x00' >"$T/elf.bin"
import_fails "$T/elf.bin" "elf.bin: not a text file"
printf 'subject_id,timepoint,date,lesion_id,kind,organ,nodal,diameter_mm,state\nCIREL-014-0001,BL,2025-01-06,T1,target,f\xe9gado,false,31,\n' >"$T/latin1.csv"
import_fails "$T/latin1.csv" "latin1.csv: not UTF-8 text (byte 0xe9 at line 2"
"$R" reads import --archive "$A" --role site "$T/random.bin" >/dev/null 2>"$T/err" && fail "random bytes imported"
grep -q "nothing imported" "$T/err" || fail "random bytes: $(head -c 200 "$T/err")"
nothing_stored "empty, binary and non-UTF-8 files"
fi

engine_section --all "identifiers and the archive"
# (on the archive: a subject or a study date the index does not have, a site's subject pattern)
mutate '.assessments[1].date = "2025-03-04"' otherdate.json
import_fails "$T/otherdate.json" "subject CIREL-014-0001, timepoint FU1: date: 2025-03-04 differs from the archive's study date 2025-03-03"
mutate '.subject_id = "../../etc/passwd"' path.json
import_fails "$T/path.json" "subject ../../etc/passwd: subject_id: not a valid subject ID"
mutate '.subject_id = "CIREL-014-0077"' absent.json
import_fails "$T/absent.json" "subject CIREL-014-0077: not in the archive (no study of this subject is indexed)"
mutate '.assessments[0].non_target[0].organ = "perit\u001b[2Joneum"' organ_escape.json
import_fails "$T/organ_escape.json" "subject CIREL-014-0001, timepoint BL, lesion NT1: organ: must be 1 to 64 characters, no control character"
mutate '.assessments[1].target[0].lesion_id = "T1/../x"' lesion_path.json
import_fails "$T/lesion_path.json" "subject CIREL-014-0001, timepoint FU1, lesion T1/../x: lesion_id: not a valid lesion ID"
jq -c '.subject_id = "CIREL-099-0001" | .assessments = [.assessments[0] | .date = "2025-01-10"]' "$T/good.json" >"$T/pattern.json"
"$R" reads import --archive "$A" --role site --config "$T/ingest.ini" "$T/pattern.json" >"$T/out" 2>"$T/err" &&
  fail "a subject outside its site's subject_pattern was imported"
grep -qF "subject CIREL-099-0001: does not match site S015's subject_pattern ^CIREL-015-[0-9]{4}$" "$T/err" ||
  fail "pattern message: $(cat "$T/err")"
nothing_stored "identifiers and the archive"

engine_section --all "one bad subject refuses the whole file, each problem reported"
jq -c --slurp '[.[0], (.[0] | .subject_id = "CIREL-014-0002" | .assessments = [.assessments[0] | .date = "2025-01-07" | .target[0].diameter_mm = -3])]' \
  "$T/good.json" >"$T/two.json"
jq -c '.[0].assessments[1].target[1].diameter_mm = 1e999' "$T/two.json" >"$T/two_bad.json" 2>/dev/null ||
  sed 's/"diameter_mm":15/"diameter_mm":"x"/' "$T/two.json" >"$T/two_bad.json"
import_fails "$T/two_bad.json" "subject CIREL-014-0001, timepoint FU1, lesion T2: diameter_mm" \
  "subject CIREL-014-0002, timepoint BL, lesion T1: diameter_mm: -3 is not a plausible diameter"
nothing_stored "one bad subject"

hdr='subject_id,timepoint,date,lesion_id,kind,organ,nodal,diameter_mm,state'
csv() { printf '%s\n' "$hdr" "$@" >"$T/$name"; }
if engine_section "CSV rows"; then
name=inf.csv csv 'CIREL-014-0001,BL,2025-01-06,T1,target,liver,false,inf,'
import_fails "$T/inf.csv" "inf.csv line 2: subject CIREL-014-0001, timepoint BL, lesion T1: diameter_mm: 'inf' is not a decimal number of mm"
name=hex.csv csv 'CIREL-014-0001,BL,2025-01-06,T1,target,liver,false,0x1e,'
import_fails "$T/hex.csv" "hex.csv line 2: subject CIREL-014-0001, timepoint BL, lesion T1: diameter_mm: '0x1e' is not a decimal number of mm"
name=quoted.csv csv 'CIREL-014-0001,BL,2025-01-06,T1,target,"liver",false,31,'
import_fails "$T/quoted.csv" "quoted.csv line 2: quoted fields are not supported"
nothing_stored "CSV rows"
fi

engine_section --all "a valid file: stored, its export passes recist; a second import refuses"
"$R" reads import --archive "$A" --role site --check "$T/good.json" >"$T/out" 2>"$T/err" || fail "--check of a good file: $(cat "$T/err")"
grep -q "1 subject(s) would be imported" "$T/out" || fail "--check output: $(cat "$T/out")"
[ "$("$R" reads export --archive "$A" --role site --json | jq length)" = 0 ] || fail "--check stored something"
"$R" reads import --archive "$A" --role site --config "$T/ingest.ini" "$T/good.json" >"$T/out" 2>"$T/err" || fail "good JSON: $(cat "$T/err")"
"$R" reads export --archive "$A" --role site --json >"$T/site.json"
jq -e 'length == 1 and .[0].assessments[1].target[0].diameter_mm == 20 and .[0].reader == "site"' "$T/site.json" >/dev/null ||
  fail "export: $(cat "$T/site.json")"
"$R" recist "$T/site.json" >/dev/null 2>"$T/err" || fail "the export of an import fails recist: $(cat "$T/err")"
import_fails_keep() { "$R" reads import --archive "$A" --role site "$1" >/dev/null 2>"$T/err" && fail "re-import succeeded"; }
import_fails_keep "$T/site.json"
grep -q "already has a site read" "$T/err" || fail "re-import message: $(cat "$T/err")"
name=good2.csv csv 'CIREL-014-0002,BL,2025-01-07,T1,target,liver,false,31,' \
  'CIREL-014-0002,BL,2025-01-07,NT1,non_target,peritoneum,,,present'
"$R" reads import --archive "$A" --role site "$T/good2.csv" >"$T/out" 2>"$T/err" || fail "good CSV: $(cat "$T/err")"
grep -q "imported 1 subject(s)" "$T/out" || fail "CSV import output: $(cat "$T/out")"

engine_section --all "export of central reads names the reader"
"$R" reads export --archive "$A" --role central --json >"$T/out" 2>"$T/err"
[ $? = 2 ] || fail "central export without --reader did not exit 2"
grep -q "needs --reader" "$T/err" || fail "central export message: $(cat "$T/err")"
"$R" reads export --archive "$A" --role central --reader nobody --json >"$T/out" || fail "central export with --reader"
[ "$(jq length "$T/out")" = 0 ] || fail "central export of an unknown reader: $(cat "$T/out")"

if [ "$failures" -ne 0 ]; then
  echo "reads_import: $failures failure(s)" >&2
  exit 1
fi
echo "reads_import: all checks passed"
