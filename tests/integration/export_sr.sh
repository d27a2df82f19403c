#!/usr/bin/env bash
# `recistry export sr`: a central read of the committed sample made with real calipers through the reader API
# (the truth file's end points), exported as TID 1500 Measurement Reports; every file passes dciodvfy (no
# errors) and dsrdump, and pydicom (tests/integration/lib/sr_check.py) checks tracking identifiers and UIDs,
# long/short axis values, SCOORD end points and referenced instances against the read. Then --send to an
# Orthanc started here, which must hold the reports afterwards.
source "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
# Debian's interpreter, where python3-pydicom is (a python3 earlier in PATH may be another build).
py=${RCY_PYTHON3:-/usr/bin/python3}
for tool in dciodvfy dsrdump "$py"; do command -v $tool >/dev/null || { echo "FAIL: $tool not installed (scripts/setup.sh)" >&2; exit 1; }; done
"$py" -c 'import pydicom' 2>/dev/null || { echo "FAIL: python3-pydicom not installed (scripts/setup.sh)" >&2; exit 1; }
reader_setup export_sr
SAMPLE=$RCY_SOURCE_DIR/sample-dicom
S=CIREL-027-0001
TRUTH=$SAMPLE/truth/$S.json
find "$SAMPLE"/S0* -name '*.dcm' | sort >"$T/files"
"$R" reads index --archive "$A" $(cat "$T/files") >/dev/null
add_user carol central
reader_start
login carol
APW="\"password\":\"$(cat "$T/carol.pw")\""

at() { jq -c --arg l "$1" --arg t "$2" '.lesions[] | select(.lesion_id == $l) | .timepoints[] | select(.timepoint == $t)' "$TRUTH"; }
meas() { # LESION TP -> measurement body from the truth's end points (short axis for nodes)
  at "$1" "$2" | jq -c --argjson nodal "$(jq --arg l "$1" '.lesions[] | select(.lesion_id == $l) | .nodal' "$TRUTH")" \
    '{measurement: ({sop_instance_uid, p1: .long_axis_endpoints_px[0], p2: .long_axis_endpoints_px[1]}
      + (if $nodal then {short_p1: .short_axis_endpoints_px[0], short_p2: .short_axis_endpoints_px[1]} else {} end))}'
}
point() { # LESION TP STATE -> a state with a point at the middle of the truth's long axis
  at "$1" "$2" | jq -c --arg s "$3" '{state: $s, point: {sop_instance_uid, p: [((.long_axis_endpoints_px[0][0] + .long_axis_endpoints_px[1][0]) / 2),
    ((.long_axis_endpoints_px[0][1] + .long_axis_endpoints_px[1][1]) / 2)]}}'
}

echo "== a central read with calipers"
for l in $(jqr '.lesions[] | select(.role != "new") | .lesion_id' "$TRUTH"); do
  body=$(jq -c --arg l "$l" '.lesions[] | select(.lesion_id == $l) | {lesion_id, kind: .role, organ, nodal, timepoint: "BL"}' "$TRUTH")
  expect 201 carol POST /api/reads/$S/lesions "$body"
done
expect 200 carol PUT /api/reads/$S/timepoints/BL/lesions/T1 "$(meas T1 BL)"
expect 200 carol PUT /api/reads/$S/timepoints/BL/lesions/T2 "$(meas T2 BL)"
expect 200 carol PUT /api/reads/$S/timepoints/BL/lesions/NT1 "$(point NT1 BL present)"
expect 200 carol POST /api/reads/$S/timepoints/BL/sign "{$APW}"
expect 200 carol PUT /api/reads/$S/timepoints/FU1/lesions/T1 "$(meas T1 FU1)"
expect 200 carol PUT /api/reads/$S/timepoints/FU1/lesions/T2 "$(meas T2 FU1)"
expect 200 carol PUT /api/reads/$S/timepoints/FU1/lesions/NT1 '{"state":"present"}'
expect 201 carol POST /api/reads/$S/lesions '{"lesion_id":"N1","kind":"new","organ":"liver","timepoint":"FU1","state":"unequivocal"}'
expect 200 carol PUT /api/reads/$S/timepoints/FU1/lesions/N1 "$(point N1 FU1 unequivocal)"
expect 200 carol POST /api/reads/$S/timepoints/FU1/sign "{$APW}"
expect 200 carol GET /api/reads/$S
cp "$T/out" "$T/read.json"
jqe '[.lesions[] | select(.kind == "target")] | length == 2' "$T/read.json" || fail "read: $(head -c 300 "$T/read.json")"

