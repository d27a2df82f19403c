#!/usr/bin/env bash
# `recistry dose` on the TARE phantoms (recistry sample --tare; docs/sample.md) against their analytic truth and
# against an independent tool:
#  - LDM mean doses within 0.5 % of the analytic dose on the uniform compartments of the accuracy subject, for
#    each decay-correction mode of the PET (START, ADMIN, NONE): the decay factor undoes each exactly;
#  - MIRD, partition-model and lung doses equal to the truth's hand computation (masses from the CT, 1e-3);
#  - D50/D70/D90 and V100/V150/V205 within 1 % (1 point for V) of plastimatch's DVHs on our dose map, on the
#    realistic subject (blurred PET on its own coarser grid, resampled onto the CT);
#  - the MAA SPECT: the tumour-to-normal ratio read from it and the predicted dose;
#  - the same result from the archive (the studies indexed) as from the folders;
#  - a DICOM SEG (from recistry segment on the PET/CT's CT) as a VOI: within 1 % of the truth's label map;
#  - malformed input refused with a message naming what is wrong: a PET without Units BQML, without an
#    injection time, a CT given as the PET, a bad --voi, an empty label.
set -euo pipefail
: "${RECISTRY:?RECISTRY must name the recistry program}"
R=$RECISTRY
T="${RCY_TEST_TMP:-/tmp}/dose_accuracy.$$"
rm -rf "$T" && mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3
CHECK="$RCY_SOURCE_DIR/tests/integration/lib/dose_check.py"
command -v plastimatch >/dev/null || fail "plastimatch is missing (scripts/setup.sh installs it)"
command -v dcmodify >/dev/null || fail "dcmodify (dcmtk) is missing"

vois() { # the --voi arguments of a subject's study
  for v in T1 T2 liver perfused_liver lungs; do printf -- '--voi\n%s=%s\n' "$v" "$1/$v.nrrd"; done
}

S=CIREL-014-0971
# Under ASan (RCY_FLAVOUR=asan) one decay mode and no plastimatch comparison: the same code paths, a third of
# the time; the release run checks them all.
modes=(start admin none)
[ "${RCY_FLAVOUR:-}" != asan ] || modes=(start)
for mode in "${modes[@]}"; do
  echo "== accuracy subject, PET decay correction $mode"
  "$R" sample --out "$T/$mode" --tare --phantom accuracy --tare-decay "$mode" >/dev/null
  P="$T/$mode/S014/$S/Y90" L="$T/$mode/tare/$S/Y90"
  tnr=$(jq -r .models.y90.tnr "$T/$mode/tare/$S.json")
  mapfile -t V < <(vois "$L")
  "$R" dose --pet "$P" --ct "$P" "${V[@]}" --lsf 0.06 --tnr "$tnr" --json >"$T/$mode.json" ||
    fail "dose ($mode) failed"
  want=$(jq -r '.inputs.decay_correction' "$T/$mode.json")
  [ "$want" = "${mode^^}" ] || fail "decay correction read as $want, written $mode"
  "$py" "$CHECK" truth "$T/$mode.json" "$T/$mode/tare/$S.json" 0.5
  [ "$mode" != admin ] || jq -e '.decay_factor == 1' "$T/$mode.json" >/dev/null || fail "ADMIN: decay factor != 1"
done
jq -e '.method == "ldm" and (.compartments | length) == 8 and (.compartments[] | has("name") and has("volume_ml")
  and has("mean_gy") and has("d50_gy") and has("d70_gy") and has("d90_gy") and has("v100_pct") and has("v150_pct")
  and has("v205_pct") and (.dvh | length) > 10) and (.flags | type) == "array"' "$T/start.json" >/dev/null ||
  fail "JSON contract: $(head -c 400 "$T/start.json")"
jq -e '[.flags[] | select(.threshold == "lung_per_treatment")] | length == 1' "$T/start.json" >/dev/null ||
  fail "the 32.8 Gy lungs are not flagged against the 30 Gy limit"

