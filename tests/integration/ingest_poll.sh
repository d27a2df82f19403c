# The daemon polls a site's node on its own (issue 16), with Orthanc as S014's node: it brings exactly the
# registry subjects' studies (never a non-registry patient's, nor one whose Patient ID only shares the query's
# prefix), a study added later at the next poll, a study cut half-way by the node's death completed after its
# restart (`verify` clean), by C-GET and by C-MOVE; a second site whose node accepts TCP and never answers
# does not delay S014's polls; SIGTERM mid-retrieve stops at once and the next start completes the study;
# Orthanc is only ever asked for the derived Patient ID key; config errors.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
command -v Orthanc >/dev/null || { echo "SKIP: Orthanc not installed"; exit 0; }
PORT=$(free_port)
HUNG=$(free_port)
# Orthanc masks the query's values in its own log: a Lua filter writes each C-FIND's Patient ID key to it.
mkdir -p "$WORK/orthanc"
cat >"$WORK/orthanc/find.lua" <<'LUA'
function IncomingFindRequestFilter(source, origin)
  print('RCY-CFIND PatientID=[' .. tostring(source['0010,0020']) .. '] from ' .. tostring(origin['RemoteAet']))
  return source
end
LUA
site_orthanc_config "$WORK/orthanc/find.lua"
ORTHANC_VERBOSE=1
start_orthanc

# A node that accepts TCP and never answers (S027's).
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$HUNG" &
EXTRA_PIDS="$EXTRA_PIDS $!"

# Studies: two template instances (dump2dcm; one per time point), copied into every study and instance by
# rewriting same-length values (subject IDs of 14 characters, UIDs, dates) in the data set and the meta
# header: hundreds of instances in well under a second, where dump2dcm takes ~0.2 s per file on a busy host.
U=1.2.826.0.1.3680043.10.16
TODAY=$(date -u +%Y%m%d) # later polls look back poll_margin_days from the last successful one's date
make_ct "$WORK/t-BL.dcm" subject=CIREL-014-0001 study=$U.1 series=$U.1.1 sop=$U.1.1.1000 tp=BL date=20260110
make_ct "$WORK/t-FU.dcm" subject=CIREL-014-0001 study=$U.1 series=$U.1.1 sop=$U.1.1.1000 tp=FU1 date=20260110
python3 - "$WORK" "$U" "$TODAY" <<'PY'
import os, sys
work, u, today = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
studies = [  # dir, template, subject, study number, instances, date
    ("A", "BL", b"CIREL-014-0001", 1, 5, b"20260110"),
    ("B", "BL", b"CIREL-014-0002", 2, 5, b"20260210"),
    ("C", "BL", b"HOSP-555012345", 3, 3, b"20260301"),  # not a registry subject: never asked for
    ("D", "BL", b"CIREL-014-A123", 4, 3, b"20260301"),  # the query's prefix, not the pattern
    ("E", "FU", b"CIREL-014-0002", 5, 5, today),        # added to the node later
    ("F", "FU", b"CIREL-014-0001", 6, 150, today),      # the node killed mid-retrieve
    ("G", "FU", b"CIREL-014-0001", 7, 5, today),        # retrieved by C-MOVE
    ("H", "FU", b"CIREL-014-0002", 8, 150, today),      # the daemon stopped mid-retrieve
]
for d, tp, subject, k, n, date in studies:
    t = open("%s/t-%s.dcm" % (work, tp), "rb").read()
    t = t.replace(b"CIREL-014-0001", subject).replace(u + b".1", u + b".%d" % k).replace(b"20260110", date)
    sop = u + b".%d.1.1000" % k
    assert t.count(sop) == 2, (d, t.count(sop))
    os.makedirs("%s/%s" % (work, d))
    for i in range(1, n + 1):
        open("%s/%s/%d.dcm" % (work, d, i), "wb").write(t.replace(sop, sop[:-4] + b"%d" % (1000 + i)))
