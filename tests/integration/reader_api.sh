#!/usr/bin/env bash
# HTTP API of the reader workstation against the real server (curl): login, rate limit, CSRF, roles and
# blinding, images, every endpoint's bad input, static-file path traversal, oversized bodies, lesions and
# measurements (mm from Pixel Spacing, key images), signing with reasons, export/import, audit tampering.
source "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
reader_setup reader_api
make_fixtures 12
add_user alice central
add_user bob central
add_user sam site S014
add_user tess site S015
add_user quinn qa
add_user victim central
# A UI root with a file beside it that must never be served.
mkdir -p "$T/dist/assets"
echo '<html>reader</html>' >"$T/dist/index.html"
echo 'console.log(1)' >"$T/dist/assets/app.js"
echo 'TOP-SECRET-OUTSIDE-DIST' >"$T/secret.txt"
reader_start "web_root = $T/dist"
S=CIREL-014-0001

echo "== sessions"
expect 401 - GET /api/worklist
expect 401 - GET /api/me
expect 400 - POST /api/login '{"name":"alice"'
expect 400 - POST /api/login '{"name":"alice"}'
expect 400 - POST /api/login '[1,2]'
expect 401 - POST /api/login '{"name":"alice","password":"wrong-password"}'
expect 401 - POST /api/login '{"name":"nobody","password":"wrong-password"}'
for i in 1 2 3 4 5; do expect 401 - POST /api/login '{"name":"victim","password":"bad"}'; done
expect 429 - POST /api/login "{\"name\":\"victim\",\"password\":\"$(cat "$T/victim.pw")\"}"
headers=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
  --data-binary "{\"name\":\"alice\",\"password\":\"$(cat "$T/alice.pw")\"}" "$U/api/login")
echo "$headers" | grep -i '^set-cookie: rcy_session=[0-9a-f]\{64\}; HttpOnly; SameSite=Strict; Path=/; Max-Age=' >/dev/null ||
  fail "session cookie attributes: $headers"
for u in alice bob sam tess quinn; do login $u; done
expect 200 alice GET /api/me
jqe '.user.name == "alice" and .user.role == "central" and (.csrf_token | length) == 64' || fail "me: $(cat "$T/out")"
expect 200 sam GET /api/me
jqe '.user.site == "S014"' || fail "site user: $(cat "$T/out")"

echo "== CSRF"
code=$(curl -s -o "$T/out" -w '%{http_code}' -b "$T/alice.jar" -H 'Content-Type: application/json' \
  --data-binary '{"kind":"target","organ":"liver","timepoint":"BL"}' "$U/api/reads/$S/lesions")
[ "$code" = 403 ] || fail "POST without X-CSRF-Token → $code"
code=$(curl -s -o "$T/out" -w '%{http_code}' -b "$T/alice.jar" -H "X-CSRF-Token: $(cat "$T/bob.csrf")" \
  -H 'Content-Type: application/json' --data-binary '{"kind":"target","organ":"liver","timepoint":"BL"}' \
  "$U/api/reads/$S/lesions")
[ "$code" = 403 ] || fail "POST with another session's CSRF token → $code"

echo "== routing, sizes, static files"
expect 404 alice GET /api/nothing-here
expect 405 alice DELETE /api/worklist
expect 405 alice PUT /api/reads/$S
head -c 2000000 /dev/zero | tr '\0' 'a' >"$T/big"
code=$(curl -s -o "$T/out" -w '%{http_code}' -b "$T/alice.jar" -H "X-CSRF-Token: $(cat "$T/alice.csrf")" \
  -H 'Content-Type: application/json' --data-binary "@$T/big" "$U/api/reads/$S/lesions")
[ "$code" = 413 ] || fail "2 MB body → $code"
code=$(curl -s -o "$T/out" -w '%{http_code}' -b "$T/alice.jar" -H "X-CSRF-Token: $(cat "$T/alice.csrf")" \
  -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary "@$T/big" "$U/api/reads/$S/lesions")
