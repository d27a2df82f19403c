#!/usr/bin/env bash
# `recistry dose-response` on a generated TARE cohort (recistry sample --tare-cohort), its --json compared with
# scipy, sklearn, R (glm, survival) and numpy by tests/integration/lib/dose_response_check.py (1e-6 relative
# where deterministic; bootstrap CIs only for sanity), the generator's model recovered roughly; then the same
# seed gives the same tables and the same JSON, the text summary and the plots, a cohort too small for any
# statistic (each analysis says why, the command still succeeds), and bad tables refused with
# file:line:column messages.
set -euo pipefail
: "${RECISTRY:?RECISTRY must name the recistry program}"
src="${RCY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
tmp="${RCY_TEST_TMP:-/tmp}/dose_response.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3
"$py" -c 'import numpy, scipy, sklearn' || fail "/usr/bin/python3 needs numpy, scipy and sklearn"
command -v Rscript >/dev/null || fail "Rscript is needed (scripts/setup.sh installs r-base-core, r-cran-survival)"
Rscript -e 'library(survival)' >/dev/null 2>&1 || fail "R's survival package is needed (r-cran-survival)"

"$RECISTRY" sample --tare-cohort 80 --seed 3 --out "$tmp/c" >"$tmp/log"
grep -q 'TARE cohort tables of 80 subjects' "$tmp/log" || fail "unexpected summary: $(cat "$tmp/log")"
for f in patients tumours toxicity concordance; do [ -s "$tmp/c/$f.csv" ] || fail "no $f.csv"; done
[ "$(tail -n +2 "$tmp/c/patients.csv" | wc -l)" = 80 ] || fail "patients.csv does not have 80 rows"
"$RECISTRY" sample --tare-cohort 80 --seed 3 --out "$tmp/c2" >/dev/null
diff -r "$tmp/c" "$tmp/c2" >/dev/null || fail "same seed, different tables"
"$RECISTRY" sample --tare-cohort 80 --seed 4 --out "$tmp/c3" >/dev/null
! diff -q "$tmp/c/tumours.csv" "$tmp/c3/tumours.csv" >/dev/null || fail "another seed gave the same tables"
"$RECISTRY" sample --tare-cohort --seed 3 --out "$tmp/c40" >/dev/null
[ "$(tail -n +2 "$tmp/c40/patients.csv" | wc -l)" = 40 ] || fail "--tare-cohort without N is not 40 subjects"

start=$(date +%s.%N)
"$RECISTRY" dose-response --cohort "$tmp/c" --json --bootstrap 1000 >"$tmp/r.json"
end=$(date +%s.%N)
echo "dose-response --json (1000 bootstrap replicates): $(echo "$end - $start" | bc) s"
# small cohorts: the exact Mann-Whitney (groups of <= 8 without ties) and refusals the data justify (a group
# empty, a logistic outcome separated by the dose), still against the same references
"$RECISTRY" sample --tare-cohort 12 --seed 1 --out "$tmp/s12" >/dev/null
"$RECISTRY" dose-response --cohort "$tmp/s12" --json --bootstrap 200 >"$tmp/s12.json"
"$RECISTRY" sample --tare-cohort 8 --seed 8 --out "$tmp/s8" >/dev/null
"$RECISTRY" dose-response --cohort "$tmp/s8" --json --bootstrap 200 >"$tmp/s8.json"
# one python for the three (importing sklearn is slow on a loaded machine)
"$py" "$src/tests/integration/lib/dose_response_check.py" "$tmp/c" "$tmp/r.json" "$tmp" \
  "$tmp/s12" "$tmp/s12.json" "$tmp" --no-model "$tmp/s8" "$tmp/s8.json" "$tmp" --no-model | tee "$tmp/check.log"
awk '/^== .*s12$/,/failures$/' "$tmp/check.log" | grep -q "methods compared: \['asymptotic', 'exact'\]" ||
  fail "the exact Mann-Whitney was not compared"
awk '/^== .*s8$/,/failures$/' "$tmp/check.log" | grep -q "logistic separations refused: [1-9]" ||
  fail "no separated outcome in the 8-subject cohort"

"$RECISTRY" dose-response --cohort "$tmp/c" --json --bootstrap 1000 >"$tmp/r2.json"
cmp -s "$tmp/r.json" "$tmp/r2.json" || fail "two runs with the same seed differ"
"$RECISTRY" dose-response --cohort "$tmp/c" --json --bootstrap 1000 --seed 9 >"$tmp/r3.json"
! cmp -s "$tmp/r.json" "$tmp/r3.json" || fail "--seed does not change the bootstrap"

