#!/usr/bin/env bash
# POST /api/segment (one click -> the lesion's proposal) and semi-automatic measurements over the committed
# sample: the proposal of a truth lesion within one pixel spacing of the truth's diameter; sessions, CSRF,
# blinding (another subject's instance, a site user of another site, QA) refused as everywhere else; clicks off
# the image or on plain liver answered 422 with a message; a measurement stored with "method": "semiautomatic"
# keeps the server's volume (a forged one is ignored) and becomes "semiautomatic_edited" when its calipers were
# moved; the audit row holds the method.
source "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
reader_setup segment_api
SAMPLE=$RCY_SOURCE_DIR/sample-dicom
S=CIREL-027-0001
O=CIREL-014-0001
TRUTH=$SAMPLE/truth/$S.json
find "$SAMPLE"/S0* -name '*.dcm' | sort >"$T/files"
"$R" reads index --archive "$A" $(cat "$T/files") >/dev/null
add_user carol central
add_user site27 site S027
add_user site14 site S014
add_user quinn qa
reader_start
for u in carol site27 site14 quinn; do login $u; done

at() { jq -c --arg l "$1" --arg t "$2" '.lesions[] | select(.lesion_id == $l) | .timepoints[] | select(.timepoint == $t)' "$TRUTH"; }
T1=$(at T1 BL)
SOP=$(jq -r .sop_instance_uid <<<"$T1")
EXP=$(jq -r .expected_longest_diameter_mm <<<"$T1")
SPACING=$(jqr '.timepoints[0].pixel_spacing_mm' "$TRUTH")
CENTRE=$(jq -c '[(.long_axis_endpoints_px[0][0] + .long_axis_endpoints_px[1][0]) / 2, (.long_axis_endpoints_px[0][1] + .long_axis_endpoints_px[1][1]) / 2]' <<<"$T1")
seg() { jq -cn --arg s "$1" --arg t "$2" --arg sop "$3" --argjson p "$4" '{subject: $s, timepoint: $t, sop_instance_uid: $sop, point: $p}'; }

echo "== a click on T1 (liver, BL) -> its proposal"
expect 200 carol POST /api/segment "$(seg $S BL "$SOP" "$CENTRE")"
cp "$T/out" "$T/t1.json"
jq -e --argjson e "$EXP" --argjson sp "$SPACING" '(.long_mm - $e | fabs) <= $sp' "$T/t1.json" >/dev/null ||
  fail "T1 long_mm $(jq .long_mm "$T/t1.json") vs truth $EXP (spacing $SPACING)"
jqe '.method == "semiautomatic" and .volume_ml > 0 and .slices >= 1 and (.contours | length) == .slices
  and (.contours[0].points | length) > 8 and .long_axis.sop_instance_uid == .short_axis.sop_instance_uid
  and .seed.sop_instance_uid != null and (.algorithm | type) == "string"' "$T/t1.json" ||
  fail "proposal: $(head -c 600 "$T/t1.json")"
# Deterministic: the same click, the same proposal.
expect 200 carol POST /api/segment "$(seg $S BL "$SOP" "$CENTRE")"
cmp -s <(jq -S 'del(.elapsed_ms, .load_ms)' "$T/t1.json") <(jq -S 'del(.elapsed_ms, .load_ms)' "$T/out") ||
  fail "the same click gave another proposal"
# A site user of the subject's site may measure too.
expect 200 site27 POST /api/segment "$(seg $S BL "$SOP" "$CENTRE")"

echo "== sessions, CSRF, blinding"
expect 401 - POST /api/segment "$(seg $S BL "$SOP" "$CENTRE")"
code=$(curl -s -o "$T/out" -w '%{http_code}' -b "$T/carol.jar" -H 'Content-Type: application/json' \
  --data-binary "$(seg $S BL "$SOP" "$CENTRE")" "$U/api/segment")
