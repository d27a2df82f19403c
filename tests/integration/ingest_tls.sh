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

# Peers over TLS: WS queries on the TLS port with its own certificate; the same AE on the plain port, or with a
# site's certificate, is refused; a C-MOVE asked by another peer reaches WS's storescp over TLS, trusting WS's
# certificate alone.
cert ws
WS_PORT=$(free_port)
write_config "$WORK/c.ini" "$PORT" reject 1
cat >>"$WORK/c.ini" <<INI
[peer:WS]
ae = WS
host = 127.0.0.1
port = $WS_PORT
rights = find
sites = S014
tls = required
tls_certificate = $WORK/ws.pem
[peer:RESEARCH]
ae = RESEARCH
rights = move
sites = S014
INI
start_daemon "$WORK/c.ini"
study=$(sql "SELECT study_uid FROM studies WHERE site_id = 'S014' ORDER BY study_uid LIMIT 1")
n_s014=$(sql "SELECT COUNT(*) FROM studies WHERE site_id = 'S014'")
[ "$n_s014" -ge 1 ] || fail "no study of S014 to query"
find_studies() { # DIR findscu-args... → the number of matches (one file per response in DIR)
  local dir=$1; shift
  mkdir -p "$dir"
  findscu -S -X -od "$dir" -aec FFCD_CORE "$@" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID >"$dir.log" 2>&1 || true
  ls "$dir" | wc -l
}
[ "$(find_studies "$WORK/f1" +tls "$WORK/ws.key" "$WORK/ws.pem" +cf "$WORK/core.pem" -aet WS 127.0.0.1 "$TLS_PORT")" = "$n_s014" ] ||
  { cat "$WORK/f1.log"; fail "WS over TLS: not the $n_s014 studies of S014"; }
[ "$(find_studies "$WORK/f2" -aet WS 127.0.0.1 "$PORT")" = 0 ] || fail "WS answered on the plain port"
grep -q "peer WS must connect over TLS" "$WORK/daemon.log" || fail "plain-port reason for WS"
[ "$(find_studies "$WORK/f3" +tls "$WORK/site014.key" "$WORK/site014.pem" +cf "$WORK/core.pem" -aet WS 127.0.0.1 "$TLS_PORT")" = 0 ] ||
  fail "WS answered with S014's certificate"
grep -q "TLS certificate is not the one configured for peer WS" "$WORK/daemon.log" || fail "certificate reason for WS"
ok "peer WS: C-FIND over TLS with its certificate; on the plain port or with a site's certificate: refused"

move_to_ws() { # KEY CERT DIR : storescp +tls as WS with that certificate, RESEARCH asks the daemon to move there
  mkdir -p "$3"
  storescp +tls "$1" "$2" +cf "$WORK/core.pem" -aet WS -od "$3" "$WS_PORT" >"$3.scp.log" 2>&1 &
  local scp=$!
  for i in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/"$WS_PORT") 2>/dev/null && break; sleep 0.1; done
  movescu -S -aet RESEARCH -aec FFCD_CORE -aem WS 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY \
    -k StudyInstanceUID="$study" >"$3.log" 2>&1 || true
  kill "$scp" 2>/dev/null; wait "$scp" 2>/dev/null || true
  ls "$3" | wc -l
}
n_study=$(sql "SELECT COUNT(*) FROM instances i JOIN series s USING (series_uid) WHERE s.study_uid = '$study'")
[ "$(move_to_ws "$WORK/ws.key" "$WORK/ws.pem" "$WORK/mv1")" = "$n_study" ] ||
  { cat "$WORK/mv1.log"; tail -5 "$WORK/daemon.log"; fail "C-MOVE to WS over TLS: not the study's $n_study files"; }
[ "$(move_to_ws "$WORK/intruder.key" "$WORK/intruder.pem" "$WORK/mv2")" = 0 ] || fail "C-MOVE went to a destination with another certificate"
grep -q "C-MOVE destination WS at 127.0.0.1:$WS_PORT (DICOM TLS)" "$WORK/daemon.log" || fail "destination failure logged"
stop_daemon
ok "C-MOVE to peer WS over TLS ($n_study files); a destination presenting another certificate gets none"

# Pulling from the site's node over DICOM TLS: Orthanc as S014's PACS on a TLS-only port, requiring our
# certificate; we trust only the node's certificate (pacs_certificate).
# Release build only: its point is agreement with Orthanc's TLS; our SCU's TLS code runs under ASan above (the
# C-MOVE to WS).
if [ "${RCY_FLAVOUR:-}" = asan ]; then
  echo "SKIP: pull over TLS from Orthanc (release build only)"
elif command -v Orthanc >/dev/null; then
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
