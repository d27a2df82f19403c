#!/usr/bin/env bash
# PDF reports (docs/reports.md): an archive built from sample-dicom (site reads, two central readers, double
# reading, registry), the subject and cohort reports, checked with poppler-utils: page count and metadata
# (pdfinfo), the subject ID, the BORs and the medians equal to `recistry recist` / `recistry endpoints --json`
# (pdftotext), every page renders (pdftoppm); reproducible under SOURCE_DATE_EPOCH; a generated cohort of a few
# hundred subjects through the file form.
set -euo pipefail
: "${RECISTRY:?}" "${RCY_SOURCE_DIR:?}"
R=$RECISTRY
for t in pdfinfo pdftotext pdftoppm jq; do command -v $t >/dev/null || { echo "report_pdf: $t missing (scripts/setup.sh)" >&2; exit 1; }; done
tmp=${RCY_TEST_TMP:-/tmp}/report_pdf.$$
mkdir -p "$tmp"
[ -n "${RCY_KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
s=$RCY_SOURCE_DIR/sample-dicom
a=$tmp/archive
export SOURCE_DATE_EPOCH=1767225600 # 2026-01-01T00:00:00Z
"$R" init --archive "$a" >/dev/null
"$R" reads index --archive "$a" "$s"/S0*/*/*/*_0001.dcm >/dev/null
"$R" registry import --archive "$a" "$s/registry.csv" >/dev/null
"$R" reads import --archive "$a" --role site "$s/reads/site.json" >/dev/null
jq '(.[] | select(.subject_id == "CIREL-031-0001") | .assessments[1].target) |=
      map(.diameter_mm = (.diameter_mm * 0.0 + 14.0))' "$s/reads/central.json" >"$tmp/r2.json"
"$R" reads import --archive "$a" --role central --reader alice "$s/reads/central.json" >/dev/null
"$R" reads import --archive "$a" --role central --reader bob "$tmp/r2.json" >/dev/null
"$R" adjudication config --archive "$a" --paradigm double --reason "protocol: BICR" >/dev/null

pages_ok() { # every page renders
  local pdf=$1 n
  n=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
  [ "$n" -ge 1 ] || fail "$pdf: no pages"
  pdftoppm -r 30 -png "$pdf" "$tmp/page" 2>"$tmp/ppm.err" || fail "$pdf: pdftoppm failed"
  [ ! -s "$tmp/ppm.err" ] || fail "$pdf: pdftoppm: $(head -3 "$tmp/ppm.err")"
  [ "$(ls "$tmp"/page-*.png | wc -l)" = "$n" ] || fail "$pdf: $n pages, rendered $(ls "$tmp"/page-*.png | wc -l)"
  rm -f "$tmp"/page-*.png
}

# ---- subject report
sub=CIREL-014-0001
"$R" report subject --archive "$a" --subject $sub --out "$tmp/subject.pdf"
pdfinfo "$tmp/subject.pdf" >"$tmp/info"
grep -q "^Title: *Subject report: $sub" "$tmp/info" || fail "subject title: $(cat "$tmp/info")"
grep -q "^Creator: *recistry" "$tmp/info" || fail "creator"
pages_ok "$tmp/subject.pdf"
pdftotext -layout "$tmp/subject.pdf" "$tmp/subject.txt"
grep -q "$sub" "$tmp/subject.txt" || fail "subject ID not in the report"
for who in site:site central:alice central:bob; do
  role=${who%%:*} reader=${who#*:}
  "$R" reads export --archive "$a" --role "$role" --reader "$reader" --json \
    | jq --arg s $sub '[.[] | select(.subject_id == $s)][0]' >"$tmp/in.json"
  bor=$("$R" recist "$tmp/in.json" | jq -r .best_overall_response)
  label=$([ "$role" = site ] && echo "site read" || echo "central read: $reader")
  # the BOR line follows the read's heading
  awk -v l="$label" 'index($0, l) {f=1} f && /Best overall response/ {print; exit}' "$tmp/subject.txt" >"$tmp/bor"
  grep -q "Best overall response (BOR): $bor;" "$tmp/bor" || fail "$label: BOR $bor not in '$(cat "$tmp/bor")'"
done
grep -q "central read: alice (R1)" "$tmp/subject.txt" || fail "R1 label"
grep -q "central read: bob (R2)" "$tmp/subject.txt" || fail "R2 label"
grep -q "I confirm these measurements\|Signatures" "$tmp/subject.txt" || fail "signatures section"
set +e
"$R" report subject --archive "$a" --subject CIREL-999-0001 --out "$tmp/x.pdf" 2>"$tmp/err"; rc=$?
"$R" report subject --archive "$a" --out "$tmp/x.pdf" 2>/dev/null; rc2=$?
set -e
[ $rc = 1 ] && grep -q "no studies" "$tmp/err" || fail "unknown subject: $rc $(cat "$tmp/err")"
[ $rc2 = 2 ] || fail "missing --subject gave $rc2"

# ---- cohort report (archive form), same numbers as recistry endpoints
for reader in site central; do
  "$R" report cohort --archive "$a" --reader $reader --by indication --out "$tmp/cohort_$reader.pdf" 2>/dev/null
  pages_ok "$tmp/cohort_$reader.pdf"
  pdfinfo "$tmp/cohort_$reader.pdf" | grep -q "^Title: *Cohort report: $reader reads" || fail "cohort title"
  pdftotext -layout "$tmp/cohort_$reader.pdf" "$tmp/cohort.txt"
  "$R" endpoints --archive "$a" --reader $reader --by indication --json 2>/dev/null >"$tmp/ep.json"
  for ep in os pfs hpfs; do
    m=$(jq -r --arg e $ep '.groups[0].'"$ep"'.median_days | if . == null then "NR" else (.*10|round/10|tostring) end' "$tmp/ep.json" 2>/dev/null || true)
    [ -n "$m" ] || continue
    grep -Eq "(^| )all .*( |^)${m}(\.0)? \(" "$tmp/cohort.txt" || fail "$reader: $ep median $m not in the report"
  done
  n=$(jq '.groups[0].n' "$tmp/ep.json")
  grep -Eq "^ *all +$n " "$tmp/cohort.txt" || fail "$reader: n $n of 'all' not in the report"
done
pdftotext -layout "$tmp/cohort_central.pdf" "$tmp/c.txt"; grep -q "Bland-Altman, R1 - R2" "$tmp/c.txt" || fail "double reading: no Bland-Altman"

# reproducible: same bytes twice under SOURCE_DATE_EPOCH; its date in the metadata
"$R" report cohort --archive "$a" --reader site --by indication --out "$tmp/again.pdf" 2>/dev/null
cmp -s "$tmp/cohort_site.pdf" "$tmp/again.pdf" || fail "the cohort report is not reproducible"
pdfinfo -isodates "$tmp/again.pdf" | grep -q "CreationDate: *2026-01-01T00:00:00" || fail "creation date: $(pdfinfo -isodates "$tmp/again.pdf" | grep Creation)"

# ---- a generated cohort of a few hundred subjects, file form
python3 "$RCY_SOURCE_DIR/tests/integration/endpoints/make_cohort.py" "$tmp/gen" 7 300 >/dev/null
"$R" report cohort --registry "$tmp/gen/registry.csv" --reads "$tmp/gen/reads.json" --by indication \
  --out "$tmp/big.pdf" 2>/dev/null
pages_ok "$tmp/big.pdf"
"$R" endpoints --registry "$tmp/gen/registry.csv" --reads "$tmp/gen/reads.json" --by indication --json 2>/dev/null >"$tmp/ep.json"
pdftotext -layout "$tmp/big.pdf" "$tmp/big.txt"
for ep in os pfs; do
  m=$(jq -r --arg e $ep '.groups[0].'"$ep"'.median_days | if . == null then "NR" else (.*10|round/10|tostring) end' "$tmp/ep.json")
  grep -Eq "(^| )all .*( |^)${m}(\.0)? \(" "$tmp/big.txt" || fail "generated: $ep median $m not in the report"
done
set +e
"$R" report cohort --archive "$a" --out "$tmp/x.pdf" 2>/dev/null; rc=$?
set -e
[ $rc = 2 ] || fail "--archive without --reader gave $rc"
echo "report_pdf: ok"