PY
upload() { storescu -aet SITE014 -aec SITEPACS 127.0.0.1 "$O_DICOM" "$@" || fail "upload to Orthanc"; }
upload "$WORK"/A/*.dcm "$WORK"/B/*.dcm "$WORK"/C/*.dcm "$WORK"/D/*.dcm
count() { sql "SELECT COUNT(*) FROM instances i JOIN series s USING (series_uid) WHERE s.study_uid = '$1'"; }
wait_count() { # wait_count STUDY N SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do [ "$(count "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  return 1
}

"$RECISTRY" init --archive "$WORK/archive" >/dev/null

# Config errors first (no daemon needed).
SITE014_EXTRA="pacs = 127.0.0.1:$O_DICOM:SITEPACS
poll_interval = 2"
write_config "$WORK/bad.ini" "$PORT"
sed -i 's/^subject_pattern = \^CIREL-014-\[0-9\]{4}\$$/subject_pattern = .*/' "$WORK/bad.ini"
if "$RECISTRY" pull status --config "$WORK/bad.ini" >"$WORK/e.log" 2>&1; then fail "pattern without prefix accepted"; fi
grep -q "\[site:S014\] subject_pattern: '.\*' is not anchored with ^.*set poll_patient_id" "$WORK/e.log" || { cat "$WORK/e.log"; fail "no-prefix message"; }
sed -i 's/^poll_interval = 2$/poll_interval = 2\npoll_patient_id = */' "$WORK/bad.ini"
if "$RECISTRY" pull status --config "$WORK/bad.ini" >"$WORK/e.log" 2>&1; then fail "poll_patient_id = * accepted"; fi
grep -q "\[site:S014\] poll_patient_id: '\*' must start with the registry's literal subject prefix" "$WORK/e.log" || { cat "$WORK/e.log"; fail "bare * message"; }
SITE014_EXTRA="pacs = 127.0.0.1:$O_DICOM:SITEPACS
poll_interval = 2
poll_hours = 25:00-06:00"
write_config "$WORK/bad.ini" "$PORT"
if "$RECISTRY" pull status --config "$WORK/bad.ini" >"$WORK/e.log" 2>&1; then fail "bad poll_hours accepted"; fi
grep -q "\[site:S014\] poll_hours: '25:00-06:00' is not HH:MM-HH:MM" "$WORK/e.log" || { cat "$WORK/e.log"; fail "poll_hours message"; }
SITE014_EXTRA="pacs = 127.0.0.1:$O_DICOM:SITEPACS
retrieve = fetch"
write_config "$WORK/bad.ini" "$PORT"
if "$RECISTRY" pull status --config "$WORK/bad.ini" >"$WORK/e.log" 2>&1; then fail "bad retrieve accepted"; fi
grep -q "\[site:S014\] retrieve: 'fetch' must be get or move" "$WORK/e.log" || { cat "$WORK/e.log"; fail "retrieve message"; }
ok "config errors name section and key (pattern without prefix, poll_patient_id = *, poll_hours, retrieve)"

# The daemon alone: S014 polled every 2 s by C-GET, S027's node hangs (timeout 3 s: were S014's polls held up
# by S027's, two of them would start at least 5 s apart, clear of a loaded machine's lateness; every stop of
# the daemon may wait that long, so not more).
SITE014_EXTRA="pacs = 127.0.0.1:$O_DICOM:SITEPACS
poll_interval = 2
poll_since_days = 3650
retrieve = get"
SITE027_EXTRA="pacs = 127.0.0.1:$HUNG:HUNGPACS
poll_interval = 2
poll_timeout = 3"
write_config "$WORK/c.ini" "$PORT" reject 1
t0=$(date +%s.%N)
start_daemon "$WORK/c.ini"
wait_count $U.1 5 15 && wait_count $U.2 5 4 || fail "registry studies not polled in within 15 s"
t1=$(date +%s.%N)
sleep 2.5 # one more S014 poll: still nothing else
[ "$(sql "SELECT COUNT(*) FROM studies")" = 2 ] || fail "expected exactly the 2 registry studies, got $(sql "SELECT study_uid FROM studies")"
[ "$(sql "SELECT COUNT(*) FROM studies WHERE study_uid IN ('$U.3', '$U.4')")" = 0 ] || fail "a non-registry study was retrieved"
[ "$(sql "SELECT MAX(n_refused) FROM polls WHERE site_id = 'S014'")" = 1 ] || fail "the prefix-only match not counted as refused"
grep -q "CIREL-014-A123\|HOSP-555012345" "$WORK/daemon.log" && fail "a non-registry Patient ID in the daemon's log"
ok "registry studies polled in within $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s (interval 2 s); the non-registry ones never (1 refused by the re-check, not logged)"