[ "$code" = 413 ] || fail "2 MB chunked body → $code"
expect 200 - GET /
grep -q reader "$T/out" || fail "index.html not served"
expect 200 - GET /assets/app.js
for p in /../secret.txt /assets/../../secret.txt /%2e%2e/secret.txt /assets/%2e%2e/%2e%2e/secret.txt \
  /assets/..%2f..%2fsecret.txt /%2E%2E/%2E%2E/etc/passwd "/$T/secret.txt" //etc/passwd /assets//../../secret.txt \
  '/assets/%5c..%5csecret.txt' /assets/%00 /.; do
  call - GET "$p"
  case $code in 400 | 404) ;; *) fail "traversal $p → $code" ;; esac
  ! grep -q -e TOP-SECRET -e 'root:' "$T/out" || fail "traversal $p leaked a file"
done

echo "== worklist and blinding of subjects"
expect 200 alice GET /api/worklist
jqe '[.subjects[].subject_id] == ["CIREL-014-0001","CIREL-015-0001"]' || fail "central worklist: $(cat "$T/out")"
jqe '.subjects[0].timepoints | map(.timepoint) == ["BL","FU1"] and all(.status == "to_read")' ||
  fail "timepoints: $(cat "$T/out")"
STUDY_BL=$(jqr '.subjects[0].timepoints[0].study_uid')
STUDY_FU=$(jqr '.subjects[0].timepoints[1].study_uid')
STUDY_O=$(jqr '.subjects[1].timepoints[0].study_uid')
expect 200 sam GET /api/worklist
jqe '[.subjects[].subject_id] == ["CIREL-014-0001"]' || fail "site S014 worklist: $(cat "$T/out")"
expect 200 tess GET /api/worklist
jqe '[.subjects[].subject_id] == ["CIREL-015-0001"]' || fail "site S015 worklist: $(cat "$T/out")"
expect 404 tess GET /api/studies/$STUDY_BL/series
expect 404 tess GET /api/reads/$S
expect 404 alice GET /api/studies/1.2.3.4/series

echo "== series, instances, images"
expect 200 alice GET /api/studies/$STUDY_BL/series
jqe '.series | length == 1 and (.[0].instances | length) == 12 and .[0].slice_thickness_mm == 2.5' ||
  fail "series: $(head -c 300 "$T/out")"
jqe '[.series[0].instances[].position_mm[2]] as $z | $z == ($z | sort)' || fail "slice order"
SERIES_BL=$(jqr '.series[0].series_uid')
SOP_BL=$(jqr '.series[0].instances[6].sop_instance_uid')   # z = 15 mm: the lesion's middle
SOP_BL_EDGE=$(jqr '.series[0].instances[0].sop_instance_uid')
expect 200 alice GET /api/studies/$STUDY_FU/series
SOP_FU=$(jqr '.series[0].instances[6].sop_instance_uid')
expect 200 alice GET /api/studies/$STUDY_O/series
SOP_O=$(jqr '.series[0].instances[1].sop_instance_uid')
ctype=$(curl -s -o "$T/wado.dcm" -w '%{content_type}' -b "$T/alice.jar" "$U/wado/instances/$SOP_BL")
[ "$ctype" = application/dicom ] || fail "wado content type $ctype"
dcmdump "$T/wado.dcm" >"$T/wado.txt"; grep -q "$SOP_BL" "$T/wado.txt" || fail "wado did not return the instance"
expect 404 alice GET /wado/instances/1.2.3
expect 404 tess GET /wado/instances/$SOP_BL
expect 401 - GET /wado/instances/$SOP_BL
ctype=$(curl -s -o "$T/r.png" -w '%{content_type}' -b "$T/alice.jar" "$U/api/instances/$SOP_BL/render.png?wc=40&ww=400")
[ "$ctype" = image/png ] && file "$T/r.png" | grep -q '512 x 512, 8-bit grayscale' || fail "render.png: $ctype"
expect 200 alice GET "/api/instances/$SOP_BL/render.png"
expect 400 alice GET "/api/instances/$SOP_BL/render.png?wc=40"
expect 400 alice GET "/api/instances/$SOP_BL/render.png?wc=abc&ww=400"
expect 400 alice GET "/api/instances/$SOP_BL/render.png?wc=40&ww=0"
expect 400 alice GET "/api/instances/$SOP_BL/render.png?wc=nan&ww=400"
expect 404 alice GET "/api/instances/1.2.3/render.png"
curl -s -o "$T/t.png" -b "$T/alice.jar" "$U/api/series/$SERIES_BL/thumbnail.png"
file "$T/t.png" | grep -q '128 x 128' || fail "thumbnail: $(file "$T/t.png")"
expect 404 alice GET /api/series/1.2.3/thumbnail.png
expect 404 alice GET /api/key-images/../../recistry.db
expect 404 alice GET /api/key-images/nothex.png

