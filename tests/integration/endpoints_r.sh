#!/usr/bin/env bash
# recistry endpoints against R (survival::survfit / summary / survdiff, binom.test, quantile type 7):
# synthetic cohorts (tests/integration/endpoints/make_cohort.py) with tied event and censoring times, a group
# with no events and a curve at exactly 0.5 over an interval go through the whole path — engine JSON input +
# registry CSV → `recistry endpoints --json` — and every curve point, median and CI, landmark, log-rank
# chi-square / df / p and Clopper–Pearson bound must equal R's to 1e-6. Skips (77) without Rscript.
set -euo pipefail
: "${RECISTRY:?}" "${RCY_SOURCE_DIR:?}"
here=$RCY_SOURCE_DIR/tests/integration
command -v Rscript >/dev/null || { echo "SKIP: Rscript not installed (scripts/setup.sh)"; exit 77; }
tmp=${RCY_TEST_TMP:-/tmp}/endpoints_r.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Every cohort is made and analysed first; then one R checks them all and one python compares (an R with
# survival loaded costs seconds of CPU to start, a python a few tenths).
specs=("1 60 --special" "2 150 --special" "3 400" "4 25" "5 1000 --special")
r_args=() prep_args=() cmp_args=()
for spec in "${specs[@]}"; do
  set -- $spec
  d=$tmp/seed$1
  python3 "$here/endpoints/make_cohort.py" "$d" "$@"
  "$RECISTRY" endpoints --registry "$d/registry.csv" --reads "$d/reads.json" --by indication --json \
    >"$d/ep.json" 2>"$d/stderr" || { cat "$d/stderr" >&2; fail "seed $1: recistry endpoints failed"; }
  if [ "${3:-}" = --special ]; then
    grep -q "warning: subject S0$1-0001: the read's treatment_start" "$d/stderr" || fail "seed $1: no treatment_start warning"
    # the consolidation OS curve sits at 0.5 from day 20 to 40: median is the midpoint
    [ "$(jq '.groups[] | select(.group=="consolidation") | .os.median_days' "$d/ep.json")" = 30 ] \
      || fail "seed $1: consolidation OS median is not 30"
    [ "$(jq '.groups[] | select(.group=="other") | .os.events + .pfs.events + .hpfs.events' "$d/ep.json")" = 0 ] \
      || fail "seed $1: 'other' should have no events"
  fi
  prep_args+=("$d/ep.json" "$d")
  r_args+=("$d/survival.csv" "$d/rates.csv" "$d/dpr.csv" "$d/r.tsv")
  cmp_args+=("$d/ep.json" "$d/r.tsv" 1e-6)
done
python3 "$here/endpoints/compare.py" prepare "${prep_args[@]}"
if ! Rscript "$here/endpoints_check.R" "${r_args[@]}" 2>"$tmp/r.err"; then
  grep -q "there is no package called .survival" "$tmp/r.err" && { echo "SKIP: r-cran-survival not installed"; exit 77; }
  cat "$tmp/r.err" >&2
  fail "endpoints_check.R failed"
fi
python3 "$here/endpoints/compare.py" compare "${cmp_args[@]}" || fail "recistry differs from R (above)"

# The contract's shape and the readable table.
d=$tmp/seed1
[ "$(jq -r '.groups[0].group, .by, (.logrank | keys | join(","))' "$d/ep.json" | tr '\n' ' ')" = "all indication hpfs,os,pfs " ] \
  || fail "JSON shape"
"$RECISTRY" endpoints --registry "$d/registry.csv" --reads "$d/reads.json" >"$tmp/table" 2>/dev/null
grep -q "ORR" "$tmp/table" && grep -q "12 months" "$tmp/table" || fail "readable table"
[ "$(jq '.groups | length' <("$RECISTRY" endpoints --registry "$d/registry.csv" --reads "$d/reads.json" --json 2>/dev/null))" = 1 ] \
  || fail "without --by only 'all'"

# A subject with a read but no registry row: exit 1 naming it. Usage errors: exit 2.
head -n 1 "$d/registry.csv" >"$tmp/short.csv"
tail -n +3 "$d/registry.csv" >>"$tmp/short.csv"
missing=$(sed -n 2p "$d/registry.csv" | cut -d, -f1)
set +e
"$RECISTRY" endpoints --registry "$tmp/short.csv" --reads "$d/reads.json" --json >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "$missing" "$tmp/err" || fail "missing registry row: rc $rc, $(cat "$tmp/err")"
for args in "" "--registry $d/registry.csv" "--reads x --archive y" "--archive y --reader nobody" \
            "--registry a --reads b --by site"; do
  set +e; "$RECISTRY" endpoints $args >/dev/null 2>&1; rc=$?; set -e
  [ $rc = 2 ] || fail "usage '$args' gave $rc"
done
# The archive form over the committed samples: the same export `recistry reads export` gives, the registry
# from the archive, the same numbers as the file form on the same reads.
a=$tmp/archive
"$RECISTRY" init --archive "$a" >/dev/null
"$RECISTRY" reads index --archive "$a" "$RCY_SOURCE_DIR"/sample-dicom/S0*/*/BL/*_0001.dcm >/dev/null
"$RECISTRY" registry import --archive "$a" "$RCY_SOURCE_DIR/sample-dicom/registry.csv" >/dev/null
"$RECISTRY" reads import --archive "$a" --role site "$RCY_SOURCE_DIR/sample-dicom/reads/site.json" >/dev/null
"$RECISTRY" endpoints --archive "$a" --reader site --json >"$tmp/arch.json"
"$RECISTRY" reads export --archive "$a" --role site --json >"$tmp/site_export.json"
"$RECISTRY" endpoints --registry "$RCY_SOURCE_DIR/sample-dicom/registry.csv" --reads "$tmp/site_export.json" --json \
  >"$tmp/file.json" 2>/dev/null
[ "$(jq -r .reader "$tmp/arch.json")" = site ] && [ "$(jq '.groups[0].n' "$tmp/arch.json")" = 3 ] || fail "archive form"
diff <(jq -S 'del(.reader)' "$tmp/arch.json") <(jq -S 'del(.reader)' "$tmp/file.json") >/dev/null \
  || fail "archive and file forms differ on the same reads"
echo "endpoints_r: ok"
