#!/usr/bin/env bash
# Issue 10 (defects 8, 12, 13, 16 and the registry view) through the API: the read view says which states
# each lesion may take where (no menu offers what the server refuses), which CR/PR are unconfirmed; a node
# measured with Length is refused in a radiologist's words; QA learns whose reads exist (readers list,
# worklist status of every read, a helpful error without &reader=); key images carry a banner; registry
# data are shown to QA/admin and changed by an admin only, with a reason and an audit row.
source "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
reader_setup reader_views
make_fixtures 12
add_user alice central
add_user bob central
add_user quinn qa
add_user ada admin
reader_start
S=CIREL-014-0001
for u in alice bob quinn ada; do login $u; done
expect 200 alice GET /api/worklist
STUDY_BL=$(jqr '.subjects[0].timepoints[0].study_uid')
STUDY_FU=$(jqr '.subjects[0].timepoints[1].study_uid')
expect 200 alice GET /api/studies/$STUDY_BL/series
SOP_BL=$(jqr '.series[0].instances[6].sop_instance_uid')
expect 200 alice GET /api/studies/$STUDY_FU/series
SOP_FU=$(jqr '.series[0].instances[6].sop_instance_uid')
m() { echo "{\"measurement\":{\"sop_instance_uid\":\"$1\",\"p1\":$2,\"p2\":$3}}"; }

echo "== 8: allowed states come from the server's rule"
expect 201 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'
expect 201 alice POST /api/reads/$S/lesions '{"kind":"non_target","organ":"peritoneum","timepoint":"BL"}'
expect 201 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"lymph node","nodal":true,"timepoint":"BL"}'
expect 200 alice GET /api/reads/$S
jqe '(.lesions[] | select(.lesion_id == "NT1") | .allowed_states) ==
        {"BL":["present"],"FU1":["present","absent","unequivocal_progression","not_evaluable"]}' ||
  fail "NT1 allowed states: $(jqc '.lesions[] | select(.lesion_id == "NT1")')"
jqe '(.lesions[] | select(.lesion_id == "T1") | .allowed_states) ==
        {"BL":[],"FU1":["too_small","disappeared","not_evaluable"]}' ||
  fail "T1 allowed states: $(jqc '.lesions[] | select(.lesion_id == "T1") | .allowed_states')"
# every state the view allows is accepted, one it does not is refused
expect 422 alice PUT /api/reads/$S/timepoints/BL/lesions/NT1 '{"state":"absent"}'
expect 200 alice PUT /api/reads/$S/timepoints/BL/lesions/NT1 '{"state":"present"}'

echo "== 8: a node measured with Length"
expect 422 alice PUT /api/reads/$S/timepoints/BL/lesions/T2 "$(m "$SOP_BL" '[281.0,220.0]' '[319.0,220.0]')"
jqe '.error | test("Bidirectional") and (test("short_p1") | not)' || fail "node message: $(cat "$T/out")"
expect 200 alice DELETE /api/reads/$S/lesions/T2

echo "== 13: the key image carries a banner"
expect 200 alice PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(m "$SOP_BL" '[281.0,220.0]' '[319.0,220.0]')"
KEY=$(jqr '.lesions[] | select(.lesion_id == "T1") | .observations.BL.measurement.key_image_url')
curl -s -o "$T/key.png" -b "$T/alice.jar" "$U$KEY"
curl -s -o "$T/plain.png" -b "$T/alice.jar" "$U/api/instances/$SOP_BL/render.png"
file "$T/key.png" | grep -q 'PNG image data, 512 x 548' || fail "key image with a 36 px banner: $(file "$T/key.png")"
mkdir -p "$RCY_BUILD_DIR/test-artifacts" 2>/dev/null && cp "$T/key.png" "$RCY_BUILD_DIR/test-artifacts/reader_views_key_image.png" || true
python3 - "$T/key.png" <<'PY' || fail "the banner holds no text"
import sys, zlib, struct
d = open(sys.argv[1], 'rb').read()
w, h, depth, ctype = struct.unpack('>IIBB', d[16:26])
idat = b''; i = 8
while i < len(d):
    n, t = struct.unpack('>I4s', d[i:i+8]); idat += d[i+8:i+8+n] if t == b'IDAT' else b''; i += 12 + n