echo "== lesions: RECIST rules at creation"
expect 400 alice POST /api/reads/$S/lesions '{"kind":"tumour","organ":"liver","timepoint":"BL"}'
expect 400 alice POST /api/reads/$S/lesions '{"kind":"target","timepoint":"BL"}'
expect 400 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","nodal":"yes","timepoint":"BL"}'
expect 400 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver"}'
expect 400 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL","lesion_id":"../x"}'
expect 404 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"FU9"}'
expect 404 alice POST /api/reads/CIREL-999-0001/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'
expect 422 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"FU1"}'
expect 422 alice POST /api/reads/$S/lesions '{"kind":"new","organ":"lung","timepoint":"BL"}'
expect 201 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","nodal":false,"timepoint":"BL"}'
jqe '.lesion_id == "T1" and .read.lesions[0].lesion_id == "T1"' || fail "T1: $(head -c 300 "$T/out")"
expect 201 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'
expect 409 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"lung","timepoint":"BL","lesion_id":"T2"}'
expect 422 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'
grep -q 'at most 2 target lesions per organ' "$T/out" || fail "per-organ message: $(cat "$T/out")"
expect 201 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"lymph node","nodal":true,"timepoint":"BL"}'
expect 201 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"lung","timepoint":"BL"}'
expect 201 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"spleen","timepoint":"BL"}'
expect 422 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"kidney","timepoint":"BL"}'
grep -q 'at most 5 target lesions' "$T/out" || fail "max-5 message: $(cat "$T/out")"
for l in T4 T5; do expect 200 alice DELETE /api/reads/$S/lesions/$l; done
expect 404 alice DELETE /api/reads/$S/lesions/T9
expect 201 alice POST /api/reads/$S/lesions '{"kind":"non_target","organ":"peritoneum","timepoint":"BL"}'
jqe '.lesion_id == "NT1" and .observations.BL.state == "present"' || fail "NT1: $(head -c 300 "$T/out")"

