#!/usr/bin/env bash
# Independent central review over HTTP against the real server (curl): review settings, round-robin
# assignment, two blinded central readers (R1 alice, R2 bob) reading one subject differently, the adjudication
# queue and side-by-side, the signed decision — and blinding at every step: R1 never reaches R2's read, key
# images or calipers, even with ids guessed from QA's view; a site user never reaches a central read; an
# adjudicator sees neither central read before the subject is triggered.
source "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
reader_setup review_api
make_fixtures 12
add_user alice central
add_user bob central
add_user adam adjudicator
add_user quinn qa
add_user root admin
add_user sam site S014
reader_start
S=CIREL-014-0001
for u in alice bob adam quinn root sam; do login $u; done
pw() { echo "\"password\":\"$(cat "$T/$1.pw")\""; }

echo "== review settings"
expect 200 alice GET /api/review/settings
jqe '.paradigm == "single"' || fail "default paradigm: $(cat "$T/out")"
expect 403 sam GET /api/review/settings
expect 403 alice PUT /api/review/settings '{"paradigm":"double","reason":"BICR"}'
expect 403 quinn PUT /api/review/settings '{"paradigm":"double","reason":"BICR"}'
expect 400 root PUT /api/review/settings '{"paradigm":"triple","reason":"BICR"}'
call root PUT /api/review/settings '{"paradigm":"double"}'
[ "${code:0:1}" = 4 ] || fail "settings change without a reason → $code"
expect 200 root PUT /api/review/settings '{"paradigm":"double","reason":"protocol: BICR with two readers"}'
jqe '.paradigm == "double"' || fail "paradigm: $(cat "$T/out")"
"$R" adjudication config --archive "$A" | grep -q double || fail "CLI does not see the paradigm"

echo "== round-robin assignment (admin only, audited)"
RR=/api/assignments/round-robin
expect 403 alice POST $RR '{"readers":["alice","bob"],"per_subject":2}'
expect 400 root POST $RR '{"readers":["alice","bob"],"per_subject":3}'
expect 400 root POST $RR '{"readers":["alice"],"per_subject":2}'
expect 400 root POST $RR '{"readers":["alice","alice"],"per_subject":2}'
expect 400 root POST $RR '{"readers":[]}'
expect 422 root POST $RR '{"readers":["alice","nobody"],"per_subject":2}'
expect 200 root POST $RR '{"readers":["alice","bob"],"per_subject":2}'
jqe '.assigned == [{"subject_id":"CIREL-014-0001","readers":["alice","bob"]},{"subject_id":"CIREL-015-0001","readers":["bob","alice"]}]' || fail "round robin: $(cat "$T/out")"
expect 200 root POST $RR '{"readers":["bob","alice"],"per_subject":2}'
jqe '.assigned == []' || fail "round robin reassigned assigned subjects: $(cat "$T/out")"
n=$(sqlite3 "$A/recistry.db" "SELECT COUNT(*) FROM audit_log WHERE action = 'assignment.set' AND actor = 'root' AND reason = 'round-robin assignment'")
[ "$n" = 2 ] || fail "round-robin audit rows: $n"

echo "== two central reads of $S: R1 alice (target shrinks), R2 bob (target shrinks and a new lesion)"
expect 200 quinn GET /api/worklist
STUDY_BL=$(jqr '.subjects[0].timepoints[0].study_uid')
STUDY_FU=$(jqr '.subjects[0].timepoints[1].study_uid')
expect 200 quinn GET /api/studies/$STUDY_BL/series
SOP_BL=$(jqr '.series[0].instances[6].sop_instance_uid')
expect 200 quinn GET /api/studies/$STUDY_FU/series
SOP_FU=$(jqr '.series[0].instances[6].sop_instance_uid')
m() { echo "{\"measurement\":{\"sop_instance_uid\":\"$1\",\"p1\":$2,\"p2\":$3}}"; }
for u in alice bob; do
  expect 201 $u POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'
  expect 200 $u PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(m "$SOP_BL" '[281,220]' '[319,220]')"
  expect 200 $u POST /api/reads/$S/timepoints/BL/sign "{$(pw $u)}"
  expect 200 $u PUT /api/reads/$S/timepoints/FU1/lesions/T1 "$(m "$SOP_FU" '[288,220]' '[313,220]')"
