# Durability and concurrency with real peers: four storescu associations from two sites at once (all stored,
# group commit shares the fsyncs), then a kill -9 of the daemon in the middle of a send: after a restart,
# `recistry verify` is clean and every instance the daemon had acknowledged is in the index.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 1
start_daemon "$WORK/c.ini"

make_sample "$WORK/sample" --subjects 4 --slices 20 --timepoints 2 --no-dirty
# four associations at once: S014 twice (its two subjects... one per timepoint), S027, S031
pids=
send SITE014 "$PORT" "$WORK"/sample/S014/CIREL-014-0001/BL/*.dcm >"$WORK/c1.log" & pids="$pids $!"
send SITE014 "$PORT" "$WORK"/sample/S014/CIREL-014-0001/FU1/*.dcm "$WORK"/sample/S014/CIREL-014-0002/*/*.dcm >"$WORK/c2.log" & pids="$pids $!"
send SITE027 "$PORT" "$WORK"/sample/S027/*/*/*.dcm >"$WORK/c3.log" & pids="$pids $!"
send SITE031 "$PORT" "$WORK"/sample/S031/*/*/*.dcm >"$WORK/c4.log" & pids="$pids $!"
for p in $pids; do wait "$p" || fail "a concurrent sender failed"; done
n=$(find "$WORK/sample" -name '*.dcm' | wc -l)
[ "$(sql 'SELECT COUNT(*) FROM instances')" = "$n" ] || fail "$n instances from 4 concurrent senders"
ok "4 concurrent associations from 3 sites: $n instances stored"

# kill -9 during a send of 200 instances of 512x512
"$RECISTRY" sample --out "$WORK/big" --seed 7 --subjects 1 --slices 100 --timepoints 2 --no-dirty --noise 0 >/dev/null
n0=$(sql 'SELECT COUNT(*) FROM instances')
find "$WORK/big/S014" -name '*.dcm' | sort >"$WORK/big.txt"
send SITE014 "$PORT" $(cat "$WORK/big.txt") >"$WORK/big.log" &
sender=$!
EXTRA_PIDS=$sender
for i in $(seq 1 200); do
  [ "$(sql 'SELECT COUNT(*) FROM instances')" -ge $((n0 + 20)) ] && break
  sleep 0.05
done
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
wait "$sender" 2>/dev/null || true
# The files the daemon answered Success for, in the order storescu sent them.
acked_files "$WORK/big.log" >"$WORK/acked.txt"
n_acked=$(wc -l <"$WORK/acked.txt")
[ "$n_acked" -ge 20 ] && [ "$n_acked" -lt 200 ] || fail "kill did not land mid-send ($n_acked acknowledged)"
# Also what a power loss may do with the index writer's relaxed sync: a committed row lost while its file is
# durable; and a leftover temporary file. The restart must re-index the one and remove the other.
echo partial >"$WORK/archive/storage/.tmp/999-1.part"
# an incomplete file under a final name (what a file system that reorders a rename before the data may leave)
mkdir -p "$WORK/archive/storage/S014/CIREL-014-0001/9.9/9.9.1"
head -c 3000 "$(head -1 "$WORK/big.txt")" >"$WORK/archive/storage/S014/CIREL-014-0001/9.9/9.9.1/9.9.1.1.dcm"
lost=$(sql "SELECT sop_instance_uid FROM instances ORDER BY received_at DESC LIMIT 1")
sql "DELETE FROM instances WHERE sop_instance_uid = '$lost'"
start_daemon "$WORK/c.ini"
stop_daemon
grep -q "recovery: indexed" "$WORK/daemon.log" || fail "lost row not re-indexed"
grep -q "recovery: removing incomplete unacknowledged file S014/CIREL-014-0001/9.9/9.9.1/9.9.1.1.dcm" "$WORK/daemon.log" ||
  fail "incomplete orphan not removed"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE sop_instance_uid = '$lost'")" = 1 ] || fail "lost row not back"
"$RECISTRY" verify --archive "$WORK/archive" >"$WORK/v.log" || { cat "$WORK/v.log"; fail "verify after kill -9 + restart"; }
[ -z "$(ls -A "$WORK/archive/storage/.tmp")" ] || fail "temporary files left after restart"
sop_uids <"$WORK/acked.txt" >"$WORK/acked.uids"
[ "$(wc -l <"$WORK/acked.uids")" = "$n_acked" ] || fail "could not read the SOP Instance UID of every acknowledged file"
lost_uids=$(missing_uids "$WORK/acked.uids")
[ -z "$lost_uids" ] || fail "acknowledged instances lost: $lost_uids"
ok "kill -9 after $n_acked acknowledged instances (+ a lost index row, a stray temp file): restart + verify clean, none lost"