echo "== measurements: mm from Pixel Spacing, key images"
m() { # SOP P1 P2 [SHORT1 SHORT2]
  if [ $# -gt 3 ]; then echo "{\"measurement\":{\"sop_instance_uid\":\"$1\",\"p1\":$2,\"p2\":$3,\"short_p1\":$4,\"short_p2\":$5}}"
  else echo "{\"measurement\":{\"sop_instance_uid\":\"$1\",\"p1\":$2,\"p2\":$3,\"diameter_mm\":99}}"; fi
}
BLT=/api/reads/$S/timepoints/BL/lesions
expect 200 alice PUT $BLT/T1 "$(m "$SOP_BL" '[281.0,220.0]' '[319.0,220.0]')"
jqe '(.lesions[] | select(.lesion_id == "T1") | .observations.BL.diameter_mm) == 29.6875' ||
  fail "T1 mm (38 px x 0.78125): $(head -c 600 "$T/out")"
jqe '(.lesions[] | select(.lesion_id == "T1") | .baseline.sop_instance_uid) == "'"$SOP_BL"'"' || fail "baseline slice"
KEY=$(jqr '.lesions[] | select(.lesion_id == "T1") | .observations.BL.measurement.key_image_url')
curl -s -o "$T/key.png" -b "$T/alice.jar" "$U$KEY"
file "$T/key.png" | grep -q 'PNG image data, 512 x 548' || fail "key image $KEY: $(file "$T/key.png")"
# Diagonal: dc = 30, dr = 40 px → 50 px x 0.78125 = 39.0625 mm
expect 200 alice PUT $BLT/T2 "$(m "$SOP_BL" '[210,160]' '[240,200]')"
jqe '(.lesions[] | select(.lesion_id == "T2") | .observations.BL.diameter_mm) == 39.0625' || fail "T2 diagonal mm"
expect 422 alice PUT $BLT/T3 "$(m "$SOP_BL" '[100,100]' '[140,100]')"
grep -q 'short axis' "$T/out" || fail "nodal without short axis: $(cat "$T/out")"
expect 200 alice PUT $BLT/T3 "$(m "$SOP_BL" '[100,300]' '[140,300]' '[120,290]' '[120,312]')"
jqe '(.lesions[] | select(.lesion_id == "T3") | .observations.BL.diameter_mm) == 17.1875' || fail "nodal short axis mm"
expect 400 alice PUT $BLT/T1 "$(m "$SOP_BL" '[600,10]' '[10,10]')"
expect 400 alice PUT $BLT/T1 '{"measurement":{"sop_instance_uid":"'"$SOP_BL"'","p1":[1,2]}}'
expect 400 alice PUT $BLT/T1 '{"measurement":{"sop_instance_uid":"'"$SOP_BL"'","p1":[1,"x"],"p2":[3,4]}}'
expect 400 alice PUT $BLT/T1 '{"measurement":"x"}'
expect 422 alice PUT $BLT/T1 "$(m 1.2.3.4 '[1,1]' '[2,2]')"
expect 422 alice PUT $BLT/T1 "$(m "$SOP_FU" '[1,1]' '[2,2]')"
expect 422 alice PUT $BLT/T1 "$(m "$SOP_O" '[1,1]' '[2,2]')"
expect 400 alice PUT $BLT/T1 '{"state":"disappeared","measurement":{}}'
expect 400 alice PUT $BLT/T1 '{}'
expect 422 alice PUT $BLT/T1 '{"state":"too_small"}'
expect 404 alice PUT $BLT/T7 '{"state":"too_small"}'
expect 404 alice PUT /api/reads/$S/timepoints/FU7/lesions/T1 '{"state":"too_small"}'
expect 400 alice PUT $BLT/T1 'not json'
expect 200 alice GET /api/reads/$S
jqe '.role == "central" and .reader == "alice" and (.lesions | length) == 4 and (.timepoints | map(.timepoint)) == ["BL","FU1"]' ||
  fail "read view: $(head -c 400 "$T/out")"
jqe '.warnings | any(test("T3: 17.2 mm short axis is below"; "x")) | not' || fail "unexpected nodal warning"
jqe '.warnings | any(test("^T4:"))' && fail "warnings mention a deleted lesion"

echo "== blinding of reads"
expect 200 bob GET /api/reads/$S
jqe '.reader == "bob" and (.lesions | length) == 0' || fail "bob sees another read: $(head -c 300 "$T/out")"
expect 200 bob GET "/api/reads/$S?role=central&reader=alice"
jqe '.reader == "bob" and (.lesions | length) == 0' || fail "central reader reached alice's read via query"
expect 200 sam GET "/api/reads/$S?role=central&reader=alice"
jqe '.role == "site" and (.lesions | length) == 0' || fail "site user reached a central read"
expect 200 quinn GET "/api/reads/$S?role=central&reader=alice"
jqe '.reader == "alice" and (.lesions | length) == 4' || fail "QA cannot see alice's read"
expect 400 quinn GET /api/reads/$S
expect 400 quinn GET "/api/reads/$S?role=central"
expect 403 quinn POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'
expect 403 quinn PUT $BLT/T1 '{"state":"too_small"}'
expect 403 quinn POST /api/reads/$S/timepoints/BL/sign '{}'

echo "== warnings: size thresholds, thick slices, QC findings"
expect 201 bob POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'
expect 200 bob PUT $BLT/T1 "$(m "$SOP_BL" '[300,220]' '[310,220]')"
jqe '.warnings | any(test("T1: 7.8 mm longest diameter is below the 10 mm minimum"))' ||
  fail "size warning: $(jqc .warnings)"
sqlite3 "$A/recistry.db" "INSERT INTO qc_findings(study_uid, code, severity, message) VALUES('$STUDY_O', 'thick_slices', 'warning', 'slices are 7.5 mm thick')"
expect 200 tess GET /api/worklist
jqe '.subjects[0].timepoints[0].qc[0].code == "thick_slices"' || fail "worklist QC: $(cat "$T/out")"
expect 201 tess POST /api/reads/CIREL-015-0001/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'
expect 200 tess PUT /api/reads/CIREL-015-0001/timepoints/BL/lesions/T1 "$(m "$SOP_O" '[285,220]' '[315,220]')"
jqe '.warnings | any(test("^BL: thick_slices: slices are 7.5 mm thick$")) and any(test("T1: measured on a 7.5 mm slice"))' || fail "thick-slice warnings: $(jqc .warnings)"
jqe '.warnings | any(test("T1: 23.4 mm longest diameter")) | not' || fail "23.4 mm flagged (minimum is 15 mm on 7.5 mm slices)"

echo "== signing (an electronic signature: the password; tests/integration/reader_signature.sh has the rules)"
APW="\"password\":\"$(cat "$T/alice.pw")\""
expect 400 alice POST /api/reads/$S/timepoints/BL/sign '{}'
expect 200 alice POST /api/reads/$S/timepoints/BL/sign "{$APW}"
jqe '.timepoints[0].signed == true and .timepoints[0].signed_by == "alice"' || fail "sign: $(head -c 300 "$T/out")"
expect 409 alice POST /api/reads/$S/timepoints/BL/sign "{$APW}"
expect 409 alice PUT $BLT/T1 "$(m "$SOP_BL" '[282,220]' '[319,220]')"
jqr .error | grep -q 'needs a "reason"' || fail "reason message: $(cat "$T/out")"
expect 409 alice POST /api/reads/$S/lesions '{"kind":"non_target","organ":"bone","timepoint":"BL"}'
expect 409 alice DELETE /api/reads/$S/lesions/NT1
expect 200 alice PUT $BLT/T1 '{"measurement":{"sop_instance_uid":"'"$SOP_BL"'","p1":[282,220],"p2":[319,220]},"reason":"caliper placed on the rim"}'
jqe '(.lesions[] | select(.lesion_id == "T1") | .observations.BL.diameter_mm) == 28.90625' || fail "remeasure"
expect 400 alice POST /api/reads/$S/timepoints/BL/unsign "{$APW}"
expect 409 alice POST /api/reads/$S/timepoints/FU1/unsign "{\"reason\":\"x\",$APW}"
expect 404 alice POST /api/reads/$S/timepoints/FU9/sign "{$APW}"
expect 200 alice GET /api/worklist
jqe '.subjects[0].timepoints[0].status == "signed" and .subjects[0].timepoints[1].status == "to_read"' ||
  fail "worklist status: $(cat "$T/out")"
expect 200 bob GET /api/worklist
jqe '.subjects[0].timepoints[0].status == "in_progress"' || fail "bob's status leaks alice's"

echo "== follow-up and the engine"
FUT=/api/reads/$S/timepoints/FU1/lesions
expect 200 alice PUT $FUT/T1 "$(m "$SOP_FU" '[288,220]' '[313,220]')"
jqe '.warnings | any(test("FU1: left out"))' || fail "incomplete follow-up not flagged: $(jqj .warnings)"
expect 200 alice PUT $FUT/T2 '{"state":"too_small"}'
expect 200 alice PUT $FUT/T3 "$(m "$SOP_FU" '[100,300]' '[130,300]' '[115,295]' '[115,305]')"
expect 400 alice PUT $FUT/NT1 '{"state":"too_small"}'
expect 200 alice PUT $FUT/NT1 '{"state":"present"}'
expect 422 alice PUT $FUT/T1 '{"merged_into":"T1"}'
expect 422 alice PUT $FUT/T1 '{"merged_into":"NT1"}'
expect 400 alice PUT $FUT/T1 '{"fragments":[1]}'
# a refused request keeps none of the key images it rendered (here the first fragment's, before the second
# names an instance the archive does not have)
n_keys=$(ls "$A/key-images" | wc -l)
expect 422 alice PUT $FUT/T1 "{\"fragments\":[{\"sop_instance_uid\":\"$SOP_FU\",\"p1\":[288,220],\"p2\":[300,220]},
  {\"sop_instance_uid\":\"9.9.9.9\",\"p1\":[301,220],\"p2\":[313,220]}]}"
grep -q "no instance 9.9.9.9" "$T/out" || fail "second fragment refusal: $(cat "$T/out")"
[ "$(ls "$A/key-images" | wc -l)" = "$n_keys" ] || fail "a refused request left its key images behind"
expect 201 alice POST /api/reads/$S/lesions '{"kind":"new","organ":"lung","timepoint":"FU1","state":"equivocal"}'
jqe '.lesion_id == "N1"' || fail "N1"
# measuring a new lesion records its size and keeps its state (it once dropped it, and FU1 could not be signed)
expect 200 alice PUT $FUT/N1 "{\"measurement\":{\"sop_instance_uid\":\"$SOP_FU\",\"p1\":[250,250],\"p2\":[262,250]}}"
jqe '.lesions[] | select(.lesion_id == "N1") | .observations.FU1 | .state == "equivocal" and .diameter_mm > 0' || fail "N1 measured: $(jqc '.lesions[] | select(.lesion_id == "N1")')"
expect 200 alice GET /api/reads/$S
jqe '.warnings | any(test("FU1: left out")) | not' || fail "complete follow-up still flagged"
if "$R" recist --help >/dev/null 2>&1; then
  # SOD BL 28.90625 + 39.0625 + 17.1875; FU1 19.53125 + 5 (too small) + 7.8125 → -55.0 %: PR
  jqe '.engine_error == null and .engine.timepoints[1].overall_response == "PR"' ||
    fail "engine response: $(jqc '{engine, engine_error}')"
else
  jqe '.engine == null and (.engine_error | test("engine"))' || fail "engine_error: $(jqc .engine_error)"
fi

echo "== export and import"
"$R" reads export --archive "$A" --role central --reader alice --json >"$T/central.json"
jqe 'length == 1 and .[0].subject_id == "CIREL-014-0001" and (.[0].assessments | map(.timepoint)) == ["BL","FU1"]
  and .[0].assessments[0].date == "2025-01-06" and .[0].assessments[0].target[0].diameter_mm == 28.90625
  and .[0].assessments[1].target[1].state == "too_small" and .[0].assessments[1].new_lesions[0].state == "equivocal"' \
  "$T/central.json" || fail "export: $(cat "$T/central.json")"
"$R" reads export --archive "$A" --role central --reader bob --json >"$T/bob.json"
jqe 'length == 1 and (.[0].assessments | length) == 1 and .[0].assessments[0].target[0].diameter_mm == 7.8125' \
  "$T/bob.json" || fail "bob's export: $(cat "$T/bob.json")"
cat >"$T/site-bad.csv" <<'CSV'
subject_id,timepoint,date,lesion_id,kind,organ,nodal,diameter_mm,state
CIREL-014-0001,BL,2025-01-06,T1,target,liver,false,31,
CIREL-014-0001,FU1,2025-03-03,T1,target,,,-4,
CIREL-014-0001,FU1,2025-03-03,T9,target,,,12,
CIREL-015-0001,BL,2025-13-10,T1,target,liver,false,25,
CIREL-015-0001,BL,2025-01-10,T2,organ,liver,false,25,
CSV
if "$R" reads import --archive "$A" --role site "$T/site-bad.csv" 2>"$T/import.err"; then fail "bad CSV imported"; fi
grep -q 'line 3: .*lesion T1: diameter_mm' "$T/import.err" && grep -q 'line 5: .*date' "$T/import.err" && grep -q 'line 6: .*kind' "$T/import.err" &&
  grep -q 'nothing imported' "$T/import.err" || fail "import report: $(cat "$T/import.err")"
"$R" reads export --archive "$A" --role site --json | jqe 'map(.subject_id) == ["CIREL-015-0001"]' - ||
  fail "half-imported"
cat >"$T/site.csv" <<'CSV'
subject_id,timepoint,date,lesion_id,kind,organ,nodal,diameter_mm,state
CIREL-014-0001,BL,2025-01-06,T1,target,liver,false,31,
CIREL-014-0001,BL,2025-01-06,NT1,non_target,peritoneum,false,,present
CIREL-014-0001,FU1,2025-03-03,T1,target,,,20,
CIREL-014-0001,FU1,2025-03-03,NT1,non_target,,,,present
CSV
"$R" reads import --archive "$A" --role site "$T/site.csv" >/dev/null || fail "good CSV"
"$R" reads export --archive "$A" --role site --json >"$T/site.json"
jqe 'map(.subject_id) == ["CIREL-014-0001","CIREL-015-0001"] and .[0].assessments[1].target[0].diameter_mm == 20' "$T/site.json" || fail "site export: $(cat "$T/site.json")"
if "$R" reads import --archive "$A" --role site "$T/site.json" 2>"$T/import.err"; then fail "re-import overwrote"; fi
grep -q 'already has a site read' "$T/import.err" || fail "re-import message: $(cat "$T/import.err")"
# A subject whose studies are not in the archive is refused (tests/integration/reads_import.sh has the rest).
jqj '.[0] | .subject_id = "CIREL-016-0001"' "$T/site.json" >"$T/site016.json"
if "$R" reads import --archive "$A" --role site "$T/site016.json" 2>"$T/import.err"; then fail "subject without studies imported"; fi
grep -q 'CIREL-016-0001: not in the archive' "$T/import.err" || fail "subject without studies: $(cat "$T/import.err")"
expect 200 sam GET /api/reads/$S
jqe '.role == "site" and (.lesions | length) == 2 and .timepoints[0].signed == true' || fail "site read: $(head -c 300 "$T/out")"
expect 200 alice GET /api/reads/$S
jqe '.role == "central" and .reader == "alice"' || fail "central sees the site read"
expect 200 quinn GET "/api/reads/$S?role=site"
jqe '.role == "site" and (.lesions | length) == 2' || fail "QA site read"

echo "== audit log"
"$R" audit verify --archive "$A" >"$T/audit.out" || fail "audit verify on an intact log: $(cat "$T/audit.out")"
n=$(sqlite3 "$A/recistry.db" 'SELECT COUNT(*) FROM audit_log')
[ "$n" -ge 15 ] || fail "only $n audit rows"
sqlite3 "$A/recistry.db" "SELECT reason FROM audit_log WHERE action = 'observation.set' AND lesion_id = 'T1' AND timepoint = 'BL' AND reason IS NOT NULL" |
  grep -q 'caliper placed on the rim' || fail "reason not audited"
sqlite3 "$A/recistry.db" "SELECT actor, before_json IS NOT NULL, after_json IS NOT NULL FROM audit_log WHERE action = 'observation.set' AND reason IS NOT NULL" |
  grep -q '^alice|1|1$' || fail "audit row lacks who/before/after"
if sqlite3 "$A/recistry.db" "UPDATE audit_log SET reason = 'x' WHERE seq = 3" 2>"$T/sql.err"; then fail "audit UPDATE allowed"; fi
grep -q 'append-only' "$T/sql.err" || fail "trigger message: $(cat "$T/sql.err")"
if sqlite3 "$A/recistry.db" "DELETE FROM audit_log WHERE seq = 3" 2>/dev/null; then fail "audit DELETE allowed"; fi
expect 204 alice POST /api/logout
expect 401 alice GET /api/me
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; grep -q "Leak\|runtime error" "$T/serve.err" && fail "sanitizer report from the server"
sqlite3 "$A/recistry.db" "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET after_json = replace(after_json, '28.90625', '18.90625') WHERE seq = (SELECT MIN(seq) FROM audit_log WHERE after_json LIKE '%28.90625%')"
bad=$(sqlite3 "$A/recistry.db" "SELECT MIN(seq) FROM audit_log WHERE after_json LIKE '%18.90625%'")
if "$R" audit verify --archive "$A" 2>"$T/audit.err"; then fail "tampered audit log verified"; fi
grep -q "row seq=$bad " "$T/audit.err" || fail "verify must name row $bad: $(cat "$T/audit.err")"

echo "== no secrets or PHI in the server log"
! grep -q -e 'pw-' -e "$(cat "$T/alice.csrf")" "$T/serve.err" || fail "server log holds a password or token"
echo "reader_api: all checks passed"
