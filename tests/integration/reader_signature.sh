#!/usr/bin/env bash
# Issue 10 against the real server (curl) and CLI: sign-off as an electronic signature (password, meaning,
# completeness rules, the baseline first, wrong passwords counted like failed logins, unsigning with password
# and reason, the audit row), imported site reads signed by who imported them, and the registry's treatment
# start used by every read of a subject (read view, export, import).
source "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
reader_setup reader_signature
make_fixtures 12
add_user alice central
add_user bob central
add_user carol central
add_user sam site S014
reader_start
S=CIREL-014-0001
for u in alice bob carol sam; do login $u; done
# pw NAME [REASON] → the JSON body of a signature
pw() { if [ $# -gt 1 ]; then printf '{"password":"%s","reason":"%s"}' "$(cat "$T/$1.pw")" "$2"; else printf '{"password":"%s"}' "$(cat "$T/$1.pw")"; fi; }
expect 200 alice GET /api/worklist
STUDY_BL=$(jqr '.subjects[0].timepoints[0].study_uid')
STUDY_FU=$(jqr '.subjects[0].timepoints[1].study_uid')
expect 200 alice GET /api/studies/$STUDY_BL/series
SOP_BL=$(jqr '.series[0].instances[6].sop_instance_uid')
expect 200 alice GET /api/studies/$STUDY_FU/series
SOP_FU=$(jqr '.series[0].instances[6].sop_instance_uid')
m() { echo "{\"measurement\":{\"sop_instance_uid\":\"$1\",\"p1\":$2,\"p2\":$3}}"; }
BL=/api/reads/$S/timepoints/BL
FU=/api/reads/$S/timepoints/FU1
MEANING="I confirm these measurements and responses"

echo "== signing needs a complete timepoint, the baseline first, and the password"
expect 422 bob POST $BL/sign "$(pw bob)"
jqr .error | grep -q 'BL cannot be signed yet: no target or non-target lesion' || fail "empty baseline: $(cat "$T/out")"
expect 201 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'
expect 201 alice POST /api/reads/$S/lesions '{"kind":"non_target","organ":"peritoneum","timepoint":"BL"}'
expect 422 alice POST $BL/sign "$(pw alice)"
jqr .error | grep -q 'BL cannot be signed yet: target T1 is not measured' || fail "unmeasured target: $(cat "$T/out")"
expect 200 alice PUT $BL/lesions/T1 "$(m "$SOP_BL" '[281,220]' '[319,220]')"
expect 422 alice POST $FU/sign "$(pw alice)"
jqr .error | grep -q 'FU1 cannot be signed before the baseline: sign BL first' || fail "follow-up first: $(cat "$T/out")"
expect 400 alice POST $BL/sign '{}'
jqr .error | grep -q 'password' || fail "no password: $(cat "$T/out")"
expect 403 alice POST $BL/sign '{"password":"not-my-password"}'
jqr .error | grep -q 'wrong password: the timepoint was not signed' || fail "wrong password: $(cat "$T/out")"
expect 200 alice GET /api/reads/$S
jqe '.timepoints[0].signed == false' || fail "signed with a wrong password"
expect 200 alice POST $BL/sign "$(pw alice)"
jqe --arg m "$MEANING" '.timepoints[0].signed == true and .timepoints[0].signed_by == "alice"
  and .timepoints[0].signed_meaning == $m and (.timepoints[0].signed_at | test("^20[0-9-]{8}T[0-9:]{8}Z$"))
  and .sign_meaning == $m' || fail "signature in the view: $(jqc .timepoints)"
expect 409 alice POST $BL/sign "$(pw alice)"
jqr .error | grep -q 'already signed by you' || fail "double sign: $(cat "$T/out")"
sqlite3 "$A/recistry.db" "SELECT actor, after_json FROM audit_log WHERE action = 'timepoint.sign' AND timepoint = 'BL'" >"$T/audit"
grep -q "^alice|.*\"meaning\":\"$MEANING\"" "$T/audit" || fail "audit row of the signature: $(cat "$T/audit")"
[ "$(wc -l <"$T/audit")" = 1 ] || fail "the repeated sign was audited: $(cat "$T/audit")"

echo "== follow-up: every lesion assessed"
expect 200 alice PUT $FU/lesions/T1 "$(m "$SOP_FU" '[288,220]' '[313,220]')"
# NT1 has no state at FU1 yet; a new lesion recorded there has one (unequivocal by default)
expect 201 alice POST /api/reads/$S/lesions '{"kind":"new","organ":"lung","timepoint":"FU1","state":"equivocal"}'
expect 422 alice POST $FU/sign "$(pw alice)"
jqr .error | grep -q 'FU1 cannot be signed yet: non-target NT1 has no state' || fail "non-target state: $(cat "$T/out")"
expect 200 alice PUT $FU/lesions/NT1 '{"state":"present"}'
expect 200 alice POST $FU/sign "$(pw alice)"

echo "== unsigning needs the password and a reason"
expect 400 alice POST $FU/unsign '{"reason":"T1 remeasured on a better slice"}'
expect 400 alice POST $FU/unsign "$(pw alice)"
expect 400 alice POST $FU/unsign "$(pw alice '  ')"
expect 403 alice POST $FU/unsign '{"password":"wrong-one","reason":"T1 remeasured"}'
expect 200 alice POST $FU/unsign "$(pw alice 'T1 remeasured on a better slice')"
jqe '.timepoints[1].signed == false' || fail "unsign"
sqlite3 "$A/recistry.db" "SELECT actor, reason, before_json FROM audit_log WHERE action = 'timepoint.unsign'" | grep -q "^alice|T1 remeasured on a better slice|.*$MEANING" ||
  fail "unsign audit: $(sqlite3 "$A/recistry.db" "SELECT * FROM audit_log WHERE action = 'timepoint.unsign'")"

echo "== wrong passwords at signing count like failed logins"
expect 201 carol POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'
expect 200 carol PUT $BL/lesions/T1 "$(m "$SOP_BL" '[281,220]' '[319,220]')"
for i in 1 2 3 4 5; do expect 403 carol POST $BL/sign '{"password":"guess-'$i'"}'; done
expect 429 carol POST $BL/sign "$(pw carol)"
jqr .error | grep -q 'too many wrong passwords' || fail "locked message: $(cat "$T/out")"
expect 429 - POST /api/login "{\"name\":\"carol\",\"password\":\"$(cat "$T/carol.pw")\"}"
expect 200 carol GET /api/reads/$S
jqe '.timepoints[0].signed == false' || fail "carol's BL signed while locked"

echo "== treatment start: the registry's, for every read"
expect 200 alice GET /api/reads/$S
jqe '.treatment_start.source == "baseline" and (.warnings | any(test("^no registry data: timed from the baseline date")))' || fail "no-registry warning: $(jqc '{treatment_start, warnings}')"
if "$R" recist --help >/dev/null 2>&1; then
  jqe '.engine.early_tumour_shrinkage.days == 56' ||
    fail "ETS from the baseline: $(jqc .engine.early_tumour_shrinkage)"
fi
cat >"$T/registry.csv" <<'CSV'
subject_id,site_id,treatment_start,indication,liver_only,death_date,last_contact_date,secondary_resection_date
CIREL-014-0001,S014,2025-01-20,first_line,yes,,2025-09-01,
CIREL-015-0001,S015,2025-01-15,salvage,no,,2025-08-01,
CSV
"$R" registry import --archive "$A" "$T/registry.csv" >/dev/null || fail "registry import"
expect 200 alice GET /api/reads/$S
jqe '.treatment_start == {"date":"2025-01-20","source":"registry"} and (.warnings | any(test("registry")) | not)' || fail "registry treatment start: $(jqc '{treatment_start, warnings}')"
if "$R" recist --help >/dev/null 2>&1; then
  # FU1 2025-03-03 is 42 days after the registry's treatment start (56 after the baseline)
  jqe '.engine.early_tumour_shrinkage.days == 42' ||
    fail "ETS from the treatment start: $(jqc .engine.early_tumour_shrinkage)"
fi
"$R" reads export --archive "$A" --role central --reader alice --json >"$T/central.json"
jqe '.[0].treatment_start == "2025-01-20"' "$T/central.json" || fail "export: $(head -c 300 "$T/central.json")"

echo "== imported site reads: the registry's treatment start; signed by who imported, when, from which file"
cat >"$T/site.csv" <<'CSV'
subject_id,timepoint,date,lesion_id,kind,organ,nodal,diameter_mm,state
CIREL-014-0001,BL,2025-01-06,T1,target,liver,false,31,
CIREL-014-0001,FU1,2025-03-03,T1,target,,,20,
CSV
"$R" reads import --archive "$A" --role site "$T/site.csv" >/dev/null || fail "site import"
"$R" reads export --archive "$A" --role site --json >"$T/site.json"
jqe '.[0].subject_id == "CIREL-014-0001" and .[0].treatment_start == "2025-01-20"' "$T/site.json" ||
  fail "site export: $(head -c 300 "$T/site.json")"
today=$(date -u +%Y-%m-%d)
expect 200 sam GET /api/reads/$S
jqe --arg d "$today" '.timepoints[0].signed_by | startswith("os:")' &&
  jqe --arg d "$today" '(.timepoints[0].signed_at | startswith($d)) and .timepoints[0].signed_meaning == "imported from site.csv"
  and .treatment_start.source == "registry"' || fail "imported sign-off: $(jqc .timepoints)"
cat >"$T/site015.json" <<'JSON'
[{"subject_id":"CIREL-015-0001","treatment_start":"2025-01-02","assessments":[
  {"timepoint":"BL","date":"2025-01-10","target":[{"lesion_id":"T1","organ":"liver","nodal":false,"diameter_mm":24}],
   "non_target":[],"new_lesions":[]}]}]
JSON
if "$R" reads import --archive "$A" --role site "$T/site015.json" 2>"$T/import.err"; then fail "a treatment start other than the registry's was imported"; fi
grep -q 'subject CIREL-015-0001: treatment_start: 2025-01-02 differs from the registry.s 2025-01-15' "$T/import.err" ||
  fail "treatment start message: $(cat "$T/import.err")"
jq '.[0].treatment_start = "2025-01-15"' "$T/site015.json" >"$T/site015b.json"
"$R" reads import --archive "$A" --role site "$T/site015b.json" >/dev/null 2>"$T/import.err" || fail "matching treatment start refused: $(cat "$T/import.err")"

"$R" audit verify --archive "$A" >/dev/null || fail "audit verify"
echo "reader_signature: all checks passed"
