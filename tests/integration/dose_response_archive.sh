#!/usr/bin/env bash
# `recistry dose-response --archive` (issue 14): the responses at 3 months come from each subject's final
# central read in the archive through the engine. On a `recistry sample` cohort (its BL studies indexed, the
# registry and the central reads imported as in endpoints_r.sh) with tables written here, each subject's
# response_3m and each lesion's pct_change_3m must equal what this script computes itself: `recistry recist` on
# the sample's own read JSON gives the overall responses and dates, the registry's treatment start gives day
# 0, the assessment nearest day 90 within the window is chosen here, and the lesion's % change is taken from
# the read JSON's diameters. Also: a subject with no assessment in a narrower window is NE with a warning, a
# subject with no read is NE with a warning, a lesion that is not a target is empty with a warning, the CSV's
# values stand (source "csv") without --archive, and a bad --window-days is a usage error.
set -euo pipefail
: "${RECISTRY:?RECISTRY must name the recistry program}"
tmp="${RCY_TEST_TMP:-/tmp}/dose_response_archive.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3

"$RECISTRY" sample --out "$tmp/s" --subjects 6 --slices 8 --no-dirty >/dev/null
a=$tmp/archive
"$RECISTRY" init --archive "$a" >/dev/null
"$RECISTRY" reads index --archive "$a" "$tmp"/s/S0*/*/BL/*_0001.dcm >/dev/null
"$RECISTRY" registry import --archive "$a" "$tmp/s/registry.csv" >/dev/null
"$RECISTRY" reads import --archive "$a" --role central --reader c1 "$tmp/s/reads/central.json" >/dev/null
# the engine on the same read JSON, independently of the archive
"$RECISTRY" recist "$tmp/s/reads/central.json" >"$tmp/engine.json"

# Tables: every sample subject with its read's targets (CSV values deliberately wrong: the archive must replace
# them), a lesion T9 that is no target, and a subject with no read at all.
"$py" - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
reads = json.load(open(f"{tmp}/s/reads/central.json"))
with open(f"{tmp}/patients.csv", "w") as p, open(f"{tmp}/tumours.csv", "w") as t:
    p.write("subject,normal_liver_mean_gy,perfused_normal_liver_mean_gy,tumour_mean_gy,response_3m,ttp_days,progression,lsf\n")
    t.write("subject,lesion_id,mean_gy,d70_gy,volume_ml,pct_change_3m\n")
    for i, r in enumerate(reads + [{"subject_id": "NOREAD-0001", "assessments": [{"target": [{"lesion_id": "T1"}]}]}]):
        s = r["subject_id"]
        doses = [100 + 30 * i + 10 * k for k in range(len(r["assessments"][0]["target"]))]
        if i == 0:
            doses.append(150)  # T9 below
        p.write(f"{s},{30 + 5 * i},{40 + 5 * i},{sum(doses) / len(doses)},SD,200,1,0.05\n")
        for k, l in enumerate(r["assessments"][0]["target"]):
            t.write(f"{s},{l['lesion_id']},{doses[k]},,10,55.5\n")
    t.write(f"{reads[0]['subject_id']},T9,150,,10,55.5\n")
PY

check() { # $1: output JSON, $2: window min, $3: window max
  "$py" - "$tmp" "$1" "$2" "$3" <<'PY'
import csv, datetime, json, sys
tmp, out, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
d = lambda s: datetime.date.fromisoformat(s)
reads = {r["subject_id"]: r for r in json.load(open(f"{tmp}/s/reads/central.json"))}
engine = {r["subject_id"]: r for r in json.load(open(f"{tmp}/engine.json"))}
start = {r["subject_id"]: d(r["treatment_start"]) for r in csv.DictReader(open(f"{tmp}/s/registry.csv"))}
got = {r["subject"]: r for r in json.load(open(out))["responses"]}
warnings = json.load(open(out))["warnings"]
n_none = 0
for s, g in got.items():
    assert g["response_source"] == "archive:central_final", g
    if s not in reads:
        assert g["response_3m"] == "NE" and all(t["pct_change_3m"] is None for t in g["tumours"]), g
        assert any(w.startswith(s) and "no final central read" in w for w in warnings), warnings
        continue
    tps = engine[s]["timepoints"]
    cand = [(abs((d(t["date"]) - start[s]).days - 90), i) for i, t in enumerate(tps)
            if i > 0 and lo <= (d(t["date"]) - start[s]).days <= hi]
    if not cand:
        n_none += 1
        assert g["response_3m"] == "NE", (s, g)
        assert all(t["pct_change_3m"] is None for t in g["tumours"]), g
        assert any(w.startswith(s) and "no assessment" in w for w in warnings), (s, warnings)
        continue
    i = min(cand)[1]
    want = tps[i]["overall_response"] or "NE"
    assert g["response_3m"] == want, (s, g["response_3m"], want, tps[i]["timepoint"])
    ass = {a["timepoint"]: a for a in reads[s]["assessments"]}
    bl = {l["lesion_id"]: l["diameter_mm"] for l in reads[s]["assessments"][0]["target"]}
    fu = {l["lesion_id"]: l for l in ass[tps[i]["timepoint"]]["target"]}
    for t in g["tumours"]:
        assert t["pct_change_source"] == "archive:central_final", t
        lid = t["lesion_id"]
        if lid not in bl:
            assert t["pct_change_3m"] is None, t
            assert any(w.startswith(f"{s} {lid}") and "not a target" in w for w in warnings), warnings
            continue
        f = fu[lid]
        mm = f.get("diameter_mm", 0.0 if f.get("state") == "disappeared" else None)
        if mm is None:
            assert t["pct_change_3m"] is None, t
            continue
        want = 100.0 * (mm - bl[lid]) / bl[lid]
        assert abs(t["pct_change_3m"] - want) < 1e-9, (s, lid, t["pct_change_3m"], want)
print(n_none)
PY
}

"$RECISTRY" dose-response --cohort "$tmp" --archive "$a" --bootstrap 0 --json >"$tmp/out.json" 2>"$tmp/err" \
  || fail "dose-response --archive: $(cat "$tmp/err")"
n=$(check "$tmp/out.json" 60 120) || fail "default window: values differ from the engine's"
# responses must not be copied from the CSV: SD everywhere there, the sample's subjects respond differently
"$py" -c 'import json,sys; r=json.load(open(sys.argv[1]))["responses"]; assert len({x["response_3m"] for x in r}) > 1, r' \
  "$tmp/out.json" || fail "every response the same: the CSV's?"
"$RECISTRY" dose-response --cohort "$tmp" --archive "$a" --window-days 100-120 --bootstrap 0 --json \
  >"$tmp/narrow.json" 2>"$tmp/err" || fail "--window-days 100-120: $(cat "$tmp/err")"
n=$(check "$tmp/narrow.json" 100 120) || fail "window 100-120: values differ from the engine's"
[ "$n" -ge 1 ] || fail "no subject without an assessment in 100-120 days: the window case is not tested"
# a wide window holds several follow-ups per subject: the one nearest day 90 must be chosen
"$RECISTRY" dose-response --cohort "$tmp" --archive "$a" --window-days 0-400 --bootstrap 0 --json \
  >"$tmp/wide.json" 2>"$tmp/err" || fail "--window-days 0-400: $(cat "$tmp/err")"
check "$tmp/wide.json" 0 400 >/dev/null || fail "window 0-400: values differ from the engine's"
# the text summary names the subjects left out
"$RECISTRY" dose-response --cohort "$tmp" --archive "$a" --window-days 100-120 --bootstrap 0 >"$tmp/text" \
  || fail "text summary"
grep -q "no assessment 100-120 days" "$tmp/text" || fail "the text summary does not report the window case"
grep -q "responses at 3 months from the archive" "$tmp/text" || fail "the text summary does not name the archive as the source"
# without --archive the CSV's values stand
"$RECISTRY" dose-response --cohort "$tmp" --bootstrap 0 --json >"$tmp/csv.json"
"$py" -c '
import json,sys
r=json.load(open(sys.argv[1]))["responses"]
assert all(x["response_source"]=="csv" and x["response_3m"]=="SD" for x in r), r
assert all(t["pct_change_3m"]==55.5 and t["pct_change_source"]=="csv" for x in r for t in x["tumours"]), r
' "$tmp/csv.json" || fail "without --archive the CSV values are not kept"
for bad in "--window-days 90" "--window-days 120-60" "--window-days x-y" "--window-days -5-10"; do
  set +e; "$RECISTRY" dose-response --cohort "$tmp" --archive "$a" $bad >/dev/null 2>&1; rc=$?; set -e
  [ $rc = 2 ] || fail "'$bad' gave $rc, not 2"
done
set +e; "$RECISTRY" dose-response --cohort "$tmp" --window-days 60-120 >/dev/null 2>&1; rc=$?; set -e
[ $rc = 2 ] || fail "--window-days without --archive gave $rc"
set +e; "$RECISTRY" dose-response --cohort "$tmp" --archive "$tmp/nowhere" >/dev/null 2>&1; rc=$?; set -e
[ $rc = 1 ] || fail "a missing archive gave $rc"
echo "dose_response_archive: ok"