done
expect 201 bob POST /api/reads/$S/lesions '{"kind":"new","organ":"lung","timepoint":"FU1","state":"unequivocal"}'
expect 200 alice POST /api/reads/$S/timepoints/FU1/sign "{$(pw alice)}"

echo "== blinding while R2 is still reading"
expect 404 adam GET /api/adjudication/$S
grep -qi 'alice\|bob\|triggered\|awaiting' "$T/out" && fail "the refusal hints at the reads: $(cat "$T/out")"
expect 200 adam GET /api/adjudication
jqe '.queue == []' || fail "queue before both reads: $(cat "$T/out")"
expect 200 adam GET "/api/reads/$S?role=central&reader=alice"
jqe '.role == "adjudicator" and .reader == "adam" and (.lesions | length) == 0' ||
  fail "adjudicator reached R1 before the trigger: $(head -c 300 "$T/out")"
expect 200 quinn GET "/api/reads/$S?role=central&reader=alice"
KEY_A=$(jqr '.lesions[0].observations.FU1.measurement.key_image_url')
expect 200 quinn GET "/api/reads/$S?role=central&reader=bob"
KEY_B=$(jqr '.lesions[0].observations.FU1.measurement.key_image_url')
KEY_B_BL=$(jqr '.lesions[0].observations.BL.measurement.key_image_url')
[ "${KEY_B#/api/key-images/}" != "$KEY_B" ] || fail "no key image in bob's read"
expect 404 adam GET "$KEY_A"
expect 404 adam GET "$KEY_B"

blinded() { # checks that alice (R1) and sam (site) reach nothing of bob's (R2) read
  expect 200 alice GET "/api/reads/$S?role=central&reader=bob"
  jqe '.reader == "alice"' || fail "R1 reached R2's read: $(head -c 300 "$T/out")"
  jqe '[.lesions[].kind] | index("new") | not' || fail "R1's read shows R2's new lesion"
  for k in "$KEY_B" "$KEY_B_BL"; do expect 404 alice GET "$k"; done
  expect 403 alice GET /api/adjudication/$S
  expect 403 alice GET /api/adjudication
  expect 200 alice GET /api/reads/$S/readers
  jqe '[.reads[].reader] == ["alice"]' || fail "R1 learns of other reads: $(cat "$T/out")"
  expect 403 bob GET /api/adjudication/$S
  expect 404 bob GET "$KEY_A"
  expect 200 sam GET "/api/reads/$S?role=central&reader=alice"
  jqe '.role == "site" and (.lesions | length) == 0' || fail "site user reached a central read"
  for k in "$KEY_A" "$KEY_B"; do expect 404 sam GET "$k"; done
  expect 403 sam GET /api/adjudication/$S
  expect 403 sam GET /api/adjudication
}
blinded

echo "== both reads signed: the subject is triggered"
expect 200 bob POST /api/reads/$S/timepoints/FU1/sign "{$(pw bob)}"
expect 200 adam GET /api/adjudication
jqe '.queue | length == 1 and .[0].subject_id == "'$S'" and (.[0].reasons | index("bor_differs"))' ||
  fail "queue: $(cat "$T/out")"
expect 200 quinn GET /api/adjudication
expect 200 root GET /api/adjudication
expect 200 adam GET /api/adjudication/$S
jqe '.review.status == "triggered" and .r1.reader == "alice" and .r2.reader == "bob" and .own == null and
       (.r2.lesions | map(.kind) | index("new")) and (.matches | length) >= 2 and
       ([.matches[] | select(.r1 != null and .r2 != null)] | length) == 1 and
       ([.matches[] | select(.r1 == null) | .r2.lesion_id] == ["N1"])' ||
  fail "side-by-side: $(jqc '{review: .review.status, r1: .r1.reader, r2: .r2.reader, matches}')"
