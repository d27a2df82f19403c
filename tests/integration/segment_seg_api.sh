#!/usr/bin/env bash
# The DICOM SEG kept with each accepted semi-automatic measurement, GET /api/segmentations/{uid} and
# POST /api/segment/propagate, over the committed sample: an accepted measurement writes
# ARCHIVE/segmentations/<uid>.dcm (dciodvfy: no Error; `recistry verify` unaffected) and records its UID; its
# contours come back on the instances of the proposal, only to those who may see the read (another central reader
# and another site get 404, as for an unknown UID); a request refused after a SEG was written leaves no file; a
# baseline target proposed at FU1 is within one pixel spacing of the FU1 truth and stores as semi-automatic; a
# lesion without a baseline measurement, a non-target or the baseline itself is 422; the read's volumetric sums
# appear once every target is semi-automatic at BL and FU1.
source "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
command -v dciodvfy >/dev/null || { echo "FAIL: dciodvfy not installed (scripts/setup.sh)" >&2; exit 1; }
reader_setup segment_seg_api
SAMPLE=$RCY_SOURCE_DIR/sample-dicom
S=CIREL-027-0001
TRUTH=$SAMPLE/truth/$S.json
find "$SAMPLE"/S0* -name '*.dcm' | sort >"$T/files"
"$R" reads index --archive "$A" $(cat "$T/files") >/dev/null
add_user carol central
add_user dave central
add_user site27 site S027
add_user site14 site S014
add_user quinn qa
reader_start
for u in carol dave site27 site14 quinn; do login $u; done

at() { jq -c --arg l "$1" --arg t "$2" '.lesions[] | select(.lesion_id == $l) | .timepoints[] | select(.timepoint == $t)' "$TRUTH"; }
centre() { jq -c '[(.long_axis_endpoints_px[0][0] + .long_axis_endpoints_px[1][0]) / 2, (.long_axis_endpoints_px[0][1] + .long_axis_endpoints_px[1][1]) / 2]' <<<"$1"; }
seg() { jq -cn --arg s "$1" --arg t "$2" --arg sop "$3" --argjson p "$4" '{subject: $s, timepoint: $t, sop_instance_uid: $sop, point: $p}'; }
prop() { jq -cn --arg s "$1" --arg t "$2" --arg l "$3" '{subject: $s, timepoint: $t, lesion_id: $l}'; }
accept() { # PROPOSAL METHOD: the proposal's calipers as the reader accepts them
  jq -c --arg m "$2" '{measurement: {sop_instance_uid: .long_axis.sop_instance_uid, p1: .long_axis.p1, p2: .long_axis.p2,
    short_p1: .short_axis.p1, short_p2: .short_axis.p2, method: $m, segmentation: {seed: .seed, volume_ml}}}' "$1"
}
stored() { jq -c --arg l "$1" --arg t "$2" '.lesions[] | select(.lesion_id == $l) | .observations[$t].measurement' "$3"; }
segfiles() { find "$A/segmentations" -type f | sort; }
SPACING=$(jqr '.timepoints[0].pixel_spacing_mm' "$TRUTH")

echo "== baseline: T1 (liver) and T2 (node) accepted as proposed"
expect 201 carol POST /api/reads/$S/lesions '{"lesion_id":"T1","kind":"target","organ":"liver","nodal":false,"timepoint":"BL"}'
expect 201 carol POST /api/reads/$S/lesions '{"lesion_id":"T2","kind":"target","organ":"lymph node","nodal":true,"timepoint":"BL"}'
for l in T1 T2; do
  x=$(at $l BL)
  expect 200 carol POST /api/segment "$(seg $S BL "$(jq -r .sop_instance_uid <<<"$x")" "$(centre "$x")")"
  cp "$T/out" "$T/$l.bl.json"
done
[ -d "$A/segmentations" ] || fail "the server did not create ARCHIVE/segmentations"
[ -z "$(segfiles)" ] || fail "a proposal alone wrote a SEG: $(segfiles)"
expect 200 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/T1.bl.json" semiautomatic)"
cp "$T/out" "$T/read.json"
UID1=$(stored T1 BL "$T/read.json" | jq -r '.segmentation.seg_sop_instance_uid // empty')
[ -n "$UID1" ] || fail "no seg_sop_instance_uid stored: $(stored T1 BL "$T/read.json")"
[[ $UID1 =~ ^[0-9.]+$ ]] || fail "seg_sop_instance_uid is not a UID: $UID1"
F1=$A/segmentations/$UID1.dcm
[ -s "$F1" ] || fail "no SEG at $F1: $(segfiles)"
[ "$(segfiles | wc -l)" = 1 ] || fail "want one SEG file: $(segfiles)"
[ -z "$(find "$A/segmentations" -name '.*')" ] || fail "a temporary file stayed: $(ls -a "$A/segmentations")"