echo "== the same from the archive (studies indexed) as from the folders"
"$R" init --archive "$T/a" >/dev/null
find "$T/start/S014/$S" -name '*.dcm' -print0 | xargs -0 "$R" reads index --archive "$T/a" >/dev/null
mapfile -t V < <(vois "$T/start/tare/$S/Y90")
"$R" dose --archive "$T/a" --subject $S "${V[@]}" --lsf 0.06 --tnr "$tnr" --json >"$T/archive.json" ||
  fail "dose --archive failed"
jq -S '.compartments' "$T/start.json" >"$T/c1" && jq -S '.compartments' "$T/archive.json" >"$T/c2"
cmp -s "$T/c1" "$T/c2" || fail "the archive run differs from the folder run"
jq -e '.subject == "'$S'" and .inputs.maa_series_uid != null and .predicted != null' "$T/archive.json" >/dev/null ||
  echo "note: the archive run found no MAA SPECT (no MAA VOIs given: predicted dose needs --maa-voi)"

echo "== a DICOM SEG as a VOI: T1 segmented by recistry segment on the PET/CT's CT, placed by its frames' sources"
read -r sop col row < <("$py" - "$T/start/S014/$S/Y90" "$T/start/tare/$S.json" <<'PY'
import glob, json, sys, pydicom
t = json.load(open(sys.argv[2]))
c = next(x for x in t["geometry"]["tumours"] if x["id"] == "T1")["center_mm"]
for f in sorted(glob.glob(sys.argv[1] + "/CT_*.dcm")):
    d = pydicom.dcmread(f, stop_before_pixels=True)
    o, sp = [float(v) for v in d.ImagePositionPatient], [float(v) for v in d.PixelSpacing]
    if abs(o[2] - c[2]) <= float(d.SliceThickness) / 2:
        print(d.SOPInstanceUID, (c[0] - o[0]) / sp[1], (c[1] - o[1]) / sp[0])
        break
PY
)
[ -n "$sop" ] || fail "no CT slice through T1"
"$R" segment --archive "$T/a" --instance "$sop" --point "$col,$row" --seg-out "$T/T1.dcm" --label T1 >/dev/null ||
  fail "recistry segment on T1 failed"
P="$T/start/S014/$S/Y90"
"$R" dose --pet "$P" --ct "$P" --voi "T1=$T/T1.dcm" --voi "T1_label=$T/start/tare/$S/Y90/T1.nrrd" --no-flags --json \
  >"$T/seg.json" || fail "dose with a SEG VOI failed"
jq -e '[.compartments[] | select(.name == "T1" or .name == "T1_label")] | length == 2 and
  ((.[0].mean_gy - .[1].mean_gy) | fabs) < 0.01 * .[1].mean_gy and ((.[0].voxels - .[1].voxels) | fabs) < 0.05 * .[1].voxels' \
  "$T/seg.json" >/dev/null || fail "SEG VOI vs label map: $(jq -c '[.compartments[] | {name, voxels, mean_gy}]' "$T/seg.json")"

if [ "${RCY_FLAVOUR:-}" != asan ]; then
echo "== realistic subject: DVH metrics against plastimatch"
S2=CIREL-014-0972
"$R" sample --out "$T/real" --tare --phantom realistic >/dev/null
P="$T/real/S014/$S2/Y90" L="$T/real/tare/$S2/Y90"
mapfile -t V < <(vois "$L")
"$R" dose --pet "$P" --ct "$P" "${V[@]}" --lsf 0.06 --json --dose-out "$T/dose.nrrd" >"$T/real.json" ||
  fail "dose (realistic) failed"