upload "$WORK"/E/*.dcm
t0=$(date +%s.%N)
wait_count $U.5 5 15 || fail "a study added to the node did not arrive within 15 s"
ok "a study added to the node arrived after $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}") s"

# S027's hung node: its polls fail on the timeout while S014's go on every 2 s, and a site's C-STORE goes
# through meanwhile (the pollers never hold the pipeline while they wait on a node).
make_series "$WORK/push" 3 subject=CIREL-014-0003 study=$U.9 series=$U.9.1
t0=$(date +%s.%N)
send SITE014 "$PORT" "$WORK"/push/*.dcm >"$WORK/push.log" || { cat "$WORK/push.log"; fail "C-STORE while polling"; }
store_s=$(awk "BEGIN{printf \"%.2f\", $(date +%s.%N) - $t0}")
[ "$(count $U.9)" = 3 ] || fail "the C-STORE'd study not indexed"
for ((i = 0; i < 250; i++)); do [ "$(sql "SELECT COUNT(*) FROM polls WHERE site_id = 'S027'")" -ge 2 ] && break; sleep 0.1; done
n14=$(sql "SELECT COUNT(*) FROM polls WHERE site_id = 'S014'")
n27=$(sql "SELECT COUNT(*) FROM polls WHERE site_id = 'S027'")
[ "$n27" -ge 2 ] || fail "S027's hung node: fewer than 2 polls recorded"
[ "$(sql "SELECT COUNT(*) FROM polls WHERE site_id = 'S027' AND outcome = 'ok'")" = 0 ] || fail "S027 ok?"
[ "$n14" -ge 3 ] || fail "S014 polled only $n14 times while S027's node hung"
gap=$(sql "SELECT started_at FROM polls WHERE site_id = 'S014' ORDER BY id" | python3 -c '
import sys, datetime
t = [datetime.datetime.strptime(l.strip(), "%Y-%m-%dT%H:%M:%SZ") for l in sys.stdin if l.strip()]
print(int(max((b - a).total_seconds() for a, b in zip(t, t[1:]))))')
[ "$gap" -le 4 ] || fail "S014's polls were delayed: $gap s between two starts (interval 2 s; S027's timeout 3 s)"
ok "S027's node never answers ($n27 failed polls, 3 s timeout): S014 polled $n14 times meanwhile, at most $gap s apart (second resolution); a C-STORE of 3 instances took $store_s s"

# Orthanc stopped mid-retrieve: frozen once some instances of the 150-instance study are indexed, killed,
# then restarted on the same storage: the next polls complete the study.
upload "$WORK"/F/*.dcm
for ((i = 0; i < 400; i++)); do [ "$(count $U.6)" -gt 0 ] && break; sleep 0.02; done
kill -STOP "$ORTHANC_PID"
got=$(count $U.6)
kill -9 "$ORTHANC_PID"; wait "$ORTHANC_PID" 2>/dev/null || true
[ "$got" -gt 0 ] && [ "$got" -lt 150 ] || fail "could not stop Orthanc mid-retrieve ($got of 150 indexed)"
failed_polls() { sql "SELECT COUNT(*) FROM polls WHERE site_id = 'S014' AND outcome IN ('failed', 'partial')"; }
for ((i = 0; i < 100; i++)); do [ "$(failed_polls)" -ge 1 ] && break; sleep 0.1; done
[ "$(failed_polls)" -ge 1 ] || fail "the failed poll not recorded within 10 s"
[ "$(count $U.6)" -lt 150 ] || fail "complete while the node was down?"
start_orthanc
wait_count $U.6 150 20 || fail "the cut study not completed after the node's restart ($(count $U.6) of 150)"
ok "Orthanc killed at $got of 150 instances, restarted: the study completed at a later poll"
# SIGTERM with a retrieve in flight: abandoned at once, recorded; the next start completes the study.
# The study is put on the node whole while the daemon is down: uploaded under a running daemon, a poll could
# take the part already there and finish before the SIGTERM (seen in CI). (Freezing the node instead would
# test another case: a stop that lands mid-instance waits out the node's poll_timeout, as documented.)
stop_daemon
upload "$WORK"/H/*.dcm
start_daemon "$WORK/c.ini"
for ((i = 0; i < 750; i++)); do [ "$(count $U.8)" -gt 0 ] && break; sleep 0.02; done
t0=$(date +%s.%N)
stop_daemon
stop_s=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}")
got=$(count $U.8)
[ "$got" -gt 0 ] && [ "$got" -lt 150 ] || fail "could not stop the daemon mid-retrieve ($got of 150 indexed)"
# S014's retrieve is abandoned at once; S027's poller, if it is setting up an association with its silent node
# at that moment, waits out its poll_timeout (3 s; docs/ingest.md): the stop is bounded by that, plus slack.
awk "BEGIN{exit !($stop_s < 6)}" || fail "the daemon took $stop_s s to stop with a poll in flight (S027's poll_timeout: 3 s)"
[ "$(sql "SELECT COUNT(*) FROM polls WHERE site_id = 'S014' AND outcome = 'partial' AND error LIKE '%$U.8%stop requested%'")" = 1 ] ||
  fail "the abandoned poll not recorded as partial"
start_daemon "$WORK/c.ini"
wait_count $U.8 150 15 || fail "the abandoned study not completed after the restart ($(count $U.8) of 150)"
ok "SIGTERM at $got of 150 instances: stopped in $stop_s s, poll recorded partial; completed after the restart"
"$RECISTRY" pull status --config "$WORK/c.ini" >"$WORK/status.log"
cat "$WORK/status.log"
grep -q "^site S014: polling on, every 2 s, C-GET, query CIREL-014-\*; last successful poll 20..-..-..T..:..:..Z; last outcome ok; next attempt 20.*; failures in a row 0$" "$WORK/status.log" || fail "pull status S014"
grep -q "^site S027: polling on, every 2 s, C-GET, query CIREL-027-\*; last successful poll never; last outcome failed (.*HUNGPACS.*); next attempt .*; failures in a row [1-9]" "$WORK/status.log" || fail "pull status S027"
grep -q "^site S031: polling off;" "$WORK/status.log" || fail "pull status S031"
t0=$(date +%s.%N)
stop_daemon
ok "pull status shows the three sites; SIGTERM: the daemon stopped in $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}") s (a poll of S027's hung node in flight)"
"$RECISTRY" verify --archive "$WORK/archive" >"$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log"; fail "verify"; }
[ "$(sql "SELECT COUNT(*) FROM audit_log WHERE action = 'dicom.poll'")" -ge 5 ] || fail "polls not audited"
sql "SELECT reason FROM audit_log WHERE action = 'dicom.poll'" | grep -q "CIREL-014" && fail "a query value in the audit log"
ok "verify clean; every poll audited (dicom.poll, counts only)"

# By hand: --subject must match the pattern; a full poll finds everything complete.
if "$RECISTRY" pull --config "$WORK/c.ini" --site S014 --subject HOSP-555012345 >"$WORK/p.log" 2>&1; then fail "--subject outside the pattern"; fi
grep -q "does not match site S014's subject_pattern" "$WORK/p.log" || { cat "$WORK/p.log"; fail "--subject message"; }
grep -q "HOSP-555012345" "$WORK/p.log" && fail "--subject's non-registry value repeated in the message"
"$RECISTRY" pull --config "$WORK/c.ini" --site S014 --subject CIREL-014-0002 --since 2026-01-01 >"$WORK/p.log" 2>&1 || { cat "$WORK/p.log"; fail "pull --subject"; }
grep -q "poll ok: 3 matched, 3 skipped (complete), 0 retrieved" "$WORK/p.log" || { cat "$WORK/p.log"; fail "pull --subject counts"; }
ok "pull --subject/--since by hand: $(grep "^site S014: poll" "$WORK/p.log")"

# C-MOVE: Orthanc delivers to the daemon (our AE, which Orthanc knows as 'core').
SITE014_EXTRA="pacs = 127.0.0.1:$O_DICOM:SITEPACS
poll_interval = 2
poll_since_days = 3650
retrieve = move"
# S027 now polls only in a local-time window that excludes now (from 2 h to 3 h from now).
SITE027_EXTRA="pacs = 127.0.0.1:$O_DICOM:OTHERPACS
poll_interval = 1
poll_hours = $(date -d '+2 hours' +%H:%M)-$(date -d '+3 hours' +%H:%M)"
write_config "$WORK/c.ini" "$PORT" reject 1
n27=$(sql "SELECT COUNT(*) FROM polls WHERE site_id = 'S027'")
upload "$WORK"/G/*.dcm
start_daemon "$WORK/c.ini"
wait_count $U.7 5 8 || fail "C-MOVE: the new study did not arrive"
stop_daemon
[ "$(sql "SELECT COUNT(*) FROM polls WHERE site_id = 'S027'")" = "$n27" ] || fail "S027 polled outside its poll_hours"
grep -q "site S027: outside poll_hours: waiting" "$WORK/daemon.log" || fail "no 'outside poll_hours' in the log"
[ "$(sql "SELECT COUNT(*) FROM studies")" = 7 ] || fail "C-MOVE: expected 7 studies"
"$RECISTRY" verify --archive "$WORK/archive" >/dev/null || fail "verify after C-MOVE"
ok "C-MOVE: the new study arrived through the daemon's own SCP; S027, outside its poll_hours, was not polled"

# Orthanc was only ever asked for the derived key (and the registry subject given by hand).
n_keys=$(grep -c "RCY-CFIND PatientID=\[CIREL-014-\*\] from FFCD_CORE" "$WORK/orthanc.log" || true)
others=$(grep "RCY-CFIND" "$WORK/orthanc.log" | grep -v "PatientID=\[CIREL-014-\*\] from FFCD_CORE" |
         grep -vc "PatientID=\[CIREL-014-0002\] from FFCD_CORE" || true)
[ "$n_keys" -ge 5 ] && [ "$others" = 0 ] || fail "Orthanc's C-FIND keys: $n_keys derived, $others other"
ok "Orthanc saw $n_keys C-FINDs, all with Patient ID CIREL-014-* (and the one by hand with CIREL-014-0002)"
