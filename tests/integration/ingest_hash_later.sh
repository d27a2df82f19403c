# The SHA-256 of a stored instance is computed after its Success (off the critical path) and written to its
# index row within moments; a row left pending (the daemon died between a Success and the hash) is hashed
# at the next start; `recistry verify` counts pending rows apart (size still checked, never a mismatch);
# duplicate detection against a pending row hashes the stored file. Hashes are checked against sha256sum.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 3600
start_daemon "$WORK/c.ini"
make_series "$WORK/s" 6
send SITE014 "$PORT" "$WORK"/s/*.dcm >"$WORK/send.log" || { cat "$WORK/send.log"; fail "send"; }
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 6 ] || fail "6 instances indexed"
# filled by the hasher without a restart (it writes within 100 ms when no group commit takes its results)
for _ in $(seq 1 50); do [ "$(sql "SELECT COUNT(*) FROM instances WHERE sha256 = 'pending'")" = 0 ] && break; sleep 0.1; done
[ "$(sql "SELECT COUNT(*) FROM instances WHERE sha256 = 'pending'")" = 0 ] || fail "hashes still pending after 5 s"
check_hashes() {
  local path sha
  while IFS='|' read -r path sha; do
    [ "$(sha256sum "$WORK/archive/storage/$path" | cut -d' ' -f1)" = "$sha" ] || fail "$1: sha256 of $path"
  done < <(sql "SELECT path, sha256 FROM instances")
}
check_hashes "while running"
ok "6 instances: every row's SHA-256 filled in the background, equal to sha256sum of the stored file"

# As a crash between the Successes and the hasher's write leaves them (the daemon is stopped: nothing else
# writes the index meanwhile).
stop_daemon
sql "UPDATE instances SET sha256 = 'pending' WHERE instance_number IN (2, 3, 4)"
"$RECISTRY" verify --archive "$WORK/archive" >"$WORK/v.log" || { cat "$WORK/v.log"; fail "verify with pending rows"; }
grep -q "^3 instance(s) with their SHA-256 still pending" "$WORK/v.log" || { cat "$WORK/v.log"; fail "pending count"; }
# a pending row still has its size checked: a truncated file is a mismatch
p4=$(sql "SELECT path FROM instances WHERE instance_number = 4")
cp "$WORK/archive/storage/$p4" "$WORK/keep4.dcm"
head -c 1000 "$WORK/keep4.dcm" >"$WORK/archive/storage/$p4"
if "$RECISTRY" verify --archive "$WORK/archive" >"$WORK/v2.log"; then fail "truncated pending file passed verify"; fi
grep -q "size differs from the index: $p4" "$WORK/v2.log" || { cat "$WORK/v2.log"; fail "size line"; }
cp "$WORK/keep4.dcm" "$WORK/archive/storage/$p4"
ok "verify: 3 pending rows counted apart (exit 0), a pending row's truncated file still a mismatch"

# identical and conflicting duplicates of a pending row: the duplicate check hashes the stored file itself
# (the hasher is off in this run, so the rows are still pending when the duplicates arrive)
RECISTRY_TEST_HASHER_OFF=1 start_daemon "$WORK/c.ini"
send SITE014 "$PORT" "$WORK/s/2.dcm" >"$WORK/o.log" || { cat "$WORK/o.log"; fail "identical duplicate refused"; }
make_ct "$WORK/dup3.dcm" sop=1.2.826.0.1.3680043.10.1.1.1.3 n=3 z=77
STORESCU_OPTS=-d send SITE014 "$PORT" "$WORK/dup3.dcm" >"$WORK/o.log" || true
grep -qi "0xc002" "$WORK/o.log" || { cat "$WORK/o.log"; fail "conflicting duplicate of a pending row not refused"; }
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 6 ] || fail "duplicates changed the index"
stop_daemon
# the identical duplicate took its twin (instance 2) off pending, with the hash it computed, after flushing
# the twin's directory (the twin may be another process's, committed before its directory fsync returned)
[ "$(sql "SELECT COUNT(*) FROM instances WHERE sha256 = 'pending'")" = 2 ] || fail "the test hook did not keep 2 rows pending"
p2=$(sql "SELECT path FROM instances WHERE instance_number = 2")
[ "$(sql "SELECT sha256 FROM instances WHERE instance_number = 2")" = "$(sha256sum "$WORK/archive/storage/$p2" | cut -d' ' -f1)" ] ||
  fail "the identical duplicate did not record its pending twin's hash"
start_daemon "$WORK/c.ini"
grep -q "recovery: 2 instance(s) stored before a crash still to be hashed: queued" "$WORK/daemon.log" ||
  fail "pending rows not queued at start"
for _ in $(seq 1 50); do [ "$(sql "SELECT COUNT(*) FROM instances WHERE sha256 = 'pending'")" = 0 ] && break; sleep 0.1; done
stop_daemon
[ "$(sql "SELECT COUNT(*) FROM instances WHERE sha256 = 'pending'")" = 0 ] || fail "pending rows not hashed after restart"
check_hashes "after restart"
"$RECISTRY" verify --archive "$WORK/archive" >"$WORK/v.log" || { cat "$WORK/v.log"; fail "verify after restart"; }
grep -q "pending" "$WORK/v.log" && fail "verify still reports pending rows"
ok "restart hashes the 2 pending rows (= sha256sum); duplicates of a pending row: identical records its twin's hash, different 0xC002"

# kill -9 right after a send: whatever was pending is hashed at the next start, and verify is clean
make_series "$WORK/t" 10 series=1.2.826.0.1.3680043.10.1.1.2
start_daemon "$WORK/c.ini"
send SITE014 "$PORT" "$WORK"/t/*.dcm >"$WORK/send2.log" || { cat "$WORK/send2.log"; fail "send 2"; }
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
echo "pending after kill -9: $(sql "SELECT COUNT(*) FROM instances WHERE sha256 = 'pending'")"
start_daemon "$WORK/c.ini"
stop_daemon
[ "$(sql "SELECT COUNT(*) FROM instances WHERE sha256 = 'pending'")" = 0 ] || fail "pending rows after kill -9 + restart"
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 16 ] || fail "16 instances"
check_hashes "after kill -9 and restart"
"$RECISTRY" verify --archive "$WORK/archive" >"$WORK/v.log" || { cat "$WORK/v.log"; fail "verify after kill -9"; }
ok "kill -9 after a send: restart leaves no pending hash, all equal to sha256sum, verify clean"
