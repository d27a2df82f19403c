#!/usr/bin/env bash
# recistry dose (src/dose) against the analytic truth of the TARE phantoms (recistry sample --tare, docs/sample.md
# "TARE phantoms"; tests/integration/lib/dose_tare_truth.py): on the accuracy subject (PET on the CT grid, no blur)
# with each decay correction (START, ADMIN, NONE) every VOI's mean dose and activity within 0.5 %, masses, MIRD,
# lung and predicted (MAA) doses, the decay factor and the MAA tumour-to-normal ratio; on the realistic subject
# (blurred PET and SPECT on their own grids) the models, the activity in the field of view and partial volume.
set -euo pipefail
: "${RECISTRY:?RECISTRY must name the recistry program}"
src="${RCY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
tmp="${RCY_TEST_TMP:-/tmp}/dose_tare_truth.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
for mode in start admin none; do
  "$RECISTRY" sample --out "$tmp/$mode" --tare --phantom accuracy --tare-decay "$mode" --seed 7 >/dev/null
  "$py" "$src/tests/integration/lib/dose_tare_truth.py" "$RECISTRY" "$tmp/$mode" CIREL-014-0971
done
"$RECISTRY" sample --out "$tmp/realistic" --tare --phantom realistic --seed 7 >/dev/null
"$py" "$src/tests/integration/lib/dose_tare_truth.py" "$RECISTRY" "$tmp/realistic" CIREL-014-0972
echo "dose_tare_truth: ok"