echo "== the SEG: dciodvfy, its header"
dciodvfy "$F1" >"$T/dciodvfy.txt" 2>&1 || true
if grep -q '^Error' "$T/dciodvfy.txt"; then fail "dciodvfy $F1: $(grep '^Error' "$T/dciodvfy.txt" | head -20)"; fi
dcmdump +P SOPInstanceUID +P SegmentLabel +P ContentCreatorName +P Modality "$F1" >"$T/dump.txt" 2>&1
grep -q "\[$UID1\]" "$T/dump.txt" || fail "SOP Instance UID in the file differs: $(cat "$T/dump.txt")"
grep -q 'T1 liver' "$T/dump.txt" || fail "segment label: $(cat "$T/dump.txt")"
grep -qi 'carol' "$T/dump.txt" || fail "content creator: $(cat "$T/dump.txt")"
grep -q '\[SEG\]' "$T/dump.txt" || fail "modality: $(cat "$T/dump.txt")"
"$R" verify --archive "$A" >"$T/verify.txt" 2>&1 || fail "recistry verify after a SEG: $(cat "$T/verify.txt")"

echo "== GET /api/segmentations/{uid}: contours on the proposal's instances, the read's visibility"
expect 200 carol GET /api/segmentations/$UID1
cp "$T/out" "$T/contours.json"
jq -e --arg u "$UID1" '.sop_instance_uid == $u and .segment_label == "T1 liver" and .voxels > 0 and (.contours | length) > 0
  and all(.contours[]; (.points | length) > 8)' "$T/contours.json" >/dev/null || fail "contours: $(head -c 600 "$T/contours.json")"
# Every outline lies on an instance the proposal spans, and the long axis' slice has one.
jq -n --slurpfile c "$T/contours.json" --slurpfile p "$T/T1.bl.json" '
  ($p[0].contours | map(.sop_instance_uid)) as $ok
  | ($c[0].contours | map(.sop_instance_uid)) as $got
  | ($got - $ok | length) == 0 and ($got | index($p[0].long_axis.sop_instance_uid)) != null
  and (($got | unique | length) - ($ok | unique | length) | fabs) <= 2' -e >/dev/null ||
  fail "SEG contours on other instances: $(jqc '[.contours[].sop_instance_uid]' "$T/contours.json") vs $(jqc '[.contours[].sop_instance_uid]' "$T/T1.bl.json")"
expect 404 dave GET /api/segmentations/$UID1
msg=$(jqr .error)
expect 404 dave GET /api/segmentations/2.25.1234567
[ "$(jqr .error)" = "$msg" ] || fail "another reader's SEG answered differently from an unknown one"
expect 404 site27 GET /api/segmentations/$UID1 # the site read is another read
expect 404 site14 GET /api/segmentations/$UID1
expect 404 carol GET /api/segmentations/2.25.1234567
expect 404 carol GET /api/segmentations/..%2Fkey-images
expect 404 carol GET /api/segmentations/abc
expect 200 quinn "GET" "/api/segmentations/$UID1" # QA looks at every read
expect 401 - GET /api/segmentations/$UID1
expect 405 carol DELETE /api/segmentations/$UID1

echo "== the node: its SEG too"
expect 200 carol PUT /api/reads/$S/timepoints/BL/lesions/T2 "$(accept "$T/T2.bl.json" semiautomatic)"
cp "$T/out" "$T/read.json"
UID2=$(stored T2 BL "$T/read.json" | jq -r '.segmentation.seg_sop_instance_uid // empty')
[ -n "$UID2" ] && [ -s "$A/segmentations/$UID2.dcm" ] || fail "T2 SEG: $(stored T2 BL "$T/read.json")"
# One file per accepted measurement.
[ "$(segfiles | wc -l)" = 2 ] || fail "want two SEG files: $(segfiles)"

echo "== propagation to FU1"
FU=$(at T1 FU1)
FU_EXP=$(jq -r .expected_longest_diameter_mm <<<"$FU")
FU_SPACING=$(jqr '.timepoints[] | select(.timepoint == "FU1") | .pixel_spacing_mm' "$TRUTH")
expect 200 carol POST /api/segment/propagate "$(prop $S FU1 T1)"
cp "$T/out" "$T/T1.fu.json"
jq -e --argjson e "$FU_EXP" --argjson sp "$FU_SPACING" '(.long_mm - $e | fabs) <= $sp' "$T/T1.fu.json" >/dev/null ||
  fail "propagated T1 long_mm $(jq .long_mm "$T/T1.fu.json") vs FU1 truth $FU_EXP (spacing $FU_SPACING)"
BLSOP=$(stored T1 BL "$T/read.json" | jq -r .sop_instance_uid)
jq -e --arg s "$BLSOP" '.propagated_from.timepoint == "BL" and .propagated_from.sop_instance_uid == $s
  and (.propagated_from.point | length) == 2 and .propagated_from.seed_shift_mm >= 0
  and (.contours | length) > 0 and .volume_ml > 0 and .seed.sop_instance_uid != null' "$T/T1.fu.json" >/dev/null ||
  fail "propagation answer: $(jqc 'del(.contours)' "$T/T1.fu.json")"
echo "propagated T1: long $(jq .long_mm "$T/T1.fu.json") mm (truth $FU_EXP), seed moved $(jq .propagated_from.seed_shift_mm "$T/T1.fu.json") mm"

