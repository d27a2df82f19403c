#!/usr/bin/env bash
# The audit-log viewer (GET /api/audit, `recistry audit list`) against the real server: QA and admin only
# (central and site users 403: the log names readers and holds their measurements), filters by subject,
# reader (who acted or whose read changed), action (exact and prefix) and dates, keyset pagination, before/after
# parsed with the changed fields listed, 400 naming each bad parameter, and the CLI printing the same page.
source "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
reader_setup reader_audit
make_fixtures 12
add_user alice central
add_user bob central
add_user sam site S014
add_user quinn qa
add_user ada admin
reader_start
S=CIREL-014-0001
O=CIREL-015-0001
for u in alice bob sam quinn ada; do login $u; done

echo "== changes that the log records"
expect 200 alice GET /api/worklist
expect 200 alice GET /api/studies/$(jqr '.subjects[0].timepoints[0].study_uid')/series
SOP_BL=$(jqr '.series[0].instances[6].sop_instance_uid')
m() { echo "{\"measurement\":{\"sop_instance_uid\":\"$SOP_BL\",\"p1\":$1,\"p2\":$2}${3:+,\"reason\":\"$3\"}}"; }
BLT=/api/reads/$S/timepoints/BL/lesions
APW="\"password\":\"$(cat "$T/alice.pw")\""
expect 201 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'          # 1 lesion.add
expect 200 alice PUT $BLT/T1 "$(m '[281.0,220.0]' '[319.0,220.0]')"                                       # 2 observation.set
expect 200 alice POST /api/reads/$S/timepoints/BL/sign "{$APW}"                                            # 3 timepoint.sign
expect 200 alice PUT $BLT/T1 "$(m '[282,220]' '[319,220]' 'caliper placed on the rim')"                    # 4 observation.set
expect 200 alice POST /api/reads/$S/timepoints/BL/unsign "{\"reason\":\"recheck T1\",$APW}"                # 5 timepoint.unsign
expect 201 bob POST /api/reads/$S/lesions '{"kind":"target","organ":"lung","timepoint":"BL"}'              # 6 lesion.add
expect 201 sam POST /api/reads/$S/lesions '{"kind":"non_target","organ":"bone","timepoint":"BL"}'          # 7 lesion.add
expect 201 bob POST /api/reads/$O/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'             # 8 lesion.add
expect 200 ada PUT /api/assignments "{\"subject_id\":\"$S\",\"readers\":[\"alice\",\"bob\"]}"             # 9 assignment.set

echo "== who may read the log"
expect 401 - GET /api/audit
expect 403 alice GET /api/audit
expect 403 bob GET "/api/audit?reader=alice"
expect 403 sam GET "/api/audit?subject=$S"
expect 405 quinn DELETE /api/audit
expect 200 ada GET /api/audit
expect 200 quinn GET /api/audit
jqe '[.entries[].seq] == [9,8,7,6,5,4,3,2,1] and .next_before == null' ||
  fail "all rows newest first: $(jqc '[.entries[].seq], .next_before')"
jqe '.actions == ["assignment.set","lesion.add","observation.set","timepoint.sign","timepoint.unsign"]' || fail "actions menu: $(jqc .actions)"
jqe '.entries[0] | keys == (["action","actor","after","at","before","changes","lesion_id","reader","read_role",
  "reason","seq","subject_id","timepoint"] | sort)' || fail "entry fields: $(jqc '.entries[0] | keys')"
jqe '.entries[] | select(.seq == 9) | .actor == "ada" and .before == {"readers":[]} and .after == {"readers":["alice","bob"]}
  and .read_role == null' || fail "assignment row: $(jqc '.entries[0]')"
jqe '.entries[].at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' || fail "at is UTC ISO"

