# Orthanc as a querying PACS: recistry is a DICOM modality in Orthanc's configuration; Orthanc's REST
# /modalities/{id}/query (C-FIND, study and series level) sees only the studies of the sites its [peer] may
# see, and /queries/{id}/retrieve (C-MOVE to Orthanc itself, the configured destination) brings the study
# into Orthanc with every file's data set byte-identical to what recistry stored.
source "$(dirname "$0")/lib/ingest.sh"
source "$(dirname "$0")/lib/qr.sh"
ingest_setup
command -v Orthanc >/dev/null || { echo "SKIP: Orthanc not installed"; exit 0; }
PORT=$(free_port)
O_DICOM=$(free_port)
O_HTTP=$(free_port)
S14=1.2.826.0.1.3680043.10.1.1
S27=1.2.826.0.1.3680043.10.2.1

make_series "$WORK/in/a" 4 study=$S14 series=$S14.1
make_series "$WORK/in/c" 2 site=S027 subject=CIREL-027-0001 study=$S27 series=$S27.1
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT"
cat >>"$WORK/c.ini" <<INI
[peer:orthanc]
ae = ORTHANCQR
host = 127.0.0.1
port = $O_DICOM
rights = find, move
sites = S014
INI
start_daemon "$WORK/c.ini"
send SITE014 "$PORT" "$WORK"/in/a/*.dcm >"$WORK/s1.log" || { cat "$WORK/s1.log"; fail "send S014"; }
send SITE027 "$PORT" "$WORK"/in/c/*.dcm >"$WORK/s2.log" || { cat "$WORK/s2.log"; fail "send S027"; }

mkdir -p "$WORK/orthanc"
cat >"$WORK/orthanc/config.json" <<JSON
{
  "Name": "ORTHANCQR",
  "StorageDirectory": "$WORK/orthanc/storage",
  "IndexDirectory": "$WORK/orthanc/index",
  "HttpPort": $O_HTTP,
  "DicomPort": $O_DICOM,
  "DicomAet": "ORTHANCQR",
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomCheckCalledAet": false,
  "StorageCompression": false,
  "Plugins": [],
  "DicomModalities": {
    "recistry": { "AET": "FFCD_CORE", "Host": "127.0.0.1", "Port": $PORT }
  }
}
JSON
Orthanc "$WORK/orthanc/config.json" >"$WORK/orthanc.log" 2>&1 &
EXTRA_PIDS=$!
O="http://127.0.0.1:$O_HTTP"
for i in $(seq 1 100); do curl -sf "$O/system" >/dev/null && break; sleep 0.1; done
curl -sf "$O/system" >/dev/null || { tail "$WORK/orthanc.log"; fail "Orthanc did not start"; }

curl -sf -X POST "$O/modalities/recistry/echo" -d '{}' >/dev/null || fail "C-ECHO from Orthanc"
q=$(curl -sf -X POST "$O/modalities/recistry/query" \
  -d '{"Level":"Study","Query":{"StudyInstanceUID":"","PatientID":"","StudyDate":"","ModalitiesInStudy":"","NumberOfStudyRelatedInstances":""}}' \
  | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["ID"])') || { tail -20 "$WORK/orthanc.log"; fail "Orthanc query"; }
curl -sf "$O/queries/$q/answers?expand&simplify" >"$WORK/answers.json" || fail "answers"
/usr/bin/python3 - "$WORK/answers.json" "$S14" <<'PY' || { cat "$WORK/answers.json"; fail "Orthanc's study answers"; }
import json, sys
a = json.load(open(sys.argv[1]))
assert len(a) == 1, "one study (S014's) expected, got %d" % len(a)
s = a[0]
assert s["StudyInstanceUID"] == sys.argv[2], s
assert s["PatientID"] == "CIREL-014-0001", s
assert s["StudyDate"] == "20240115", s
assert s["ModalitiesInStudy"] == "CT", s
assert s["NumberOfStudyRelatedInstances"] == "4", s
assert s["QueryRetrieveLevel"] == "STUDY", s
PY
q2=$(curl -sf -X POST "$O/modalities/recistry/query" \
  -d "{\"Level\":\"Series\",\"Query\":{\"StudyInstanceUID\":\"$S27\",\"SeriesInstanceUID\":\"\"}}" \
  | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["ID"])') || fail "Orthanc series query"
[ "$(curl -sf "$O/queries/$q2/answers")" = "[]" ] || fail "S027's series visible to a peer of S014"
ok "Orthanc's C-FIND (study, series): S014's study with its keys; nothing of S027"

curl -sf -X POST "$O/queries/$q/retrieve" -d '{"TargetAet":"ORTHANCQR","Synchronous":true}' >"$WORK/retrieve.json" \
  || { tail -20 "$WORK/orthanc.log"; tail "$WORK/daemon.log"; fail "Orthanc retrieve (C-MOVE)"; }
[ "$(curl -sf "$O/statistics" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])')" = 4 ] \
  || fail "Orthanc holds 4 instances after the C-MOVE"
mkdir -p "$WORK/got"
for id in $(curl -sf "$O/instances" | /usr/bin/python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); do
  curl -sf "$O/instances/$id/file" -o "$WORK/got/$id.dcm" || fail "download $id"
done
compare_received "$WORK/got" 4
grep -q "C-MOVE level STUDY to ORTHANCQR: 4 matched, 4 sent, 0 warning, 0 failed" "$WORK/daemon.log" \
  || { grep "peer" "$WORK/daemon.log"; fail "the daemon's account of the move"; }
stop_daemon
ok "Orthanc's C-MOVE: 4 instances in Orthanc, each data set byte-identical to recistry's file"