echo "== export"
"$R" export sr --archive "$A" --reader central --out "$T/sr" >"$T/export.out" 2>"$T/export.err" || fail "export: $(cat "$T/export.err")"
ls "$T"/sr/*.dcm >"$T/reports"
[ "$(wc -l <"$T/reports")" = 2 ] || fail "want 2 reports (BL, FU1): $(cat "$T/reports") $(cat "$T/export.err")"
"$R" export sr --archive "$A" --reader central --out "$T/sr2" >/dev/null 2>&1
cmp -s <(dcmdump +P SOPInstanceUID "$T/sr/${S}_central_carol_FU1.dcm") <(dcmdump +P SOPInstanceUID "$T/sr2/${S}_central_carol_FU1.dcm") ||
  fail "a second export gave other UIDs"

echo "== dciodvfy, dsrdump"
for f in $(cat "$T/reports"); do
  dciodvfy "$f" >"$T/dciodvfy.txt" 2>&1
  if grep -q '^Error' "$T/dciodvfy.txt"; then fail "dciodvfy $f: $(grep '^Error' "$T/dciodvfy.txt" | head -20)"; fi
  dsrdump "$f" >"$T/dsrdump.txt" 2>&1 || fail "dsrdump $f: $(head -20 "$T/dsrdump.txt")"
  grep -q 'Imaging Measurement Report' "$T/dsrdump.txt" || fail "dsrdump $f: no title: $(head "$T/dsrdump.txt")"
done
grep -c '^Warning' "$T/dciodvfy.txt" | sed 's/^/dciodvfy warnings in the last report: /'

echo "== pydicom"
for f in $(cat "$T/files"); do dcmdump +P SOPInstanceUID "$f" | sed 's/.*\[\(.*\)\].*/\1/'; done >"$T/sops"
"$py" "$RCY_SOURCE_DIR/tests/integration/lib/sr_check.py" "$T/read.json" "$T/sops" $(cat "$T/reports") || fail "sr_check"
# The checker must be able to fail: one long axis changed by 0.1 mm in the read it compares with.
jq '(.lesions[] | select(.lesion_id == "T1") | .observations.FU1.measurement.long_mm) += 0.1' "$T/read.json" >"$T/broken.json"
if "$py" "$RCY_SOURCE_DIR/tests/integration/lib/sr_check.py" "$T/broken.json" "$T/sops" $(cat "$T/reports") 2>/dev/null; then
  fail "sr_check accepted a changed long axis"
fi

echo "== --send to Orthanc"
if command -v Orthanc >/dev/null; then
  O_DICOM=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  O_HTTP=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$T/orthanc"
  cat >"$T/orthanc/config.json" <<JSON
{ "Name": "PACS", "StorageDirectory": "$T/orthanc/storage", "IndexDirectory": "$T/orthanc/index",
  "HttpPort": $O_HTTP, "DicomPort": $O_DICOM, "DicomAet": "PACS", "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "DicomCheckCalledAet": true, "Plugins": [] }
JSON
  Orthanc "$T/orthanc/config.json" >"$T/orthanc.log" 2>&1 &
  ORTHANC_PID=$!
  trap 'kill "$SERVER_PID" "$ORTHANC_PID" ${HTTP_PID-} 2>/dev/null || true; wait 2>/dev/null || true' EXIT
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$O_HTTP/system" >/dev/null && break; sleep 0.1; done
  "$R" export sr --archive "$A" --reader central --out "$T/sr3" --send "127.0.0.1:$O_DICOM:PACS" >/dev/null 2>"$T/send.err" ||
    fail "send: $(cat "$T/send.err")"
  for f in $(cat "$T/reports"); do
    uid=$(dcmdump +P SOPInstanceUID "$f" | sed 's/.*\[\(.*\)\].*/\1/')
    curl -sf -X POST "http://127.0.0.1:$O_HTTP/tools/lookup" -d "$uid" | jq -e 'length == 1 and .[0].Type == "Instance"' >/dev/null ||
      fail "Orthanc does not have $uid: $(tail -5 "$T/orthanc.log")"
  done
  ! "$R" export sr --archive "$A" --reader central --out "$T/sr4" --send "127.0.0.1:$O_DICOM:WRONGAE" >/dev/null 2>&1 ||
    fail "send to a wrong AE title succeeded"
else
  echo "SKIP --send: Orthanc not installed"
fi
echo "export_sr: ok"
