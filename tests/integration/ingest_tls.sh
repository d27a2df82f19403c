# DICOM TLS per site (DCMTK's OpenSSL transport), with certificates made here by openssl: a site with
# tls = required stores over TLS with its own certificate (storescu +tls); the same site over plain TCP, an
# untrusted certificate, and a trusted certificate presented by another site are all refused.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
TLS_PORT=$(free_port)
cert() { openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=$1" -keyout "$WORK/$1.key" -out "$WORK/$1.pem" 2>/dev/null; }
cert core; cert site014; cert intruder
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
TLS_DICOM_LINES="tls_port = $TLS_PORT
tls_certificate = $WORK/core.pem
tls_private_key = $WORK/core.key"
SITE014_EXTRA="tls = required
tls_certificate = $WORK/site014.pem"
write_config "$WORK/c.ini" "$PORT" reject 1
"$RECISTRY" sample --out "$WORK/sample" --seed 5 --subjects 2 --slices 20 --timepoints 2 --no-dirty >/dev/null
start_daemon "$WORK/c.ini"
files=$(ls "$WORK"/sample/S014/*/BL/*.dcm)

tls_send() { # AE KEY CERT FILES...
  local ae=$1 key=$2 crt=$3; shift 3
  storescu -v --no-halt +tls "$key" "$crt" +cf "$WORK/core.pem" -aet "$ae" -aec FFCD_CORE 127.0.0.1 "$TLS_PORT" "$@" 2>&1
}
tls_send SITE014 "$WORK/site014.key" "$WORK/site014.pem" $files >"$WORK/o.log" || { cat "$WORK/o.log"; fail "TLS send"; }
[ "$(sql "SELECT COUNT(*) FROM instances")" = 20 ] || fail "20 instances over TLS"
[ "$(sql "SELECT tls FROM associations WHERE n_stored = 20")" = 1 ] || fail "TLS audited"
ok "site S014 stores over TLS with its certificate"

if send SITE014 "$PORT" $files >"$WORK/o.log"; then fail "plain TCP accepted for a TLS site"; fi
grep -q "site S014 must connect over TLS" "$WORK/daemon.log" || fail "plain TCP reason"
if tls_send SITE014 "$WORK/intruder.key" "$WORK/intruder.pem" $files >"$WORK/o.log"; then fail "untrusted certificate accepted"; fi
if tls_send SITE027 "$WORK/site014.key" "$WORK/site014.pem" $(ls "$WORK"/sample/S027/*/BL/*.dcm) >"$WORK/o.log"; then
  fail "S014's certificate accepted for S027"; fi
grep -q "TLS certificate is not the one configured for site S027" "$WORK/daemon.log" || fail "cert/site mismatch reason"
[ "$(sql "SELECT COUNT(*) FROM instances")" = 20 ] || fail "a refused association stored something"
echoscu -aet SITE027 -aec FFCD_CORE 127.0.0.1 "$PORT" || fail "plain TCP still serves non-TLS sites"
stop_daemon
ok "plain TCP for a TLS site, untrusted certificate, another site's certificate: refused"

# Pulling from the site's node over DICOM TLS: Orthanc as S014's PACS on a TLS-only port, requiring our
# certificate; we trust only the node's certificate (pacs_certificate).
if command -v Orthanc >/dev/null; then
  cert pacs
  O_DICOM=$(free_port)
  O_HTTP=$(free_port)
  mkdir -p "$WORK/orthanc"
  cat >"$WORK/orthanc/config.json" <<JSON
{ "Name": "SITEPACS", "StorageDirectory": "$WORK/orthanc/storage", "IndexDirectory": "$WORK/orthanc/index",
  "HttpPort": $O_HTTP, "DicomPort": $O_DICOM, "DicomAet": "SITEPACS", "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "DicomCheckCalledAet": false, "Plugins": [],
  "DicomTlsEnabled": true, "DicomTlsCertificate": "$WORK/pacs.pem", "DicomTlsPrivateKey": "$WORK/pacs.key",
  "DicomTlsTrustedCertificates": "$WORK/core.pem", "DicomTlsRemoteCertificateRequired": true,
  "DicomModalities": { "core": { "AET": "FFCD_CORE", "Host": "127.0.0.1", "Port": $PORT, "AllowGet": true } } }
JSON
  Orthanc "$WORK/orthanc/config.json" >>"$WORK/orthanc.log" 2>&1 &
  EXTRA_PIDS="${EXTRA_PIDS:-} $!"
  for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$O_HTTP/system" >/dev/null && break; sleep 0.1; done
  for f in $(ls "$WORK"/sample/S014/*/FU1/*.dcm); do
    curl -sf -X POST "http://127.0.0.1:$O_HTTP/instances" --data-binary @"$f" >/dev/null || fail "upload to Orthanc"
  done
  fu=$(dcmdump +P 0020,000d $(ls "$WORK"/sample/S014/*/FU1/*.dcm | head -1) | sed 's/.*\[\(.*\)\].*/\1/')
  pull_with() { # SITE014_EXTRA lines → pull's exit status, output in $WORK/pull.log
    SITE014_EXTRA="pacs = 127.0.0.1:$O_DICOM:SITEPACS
$1"
    write_config "$WORK/c.ini" "$PORT" reject 1
    "$RECISTRY" pull --config "$WORK/c.ini" --site S014 --study "$fu" >"$WORK/pull.log" 2>&1
  }
  # Not TLS to a TLS-only node; a node presenting another certificate than pacs_certificate: no association.
  if pull_with ""; then fail "a plain pull from a TLS-only node succeeded"; fi
  if pull_with "pacs_tls = required
pacs_certificate = $WORK/intruder.pem"; then fail "a node with another certificate than pacs_certificate was trusted"; fi
  grep -q "SITEPACS at 127.0.0.1:$O_DICOM (DICOM TLS) refused or failed" "$WORK/pull.log" || { cat "$WORK/pull.log"; fail "TLS failure message"; }
  [ "$(sql "SELECT COUNT(*) FROM instances i JOIN series s USING (series_uid) WHERE s.study_uid = '$fu'")" = 0 ] || fail "stored from a refused node"
  # A TLS node without its certificate configured: refused at load, naming the key.
  if pull_with "pacs_tls = required"; then fail "pacs_tls without pacs_certificate accepted"; fi
  grep -q "pacs_certificate: required with pacs_tls = required" "$WORK/pull.log" || { cat "$WORK/pull.log"; fail "config message"; }
  pull_with "pacs_tls = required
pacs_certificate = $WORK/pacs.pem" || { cat "$WORK/pull.log"; tail -5 "$WORK/orthanc.log"; fail "C-GET over DICOM TLS"; }
  grep -q "20 instance(s) stored, 0 refused" "$WORK/pull.log" || { cat "$WORK/pull.log"; fail "TLS pull counts"; }
  [ "$(sql "SELECT COUNT(*) FROM instances i JOIN series s USING (series_uid) WHERE s.study_uid = '$fu'")" = 20 ] || fail "20 pulled over TLS indexed"
  "$RECISTRY" verify --archive "$WORK/archive" >/dev/null || fail "verify after the TLS pull"
  ok "C-GET pull over DICOM TLS from Orthanc; plain TCP, a node with another certificate, no pacs_certificate: refused"
else
  echo "SKIP: pull over TLS (Orthanc not installed)"
fi
