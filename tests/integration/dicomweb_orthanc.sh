# DICOMweb conformance against Orthanc's DICOMweb plugin: the same studies are sent to the ingest daemon and
# to Orthanc; the same QIDO-RS queries go to both and the matched UIDs and the values of the attributes both
# return must agree; WADO-RS instances are the files sent, byte for byte; metadata is compared attribute by
# attribute with Orthanc's; frame 1 is the file's pixel data (and Orthanc's frame); STOW-RS of a new instance
# is then found by both; PHI, another site's instance and garbage are refused with C-STORE's statuses; who
# sees what (a site account only its site), HTTP Basic and its 401.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
command -v Orthanc >/dev/null || { echo "SKIP: Orthanc not installed"; exit 0; }
PLUGIN=/usr/share/orthanc/plugins/libOrthancDicomWeb.so
[ -f "$PLUGIN" ] || { echo "SKIP: orthanc-dicomweb not installed"; exit 0; }
CMP="/usr/bin/python3 $RCY_SOURCE_DIR/tests/integration/lib/dicomweb_compare.py"

PORT=$(free_port)
O_DICOM=$(free_port)
O_HTTP=$(free_port)
mkdir -p "$WORK/orthanc"
cat >"$WORK/orthanc/config.json" <<JSON
{
  "Name": "REF", "StorageDirectory": "$WORK/orthanc/storage", "IndexDirectory": "$WORK/orthanc/index",
  "HttpPort": $O_HTTP, "DicomPort": $O_DICOM, "DicomAet": "REF", "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "DicomCheckCalledAet": false,
  "Plugins": ["$PLUGIN"],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/", "StudiesMetadata": "Full", "SeriesMetadata": "Full" }
}
JSON
Orthanc "$WORK/orthanc/config.json" >"$WORK/orthanc.log" 2>&1 &
EXTRA_PIDS=$!

# Four studies, two sites, three subjects, three dates.
S=1.2.826.0.1.3680043.10.77
make_series "$WORK/in/a" 3 study=$S.1 series=$S.1.1 date=20240115
make_series "$WORK/in/b" 3 study=$S.2 series=$S.2.1 date=20240410 tp=FU1
make_series "$WORK/in/c" 2 study=$S.3 series=$S.3.1 date=20240201 subject=CIREL-014-0002
make_series "$WORK/in/d" 2 study=$S.4 series=$S.4.1 date=20240301 site=S027 subject=CIREL-027-0001

write_config "$WORK/c.ini" "$PORT" reject 1
S_HTTP=$(free_port)
printf '[http]\nbind = 127.0.0.1\nport = %s\n' "$S_HTTP" >>"$WORK/c.ini"
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
printf 'admin-pass-123\n' >"$WORK/pw"
"$RECISTRY" user add --archive "$WORK/archive" --name boss --role admin --password-file "$WORK/pw" >/dev/null
"$RECISTRY" user add --archive "$WORK/archive" --name s14 --role site --site S014 --password-file "$WORK/pw" >/dev/null
"$RECISTRY" user add --archive "$WORK/archive" --name cr1 --role central --password-file "$WORK/pw" >/dev/null
start_daemon "$WORK/c.ini"
send SITE014 "$PORT" "$WORK"/in/{a,b,c}/*.dcm >"$WORK/send.log" || { cat "$WORK/send.log"; fail "send S014"; }
send SITE027 "$PORT" "$WORK"/in/d/*.dcm >>"$WORK/send.log" || fail "send S027"
stop_daemon
for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$O_HTTP/system" >/dev/null && break; sleep 0.1; done
storescu -aet SITE014 -aec REF 127.0.0.1 "$O_DICOM" "$WORK"/in/*/*.dcm || fail "upload to Orthanc"

"$RECISTRY" serve --config "$WORK/c.ini" >"$WORK/serve.out" 2>"$WORK/serve.err" &
EXTRA_PIDS="$EXTRA_PIDS $!"
for i in $(seq 1 100); do grep -q '^listening on' "$WORK/serve.out" 2>/dev/null && break; sleep 0.05; done
R=http://127.0.0.1:$S_HTTP/dicomweb
O=http://127.0.0.1:$O_HTTP/dicom-web
ADMIN=boss:admin-pass-123

# The comparisons use sessions, as the workstation does; Basic is checked on its own below.
session() { # NAME → session:TOKEN:CSRF
  curl -s -c "$WORK/$1.jar" -o "$WORK/$1.login" -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"$1\",\"password\":\"admin-pass-123\"}" "http://127.0.0.1:$S_HTTP/api/login"
  echo "session:$(awk '$6 == "rcy_session" { print $7 }' "$WORK/$1.jar"):$(jq -r .csrf_token "$WORK/$1.login")"
}
sget() { curl -s -H "Cookie: rcy_session=$(echo "$1" | cut -d: -f2)" "${@:2}"; }
BOSS=$(session boss)
S14=$(session s14)
CR1=$(session cr1)

