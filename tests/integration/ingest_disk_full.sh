# Disk full: the archive lives on a 2 MB tmpfs (as root; otherwise the daemon's injected storage failure is
# used). Instances that do not fit are answered Out of Resources (0xA700); no partial file is left, the
# daemon keeps serving, and `recistry verify` is clean. Then twins: the same instance from two associations,
# committed in one batch whose first copy fails, must both be answered Out of Resources.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
mkdir -p "$WORK/full"
mode=tmpfs
if [ -n "${RCY_TEST_NO_MOUNT:-}" ] || ! { [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=2m tmpfs "$WORK/full" 2>/dev/null; }; then
  mode=injected
  export RECISTRY_TEST_FAIL_STORAGE=1
fi
"$RECISTRY" init --archive "$WORK/full/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 1
sed -i "s|^path = .*|path = $WORK/full/archive|" "$WORK/c.ini"
"$RECISTRY" sample --out "$WORK/sample" --seed 3 --subjects 1 --slices 8 --timepoints 2 --no-dirty >/dev/null
start_daemon "$WORK/c.ini"
STORESCU_OPTS=-d send SITE014 "$PORT" $(ls "$WORK"/sample/S014/*/BL/*.dcm | sort) >"$WORK/o.log" 2>&1 || true
n_ok=$(grep -c "DIMSE Status *: 0x0000" "$WORK/o.log" || true)
n_full=$(grep -ci "DIMSE Status *: 0xa700" "$WORK/o.log" || true)
[ "$n_full" -ge 1 ] || { tail -20 "$WORK/o.log"; fail "no Out of Resources answer ($mode)"; }
[ $((n_ok + n_full)) = 8 ] || fail "every instance answered: $n_ok ok + $n_full full"
grep -q "ErrorComment" "$WORK/o.log" || fail "Error Comment with the failure"
echoscu -aet SITE014 -aec FFCD_CORE 127.0.0.1 "$PORT" || fail "daemon dead after disk full"
stop_daemon
[ -z "$(ls -A "$WORK/full/archive/storage/.tmp")" ] || fail "partial temporary files left"
sqlite3 "$WORK/full/archive/recistry.db" "SELECT COUNT(*) FROM instances" >"$WORK/n.txt"
[ "$(cat "$WORK/n.txt")" = "$n_ok" ] || fail "index holds $(cat "$WORK/n.txt") rows, $n_ok acknowledged"
"$RECISTRY" verify --archive "$WORK/full/archive" >"$WORK/v.log" || { cat "$WORK/v.log"; fail "verify"; }
ok "disk full ($mode): $n_ok stored, $n_full answered 0xA700, no partial file, verify clean"

# Twins in one batch: a first association holds the committer (every batch waits 1.5 s first) while two
# associations send the same instance, which then queue into one batch.
# twins NAME PHI_POLICY FIRST_FILE TWIN_FILE [ENV=VALUE...]: a fresh archive $WORK/NAME, logs $WORK/NAME-{a,b,c}.log
twins() {
  local name=$1 phi=$2 first=$3 twin=$4 port
  shift 4
  port=$(free_port)
  "$RECISTRY" init --archive "$WORK/$name" >/dev/null
  write_config "$WORK/$name.ini" "$port" "$phi" 60
  sed -i "s|^path = .*|path = $WORK/$name|" "$WORK/$name.ini"
  env RECISTRY_TEST_COMMIT_DELAY_MS=1500 "$@" "$RECISTRY" ingest --config "$WORK/$name.ini" >>"$WORK/daemon.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
  STORESCU_OPTS=-d send SITE014 "$port" "$first" >"$WORK/$name-a.log" 2>&1 &
  local pa=$!
  sleep 0.5
  STORESCU_OPTS=-d send SITE014 "$port" "$twin" >"$WORK/$name-b.log" 2>&1 &
  local pb=$!
  STORESCU_OPTS=-d send SITE014 "$port" "$twin" >"$WORK/$name-c.log" 2>&1 &
  local pc=$!
  wait $pa $pb $pc || true
  stop_daemon
}

# The first copy's storage fails (injected): the second, decided as its duplicate, must fail too, never be
# answered Success for an instance that was not stored.
make_series "$WORK/tw" 2
twins twins reject "$WORK/tw/1.dcm" "$WORK/tw/2.dcm" RECISTRY_TEST_FAIL_STORAGE=1
for l in b c; do
  if grep -q "DIMSE Status *: 0x0000" "$WORK/twins-$l.log"; then fail "twin $l answered Success, nothing stored"; fi
  grep -qi "DIMSE Status *: 0xa700" "$WORK/twins-$l.log" || { tail -20 "$WORK/twins-$l.log"; fail "twin $l not answered 0xA700"; }
done
grep -q "its identical twin in the same batch could not be stored" "$WORK/daemon.log" ||
  { tail -20 "$WORK/daemon.log"; fail "the two copies were not committed in one batch (timing?)"; }
[ "$(sqlite3 "$WORK/twins/recistry.db" "SELECT COUNT(*) FROM instances")" = 0 ] || fail "twins indexed"
ok "twins in one batch whose first copy fails: both answered 0xA700"

# Two copies of the same instance that is not anonymised, quarantined in one batch: one file kept aside, one
# row, and the second copy must not remove the first one's file.
make_ct "$WORK/tw/phi.dcm" sop=1.2.826.0.1.3680043.10.1.1.1.77 pir=NO
twins qtwins quarantine "$WORK/tw/1.dcm" "$WORK/tw/phi.dcm"
for l in b c; do
  grep -qi "DIMSE Status *: 0xc001" "$WORK/qtwins-$l.log" || { tail -20 "$WORK/qtwins-$l.log"; fail "PHI twin $l not answered 0xC001"; }
done
[ "$(sqlite3 "$WORK/qtwins/recistry.db" "SELECT COUNT(*) FROM quarantine")" = 1 ] || fail "one quarantine row"
qpath=$(sqlite3 "$WORK/qtwins/recistry.db" "SELECT path FROM quarantine")
[ -f "$WORK/qtwins/quarantine/$qpath" ] || fail "the quarantined file of the row is gone"
ok "PHI twins in one batch: one file kept aside, one row"
