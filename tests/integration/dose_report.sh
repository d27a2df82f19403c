#!/usr/bin/env bash
# The dose report end to end on the TARE accuracy phantom (recistry sample --tare --phantom accuracy;
# docs/sample.md): `recistry dose ... --report` writes a two-page PDF (poppler's pdfinfo) whose text
# (pdftotext) shows every compartment's mean dose exactly as `--json` gives it, the flags of the run worded as
# flags, the inputs (injected activity, delay, decay mode) as the phantom's truth has them; the embedded dose
# maps (pdfimages) are the three slices and the colour bar, and on the largest tumour's slice the pixel at the
# tumour centre (from the truth's geometry) is red (the hottest dose) while a body pixel far from the liver
# (0.5 Gy: under the 5 % floor) is the untinted grey CT; two runs give the same bytes. Checked with
# /usr/bin/python3 (PIL).
set -euo pipefail
: "${RECISTRY:?RECISTRY must name the recistry program}"
tmp="${RCY_TEST_TMP:-/tmp}/dose_report.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3
for t in pdfinfo pdftotext pdfimages; do command -v $t >/dev/null || fail "$t (poppler-utils) is missing"; done
"$py" -c 'import PIL' || fail "/usr/bin/python3 needs PIL"

"$RECISTRY" sample --out "$tmp/p" --tare --phantom accuracy >"$tmp/log" 2>&1 || fail "sample --tare: $(cat "$tmp/log")"
subject=CIREL-014-0971
S="$tmp/p/S014/$subject/Y90"
L="$tmp/p/tare/$subject/Y90"
[ -d "$S" ] && [ -f "$L/T1.nrrd" ] || fail "the phantom has no Y90 study at $S"
vois=()
for v in T1 T2 liver perfused_liver lungs; do vois+=(--voi "$v=$L/$v.nrrd"); done
SOURCE_DATE_EPOCH=1700000000 "$RECISTRY" dose --pet "$S" --ct "$S" "${vois[@]}" --lsf 0.06 --json \
  --report "$tmp/r.pdf" --signed-by "integration test" >"$tmp/r.json" || fail "recistry dose --report failed"
head -c 5 "$tmp/r.pdf" | grep -q '%PDF-' || fail "not a PDF"
# reproducible: the same run and SOURCE_DATE_EPOCH give the same bytes (docs/reports.md)
SOURCE_DATE_EPOCH=1700000000 "$RECISTRY" dose --pet "$S" --ct "$S" "${vois[@]}" --lsf 0.06 --report "$tmp/r2.pdf" \
  --signed-by "integration test" >/dev/null || fail "second run failed"
cmp -s "$tmp/r.pdf" "$tmp/r2.pdf" || fail "two runs with the same SOURCE_DATE_EPOCH differ"
pages=$(pdfinfo "$tmp/r.pdf" | awk '/^Pages:/ {print $2}')
[ "$pages" = 2 ] || fail "the report has $pages pages, expected 2"
pdftotext -layout "$tmp/r.pdf" "$tmp/r.txt"
mkdir "$tmp/img"
pdfimages -png "$tmp/r.pdf" "$tmp/img/i"

"$py" - "$tmp/r.json" "$tmp/r.txt" "$tmp/p/tare/$subject.json" "$tmp/img" <<'EOF'
import json, os, re, sys
from PIL import Image
run = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
truth = json.load(open(sys.argv[3]))
imgdir = sys.argv[4]
bad = []
def need(s, what):
    if s not in text:
        bad.append(f"the report lacks {what}: {s!r}")
# every compartment's row: name, volume, mass, mean (the same rounding as the JSON's value to 0.1)
for c in run["compartments"]:
    row = next((l for l in text.splitlines() if re.match(r"\s*" + re.escape(c["name"]) + r"\b", l)), None)
    if row is None:
        bad.append(f"no row for {c['name']}")
        continue
    for key, unit in (("mean_gy", "Gy"), ("volume_ml", "mL"), ("d70_gy", "Gy"), ("v100_pct", "%")):
        want = f"{c[key]:.1f} {unit}"
        if want not in row:
            bad.append(f"{c['name']}: {key} {want!r} not in row {row.strip()!r}")
# the flags, worded by severity
n_red = sum(f["severity"] == "warning" for f in run["flags"])
n_amber = len(run["flags"]) - n_red
if text.count("SAFETY LIMIT") != n_red:
    bad.append(f"{text.count('SAFETY LIMIT')} safety rows for {n_red} warnings")
if text.count("Efficacy target missed") != n_amber:
    bad.append(f"{text.count('Efficacy target missed')} efficacy rows for {n_amber} info flags")
for f in run["flags"]:
    need(f"{f['compartment']}: ", "the flagged compartment")
# the inputs as the phantom's truth has them
tr = truth["treatment"]
need(f"{tr['injected_activity_gbq']:.3f} GBq injected", "the injected activity")
need(f"delay {tr['scan_delay_h']:.2f} h", "the delay")
need(f"{tr['decay_correction']} (image at", "the decay mode")
need("recistry ", "the version"), need("integration test", "the signer")
need("2023-11-14 22:13", "the SOURCE_DATE_EPOCH date")
# the pictures: three maps then the colour bar (drawing order)
imgs = sorted(os.listdir(imgdir))
if len(imgs) != 4:
    bad.append(f"{len(imgs)} images embedded, expected 3 maps and the colour bar: {imgs}")
else:
    grid = truth["studies"]["Y90"]["ct"]["grid"]
    size, org, sp = grid["size"], grid["origin_mm"], grid["spacing_mm"]
    f = max(1, 256 // max(size[0], size[1]))
    m = Image.open(os.path.join(imgdir, imgs[0])).convert("RGB")
    if m.size != (size[0] * f, size[1] * f):
        bad.append(f"map size {m.size}, expected {(size[0] * f, size[1] * f)}")
    def px(x_mm, y_mm):
        i = round((x_mm - org[0]) / sp[0]); j = round((y_mm - org[1]) / sp[1])
        return m.getpixel((i * f + f // 2, j * f + f // 2))
    t1 = next(t for t in truth["geometry"]["tumours"] if t["id"] == "T1")
    r, g, b = px(t1["center_mm"][0], t1["center_mm"][1])
    if not (r > g + 40 and r > b + 40):
        bad.append(f"the T1 centre is not red on the map: {(r, g, b)}")
    # the body's far side (+x, the patient's left; the liver is on the right): 0.5 Gy, under the floor
    body = truth["geometry"]["body"]["semi_axes_mm"]
    r, g, b = px(0.8 * body[0], 0)
    if not (abs(r - g) <= 1 and abs(g - b) <= 1 and 90 < r < 170):
        bad.append(f"the body far from the liver is not the grey CT: {(r, g, b)}")
    bar = Image.open(os.path.join(imgdir, imgs[3])).convert("RGB")
    if not bar.size[1] > bar.size[0] * 2:
        bad.append(f"the colour bar is not a vertical bar: {bar.size}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(f"report: {len(run['compartments'])} compartments and {len(run['flags'])} flags as in the JSON; maps checked")
EOF
echo "dose_report: ok"