expect 200 adam GET "$KEY_B"
expect 200 adam GET "/api/reads/$S?role=central&reader=bob"
jqe '.role == "central" and .reader == "bob"' || fail "adjudicator cannot open R2 in the viewer"
# An adjudicator's write goes to their own read, never to R1's or R2's (the query names no read to write).
expect 201 adam POST "/api/reads/$S/lesions?role=central&reader=bob" '{"kind":"target","organ":"liver","timepoint":"BL"}'
jqe '.read.reader == "adam"' || fail "adjudicator's write: $(head -c 300 "$T/out")"
expect 200 quinn GET "/api/reads/$S?role=central&reader=bob"
jqe '(.lesions | length) == 2' || fail "R2's read changed"
blinded

echo "== the decision"
D=/api/adjudication/$S
expect 403 alice POST $D "{\"outcome\":\"r1\",\"reason\":\"mine\",$(pw alice)}"
expect 403 quinn POST $D "{\"outcome\":\"r1\",\"reason\":\"x\",$(pw quinn)}"
expect 403 adam POST $D '{"outcome":"r2","reason":"new lung lesion is real","password":"wrong-password"}'
jqr .error | grep -q 'wrong password' || fail "wrong password message: $(cat "$T/out")"
n=$(sqlite3 "$A/recistry.db" "SELECT COUNT(*) FROM audit_log WHERE action = 'adjudication.decide'")
[ "$n" = 0 ] || fail "a refused decision was stored"
"$R" adjudication show --archive "$A" --subject $S | jqe '.status == "triggered"' - || fail "status after a wrong password"
call adam POST $D "{\"outcome\":\"r2\",$(pw adam)}"
[ "${code:0:1}" = 4 ] || fail "decision without a reason → $code"
call adam POST $D "{\"outcome\":\"r2\",\"reason\":\"   \",$(pw adam)}"
[ "${code:0:1}" = 4 ] || fail "decision with a blank reason → $code"
expect 400 adam POST $D '{"outcome":"r2","reason":"x"}'
expect 422 adam POST $D "{\"outcome\":\"r3\",\"reason\":\"x\",$(pw adam)}"
expect 409 adam POST $D "{\"outcome\":\"own\",\"reason\":\"neither\",$(pw adam)}"
expect 409 adam POST /api/adjudication/CIREL-015-0001 "{\"outcome\":\"r1\",\"reason\":\"x\",$(pw adam)}"
expect 404 adam POST /api/adjudication/CIREL-999-0001 "{\"outcome\":\"r1\",\"reason\":\"x\",$(pw adam)}"
n=$(sqlite3 "$A/recistry.db" "SELECT COUNT(*) FROM audit_log WHERE action = 'adjudication.decide'")
[ "$n" = 0 ] || fail "a refused decision was stored ($n)"
expect 200 adam POST $D "{\"outcome\":\"r2\",\"reason\":\"the new lung lesion is unequivocal on FU1\",$(pw adam)}"
jqe '.review.status == "adjudicated" and .review.final.reader == "bob" and .review.final.basis == "adjudicated"' || fail "decision: $(cat "$T/out")"
"$R" adjudication show --archive "$A" --subject $S >"$T/show.json" || fail "adjudication show"
jqe '.status == "adjudicated" and .final.role == "central" and .final.reader == "bob" and
       .adjudication.adjudicator == "adam"' "$T/show.json" ||
  jqe '.status == "adjudicated" and .final.reader == "bob"' "$T/show.json" || fail "show: $(cat "$T/show.json")"
"$R" adjudication list --archive "$A" --json | jqe 'length == 0' - || fail "still queued"
expect 200 adam GET /api/adjudication/$S
jqe '.review.adjudication.outcome == "r2" and .review.final.reader == "bob"' ||
  fail "side-by-side after the decision: $(jqc .review)"
sqlite3 "$A/recistry.db" "SELECT actor, reason FROM audit_log WHERE action = 'adjudication.decide' AND subject_id = '$S'" |
  grep -qx 'adam|the new lung lesion is unequivocal on FU1' || fail "audit row of the decision"
"$R" audit verify --archive "$A" >"$T/audit.out" || fail "audit verify: $(cat "$T/audit.out")"
grep -q 'adam' "$T/serve.err" && grep 'adjudicate' "$T/serve.err" | grep -qi 'lung' && fail "free text in the log"

echo "== blinding after the decision"
blinded
expect 200 quinn GET /api/adjudication/$S
jqe '.r1.reader == "alice" and .r2.reader == "bob"' || fail "QA side-by-side"
echo "PASS"
