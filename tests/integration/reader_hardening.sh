#!/usr/bin/env bash
# Issue 9 hardening of the reader workstation, against the real server (curl): the login rate limit is durable
# and per account and per peer (no flushing, no timing oracle for unknown names), baseline state rules on
# POST …/lesions, blank reasons, control characters in paths, key-image access, cache headers, 0 mm
# measurements, one message for unknown and foreign instances, read documents chained into the audit log,
# expired sessions purged, JSON-only request bodies.
# RCY_KEEP_GOING=1 reports every failed check instead of stopping at the first.
source "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
reader_setup reader_hardening
make_fixtures 12
for u in alice bob victim late; do add_user $u central; done
add_user quinn qa
add_user sam site S014
add_user tess site S015
mkdir -p "$T/dist/assets"
echo '<html>reader</html>' >"$T/dist/index.html"
echo 'console.log(1)' >"$T/dist/assets/app.js"
reader_start "web_root = $T/dist"
S=CIREL-014-0001
failures=0
if [ "${RCY_KEEP_GOING-}" = 1 ]; then
  fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
fi
hdr() { # WHO PATH → response headers in $T/hdr
  call "$1" GET "$2" "" "" "$T/hdr"
}
login_code() { # NAME PASSWORD [CONTENT-TYPE] → status
  call - POST /api/login "{\"name\":\"$1\",\"password\":\"$2\"}" "${3:-application/json}"
  echo "$code"
}

echo "== rate limit: durable, per account, not flushable"
for u in alice bob quinn sam tess; do login $u; done
for i in 1 2 3 4 5; do [ "$(login_code victim bad-password)" = 401 ] || fail "victim failure $i → not 401"; done
[ "$(login_code victim "$(cat "$T/victim.pw")")" = 429 ] || fail "6th try for victim not 429"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
reader_start "web_root = $T/dist"
[ "$(login_code victim "$(cat "$T/victim.pw")")" = 429 ] || fail "victim's lock did not survive a restart"

echo "== rate limit: unknown names cost a password hash"
t_known=0 t_unknown=0
for i in 1 2 3; do
  t=$(curl -s -o /dev/null -w '%{time_total}' -H 'Content-Type: application/json' \
    --data-binary '{"name":"late","password":"wrong-password"}' "$U/api/login")
  t_known=$(echo "$t_known + $t" | bc -l)
  t=$(curl -s -o /dev/null -w '%{time_total}' -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"ghost$i\",\"password\":\"wrong-password\"}" "$U/api/login")
  t_unknown=$(echo "$t_unknown + $t" | bc -l)
done
echo "   known name ${t_known}s, unknown ${t_unknown}s (3 tries each)"
[ "$(echo "$t_unknown > 0.5 * $t_known" | bc -l)" = 1 ] || fail "unknown names answer faster (${t_unknown}s vs ${t_known}s)"

echo "== content types"
[ "$(login_code alice "$(cat "$T/alice.pw")" text/plain)" = 415 ] || fail "login with text/plain not 415"
code=$(curl -s -o "$T/out" -w '%{http_code}' --data-binary '{"name":"alice","password":"x"}' "$U/api/login")
[ "$code" = 415 ] || fail "login as a form post → $code"
[ "$(login_code alice "$(cat "$T/alice.pw")" 'application/json; charset=utf-8')" = 200 ] || fail "json with charset refused"
code=$(curl -s -o "$T/out" -w '%{http_code}' -b "$T/alice.jar" -H "X-CSRF-Token: $(cat "$T/alice.csrf")" \
  -H 'Content-Type: text/plain' --data-binary '{"kind":"target","organ":"liver","timepoint":"BL"}' "$U/api/reads/$S/lesions")
[ "$code" = 415 ] || fail "POST lesions with text/plain → $code"

echo "== control characters in paths"
for p in '/index.html%00.png' '/assets/app.js%00' '/api/me%00' '/assets/app.js%0a' '/index.html%7f'; do
  call alice GET "$p"
  [ "$code" = 400 ] || fail "GET $p → $code (want 400)"
done
expect 200 - GET /assets/app.js
echo "== bytes that are not UTF-8 (found by scripts/fuzz-http.sh: 500 'out of memory' before)"
for p in '/api/reads/CIREL%ff%fe' '/wado/instances/1.2%c3%28' '/api/studies/%ed%a0%80/series' '/assets/%c0%af'; do
  call alice GET "$p"
  [ "$code" = 400 ] || fail "GET $p → $code (want 400)"
