# Disk full: the archive lives on a 2 MB tmpfs (as root; otherwise the daemon's injected storage failure is
# used). Instances that do not fit are answered Out of Resources (0xA700); no partial file is left, the
# daemon keeps serving, and `recistry verify` is clean.
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