raw = zlib.decompress(idat); bpp = {2: 3, 6: 4}[ctype]; stride = w * bpp + 1
# rows of the banner (filtered bytes are enough to see that the band is not uniform: text was drawn)
rows = [raw[y*stride+1:(y+1)*stride] for y in range(36)]
assert len(set(rows)) > 5, 'uniform banner'
PY

echo "== 16 / 8: QA sees whose reads exist"
expect 200 quinn GET /api/worklist
jqe '.subjects[0].timepoints[0].reads == [{"role":"central","reader":"alice","status":"in_progress"}]
       and .subjects[0].timepoints[1].reads == [{"role":"central","reader":"alice","status":"to_read"}]' ||
  fail "QA worklist: $(jqc '.subjects[0].timepoints')"
expect 200 alice GET /api/worklist
jqe '.subjects[0].timepoints[0] | has("reads") | not' || fail "a central reader sees others' reads"
expect 400 quinn GET "/api/reads/$S?role=central"
jqe '.error | test("alice") and (test("&reader=") | not)' || fail "QA without reader: $(cat "$T/out")"
expect 200 quinn GET /api/reads/$S/readers
jqe '.reads == [{"role":"central","reader":"alice","timepoints":{"BL":"in_progress","FU1":"to_read"}}]' ||
  fail "readers: $(cat "$T/out")"
expect 200 bob GET /api/reads/$S/readers
jqe '.reads == []' || fail "bob (blinded) sees: $(cat "$T/out")"

echo "== 12: an unconfirmed PR is marked"
expect 200 alice PUT /api/reads/$S/timepoints/FU1/lesions/T1 "$(m "$SOP_FU" '[281.0,220.0]' '[300.0,220.0]')"
expect 200 alice PUT /api/reads/$S/timepoints/FU1/lesions/NT1 '{"state":"present"}'
jqe '.engine.timepoints[1].overall_response == "PR" and .engine.best_overall_response != "PR"
       and .confirmation.unconfirmed_timepoints == ["FU1"] and .confirmation.min_days == 28
       and .confirmation.best_overall_response_unconfirmed == "PR"' ||
  fail "confirmation: $(jqc '{c: .confirmation, bor: .engine.best_overall_response}')"

echo "== registry data: QA/admin see, admin edits with a reason"
expect 403 alice GET /api/registry/$S
expect 200 quinn GET /api/registry/$S
jqe '.registry == null and .editable == false and (.indications | index("salvage"))' || fail "registry: $(cat "$T/out")"
body='{"treatment_start":"2025-01-10","indication":"salvage","liver_only":true,"death_date":null,"last_contact_date":"2025-06-01","secondary_resection_date":null'
expect 403 quinn PUT /api/registry/$S "$body,\"reason\":\"x\"}"
expect 422 ada PUT /api/registry/$S "$body}"
jqe '.error | test("reason")' || fail "no reason: $(cat "$T/out")"
expect 422 ada PUT /api/registry/$S '{"treatment_start":"2025-01-10","indication":"salvage","death_date":"2024-12-01","reason":"x"}'
jqe '.error | test("death_date")' || fail "death before start: $(cat "$T/out")"
expect 200 ada PUT /api/registry/$S "$body,\"reason\":\"CRF page 3 received\"}"
jqe '.registry.treatment_start == "2025-01-10" and .registry.site_id == "S014" and .registry.liver_only == true
       and .registry.updated_by == "ada" and .editable == true' || fail "stored: $(cat "$T/out")"
expect 200 quinn GET /api/registry/$S
jqe '.registry.indication == "salvage"' || fail "QA view: $(cat "$T/out")"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
[ "$(sqlite3 "$A/recistry.db" "SELECT actor || '|' || reason FROM audit_log WHERE action = 'registry.edit'")" = \
  "ada|CRF page 3 received" ] || fail "no audit row for the registry edit"
"$R" audit verify --archive "$A" >/dev/null || fail "audit chain"
echo "reader_views: ok"