[ "$code" = 403 ] || fail "POST /api/segment without X-CSRF-Token -> $code"
expect 405 carol GET /api/segment
# Another site's user: the subject is not theirs (404, as every other route answers).
expect 404 site14 POST /api/segment "$(seg $S BL "$SOP" "$CENTRE")"
# QA looks at reads but does not measure.
expect 403 quinn POST /api/segment "$(seg $S BL "$SOP" "$CENTRE")"
# Another subject's instance under this subject's name: the same answer as an absent one.
OSOP=$(jqr '.lesions[0].timepoints[0].sop_instance_uid' "$SAMPLE/truth/$O.json")
expect 404 carol POST /api/segment "$(seg $S BL "$OSOP" "$CENTRE")"
msg_other=$(jqr .error)
expect 404 carol POST /api/segment "$(seg $S BL 2.25.999999999 "$CENTRE")"
[ "$(jqr .error | sed 's/2.25.999999999/X/')" = "$(sed "s/$OSOP/X/" <<<"$msg_other")" ] ||
  fail "another subject's instance answered differently from an absent one: $msg_other / $(jqr .error)"
# The right subject, the wrong timepoint.
expect 422 carol POST /api/segment "$(seg $S FU1 "$SOP" "$CENTRE")"

echo "== bad bodies, off the image, nothing there"
expect 400 carol POST /api/segment '{"timepoint":"BL","sop_instance_uid":"1.2","point":[1,2]}'
grep -q subject "$T/out" || fail "400 does not name subject: $(cat "$T/out")"
expect 400 carol POST /api/segment "{\"subject\":\"$S\",\"sop_instance_uid\":\"1.2\",\"point\":[1,2]}"
grep -q timepoint "$T/out" || fail "400 does not name timepoint: $(cat "$T/out")"
expect 400 carol POST /api/segment "{\"subject\":\"$S\",\"timepoint\":\"BL\",\"point\":[1,2]}"
grep -q sop_instance_uid "$T/out" || fail "400 does not name sop_instance_uid: $(cat "$T/out")"
for p in '"x"' '[1]' '[1,"2"]' 'null' '[1,2,3]'; do
  expect 400 carol POST /api/segment "{\"subject\":\"$S\",\"timepoint\":\"BL\",\"sop_instance_uid\":\"$SOP\",\"point\":$p}"
  grep -q point "$T/out" || fail "400 does not name point: $(cat "$T/out")"
done
expect 400 carol POST /api/segment '[1,2]'
for p in '[-5,10]' '[10,600]' '[512,0]' '[1e308,1]'; do
  expect 422 carol POST /api/segment "$(seg $S BL "$SOP" "$p")"
done
# Plain liver, well away from T1 (centre ~[160,291]) and N1: nothing stands out there.
LIVER=${RCY_PLAIN_LIVER:-[130,230]}
expect 422 carol POST /api/segment "$(seg $S BL "$SOP" "$LIVER")"
jqe '.error | length > 10' || fail "plain liver: $(cat "$T/out")"
# Air outside the body.
expect 422 carol POST /api/segment "$(seg $S BL "$SOP" '[5,5]')"

echo "== storing a semi-automatic measurement"
body=$(jq -c '{lesion_id: "T1", kind: "target", organ: "liver", nodal: false, timepoint: "BL"}' <<<'{}')
expect 201 carol POST /api/reads/$S/lesions "$body"
expect 201 carol POST /api/reads/$S/lesions '{"lesion_id":"T2","kind":"target","organ":"lymph node","nodal":true,"timepoint":"BL"}'
accept() { # PROPOSAL METHOD [DX] [VOLUME]: the proposal's calipers (the long axis's first end moved by DX px)
  jq -c --arg m "$2" --argjson dx "${3:-0}" --argjson v "${4:-null}" '{measurement: {sop_instance_uid: .long_axis.sop_instance_uid,
    p1: [.long_axis.p1[0] + $dx, .long_axis.p1[1]], p2: .long_axis.p2, short_p1: .short_axis.p1, short_p2: .short_axis.p2,
    method: $m, segmentation: ({seed: .seed} + (if $v == null then {volume_ml} else {volume_ml: $v} end))}}' "$1"
}
expect 200 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" semiautomatic 0 999.5)"
cp "$T/out" "$T/read1.json"
jq -e --slurpfile p "$T/t1.json" '.lesions[] | select(.lesion_id == "T1") | .observations.BL as $o
  | $o.measurement.method == "semiautomatic"
  and $o.measurement.segmentation.volume_ml == $p[0].volume_ml
  and $o.measurement.segmentation.long_mm == $p[0].long_mm
  and $o.measurement.segmentation.seed == $p[0].seed
  and $o.measurement.segmentation.first_sop_instance_uid == $p[0].first_sop_instance_uid
  and (($o.diameter_mm - $p[0].long_mm) | fabs) < 0.05' "$T/read1.json" >/dev/null ||
  fail "stored semi-automatic measurement: $(jqc '.lesions[] | select(.lesion_id == "T1") | .observations.BL' "$T/read1.json")"