done
expect 400 quinn GET "/api/reads/$S?role=central&reader=%ff%fe"
expect 400 quinn GET "/api/reads/$S?role=central&reader=a%00b"

echo "== POST lesions: the baseline state rules of PUT"
expect 422 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL","state":"disappeared"}'
for st in absent unequivocal_progression not_evaluable; do
  expect 422 alice POST /api/reads/$S/lesions "{\"kind\":\"non_target\",\"organ\":\"bone\",\"timepoint\":\"BL\",\"state\":\"$st\"}"
done
expect 201 alice POST /api/reads/$S/lesions '{"kind":"non_target","organ":"bone","timepoint":"BL","state":"present"}'
expect 201 alice POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'

echo "== measurements: 0 mm, one message for unknown and foreign instances"
expect 200 alice GET /api/studies/$(sqlite3 "$A/recistry.db" "SELECT study_uid FROM studies WHERE subject_id='$S' AND timepoint='BL'")/series
SOP_BL=$(jqr '.series[0].instances[6].sop_instance_uid')
SOP_O=$(sqlite3 "$A/recistry.db" "SELECT i.sop_instance_uid FROM instances i JOIN series USING (series_uid)
  JOIN studies st USING (study_uid) WHERE st.subject_id = 'CIREL-015-0001' LIMIT 1")
BLT=/api/reads/$S/timepoints/BL/lesions
expect 422 alice PUT $BLT/T1 '{"measurement":{"sop_instance_uid":"'"$SOP_BL"'","p1":[200,200],"p2":[200,200]}}'
expect 422 alice PUT $BLT/T1 '{"measurement":{"sop_instance_uid":"9.9.9.9","p1":[1,1],"p2":[20,1]}}'
m1=$(jqr .error | sed 's/9\.9\.9\.9/UID/')
expect 422 alice PUT $BLT/T1 '{"measurement":{"sop_instance_uid":"'"$SOP_O"'","p1":[1,1],"p2":[20,1]}}'
m2=$(jqr .error | sed "s/$SOP_O/UID/")
[ "$m1" = "$m2" ] || fail "unknown and foreign instances told apart: '$m1' vs '$m2'"
expect 200 alice PUT $BLT/T1 '{"measurement":{"sop_instance_uid":"'"$SOP_BL"'","p1":[281,220],"p2":[319,220]}}'
KEY=$(jqr '.lesions[] | select(.lesion_id == "T1") | .observations.BL.measurement.key_image_url')

echo "== key images: only for those who may see the read"
expect 200 alice GET "$KEY"
expect 200 quinn GET "$KEY"
for who in bob sam tess; do expect 404 $who GET "$KEY"; done

echo "== cache headers"
SERIES=$(sqlite3 "$A/recistry.db" "SELECT series_uid FROM instances WHERE sop_instance_uid='$SOP_BL'")
for p in "$KEY" "/wado/instances/$SOP_BL" "/api/instances/$SOP_BL/render.png" "/api/series/$SERIES/thumbnail.png" /api/me; do
  hdr alice "$p"
  grep -qi '^cache-control: no-store' "$T/hdr" || fail "$p: $(grep -i '^cache-control' "$T/hdr" || echo 'no Cache-Control')"
done
hdr - /assets/app.js
grep -qi '^cache-control: .*immutable' "$T/hdr" || fail "UI bundle not immutable: $(grep -i '^cache-control' "$T/hdr")"

echo "== reasons must be real text"
expect 200 alice POST /api/reads/$S/timepoints/BL/sign "{\"password\":\"$(cat "$T/alice.pw")\"}"
expect 409 alice PUT $BLT/T1 '{"measurement":{"sop_instance_uid":"'"$SOP_BL"'","p1":[282,220],"p2":[319,220]},"reason":"   "}'
expect 409 alice PUT $BLT/T1 '{"measurement":{"sop_instance_uid":"'"$SOP_BL"'","p1":[282,220],"p2":[319,220]},"reason":" \t\n "}'
expect 409 alice POST /api/reads/$S/lesions '{"kind":"non_target","organ":"skin","timepoint":"BL","reason":"  "}'
expect 409 alice DELETE "/api/reads/$S/lesions/NT1?reason=%20%20"
expect 400 alice POST /api/reads/$S/timepoints/BL/unsign "{\"reason\":\" \\t \",\"password\":\"$(cat "$T/alice.pw")\"}"
expect 200 alice PUT $BLT/T1 '{"measurement":{"sop_instance_uid":"'"$SOP_BL"'","p1":[282,220],"p2":[319,220]},"reason":"  rim  "}'
r=$(sqlite3 "$A/recistry.db" "SELECT reason FROM audit_log ORDER BY seq DESC LIMIT 1")
[ "$r" = rim ] || fail "reason not trimmed in the audit log: '$r'"

echo "== sessions: expired ones are purged"
login bob
sqlite3 "$A/recistry.db" "UPDATE sessions SET expires_at = 1 WHERE user_name = 'bob'"
expect 401 bob GET /api/me
n=$(sqlite3 "$A/recistry.db" "SELECT COUNT(*) FROM sessions WHERE expires_at <= strftime('%s','now')")
[ "$n" = 0 ] || fail "$n expired session(s) left in the table"

echo "== logout clears the browser cache"
login bob
curl -s -D "$T/hdr" -o /dev/null -b "$T/bob.jar" -H "X-CSRF-Token: $(cat "$T/bob.csrf")" -X POST "$U/api/logout"
grep -qi '^clear-site-data: "cache"' "$T/hdr" || fail "logout without Clear-Site-Data"

echo "== audit: direct edits of a read are detected"
"$R" audit verify --archive "$A" >"$T/audit.out" 2>&1 || fail "verify on an intact archive: $(cat "$T/audit.out")"
sqlite3 "$A/recistry.db" "UPDATE reads SET doc = replace(doc, '28.90625', '18.90625') WHERE reader = 'alice'"
if "$R" audit verify --archive "$A" >"$T/audit.out" 2>&1; then fail "a direct UPDATE of reads verified"; fi
grep -q "$S" "$T/audit.out" || fail "verify does not name the altered read: $(cat "$T/audit.out")"
sqlite3 "$A/recistry.db" "UPDATE reads SET doc = replace(doc, '18.90625', '28.90625') WHERE reader = 'alice'"
"$R" audit verify --archive "$A" >"$T/audit.out" 2>&1 || fail "verify after undoing the edit: $(cat "$T/audit.out")"
sqlite3 "$A/recistry.db" "INSERT INTO reads(subject_id, role, reader, doc, updated_at) VALUES('CIREL-015-0001', 'central', 'mallory', '{\"lesions\":[],\"signoffs\":{}}', 'x')"
if "$R" audit verify --archive "$A" >"$T/audit.out" 2>&1; then fail "a read inserted behind the API verified"; fi

echo "== rate limit: flushing with unknown names does not free the victim; the peer gets limited"
# 520 attempts from one process on 4 keep-alive connections (520 curl processes cost ~25 s of CPU).
/usr/bin/python3 - "$U" <<'PY' || fail "flushing attempts could not be sent"
import http.client, json, sys, threading, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
errors = []
def attempts(names):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    for n in names:
        c.request("POST", "/api/login", json.dumps({"name": f"flush{n}", "password": "x"}),
                  {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status not in (401, 429): errors.append(f"flush{n}: HTTP {r.status}")
threads = [threading.Thread(target=attempts, args=(range(k + 1, 521, 4),)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()
sys.exit("\n".join(errors[:5]) if errors else 0)
PY
[ "$(login_code victim "$(cat "$T/victim.pw")")" = 429 ] || fail "victim may guess again after 520 failures on other names"
[ "$(login_code late "$(cat "$T/late.pw")")" = 429 ] || fail "a peer with 520 failures may still log in"
grep -qi '^retry-after: [1-9]' <(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
  --data-binary '{"name":"late","password":"x"}' "$U/api/login") || fail "429 without Retry-After"

kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
grep -q "Leak\|runtime error\|AddressSanitizer" "$T/serve.err" && fail "sanitizer report from the server"
! grep -q -e 'pw-' -e 'flush1' -e 'ghost' "$T/serve.err" || fail "server log holds a password or a tried name"
[ "$failures" = 0 ] || { echo "reader_hardening: $failures check(s) failed" >&2; exit 1; }
echo "reader_hardening: all checks passed"