# the plots' points in the JSON (the workstation's cohort page draws them as sent): the scatter is every tumour
# of tumours.csv with a % change, responder iff <= -30 %; each compartment's Bland-Altman points are its rows of
# concordance.csv, and their differences average to the bias and scatter with the SD (numpy, from the CSVs)
"$py" - "$tmp/c" "$tmp/r.json" <<'EOF'
import csv, json, sys
import numpy as np
d = json.load(open(sys.argv[2]))
tum = [r for r in csv.DictReader(open(sys.argv[1] + "/tumours.csv")) if r["pct_change_3m"] != ""]
want = sorted((float(r["mean_gy"]), float(r["pct_change_3m"]), float(r["pct_change_3m"]) <= -30) for r in tum)
got = sorted((p["tumour_mean_gy"], p["pct_change_3m"], p["responder"]) for p in d["dose_vs_change"])
assert want == got, "dose_vs_change differs from tumours.csv"
assert sum(g[2] for g in got) == d["dose_response"]["per_tumour"]["n_positive"]
rows = list(csv.DictReader(open(sys.argv[1] + "/concordance.csv")))
for c in d["concordance"]:
    mine = [(float(r["maa_gy"]), float(r["y90_gy"])) for r in rows if r["compartment"] == c["compartment"]]
    pts = c["points"]
    assert sorted((p["maa_gy"], p["y90_gy"]) for p in pts) == sorted(mine), c["compartment"]
    diff = np.array([y - m for m, y in mine])
    assert all(abs(p["diff_gy"] - (p["y90_gy"] - p["maa_gy"])) < 1e-9 and abs(p["mean_gy"] - (p["y90_gy"] + p["maa_gy"]) / 2) < 1e-9 for p in pts)
    assert abs(diff.mean() - c["bias_gy"]) <= 1e-9 * max(1, abs(c["bias_gy"])), (diff.mean(), c["bias_gy"])
    assert abs(diff.std(ddof=1) - c["sd_gy"]) <= 1e-9 * max(1, c["sd_gy"]), (diff.std(ddof=1), c["sd_gy"])
print(f"plot points: {len(got)} tumours, " + ", ".join(f"{c['compartment']} {len(c['points'])}" for c in d["concordance"]))
EOF

# --threshold-gy: a given dose and the per-patient Youden threshold
"$RECISTRY" dose-response --cohort "$tmp/c" --json --bootstrap 0 --threshold-gy 150 >"$tmp/t150.json"
"$py" - "$tmp/t150.json" "$tmp/r.json" <<'EOF'
import json, sys
a, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["ttp"]["threshold_gy"] == 150 and a["ttp"]["threshold_source"] == "given", a["ttp"]
assert r["ttp"]["threshold_gy"] == 189 and r["ttp"]["threshold_source"] == "eanm2022", r["ttp"]
assert "bootstrap" not in a["dose_response"]["per_tumour"], "--bootstrap 0 still bootstrapped"
EOF
"$RECISTRY" dose-response --cohort "$tmp/c" --json --bootstrap 0 --threshold-gy youden >"$tmp/ty.json"
"$py" - "$tmp/ty.json" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))
assert a["ttp"]["threshold_source"] == "youden"
assert a["ttp"]["threshold_gy"] == a["dose_response"]["per_patient"]["roc"]["youden_threshold_gy"], a["ttp"]
EOF

# the readable summary and the plots
"$RECISTRY" dose-response --cohort "$tmp/c" --bootstrap 200 --plots "$tmp/plots" >"$tmp/summary.txt"
cat "$tmp/summary.txt"
for w in "Mann-Whitney U" "Youden threshold" "Lin's CCC" "log-rank"; do
  grep -q "$w" "$tmp/summary.txt" || fail "summary without '$w'"
done
head -c 5 "$tmp/plots/dose_response.pdf" | grep -q '%PDF-' || fail "no PDF of the plots"
for png in dose_vs_change roc_response roc_toxicity bland_altman_tumour bland_altman_normal_liver ttp_km; do
  "$py" -c 'import sys; d = open(sys.argv[1], "rb").read(24); assert d[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(d[16:20], "big") == 1040, d' \
    "$tmp/plots/$png.png" || fail "$png.png is not a 1040-pixel-wide PNG"
done
if command -v pdfinfo >/dev/null; then
  pages=$(pdfinfo "$tmp/plots/dose_response.pdf" | awk '/^Pages:/ {print $2}')
  [ "$pages" -ge 2 ] || fail "the plots PDF has $pages page(s)"
fi

# a cohort too small: every analysis says why, the command does not fail
mkdir -p "$tmp/small"
printf 'subject,normal_liver_mean_gy,tumour_mean_gy,response_3m\nA,30,150,PR\nB,40,250,PR\n' >"$tmp/small/patients.csv"
printf 'subject,lesion_id,mean_gy,pct_change_3m\nA,T1,150,-40\nB,T1,250,-50\n' >"$tmp/small/tumours.csv"
"$RECISTRY" dose-response --cohort "$tmp/small" --json >"$tmp/small.json"
"$py" - "$tmp/small.json" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))
for k in ("per_tumour", "per_patient"):
    assert "fewer than 3" in a["dose_response"][k]["error"], a["dose_response"][k]