"$py" "$CHECK" nrrd-ss "$T/ss.nrrd" "$T/ss.txt" "$L/T1.nrrd" "$L/T2.nrrd" "$L/perfused_liver.nrrd" "$L/lungs.nrrd" "$L/liver.nrrd"
plastimatch dvh --input-dose "$T/dose.nrrd" --input-ss-img "$T/ss.nrrd" --input-ss-list "$T/ss.txt" \
  --output-csv "$T/dvh.csv" --num-bins 8000 --bin-width 0.1 >"$T/pm.log" 2>&1 || fail "plastimatch: $(tail -3 "$T/pm.log")"
"$py" "$CHECK" plastimatch "$T/real.json" "$T/dvh.csv" T1 T2 perfused_liver lungs liver
fi

echo "== the MAA SPECT: tumour-to-normal ratio and the predicted dose"
P="$T/start/S014/$S" L="$T/start/tare/$S"
mapfile -t V < <(vois "$L/Y90")
mapfile -t M < <(vois "$L/MAA" | sed 's/^--voi$/--maa-voi/')
planned=$(jq -r .models.maa_planned.activity_gbq "$T/start/tare/$S.json")
"$R" dose --pet "$P/Y90" --ct "$P/Y90" "${V[@]}" --maa "$P/MAA" --maa-ct "$P/MAA" "${M[@]}" --planned-gbq "$planned" \
  --lsf 0.06 --json >"$T/maa.json" || fail "dose with --maa failed"
"$py" - "$T/maa.json" "$T/start/tare/$S.json" <<'PY' || fail "MAA check"
import json, sys
r, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want = t["models"]["maa_planned"]["tnr"]
got = r["models"]["tnr"]
print(f"  T/N from the MAA SPECT {got:.3f}, written {want}")
assert abs(got - want) / want < 0.02, (got, want)
p = {c["name"]: c for c in r["predicted"]["compartments"]}
for c in t["studies"]["MAA"]["compartments"]:
    if c["name"] in p and "predicted_ldm_mean_gy" in c and c["name"] != "body":
        w, g = c["predicted_ldm_mean_gy"], p[c["name"]]["mean_gy"]
        print(f"  predicted {c['name']:22s} {g:8.2f} Gy, truth {w:8.2f} Gy")
        assert abs(g - w) <= 0.01 * w + 0.05, (c["name"], g, w)
PY

echo "== malformed input is refused by name"
P="$T/start/S014/$S/Y90"
bad() { # DIR EXPECTED_TEXT: dose on that PET must fail naming it
  if "$R" dose --pet "$1" --no-flags >"$T/out" 2>"$T/err"; then fail "a PET in $1 was accepted"; fi
  grep -q -- "$2" "$T/err" || fail "message for $1 lacks '$2': $(cat "$T/err")"
}
mkdir -p "$T/nounits" "$T/noinj"
cp "$P"/PT_*.dcm "$T/nounits/" && cp "$P"/PT_*.dcm "$T/noinj/"
dcmodify -nb -q -ea "(0054,1001)" "$T"/nounits/*.dcm
bad "$T/nounits" "BQML"
dcmodify -nb -q -ea "(0054,0016)[0].(0018,1078)" -ea "(0054,0016)[0].(0018,1072)" "$T"/noinj/*.dcm
bad "$T/noinj" "injection"
mkdir -p "$T/ctonly" && cp "$P"/CT_*.dcm "$T/ctonly/"
bad "$T/ctonly" "PT"
if "$R" dose --pet "$P" --voi nofile 2>"$T/err"; then fail "--voi without = accepted"; fi
grep -q "NAME=FILE" "$T/err" || fail "bad --voi message: $(cat "$T/err")"
"$py" "$CHECK" nrrd-ss "$T/empty.nrrd" "$T/empty.txt" "$T/start/tare/$S/Y90/T1.nrrd"
if "$R" dose --pet "$P" --voi "T9=$T/empty.nrrd#2" 2>"$T/err"; then fail "an empty label accepted"; fi
grep -q "empty" "$T/err" || fail "empty label message: $(cat "$T/err")"
echo "dose_accuracy: ok"
