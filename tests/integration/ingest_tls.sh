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