# Authentication: none → 401 with a Basic challenge; a wrong password → 401; the session cookie works too.
code=$(curl -s -o /dev/null -D "$WORK/h" -w '%{http_code}' "$R/studies")
[ "$code" = 401 ] && grep -qi '^WWW-Authenticate: Basic' "$WORK/h" || fail "no credentials: $code, want 401 + WWW-Authenticate"
[ "$(curl -s -o /dev/null -w '%{http_code}' -u boss:wrong "$R/studies")" = 401 ] || fail "wrong password not 401"
[ "$(curl -s -u s14:admin-pass-123 "$R/studies" | jq length)" = 3 ] || fail "Basic: the site account does not see its 3 studies"
# Basic again (remembered: no Argon2id), then a wrong password for the same account: refused all the same.
[ "$(curl -s -u s14:admin-pass-123 "$R/studies" | jq length)" = 3 ] || fail "Basic, a second time: not 3 studies"
[ "$(curl -s -o /dev/null -w '%{http_code}' -u s14:admin-pass-12 "$R/studies")" = 401 ] || fail "a wrong password after a right one: not 401"
[ "$(sget "$BOSS" "$R/studies" | jq length)" = 4 ] || fail "the session cookie does not open /dicomweb"
ok "401 + WWW-Authenticate without credentials or with a wrong password; Basic and the session both work"

$CMP qido "$R" "$BOSS" "$O" \
  /studies "/studies?PatientID=CIREL-014-0001" "/studies?PatientID=CIREL-014-*" "/studies?PatientID=CIREL-0?4-0002" \
  "/studies?StudyDate=20240101-20240301" "/studies?StudyDate=20240410" "/studies?StudyDate=20240201-" \
  "/studies?ModalitiesInStudy=CT" "/studies?ModalitiesInStudy=MR" "/studies?StudyInstanceUID=$S.3" \
  "/studies?StudyInstanceUID=$S.1,$S.4" "/studies?includefield=StudyDescription&PatientID=CIREL-027-0001" \
  "/studies/$S.1/series" "/studies/$S.1/series?SeriesNumber=1" "/studies/$S.1/series/$S.1.1/instances" \
  "/studies/$S.2/instances?InstanceNumber=2" "/series?Modality=CT" "/series?SeriesInstanceUID=$S.4.1" \
  "/instances?SOPInstanceUID=$S.3.1.2" "/studies?PatientName=CIREL-027*" || fail "QIDO differs from Orthanc"
[ "$(sget "$BOSS" "$R/studies?limit=2&offset=1" | jq length)" = 2 ] || fail "limit/offset"
[ "$(sget "$BOSS" "$R/studies?offset=3" | jq length)" = 1 ] || fail "offset"
[ "$(sget "$BOSS" "$R/studies?StudyInstanceUID=$S.1%5C$S.4" | jq length)" = 2 ] || fail "backslash-separated UID list"
[ "$(sget "$BOSS" -o /dev/null -w '%{http_code}' "$R/studies?Bogus=1")" = 400 ] || fail "unknown key not 400"
[ "$(sget "$BOSS" -o /dev/null -w '%{http_code}' "$R/studies?StudyDate=2024")" = 400 ] || fail "bad date not 400"
ok "QIDO-RS limit/offset; unknown keys and bad dates are 400"

