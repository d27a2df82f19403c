#!/usr/bin/env bash
# Independent central review from the command line (src/reads/review.c): the paradigm setting (audited, with
# a reason), R1/R2 in import order, the adjudication triggers (BOR, progression timepoint, optionally overall
# response), the final rule, the final central read that endpoints use, the archive concordance equal to the
# file form on the same reads, and central imports that refuse what would break blinding or overwrite a read.
set -euo pipefail
: "${RECISTRY:?}" "${RCY_SOURCE_DIR:?}"
R=$RECISTRY
tmp=${RCY_TEST_TMP:-/tmp}/review_cli.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
s=$RCY_SOURCE_DIR/sample-dicom
a=$tmp/archive
"$R" init --archive "$a" >/dev/null
"$R" reads index --archive "$a" "$s"/S0*/*/*/*_0001.dcm >/dev/null
"$R" registry import --archive "$a" "$s/registry.csv" >/dev/null
"$R" reads import --archive "$a" --role site "$s/reads/site.json" >/dev/null
printf 'qa-password-1\n' >"$tmp/pw"
"$R" user add --archive "$a" --name quality --role qa --password-file "$tmp/pw" >/dev/null

# R2 calls an unequivocal new lesion in the lung at FU1 of CIREL-014-0001 (R1 does not), and reads
# CIREL-031-0001's FU1 as stable (R1: partial response, unconfirmed, so both BORs are SD).
jq '(.[] | select(.subject_id == "CIREL-014-0001") | .assessments[1].new_lesions) =
      [{"lesion_id": "N1", "organ": "lung", "nodal": false, "state": "unequivocal"}]
  | (.[] | select(.subject_id == "CIREL-031-0001") | .assessments[1].target) |=
      map(.diameter_mm = (.diameter_mm * 0.0 + 14.0))' "$s/reads/central.json" >"$tmp/r2.json"

# Central imports: a reader name is required, may not be another kind of account, never overwrites.
set +e
"$R" reads import --archive "$a" --role central "$s/reads/central.json" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "central import without --reader gave $rc"
"$R" reads import --archive "$a" --role central --reader quality "$s/reads/central.json" >"$tmp/out" 2>&1; rc=$?
set -e
[ $rc = 1 ] && grep -q "quality is a qa account" "$tmp/out" || fail "import under a QA account: $rc $(cat "$tmp/out")"
"$R" reads import --archive "$a" --role central --reader alice "$s/reads/central.json" >/dev/null
set +e
"$R" reads import --archive "$a" --role central --reader alice "$tmp/r2.json" >"$tmp/out" 2>&1; rc=$?
set -e
[ $rc = 1 ] && grep -q "already has a central read" "$tmp/out" || fail "a second import over alice's read: $rc"
"$R" reads import --archive "$a" --role central --reader bob "$tmp/r2.json" >/dev/null

# single (the default): nothing to adjudicate, R1 (the first imported) is final.
[ "$("$R" adjudication list --archive "$a" --json | jq length)" = 0 ] || fail "single: queue not empty"
"$R" adjudication show --archive "$a" --subject CIREL-014-0001 >"$tmp/show.json"
[ "$(jq -r '.status + " " + .final.reader + " " + .final.basis' "$tmp/show.json")" = "single alice single" ] \
  || fail "single: $(jq -c '{status,final}' "$tmp/show.json")"

# Changing the paradigm needs a reason and valid values; the change is audited.
set +e
"$R" adjudication config --archive "$a" --paradigm double >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "reason is required" "$tmp/out" || fail "config without reason: $rc"
"$R" adjudication config --archive "$a" --paradigm triple --reason x >"$tmp/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'paradigm must be' "$tmp/out" || fail "paradigm triple: $rc"
"$R" adjudication config --archive "$a" --pd-tolerance-days soon --reason x >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "tolerance 'soon' gave $rc"
set -e
"$R" adjudication config --archive "$a" --paradigm double --reason "protocol: BICR with two readers" >/dev/null

"$R" adjudication list --archive "$a" --json >"$tmp/q.json"
[ "$(jq -c '[.[] | {subject_id, reasons}]' "$tmp/q.json")" = \
  '[{"subject_id":"CIREL-014-0001","reasons":["bor_differs","pd_timepoint_differs"]}]' ] \
  || fail "double: queue $(cat "$tmp/q.json")"
