#!/usr/bin/env bash
# The lesion phantoms (recistry sample --lesion-phantoms, docs/sample.md "Lesion phantoms") checked
# independently with /usr/bin/python3 (numpy, scipy, pydicom; tests/integration/lib/lesion_phantoms.py):
# every label volume (gzip NRRD) has its DICOM series' geometry, read by python and by ITK's NRRD reader; for every lesion the label's voxel count x
# voxel volume is the solid's volume (10 %, 15 % on 5 mm slices), the RECIST long and short axes are within a
# pixel of a brute-force Feret of the label slices, the click point is on the lesion, the mean CT number inside
# is the lesion's, the rim lesion's ring is brighter and its core darker than liver, nodes and nodules sit in
# fat and lung, the touching lesions touch; the follow-up is 0.8 x in size and shifted by shift_mm.
# Then: only the phantoms are written (no cohort), and the same seed gives the same bytes.
set -euo pipefail
: "${RECISTRY:?RECISTRY must name the recistry program}"
src="${RCY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
tmp="${RCY_TEST_TMP:-/tmp}/sample_lesions.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3
"$py" -c 'import numpy, scipy, pydicom' || fail "/usr/bin/python3 needs numpy, scipy and pydicom"

start=$(date +%s.%N)
"$RECISTRY" sample --out "$tmp/a" --lesion-phantoms --seed 5 >"$tmp/log"
end=$(date +%s.%N)
cat "$tmp/log"
echo "generation: $(echo "$end - $start" | bc) s"
grep -q 'wrote 3 subjects, 6 studies' "$tmp/log" || fail "unexpected summary: $(cat "$tmp/log")"
for d in truth reads dirty registry.csv S027 S031; do
  [ ! -e "$tmp/a/$d" ] || fail "--lesion-phantoms also wrote $d"
done
for s in CIREL-014-0961 CIREL-014-0962 CIREL-014-0963; do
  for tp in BL FU1; do
    [ -s "$tmp/a/lesions/$s/$tp.nrrd" ] || fail "no label volume $s/$tp"
    [ -n "$(ls "$tmp/a/S014/$s/$tp"/CT_*.dcm 2>/dev/null)" ] || fail "no series $s/$tp"
  done
done

# ITK's NRRD reader (tests/tools/nrrd_itk_check.cc, built with the tests) must read every label volume too
itk_check="${RCY_BUILD_DIR:-$src/build}/tests/rcy_nrrd_itk_check"
[ -x "$itk_check" ] || fail "no $itk_check (built with the tests)"
"$py" "$src/tests/integration/lib/lesion_phantoms.py" "$tmp/a" "$itk_check"

# determinism: same seed, same bytes; another seed, other lesions
"$RECISTRY" sample --out "$tmp/b" --lesion-phantoms --seed 5 >/dev/null
diff -r "$tmp/a" "$tmp/b" >/dev/null || fail "same seed gave different phantoms"
"$RECISTRY" sample --out "$tmp/c" --lesion-phantoms --phantom standard --seed 6 >/dev/null
! cmp -s "$tmp/a/lesions/CIREL-014-0961/BL.nrrd" "$tmp/c/lesions/CIREL-014-0961/BL.nrrd" ||
  fail "another seed gave the same label volume"
# --phantom writes one phantom, the same bytes as in the full set
"$RECISTRY" sample --out "$tmp/d" --lesion-phantoms --phantom thick --seed 5 >/dev/null
diff -r "$tmp/a/S014/CIREL-014-0962" "$tmp/d/S014/CIREL-014-0962" >/dev/null &&
  cmp -s "$tmp/a/lesions/CIREL-014-0962.json" "$tmp/d/lesions/CIREL-014-0962.json" ||
  fail "--phantom thick differs from the full set's thick phantom"
[ ! -e "$tmp/d/S014/CIREL-014-0961" ] || fail "--phantom thick also wrote the standard phantom"
echo "sample_lesions: ok"