# (several checks per python: `batch`, one start instead of one per check; each check names what differs)
$CMP batch wado "$R" "$BOSS" "$O" "$WORK"/in/a/*.dcm "$WORK"/in/d/*.dcm \
  -- metadata "$R" "$BOSS" "$O" "$S.1" \
  -- frames "$R" "$BOSS" "$O" "$S.1" "$S.1.1" "$S.1.1.2" "$WORK/in/a/2.dcm" 8192 ||
  fail "WADO-RS instances, metadata or frames differ from Orthanc's (the check above)"
code=$(sget "$BOSS" -o "$WORK/r.png" -w '%{http_code}' "$R/studies/$S.1/series/$S.1.1/instances/$S.1.1.1/rendered")
[ "$code" = 200 ] && [ "$(head -c 8 "$WORK/r.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "rendered: $code"
ok "rendered: a PNG"

# Who sees what: a site account sees its own site only; another site's study is 404 (as unknown).
[ "$(sget "$S14" "$R/studies" | jq length)" = 3 ] || fail "site account sees other sites"
[ "$(sget "$S14" "$R/series?SeriesInstanceUID=$S.4.1" | jq length)" = 0 ] || fail "site sees S027 series"
[ "$(sget "$S14" -o /dev/null -w '%{http_code}' "$R/studies/$S.4/metadata")" = 404 ] || fail "S027 metadata visible to s14"
[ "$(sget "$S14" -o /dev/null -w '%{http_code}' "$R/studies/$S.4")" = 404 ] || fail "S027 study visible to s14"
ok "site account: its 3 studies; another site's study is 404 (QIDO, metadata, instances)"

# STOW-RS: through the ingest checks, answered as C-STORE would be.
make_ct "$WORK/new.dcm" study=$S.3 series=$S.3.9 sop=$S.3.9.1 subject=CIREL-014-0002
make_ct "$WORK/phi.dcm" study=$S.3 series=$S.3.9 sop=$S.3.9.2 subject=CIREL-014-0002 name='Doe^John'
make_ct "$WORK/other.dcm" study=$S.5 series=$S.5.1 sop=$S.5.1.1 site=S027 subject=CIREL-027-0001
make_ct "$WORK/mixed.dcm" study=$S.3 series=$S.3.9 sop=$S.3.9.3 subject=CIREL-014-0002
# in order: a new instance (Basic), to Orthanc; PHI, another site's instance, a mixed request (one good part
# and garbage), mixed.dcm to Orthanc, a study mismatch, a central reader: each answered as C-STORE would be
$CMP batch stow "$R/studies" s14:admin-pass-123 - 200 "" "$WORK/new.dcm" \
  -- stow "$O/studies" - - 200 "" "$WORK/new.dcm" \
  -- stow "$R/studies" "$S14" - 409 "C001" "$WORK/phi.dcm" \
  -- stow "$R/studies" "$S14" - 409 "0124" "$WORK/other.dcm" \
  -- stow "$R/studies" "$S14" - 202 "C000" "$WORK/mixed.dcm" -garbage \
  -- stow "$O/studies" - - 200 "" "$WORK/mixed.dcm" \
  -- stow "$R/studies/$S.1" "$S14" - 409 "A900" "$WORK/new.dcm" \
  -- stow "$R/studies" "$CR1" - 403 "" "$WORK/new.dcm" || fail "STOW-RS answered otherwise (the check above)"
code=$(sget "$S14" -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: multipart/related; type="application/dicom"; boundary=x' \
  --data-binary @"$WORK/new.dcm" "$R/studies")
[ "$code" = 403 ] || fail "STOW with the session cookie but no CSRF token: $code, want 403"
$CMP batch qido "$R" "$BOSS" "$O" "/studies/$S.3/series" "/instances?SeriesInstanceUID=$S.3.9" \
  -- wado "$R" "$BOSS" "$O" "$WORK/new.dcm" "$WORK/mixed.dcm" || fail "STOWed instances not found alike or not retrievable"
# A JPEG-LS lossless instance, stored by the administrator: its frame comes back decoded, equal to the pixels.
make_ct "$WORK/raw.dcm" study=$S.3 series=$S.3.8 sop=$S.3.8.1 subject=CIREL-014-0002
dcmcjpls "$WORK/raw.dcm" "$WORK/jls.dcm" || fail "dcmcjpls"
$CMP batch stow "$R/studies" "$BOSS" - 200 "" "$WORK/jls.dcm" \
  -- frames "$R" "$BOSS" - "$S.3" "$S.3.8" "$S.3.8.1" "$WORK/raw.dcm" 8192 ||
  fail "STOW of a JPEG-LS instance by admin, or its frame not decoded to the pixels"
# A STOW larger than the server keeps in memory (4 MiB; 10 instances of 512x512, 5.2 MB): spooled to a
# nameless file in the archive's folder, stored part by part all the same, retrievable byte for byte.
for i in $(seq 1 10); do
  make_ct "$WORK/big$i.dcm" study=$S.3 series=$S.3.7 sop=$S.3.7.$i subject=CIREL-014-0002 rows=512 cols=512 z=$i
done
$CMP batch stow "$R/studies" s14:admin-pass-123 - 200 "" "$WORK"/big*.dcm \
  -- wado "$R" "$BOSS" - "$WORK"/big*.dcm || fail "a 5 MB STOW-RS (spooled) not stored or not retrievable alike"
[ -z "$(find "$WORK/archive" -maxdepth 1 -name '.request-body-*')" ] || fail "a request's spool file was left behind"
[ "$(sqlite3 "$WORK/archive/recistry.db" "SELECT COUNT(*) FROM instances WHERE sop_instance_uid = '$S.3.9.2'")" = 0 ] || fail "PHI indexed"
"$RECISTRY" verify --archive "$WORK/archive" >/dev/null || fail "verify after STOW"
grep -q "Doe" "$WORK/serve.err" && fail "PHI in the server log"
ok "STOW-RS: stored instances found by QIDO on both servers and byte-identical; verify clean; no PHI logged"

# dicomweb-client from npm (what OHIF uses) in Chromium, against both servers.
if [ -d "$RCY_SOURCE_DIR/readers/web/node_modules/dicomweb-client" ] && [ -x "${RCY_CHROMIUM:-/usr/bin/chromium}" ]; then
  node "$RCY_SOURCE_DIR/tests/integration/lib/dicomweb_client_check.mjs" "$R" "$BOSS" "$O" "$S.1" "$S.1.1" "$S.1.1.2" ||
    fail "dicomweb-client results differ"
else
  echo "SKIP: dicomweb-client part (run scripts/build-ui.sh for readers/web/node_modules; needs Debian chromium)"
fi
