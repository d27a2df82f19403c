#!/usr/bin/env bash
# `recistry concordance` against tools nobody here wrote: seeded random pairs of reads of several hundred
# subjects (tests/integration/concordance/random_reads.py, the engine's JSON input format) go through the
# real program, and tests/integration/concordance/check_stats.py recomputes, from the engine's per-subject
# results of the same files (`recistry recist`), Cohen's kappa (sklearn cohen_kappa_score), its SE and 95 %
# CI (statsmodels cohens_kappa), both Bland–Altman analyses with their CIs and plot points (numpy, scipy),
# pairing, progression agreement, EDR/LDR and the discordant list, to 1e-9 on `--unrounded`, and checks the
# default report is the same numbers rounded. Needs Debian's python3-numpy, -scipy, -sklearn, -statsmodels
# (scripts/setup.sh).
set -uo pipefail
: "${RECISTRY:?}" "${RCY_SOURCE_DIR:?}" "${RCY_TEST_TMP:?}"
here=$RCY_SOURCE_DIR/tests/integration/concordance
tmp=$RCY_TEST_TMP/concordance_python
rm -rf "$tmp" && mkdir -p "$tmp"
# Debian's interpreter, where the python3-* packages are (a python3 earlier in PATH may be another build).
py=${RCY_PYTHON3:-/usr/bin/python3}
[ -x "$py" ] || py=python3
"$py" -c 'import numpy, scipy, sklearn, statsmodels' 2>"$tmp/import.err" || {
  echo "FAIL: $py lacks numpy/scipy/sklearn/statsmodels (run scripts/setup.sh): $(tail -1 "$tmp/import.err")" >&2
  exit 1
}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# seed, subjects: a large cohort, a middle one, and a small one (few pairs per timepoint label, so some
# tables are sparse or have a single category).
for spec in "1 400" "2 250" "3 40"; do
  set -- $spec
  d=$tmp/seed$1
  mkdir -p "$d"
  "$py" "$here/random_reads.py" "$1" "$2" "$d/first.json" "$d/second.json" || { fail "seed $1: generator"; continue; }
  for r in first second; do
    "$RECISTRY" recist "$d/$r.json" >"$d/$r.results.json" 2>"$d/err" ||
      { fail "seed $1: recistry recist $r: $(head -c 300 "$d/err")"; continue 2; }
  done
  "$RECISTRY" concordance --unrounded "$d/first.json" "$d/second.json" >"$d/unrounded.json" 2>"$d/err" ||
    { fail "seed $1: recistry concordance --unrounded: $(head -c 300 "$d/err")"; continue; }
  "$RECISTRY" concordance "$d/first.json" "$d/second.json" >"$d/rounded.json" 2>"$d/err" ||
    { fail "seed $1: recistry concordance: $(head -c 300 "$d/err")"; continue; }
  echo "seed $1 ($2 subjects):"
  "$py" "$here/check_stats.py" "$d/first.results.json" "$d/second.results.json" "$d/unrounded.json" \
    "$d/rounded.json" 1e-9 || fail "seed $1: differs from the independent computation"
done

# --unrounded belongs to concordance only.
"$RECISTRY" recist --unrounded "$tmp/seed1/first.json" >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "unknown option '--unrounded'" "$tmp/err" || fail "recist --unrounded is not a usage error"

if [ "$failures" -ne 0 ]; then
  echo "concordance_python: $failures failure(s)" >&2
  exit 1
fi
echo "concordance_python: all checks passed"