jqe '[.. | objects | select(has("volume_ml")) | .volume_ml] | length > 0 and all(. != 999.5)' "$T/read1.json" || fail "the forged volume was stored"
# The audit row of the change holds the method.
expect 200 quinn GET "/api/audit?subject=$S"
grep -q 'semiautomatic' "$T/out" || fail "audit has no method: $(head -c 600 "$T/out")"

echo "== moved calipers -> semiautomatic_edited; an edited claim with the proposal's calipers -> semiautomatic"
expect 200 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" semiautomatic 2.0)"
jqe '.lesions[] | select(.lesion_id == "T1") | .observations.BL.measurement.method == "semiautomatic_edited"' ||
  fail "moved calipers: $(jqc '.lesions[] | select(.lesion_id == "T1") | .observations.BL.measurement')"
expect 200 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" semiautomatic 0.02)"
jqe '.lesions[] | select(.lesion_id == "T1") | .observations.BL.measurement.method == "semiautomatic"' ||
  fail "0.02 px is the proposal"
expect 200 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" semiautomatic_edited 0)"
jqe '.lesions[] | select(.lesion_id == "T1") | .observations.BL.measurement.method == "semiautomatic"' ||
  fail "the server decides the method from the calipers"
# Manual: no method, no segmentation (as before).
manual=$(jqc '{measurement: {sop_instance_uid: .long_axis.sop_instance_uid, p1: .long_axis.p1, p2: .long_axis.p2}}' "$T/t1.json")
expect 200 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$manual"
jqe '.lesions[] | select(.lesion_id == "T1") | .observations.BL.measurement | (.method // "manual") == "manual" and .segmentation == null' ||
  fail "manual measurement: $(jqc '.lesions[] | select(.lesion_id == "T1") | .observations.BL.measurement')"

echo "== bad method or segmentation"
expect 400 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" automatic)"
grep -q method "$T/out" || fail "bad method: $(cat "$T/out")"
expect 400 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" semiautomatic | jq -c 'del(.measurement.segmentation)')"
expect 400 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" semiautomatic | jq -c '.measurement.segmentation.seed.point = "x"')"
grep -q seed.point "$T/out" || fail "bad seed point: $(cat "$T/out")"
# A seed on another subject's instance, or on another timepoint, is refused.
expect 422 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" semiautomatic | jq -c --arg o "$OSOP" '.measurement.segmentation.seed.sop_instance_uid = $o')"
FUSOP=$(jq -r .sop_instance_uid <<<"$(at T1 FU1)")
expect 422 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" semiautomatic | jq -c --arg o "$FUSOP" '.measurement.segmentation.seed.sop_instance_uid = $o')"
# A seed off its image.
expect 422 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" semiautomatic | jq -c '.measurement.segmentation.seed.point = [-50, 10]')"
# Another subject's instance as the seed, by a site user of that other site: the subject is not theirs (404),
# and no segmentation is run for them.
expect 404 site14 PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" semiautomatic)"
# A seed where nothing stands out.
expect 422 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(accept "$T/t1.json" semiautomatic | jq -c --argjson p "$LIVER" '.measurement.segmentation.seed.point = $p')"

echo "== a node: the short axis is its measurement"
T2=$(at T2 BL)
T2SOP=$(jq -r .sop_instance_uid <<<"$T2")
T2C=$(jq -c '[(.long_axis_endpoints_px[0][0] + .long_axis_endpoints_px[1][0]) / 2, (.long_axis_endpoints_px[0][1] + .long_axis_endpoints_px[1][1]) / 2]' <<<"$T2")
expect 200 carol POST /api/segment "$(seg $S BL "$T2SOP" "$T2C")"
cp "$T/out" "$T/t2.json"
expect 200 carol PUT /api/reads/$S/timepoints/BL/lesions/T2 "$(accept "$T/t2.json" semiautomatic)"
jq -e --slurpfile p "$T/t2.json" '.lesions[] | select(.lesion_id == "T2") | .observations.BL
  | .measurement.method == "semiautomatic" and ((.diameter_mm - $p[0].short_mm) | fabs) < 0.05' "$T/out" >/dev/null ||
  fail "node: $(jqc '.lesions[] | select(.lesion_id == "T2") | .observations.BL')"
echo PASS