assert a["ttp"]["error"] == "fewer than 3 patients with a time to progression (0)", a["ttp"]
assert "spearman_grade" in a["dose_toxicity"] and "error" in a["dose_toxicity"]["spearman_grade"], a["dose_toxicity"]
EOF
# all responders: no comparison, said so
printf 'subject,normal_liver_mean_gy,tumour_mean_gy,response_3m\nA,30,150,PR\nB,40,250,PR\nC,35,200,CR\n' >"$tmp/small/patients.csv"
"$RECISTRY" dose-response --cohort "$tmp/small" --json >"$tmp/small.json"
grep -q '"error": "no non-responders among the 3 patients' "$tmp/small.json" || fail "all responders not reported: $(cat "$tmp/small.json")"
# perfect separation: the logistic model says so and gives no number
printf 'subject,normal_liver_mean_gy,tumour_mean_gy,response_3m\nA,30,100,SD\nB,40,120,PD\nC,35,200,PR\nD,35,300,PR\n' >"$tmp/small/patients.csv"
"$RECISTRY" dose-response --cohort "$tmp/small" --json >"$tmp/small.json"
grep -q 'perfectly separated by the dose' "$tmp/small.json" || fail "separation not reported: $(cat "$tmp/small.json")"

# cross-table checks: warnings, not refusals (none on the generated cohort)
grep -q '"warnings": \[\]' "$tmp/r.json" || fail "warnings on the generated cohort: $(grep -A3 '"warnings"' "$tmp/r.json")"
rm -rf "$tmp/warn" && cp -r "$tmp/c" "$tmp/warn"
sed -i '5s/^\(\([^,]*,\)\{3\}\)[^,]*,/\1999,/' "$tmp/warn/patients.csv"
"$RECISTRY" dose-response --cohort "$tmp/warn" --json --bootstrap 0 >"$tmp/warn.json"
grep -q 'TARE-0004: tumour_mean_gy 999.00 Gy is more than 5 % off the volume-weighted mean' "$tmp/warn.json" ||
  fail "an inconsistent patient tumour dose was not reported"

# bad tables: refused, naming file:line:column
bad() { # name, expected message part, then the edit (sed on a copy)
  local name=$1 want=$2 file=$3 script=$4
  rm -rf "$tmp/bad"
  cp -r "$tmp/c" "$tmp/bad"
  sed -i "$script" "$tmp/bad/$file"
  if "$RECISTRY" dose-response --cohort "$tmp/bad" --json >/dev/null 2>"$tmp/err"; then fail "$name: accepted"; fi
  grep -qF "$want" "$tmp/err" || fail "$name: message '$(cat "$tmp/err")' lacks '$want'"
  echo "refused ($name): $(cat "$tmp/err")"
}
bad "not a number" "tumours.csv:5:3: column 'mean_gy': not a number: 'abc'" tumours.csv '5s/^\([^,]*,[^,]*\),[^,]*,/\1,abc,/'
bad "negative dose" "patients.csv:3:2: column 'normal_liver_mean_gy': out of range" patients.csv '3s/^\([^,]*\),[^,]*,/\1,-5,/'
bad "unknown response" "patients.csv:4:5: column 'response_3m': not one of CR, PR, SD, PD, NE: 'XX'" patients.csv \
  '4s/,\(CR\|PR\|SD\|PD\|NE\),/,XX,/'
bad "grade 7" "toxicity.csv:2:3: column 'grade': out of range (0 to 5): '7'" toxicity.csv '2s/^\([^,]*,[^,]*\),[0-9],/\1,7,/'
bad "unknown subject" "concordance.csv:3:1: column 'subject': subject not in patients.csv: 'NOBODY'" concordance.csv \
  '3s/^[^,]*,/NOBODY,/'
bad "duplicate subject" "patients.csv:3:1: column 'subject': subject listed twice" patients.csv '3s/^[^,]*,/TARE-0001,/'
bad "duplicate lesion" "lesion listed twice for this subject" tumours.csv '2p'
bad "missing column" "patients.csv:1: the header has no column 'tumour_mean_gy'" patients.csv '1s/tumour_mean_gy/tumour_dose/'
bad "short row" "tumours.csv:6: 5 fields where the header has 6" tumours.csv '6s/,[^,]*$//'
bad "progression without time" "patients.csv:2:6: column 'ttp_days': ttp_days and progression go together" patients.csv \
  '2s/^\(\([^,]*,\)\{5\}\)[^,]*,/\1,/'
rm -f "$tmp/bad/patients.csv"
if "$RECISTRY" dose-response --cohort "$tmp/bad" >/dev/null 2>"$tmp/err"; then fail "no patients.csv accepted"; fi
grep -q "patients.csv: no such file" "$tmp/err" || fail "missing patients.csv: $(cat "$tmp/err")"
set +e
"$RECISTRY" dose-response --cohort "$tmp/c" --bootstrap -3 >/dev/null 2>&1
[ $? = 2 ] || fail "--bootstrap -3 is not a usage error"
"$RECISTRY" dose-response >/dev/null 2>&1
[ $? = 2 ] || fail "no --cohort is not a usage error"
set -e
echo "OK"
