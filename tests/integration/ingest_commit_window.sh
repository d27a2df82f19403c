# On SQLite a batch's rows are committed while its directories are fsync'ed (the Success still waits for
# both): what makes that safe is checked here. A directory fsync that fails after the commit ends in Out of
# Resources with no row and no file left (and the same with the strict order, RECISTRY_TEST_COMMIT_LATE);
# start-up recovery deletes a pending row whose file is missing (as a power loss in that window leaves it),
# audited, and keeps and hashes a pending row whose file is there; a known hash is never deleted.
# As pg/ingest_commit_window: PostgreSQL keeps the strict order (commit after the directory fsyncs) and its
# recovery deletes no row (another node's new files may not be visible yet on shared storage).
set -euo pipefail
source "$(dirname "$0")/lib/ingest.sh"
ENGINE=${RCY_TEST_ENGINE:-sqlite}
ingest_setup
PORT=$(free_port)
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 3600
make_series "$WORK/s" 6

# The early commit is what the daemon does on SQLite (its stage times name it).
RECISTRY_STAGE_TIMES=1 start_daemon "$WORK/c.ini"
send SITE014 "$PORT" "$WORK/s/1.dcm" "$WORK/s/2.dcm" >"$WORK/send.log" || { cat "$WORK/send.log"; fail "send"; }
stop_daemon
if [ "$ENGINE" = sqlite ]; then
  grep -q "stage times: rows inserted -> commit returned (dir fsync runs)" "$WORK/daemon.log" ||
    fail "SQLite: batch not committed while its directory fsync ran"
else
  grep -q "stage times: directory fsync returned -> commit returned" "$WORK/daemon.log" ||
    fail "$ENGINE: not committed after the directory fsync"
  grep -q "stage times: rows inserted -> commit returned (dir fsync runs)" "$WORK/daemon.log" &&
    fail "$ENGINE: committed while the directory fsync ran"
fi
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 2 ] || fail "2 instances"
ok "$ENGINE: rows committed $([ "$ENGINE" = sqlite ] && echo while || echo after) the directory fsync, both instances stored"

# A directory fsync that fails: after the commit (early) and before it (strict order, as on PostgreSQL).
for mode in early late; do
  if [ $mode = late ]; then RECISTRY_TEST_FAIL_DIR_SYNC=1 RECISTRY_TEST_COMMIT_LATE=1 start_daemon "$WORK/c.ini"
  else RECISTRY_TEST_FAIL_DIR_SYNC=1 start_daemon "$WORK/c.ini"; fi
  send SITE014 "$PORT" "$WORK/s/3.dcm" >"$WORK/fail-$mode.log" || true
  stop_daemon
  grep -qiE "0xa700|OutOfResources" "$WORK/fail-$mode.log" || { cat "$WORK/fail-$mode.log"; fail "$mode: not answered 0xA700"; }
  [ "$(sql 'SELECT COUNT(*) FROM instances')" = 2 ] || fail "$mode: a row was left for the failed instance"
  [ "$(find "$WORK/archive/storage" -name '*.dcm' | wc -l)" = 2 ] || fail "$mode: the failed instance's file was left"
  "$RECISTRY" verify --archive "$WORK/archive" >"$WORK/v.log" || { cat "$WORK/v.log"; fail "$mode: verify"; }
done
# the failed instance in a study and series of its own: neither left behind empty
make_ct "$WORK/other.dcm" study=1.2.826.0.1.3680043.10.1.9 series=1.2.826.0.1.3680043.10.1.9.1 \
  sop=1.2.826.0.1.3680043.10.1.9.1.1 n=1 z=0
RECISTRY_TEST_FAIL_DIR_SYNC=1 start_daemon "$WORK/c.ini"
send SITE014 "$PORT" "$WORK/other.dcm" >"$WORK/fail-other.log" || true
stop_daemon
grep -qiE "0xa700|OutOfResources" "$WORK/fail-other.log" || { cat "$WORK/fail-other.log"; fail "new study: not 0xA700"; }
[ "$(sql "SELECT COUNT(*) FROM series WHERE series_uid = '1.2.826.0.1.3680043.10.1.9.1'")" = 0 ] ||
  fail "empty series left by the failed batch"
[ "$(sql "SELECT COUNT(*) FROM studies WHERE study_uid = '1.2.826.0.1.3680043.10.1.9'")" = 0 ] ||
  fail "empty study left by the failed batch"
ok "directory fsync failing after the commit and before it: 0xA700, no row, no file, no empty series/study, verify clean"

# What a power loss in the window leaves: a pending row whose file is gone. Recovery deletes it (and says
# so in the log and the audit log) and keeps the pending row whose file is there; a known hash stays even
# with its file gone (verify reports that one).
start_daemon "$WORK/c.ini"
send SITE014 "$PORT" "$WORK/s/4.dcm" "$WORK/s/5.dcm" "$WORK/s/6.dcm" >"$WORK/send2.log" || { cat "$WORK/send2.log"; fail "send 2"; }
for _ in $(seq 1 50); do [ "$(sql "SELECT COUNT(*) FROM instances WHERE sha256 = 'pending'")" = 0 ] && break; sleep 0.1; done
stop_daemon
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 5 ] || fail "5 instances"
sql "UPDATE instances SET sha256 = 'pending' WHERE instance_number IN (4, 5)"
gone=$(sql "SELECT path FROM instances WHERE instance_number = 4")
kept=$(sql "SELECT path FROM instances WHERE instance_number = 5")
known=$(sql "SELECT path FROM instances WHERE instance_number = 6")
rm "$WORK/archive/storage/$gone" "$WORK/archive/storage/$known"
start_daemon "$WORK/c.ini"
for _ in $(seq 1 50); do [ "$(sql "SELECT sha256 FROM instances WHERE path = '$kept'")" != pending ] && break; sleep 0.1; done
stop_daemon
if [ "$ENGINE" = sqlite ]; then
  grep -q "start-up recovery: index row of SOP Instance .* deleted: its SHA-256 was pending and its file $gone is missing" \
    "$WORK/daemon.log" || fail "no log line for the deleted row"
  [ "$(sql "SELECT COUNT(*) FROM instances WHERE path = '$gone'")" = 0 ] || fail "pending row of a missing file kept"
  [ "$(sql "SELECT COUNT(*) FROM audit_log WHERE action = 'ingest.recovery.remove_row' AND reason LIKE '%$gone%'")" = 1 ] ||
    fail "no audit row for the deleted row"
else
  [ "$(sql "SELECT COUNT(*) FROM instances WHERE path = '$gone'")" = 1 ] || fail "$ENGINE: recovery deleted a row"
fi
[ "$(sql "SELECT sha256 FROM instances WHERE path = '$kept'")" = "$(sha256sum "$WORK/archive/storage/$kept" | cut -d' ' -f1)" ] ||
  fail "pending row whose file exists not kept and hashed"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE path = '$known'")" = 1 ] || fail "row with a known hash deleted"
if "$RECISTRY" verify --archive "$WORK/archive" >"$WORK/v2.log"; then fail "verify passed with a known row's file gone"; fi
grep -q "$known" "$WORK/v2.log" || { cat "$WORK/v2.log"; fail "verify does not name the missing known file"; }
if [ "$ENGINE" = sqlite ]; then
  grep -q "$gone" "$WORK/v2.log" && fail "verify still names the deleted row"
  ok "recovery: pending row of a missing file deleted (logged, audited), pending row with its file kept and hashed (= sha256sum), known hash kept"
else
  ok "$ENGINE recovery: no row deleted, pending row with its file hashed (= sha256sum)"
fi
