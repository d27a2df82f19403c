# `recistry pull` from Orthanc started as a site's node: C-GET brings the study through the same checks
# (stored, indexed, then complete); C-MOVE (retrieve = move) makes Orthanc deliver to the running daemon.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
command -v Orthanc >/dev/null || { echo "SKIP: Orthanc not installed"; exit 0; }
PORT=$(free_port)
site_orthanc_config
start_orthanc

"$RECISTRY" sample --out "$WORK/sample" --seed 11 --subjects 1 --slices 20 --timepoints 2 --no-dirty >/dev/null
storescu -aet SITE014 -aec SITEPACS 127.0.0.1 "$O_DICOM" "$WORK"/sample/S014/*/*/*.dcm || fail "upload to Orthanc"
bl=$(dcmdump +P 0020,000d $(ls "$WORK"/sample/S014/*/BL/*.dcm | head -1) | sed 's/.*\[\(.*\)\].*/\1/')
fu=$(dcmdump +P 0020,000d $(ls "$WORK"/sample/S014/*/FU1/*.dcm | head -1) | sed 's/.*\[\(.*\)\].*/\1/')

"$RECISTRY" init --archive "$WORK/archive" >/dev/null
SITE014_EXTRA="pacs = 127.0.0.1:$O_DICOM:SITEPACS"
write_config "$WORK/c.ini" "$PORT" reject 1
"$RECISTRY" pull --config "$WORK/c.ini" --site S014 --study "$bl" >"$WORK/pull.log" 2>&1 || { cat "$WORK/pull.log"; fail "C-GET pull"; }
grep -q "20 instance(s) stored, 0 refused" "$WORK/pull.log" || { cat "$WORK/pull.log"; fail "pull counts"; }
[ "$(sql "SELECT COUNT(*) FROM instances i JOIN series s USING (series_uid) WHERE s.study_uid = '$bl'")" = 20 ] || fail "20 indexed"
"$RECISTRY" verify --archive "$WORK/archive" >/dev/null || fail "verify after pull"
if "$RECISTRY" pull --config "$WORK/c.ini" --site S027 --study "$bl" >"$WORK/p2.log" 2>&1; then fail "pull without pacs"; fi
grep -q "\[site:S027\] pacs: not configured" "$WORK/p2.log" || fail "missing pacs message"
ok "C-GET pull from Orthanc: 20 instances stored through the checks"

# C-MOVE: Orthanc (calling AE SITEPACS, S014's node) delivers the follow-up study to the daemon.
SITE014_EXTRA="pacs = 127.0.0.1:$O_DICOM:SITEPACS
retrieve = move"
write_config "$WORK/c.ini" "$PORT" reject 1
start_daemon "$WORK/c.ini"
"$RECISTRY" pull --config "$WORK/c.ini" --site S014 --study "$fu" >"$WORK/pull.log" 2>&1 || { cat "$WORK/pull.log"; tail "$WORK/orthanc.log"; fail "C-MOVE pull"; }
[ "$(sql "SELECT COUNT(*) FROM instances i JOIN series s USING (series_uid) WHERE s.study_uid = '$fu'")" = 20 ] || fail "C-MOVE: 20 indexed"
for i in $(seq 1 40); do [ "$(sql "SELECT status FROM studies WHERE study_uid = '$bl'")" = complete ] && break; sleep 0.25; done
[ "$(sql "SELECT status FROM studies WHERE study_uid = '$bl'")" = complete ] || fail "pulled study complete"
stop_daemon
ok "C-MOVE pull: Orthanc delivered 20 instances to the daemon"