"$R" adjudication list --archive "$a" | grep -q "CIREL-014-0001  *bor_differs, pd_timepoint_differs" \
  || fail "text queue"
"$R" adjudication show --archive "$a" --subject CIREL-014-0001 >"$tmp/show.json"
[ "$(jq -c '[.status, .readers.r1, .readers.r2, .final, .differences.bor]' "$tmp/show.json")" = \
  '["triggered","alice","bob",null,["NE","PD"]]' ] || fail "triggered: $(jq -c . "$tmp/show.json" | head -c 400)"
"$R" adjudication show --archive "$a" --subject CIREL-031-0001 >"$tmp/show.json"
[ "$(jq -r '.status + " " + .final.reader + " " + .final.basis' "$tmp/show.json")" = "agreed alice rule_r1" ] \
  || fail "agreed: $(jq -c '{status,final,reasons}' "$tmp/show.json")"
[ "$(jq -c '.differences.overall_response' "$tmp/show.json")" = '[{"timepoint":"FU1","r1":"PR","r2":"SD"}]' ] \
  || fail "overall response difference not reported"

# Optional trigger on any timepoint's overall response; the final rule picks R2 when asked.
"$R" adjudication config --archive "$a" --trigger-overall-response yes --final-rule r2 --reason "SAP v2" >/dev/null
"$R" adjudication list --archive "$a" --json | jq -e 'map(.subject_id) == ["CIREL-014-0001", "CIREL-031-0001"]
  and (.[1].reasons == ["overall_response_differs"])' >/dev/null || fail "overall response trigger"
[ "$("$R" adjudication show --archive "$a" --subject CIREL-027-0001 | jq -r '.final.reader + " " + .final.basis')" = \
  "bob rule_r2" ] || fail "final rule r2"
"$R" adjudication config --archive "$a" --trigger-overall-response no --final-rule r1 --reason "SAP v3" >/dev/null

# Endpoints use the final central read: the triggered subject is left out until adjudicated.
"$R" endpoints --archive "$a" --reader central --json 2>/dev/null >"$tmp/ep.json"
[ "$(jq '.groups[0].n' "$tmp/ep.json")" = 2 ] || fail "endpoints on final reads: n $(jq '.groups[0].n' "$tmp/ep.json")"
"$R" reads export --archive "$a" --final --json >"$tmp/final.json"
[ "$(jq -c 'map([.subject_id, .reader, .acceptance])' "$tmp/final.json")" = \
  '[["CIREL-027-0001","alice","rule_r1"],["CIREL-031-0001","alice","rule_r1"]]' ] || fail "final export $(jq -c 'map([.subject_id,.reader,.acceptance])' "$tmp/final.json")"

# The archive concordance is the file form's report on the same reads.
"$R" reads export --archive "$a" --role central --reader alice --json >"$tmp/alice.json"
"$R" reads export --archive "$a" --role central --reader bob --json >"$tmp/bob.json"
"$R" concordance --archive "$a" --pair r1:r2 --json >"$tmp/arch.json"
"$R" concordance "$tmp/alice.json" "$tmp/bob.json" >"$tmp/file.json"
[ "$(jq -r .pair "$tmp/arch.json")" = r1:r2 ] || fail "pair key"
diff <(jq -S 'del(.pair, .paradigm)' "$tmp/arch.json") <(jq -S . "$tmp/file.json") >"$tmp/diff" \
  || { head -20 "$tmp/diff" >&2; fail "archive r1:r2 differs from the file form"; }
"$R" reads export --archive "$a" --role site --json >"$tmp/site.json"
"$R" concordance --archive "$a" --pair site:central >"$tmp/arch.json"
"$R" concordance "$tmp/site.json" "$tmp/final.json" >"$tmp/file.json"
diff <(jq -S 'del(.pair, .paradigm)' "$tmp/arch.json") <(jq -S . "$tmp/file.json") >/dev/null \
  || fail "archive site:central differs from the file form"
set +e
"$R" concordance --archive "$a" --pair site:r2 >/dev/null 2>&1; rc=$?
set -e
[ $rc = 2 ] || fail "--pair site:r2 gave $rc"

"$R" audit verify --archive "$a" >/dev/null || fail "audit chain"
echo "review_cli: ok"
