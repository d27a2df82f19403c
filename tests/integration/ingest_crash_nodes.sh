#!/usr/bin/env bash
# kill -9 of an ingest node while several sites send to it, on both engines (integration/ and pg/): on
# PostgreSQL two nodes share the index and the storage folder and only one is killed (the other keeps
# receiving, and the restarted node's recovery must not touch the other's files in flight); on SQLite the
# one node. After the restart: `recistry verify` clean, no temporary file left, every SOP Instance UID
# storescu saw acknowledged is in the index (checked with sqlite3 or psql against the index itself), and
# the sites' resends of what failed complete the series with no second row or file.
set -euo pipefail
. "$RCY_SOURCE_DIR/tests/integration/lib/ingest.sh"
ingest_setup

"$RECISTRY" init --archive "$WORK/archive" >/dev/null
if [ -f "$WORK/archive/database.url" ]; then
  URI=$(cat "$WORK/archive/database.url")
  q() { psql -X -q -A -t -d "$URI" -c "$1"; }
  NODES=2
  ARCHIVE_EXTRA="database = $URI" # both nodes' configs name the database as well as the folder
else
  q() { /usr/bin/sqlite3 "$WORK/archive/recistry.db" "$1"; }
  NODES=1
fi

N=20
declare -A SUBJ=([S014]=CIREL-014-0002 [S027]=CIREL-027-0002 [S031]=CIREL-031-0002)
i=0
for site in S014 S027 S031; do
  i=$((i + 1))
  make_series "$WORK/in/$site" $N site=$site subject="${SUBJ[$site]}" study=1.2.826.0.1.3680043.10.8.$i \
    series=1.2.826.0.1.3680043.10.8.$i.1
done
make_series "$WORK/in/B" $N site=S014 subject=CIREL-014-0003 study=1.2.826.0.1.3680043.10.8.9 \
  series=1.2.826.0.1.3680043.10.8.9.1

start_node() { # NAME CONFIG
  local before
  before=$(grep -c "ready: AE" "$WORK/$1.log" 2>/dev/null || true)
  RECISTRY_TEST_COMMIT_DELAY_MS=15 "$RECISTRY" ingest --config "$2" >>"$WORK/$1.log" 2>&1 &
  NODE_PID=$!
  local pid=$NODE_PID
  for _ in $(seq 100); do
    [ "$(grep -c "ready: AE" "$WORK/$1.log" 2>/dev/null || true)" -gt "${before:-0}" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$1.log" >&2; fail "node $1 exited at start"; }
    sleep 0.1
  done
  fail "node $1 not ready after 10 s"
}
PORT_A=$(free_port)
write_config "$WORK/a.ini" "$PORT_A"
start_node a "$WORK/a.ini"
PID_A=$NODE_PID
EXTRA_PIDS=$PID_A
if [ $NODES = 2 ]; then
  PORT_B=$(free_port)
  write_config "$WORK/b.ini" "$PORT_B"
  start_node b "$WORK/b.ini"
PID_B=$NODE_PID
  EXTRA_PIDS="$EXTRA_PIDS $PID_B"
fi

acked_of() { acked_files "$@" | sop_uids; } # LOG... : SOP Instance UIDs answered Success

senders=()
for site in S014 S027 S031; do
  send "SITE${site#S}" "$PORT_A" "$WORK/in/$site"/*.dcm >"$WORK/send-$site.log" 2>&1 &
  senders+=($!)
done
if [ $NODES = 2 ]; then
  send SITE014 "$PORT_B" "$WORK/in/B"/*.dcm >"$WORK/send-B.log" 2>&1 &
  SENDER_B=$!
fi
# kill -9 once node A has acknowledged some of each site's instances, mid-stream
for _ in $(seq 200); do
  n=$(cat "$WORK"/send-S*.log 2>/dev/null | grep -c "Received Store Response (Success)" || true)
  [ "$n" -ge 8 ] && break
  sleep 0.05
done
kill -9 "$PID_A"
wait "$PID_A" 2>/dev/null || true
for pid in "${senders[@]}"; do wait "$pid" || true; done
acked_of "$WORK"/send-S*.log >"$WORK/acked-a.txt"
na=$(sort -u "$WORK/acked-a.txt" | wc -l)
[ "$na" -ge 8 ] && [ "$na" -lt $((3 * N)) ] || fail "the kill did not land mid-stream ($na of $((3 * N)) acknowledged)"
ok "node A killed with $na of $((3 * N)) instances acknowledged"

start_node a "$WORK/a.ini"
PID_A=$NODE_PID
EXTRA_PIDS="$PID_A ${PID_B:-}"
if [ $NODES = 2 ]; then
  wait "$SENDER_B" || fail "node B's site failed while node A crashed and restarted: $(tail -5 "$WORK/send-B.log")"
  acked_of "$WORK/send-B.log" >"$WORK/acked-b.txt"
  [ "$(sort -u "$WORK/acked-b.txt" | wc -l)" = $N ] || fail "node B acknowledged $(sort -u "$WORK/acked-b.txt" | wc -l) of $N"
  ok "node B received all its site's instances throughout"
fi

q "SELECT sop_instance_uid FROM instances" | sort >"$WORK/index.sorted"
cat "$WORK"/acked-*.txt | sort -u >"$WORK/acked.sorted"
comm -23 "$WORK/acked.sorted" "$WORK/index.sorted" >"$WORK/missing.txt"
[ ! -s "$WORK/missing.txt" ] || fail "acknowledged but not in the index: $(head -3 "$WORK/missing.txt")"
ok "every acknowledged instance is in the index"
"$RECISTRY" verify --archive "$WORK/archive" >"$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log"; fail "verify after the crash"; }
[ -z "$(ls -A "$WORK/archive/storage/.tmp" 2>/dev/null)" ] || fail "temporary files left: $(ls "$WORK/archive/storage/.tmp")"
ok "verify clean after restart"

# The sites resend everything (as a site does after failures): the series complete, nothing twice.
for site in S014 S027 S031; do
  send "SITE${site#S}" "$PORT_A" "$WORK/in/$site"/*.dcm >"$WORK/resend-$site.log" 2>&1 || fail "resend $site"
done
total=$((3 * N + (NODES - 1) * N))
[ "$(q "SELECT COUNT(*) FROM instances")" = $total ] || fail "rows after resend: $(q "SELECT COUNT(*) FROM instances") (want $total)"
files=$(find "$WORK/archive/storage" -name '*.dcm' -not -path '*/.tmp/*' | wc -l)
[ "$files" = $total ] || fail "$files files (want $total)"
"$RECISTRY" verify --archive "$WORK/archive" >"$WORK/verify2.log" 2>&1 || { cat "$WORK/verify2.log"; fail "verify after resend"; }
ok "resends complete the series: $total rows, $files files, verify clean"
kill -TERM "$PID_A"; wait "$PID_A" || fail "node A exited non-zero after SIGTERM"
[ -n "${PID_B:-}" ] && { kill -TERM "$PID_B"; wait "$PID_B" || fail "node B exited non-zero after SIGTERM"; }
EXTRA_PIDS=
echo "ingest_crash_nodes: all checks passed"