echo "== before/after and reason"
jqe '.entries[] | select(.seq == 4) | .action == "observation.set" and .reason == "caliper placed on the rim"
  and .before.diameter_mm == 29.6875 and .after.diameter_mm == 28.90625 and .timepoint == "BL" and .lesion_id == "T1"
  and .read_role == "central" and .reader == "alice"' || fail "re-measure row: $(jqc '.entries[] | select(.seq == 4)')"
jqe '.entries[] | select(.seq == 4) | .changes | any(.path == ["diameter_mm"] and .before == 29.6875 and .after == 28.90625)
  and any(.path == ["measurement","p1"] and .before == [281,220] and .after == [282,220])
  and (map(.path) | index(["measurement","p2"]) == null)' ||
  fail "changes of the re-measure: $(jqc '.entries[] | select(.seq == 4) | .changes')"
jqe '.entries[] | select(.seq == 5) | .reason == "recheck T1" and .after == null and .before.signed_by == "alice"
  and (.changes | any(.path == ["signed_by"] and .before == "alice" and .after == null))' ||
  fail "unsign row: $(jqc '.entries[] | select(.seq == 5)')"
jqe '.entries[] | select(.seq == 1) | .before == null and .after.kind == "target" and .reason == null' ||
  fail "lesion.add row: $(jqc '.entries[] | select(.seq == 1)')"

echo "== filters"
seqs() { jqc '[.entries[].seq]'; }
want() { # JSON-ARRAY QUERY
  expect 200 quinn GET "/api/audit?$2"
  [ "$(seqs)" = "$1" ] || fail "?$2 → $(seqs), want $1"
}
want '[9,7,6,5,4,3,2,1]' "subject=$S"
want '[8]' "subject=$O"
want '[]' "subject=CIREL-999-0001"
want '[5,4,3,2,1]' "reader=alice"            # alice's own changes (actor and reader)
want '[8,6]' "reader=bob"
want '[7]' "reader=site"                     # the site read (reader "site"), whoever at the site changed it
want '[7]' "reader=sam"                      # ... and sam as the actor
want '[9]' "reader=ada"
want '[6]' "subject=$S&reader=bob"
want '[8,7,6,1]' "action=lesion.add"
want '[5,3]' "action=timepoint."
want '[]' "action=timepoint"                 # exact: no action is called just "timepoint"
want '[4,2]' "action=observation.set&reader=alice"
expect 200 quinn GET "/api/audit?subject=$O"
jqe '.actions == ["lesion.add"]' || fail "actions under a subject: $(jqc .actions)"
expect 200 quinn GET "/api/audit?subject=$S&action=lesion.add"
jqe '.actions | index("timepoint.sign") != null' || fail "the action filter narrows the menu"
TODAY=$(date -u +%F)
YESTERDAY=$(date -u -d yesterday +%F)
TOMORROW=$(date -u -d tomorrow +%F)
want '[9,8,7,6,5,4,3,2,1]' "from=$TODAY&to=$TODAY"
want '[]' "to=$YESTERDAY"
want '[]' "from=$TOMORROW"
want '[9,8,7,6,5,4,3,2,1]' "from=$YESTERDAY&limit=500"

echo "== pagination (keyset: seq < before)"
expect 200 quinn GET "/api/audit?limit=4"
[ "$(seqs)" = '[9,8,7,6]' ] && [ "$(jqj .next_before)" = 6 ] || fail "page 1: $(seqs) $(jqj .next_before)"
expect 200 quinn GET "/api/audit?limit=4&before=6"
[ "$(seqs)" = '[5,4,3,2]' ] && [ "$(jqj .next_before)" = 2 ] || fail "page 2: $(seqs) $(jqj .next_before)"
expect 200 quinn GET "/api/audit?limit=4&before=2"
[ "$(seqs)" = '[1]' ] && [ "$(jqj .next_before)" = null ] || fail "page 3: $(seqs) $(jqj .next_before)"
expect 200 quinn GET "/api/audit?reader=alice&limit=2&before=4"
[ "$(seqs)" = '[3,2]' ] && [ "$(jqj .next_before)" = 2 ] || fail "filtered page: $(seqs)"
expect 200 quinn GET "/api/audit?limit=9"
[ "$(jqj .next_before)" = null ] || fail "a full last page has no next page"
# A row appended while paging does not shift the older pages.
expect 200 quinn GET "/api/audit?limit=4"
expect 201 bob POST /api/reads/$O/lesions '{"kind":"target","organ":"lung","timepoint":"BL"}'             # 10
want '[5,4,3,2]' "limit=4&before=6"