echo "== propagation refused"
expect 201 carol POST /api/reads/$S/lesions '{"lesion_id":"T3","kind":"target","organ":"lung","nodal":false,"timepoint":"BL"}'
expect 422 carol POST /api/segment/propagate "$(prop $S FU1 T3)"
grep -qi 'baseline' "$T/out" || fail "no baseline measurement: $(cat "$T/out")"
expect 201 carol POST /api/reads/$S/lesions '{"lesion_id":"NT1","kind":"non_target","organ":"liver","nodal":false,"timepoint":"BL"}'
expect 422 carol POST /api/segment/propagate "$(prop $S FU1 NT1)"
expect 422 carol POST /api/segment/propagate "$(prop $S BL T1)"
expect 404 carol POST /api/segment/propagate "$(prop $S FU1 T9)"
expect 404 carol POST /api/segment/propagate "$(prop $S FU9 T1)"
expect 404 dave POST /api/segment/propagate "$(prop $S FU1 T1)"  # dave's read has no T1
expect 404 site14 POST /api/segment/propagate "$(prop $S FU1 T1)"
expect 403 quinn POST /api/segment/propagate "$(prop $S FU1 T1)"
expect 400 carol POST /api/segment/propagate "{\"subject\":\"$S\",\"timepoint\":\"FU1\"}"
grep -q lesion_id "$T/out" || fail "400 does not name lesion_id: $(cat "$T/out")"
expect 400 carol POST /api/segment/propagate '{"timepoint":"FU1","lesion_id":"T1"}'
code=$(curl -s -o "$T/out" -w '%{http_code}' -b "$T/carol.jar" -H 'Content-Type: application/json' \
  --data-binary "$(prop $S FU1 T1)" "$U/api/segment/propagate")
[ "$code" = 403 ] || fail "propagate without X-CSRF-Token -> $code"
expect 200 carol DELETE "/api/reads/$S/lesions/T3"
expect 200 carol DELETE "/api/reads/$S/lesions/NT1"

echo "== a request refused after its SEG was written leaves no file"
before=$(segfiles)
frag=$(jqc '{fragments: [
  {sop_instance_uid: .long_axis.sop_instance_uid, p1: .long_axis.p1, p2: .long_axis.p2, method: "semiautomatic", segmentation: {seed: .seed}},
  {sop_instance_uid: .long_axis.sop_instance_uid, p1: [-40, 1], p2: [10, 10]}]}' "$T/T1.fu.json")
expect 400 carol PUT /api/reads/$S/timepoints/FU1/lesions/T1 "$frag"
[ "$(segfiles)" = "$before" ] || fail "a refused request left a SEG: $(diff <(echo "$before") <(segfiles))"

echo "== accepting the propagated proposals at FU1; the volumetric sums"
expect 200 carol PUT /api/reads/$S/timepoints/FU1/lesions/T1 "$(accept "$T/T1.fu.json" semiautomatic)"
cp "$T/out" "$T/read.json"
stored T1 FU1 "$T/read.json" | jq -e --slurpfile p "$T/T1.fu.json" '.method == "semiautomatic"
  and .segmentation.volume_ml == $p[0].volume_ml and (.segmentation.seg_sop_instance_uid | type) == "string"' >/dev/null ||
  fail "propagated T1 stored: $(stored T1 FU1 "$T/read.json")"
jqe '.timepoints[] | select(.timepoint == "FU1") | .volumetric.sum_ml == null' "$T/read.json" ||
  fail "FU1 volumetric sum before T2 is measured there: $(jqc '.timepoints' "$T/read.json")"
expect 200 carol POST /api/segment/propagate "$(prop $S FU1 T2)"
cp "$T/out" "$T/T2.fu.json"
expect 200 carol PUT /api/reads/$S/timepoints/FU1/lesions/T2 "$(accept "$T/T2.fu.json" semiautomatic)"
cp "$T/out" "$T/read.json"
jqe '[.timepoints[] | .volumetric] | length == 2 and all(.exploratory and (.sum_ml | type) == "number")
  and (.[1].change_from_baseline_pct | type) == "number"' "$T/read.json" ||
  fail "volumetric: $(jqc '[.timepoints[] | {timepoint, volumetric}]' "$T/read.json")"
echo "volumetric: $(jqc '[.timepoints[] | {timepoint, sum_ml: .volumetric.sum_ml, pct: .volumetric.change_from_baseline_pct}]' "$T/read.json")"
[ "$(segfiles | wc -l)" = 4 ] || fail "want four SEG files: $(segfiles)"
for f in $(segfiles); do
  dciodvfy "$f" >"$T/dciodvfy.txt" 2>&1 || true
  if grep -q '^Error' "$T/dciodvfy.txt"; then fail "dciodvfy $f: $(grep '^Error' "$T/dciodvfy.txt" | head -20)"; fi
done
"$R" verify --archive "$A" >"$T/verify.txt" 2>&1 || fail "recistry verify: $(cat "$T/verify.txt")"
echo PASS
