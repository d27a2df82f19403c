#!/usr/bin/env bash
# Concordance and reader QC from the archive (issue 11): the committed sample subjects read by the site and by
# two central readers (the second differs: larger follow-up targets and a new lesion in one subject, which
# triggers adjudication). The archive forms — `recistry concordance --archive --pair` and GET /api/concordance —
# must equal the file form `recistry concordance A.json B.json` on the same reads exported; `recistry
# adjudication qc --json` and GET /api/reader-qc must equal each other and a direct python3 computation on the
# exported reads (tests/integration/qa/check_qc.py); only QA and admin reach either endpoint.
set -euo pipefail
. "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
reader_setup qa_concordance
S=$RCY_SOURCE_DIR/sample-dicom
Q=$RCY_SOURCE_DIR/tests/integration/qa
"$R" reads index --archive "$A" "$S"/S0*/*/BL/*_0001.dcm >/dev/null
"$R" registry import --archive "$A" "$S/registry.csv" >/dev/null
add_user qa1 qa
add_user admin1 admin
add_user c1 central
add_user c2 central
add_user adj1 adjudicator
add_user site1 site S014
"$R" adjudication config --archive "$A" --paradigm double --reason "two blinded central readers" >/dev/null
"$R" reads import --archive "$A" --role site "$S/reads/site.json" >/dev/null
"$R" reads import --archive "$A" --role central --reader c1 "$S/reads/central.json" >/dev/null
python3 "$Q/make_reads.py" "$S/reads/central.json" "$T/r2.json"
"$R" reads import --archive "$A" --role central --reader c2 "$T/r2.json" >/dev/null
[ "$("$R" adjudication list --archive "$A" --json | jq -r '.[].subject_id')" = CIREL-014-0001 ] \
  || fail "the subject with R2's new lesion is not the one triggered"

# Archive form = file form on the exported reads.
"$R" reads export --archive "$A" --role site --json >"$T/site.json"
"$R" reads export --archive "$A" --final --json >"$T/final.json"
"$R" reads export --archive "$A" --role central --reader c1 --json >"$T/c1.json"
"$R" reads export --archive "$A" --role central --reader c2 --json >"$T/c2.json"
for p in site:central r1:r2; do
  "$R" concordance --archive "$A" --pair "$p" --json >"$T/arch_${p/:/_}.json"
  [ "$(jqr .pair "$T/arch_${p/:/_}.json")" = "$p" ] || fail "$p: no pair in the report"
done
"$R" concordance "$T/site.json" "$T/final.json" >"$T/file_site_central.json"
"$R" concordance "$T/c1.json" "$T/c2.json" >"$T/file_r1_r2.json"
for p in site_central r1_r2; do
  diff <(jq -S 'del(.pair, .paradigm)' "$T/arch_$p.json") <(jq -S . "$T/file_$p.json") >"$T/diff" \
    || fail "$p: archive and file forms differ: $(head -20 "$T/diff")"
done
[ "$(jq '.subjects' "$T/arch_site_central.json")" = 2 ] || fail "site:central should pair the 2 subjects with a final read"
[ "$(jq '.discordant | length' "$T/arch_r1_r2.json")" = 1 ] || fail "r1:r2: one discordant subject expected"
[ "$(jq '.bland_altman_sum_mm | (.points | length) == .n' "$T/arch_r1_r2.json")" = true ] \
  || fail "Bland–Altman points do not match n"

# Reader QC: CLI JSON against the direct computation; the text table shows the same figures.
"$R" adjudication qc --archive "$A" --json >"$T/qc.json"
python3 "$Q/check_qc.py" "$T/qc.json" "$T/c1.json" "$T/c2.json" "$T/arch_r1_r2.json" "$S/registry.csv" \
  || fail "reader QC differs from the direct computation"
"$R" adjudication qc --archive "$A" >"$T/qc.txt"
grep -q "R1 c1 / R2 c2 *1/3 *33.3 %" "$T/qc.txt" || fail "text table: $(cat "$T/qc.txt")"
grep -q "site S014 *1/1 *100.0 %" "$T/qc.txt" || fail "text table per site: $(cat "$T/qc.txt")"

# The API: QA and admin get the CLI's figures; everyone else 403; a bad pair 400 naming it.
reader_start
for u in qa1 admin1 c1 adj1 site1; do login $u; done
for who in qa1 admin1; do
  call $who GET "/api/concordance?pair=r1:r2"; [ "$code" = 200 ] || fail "$who concordance r1:r2 → $code"
  diff <(jq -S . "$T/out") <(jq -S . "$T/arch_r1_r2.json") >/dev/null || fail "$who: API r1:r2 differs from the CLI"
  call $who GET "/api/concordance?pair=site:central"; [ "$code" = 200 ] || fail "$who concordance → $code"
  diff <(jq -S . "$T/out") <(jq -S . "$T/arch_site_central.json") >/dev/null || fail "$who: API site:central differs"
  call $who GET /api/reader-qc; [ "$code" = 200 ] || fail "$who reader-qc → $code"
  diff <(jq -S . "$T/out") <(jq -S . "$T/qc.json") >/dev/null || fail "$who: API reader QC differs from the CLI"
done
call qa1 GET "/api/concordance?pair=central:site"
[ "$code" = 400 ] && jqe '.error | test("pair")' || fail "bad pair → $code $(cat "$T/out")"
for who in c1 adj1 site1; do
  for p in "/api/concordance?pair=r1:r2" "/api/concordance?pair=site:central" /api/reader-qc; do
    call $who GET "$p"; [ "$code" = 403 ] || fail "$who GET $p → $code (must be 403)"
  done
done
call - GET /api/reader-qc; [ "$code" = 401 ] || fail "no session → $code"

# The PDF reports the QA page and the registry page link to: QA gets the cohort and any subject's report with
# every read; a central reader gets no cohort report and, for a subject, only their own read (blinding).
call qa1 GET "/api/reports/cohort.pdf?reader=central&by=indication"
[ "$code" = 200 ] && [ "$(head -c 5 "$T/out")" = "%PDF-" ] || fail "QA cohort report → $code"
pdftotext "$T/out" "$T/cohort.txt" && grep -q "Cohort report: central reads" "$T/cohort.txt" || fail "cohort report text"
call c1 GET "/api/reports/cohort.pdf?reader=central"; [ "$code" = 403 ] || fail "central reader cohort report → $code"
call qa1 GET /api/reports/subject/CIREL-014-0001.pdf
[ "$code" = 200 ] && pdftotext "$T/out" - >"$T/qa_subject.txt" || fail "QA subject report → $code"
grep -q "c1" "$T/qa_subject.txt" && grep -q "c2" "$T/qa_subject.txt" || fail "QA's subject report lacks a central read"
call c1 GET /api/reports/subject/CIREL-014-0001.pdf
[ "$code" = 200 ] && pdftotext "$T/out" - >"$T/c1_subject.txt" || fail "c1 subject report → $code"
grep -q "c1" "$T/c1_subject.txt" || fail "c1's report lacks c1's read"
if grep -q "c2" "$T/c1_subject.txt" || grep -qi "site read" "$T/c1_subject.txt"; then
  fail "c1's subject report shows another reader's read"
fi
call site1 GET /api/reports/subject/CIREL-027-0001.pdf; [ "$code" = 404 ] || [ "$code" = 403 ] \
  || fail "site user, another site's subject report → $code"
echo "qa_concordance: ok"