echo "== bad parameters: 400 naming the parameter"
bad() { # PARAM QUERY
  expect 400 quinn GET "/api/audit?$2"
  jqe --arg p "$1" '.error | startswith($p + ":")' || fail "?$2: message does not name $1: $(cat "$T/out")"
}
bad limit "limit=0"
bad limit "limit=501"
bad limit "limit=abc"
bad limit "limit=-5"
bad limit "limit=1e2"
bad before "before=0"
bad before "before=-1"
bad before "before=x"
bad before "before=99999999999999999999999"
bad from "from=2025-02-30"
bad from "from=2025-1-5"
bad to "to=yesterday"
bad to "from=$TODAY&to=$YESTERDAY"
bad action "action=Timepoint.Sign"
bad action "action=.sign"
bad action "action=lesion%20add"
bad action "action=$(printf 'a%.0s' $(seq 65))"
bad subject "subject=../etc"
bad subject "subject=$(printf 'S%.0s' $(seq 65))"
bad reader "reader=a%20b"
bad reader "reader=alice%27%20OR%201=1--"
# Empty values are no filter; control characters make a parameter absent (docs/api.md, general rules).
want '[10,9,8,7,6,5,4,3,2,1]' "subject=&reader=&action=&from=&to=&before=&limit="

echo "== recistry audit list: the same page"
"$R" audit list --archive "$A" --subject "$S" --reader alice --json >"$T/cli.json" || fail "audit list --json"
expect 200 quinn GET "/api/audit?subject=$S&reader=alice"
jqe --slurpfile api "$T/out" '. == $api[0]' "$T/cli.json" || fail "CLI JSON differs from the API's"
"$R" audit list --archive "$A" --action timepoint. >"$T/cli.txt" || fail "audit list"
head -1 "$T/cli.txt" | grep -q '^SEQ .*ACTION .*SUBJECT .*REASON' || fail "table header: $(head -1 "$T/cli.txt")"
grep -q '^5 .*alice .*timepoint.unsign .*CIREL-014-0001 .*central/alice .*BL .*recheck T1$' "$T/cli.txt" ||
  fail "table row: $(cat "$T/cli.txt")"
grep -q '^ *signed_by: "alice" -> ∅$' "$T/cli.txt" || fail "table changes: $(cat "$T/cli.txt")"
grep -q 'no older ones' "$T/cli.txt" || fail "table footer: $(tail -1 "$T/cli.txt")"
"$R" audit list --archive "$A" --limit 3 >"$T/cli.txt" || fail "audit list --limit 3"
grep -q '(older rows: --before 8)' "$T/cli.txt" || fail "table pagination: $(tail -1 "$T/cli.txt")"
set +e
"$R" audit list --archive "$A" --limit 0 2>"$T/cli.err"; rc=$?
set -e
[ $rc = 2 ] && grep -q -- '--limit: ' "$T/cli.err" || fail "bad --limit → $rc: $(cat "$T/cli.err")"
set +e
"$R" audit list --archive "$A" --action 'x y' 2>"$T/cli.err"; rc=$?
set -e
[ $rc = 2 ] && grep -q -- '--action: ' "$T/cli.err" || fail "bad --action → $rc: $(cat "$T/cli.err")"
"$R" audit verify --archive "$A" | grep -q 'audit log intact: 10 row(s)' || fail "the viewer changed the log"
echo "PASS"
