#!/usr/bin/env bash
# Several nodes on one PostgreSQL index and one storage folder (pg/multinode only): two `recistry ingest`
# daemons (two configs, the same [archive] path and database, different ports) and one `recistry serve`.
# Three sites send at once, each its own study to both nodes (so every instance reaches the index twice,
# through different nodes, at about the same time). Checked against PostgreSQL itself (psql) and the files:
# one row and one file per instance, the second copy of each counted as a duplicate by whichever node got
# it second, every SOP Instance UID that storescu saw acknowledged is in the index, `recistry verify` clean,
# and the reader server lists all three subjects with all their instances.
set -euo pipefail
. "$RCY_SOURCE_DIR/tests/integration/lib/ingest.sh"
[ -n "${RCY_TEST_POSTGRES:-}" ] || fail "multinode runs on PostgreSQL only (ctest pg/multinode)"
ingest_setup

"$RECISTRY" init --archive "$WORK/archive" >/dev/null
[ -f "$WORK/archive/database.url" ] || fail "init did not put the archive on PostgreSQL"
URI=$(cat "$WORK/archive/database.url")
q() { psql -X -q -A -t -d "$URI" -c "$1"; }
[ "$(q "SELECT COUNT(*) FROM instances")" = 0 ] || fail "a fresh database"

N=10 # instances per study
declare -A SUBJ=([S014]=CIREL-014-0001 [S027]=CIREL-027-0001 [S031]=CIREL-031-0001)
i=0
for site in S014 S027 S031; do
  i=$((i + 1))
  make_series "$WORK/in/$site" $N site=$site subject="${SUBJ[$site]}" study=1.2.826.0.1.3680043.10.9.$i \
    series=1.2.826.0.1.3680043.10.9.$i.1
done

PORT_A=$(free_port)
PORT_B=$(free_port)
ARCHIVE_EXTRA="database = $URI" # the same [archive] path and database in both nodes' configs
write_config "$WORK/a.ini" "$PORT_A"
write_config "$WORK/b.ini" "$PORT_B"
# A node is one process on one host; its log is its own.
start_node() { # NAME CONFIG
  "$RECISTRY" ingest --config "$2" >>"$WORK/$1.log" 2>&1 &
  NODE_PID=$!
  local pid=$NODE_PID
  for _ in $(seq 100); do
    grep -q "ready: AE" "$WORK/$1.log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$1.log" >&2; fail "node $1 exited at start"; }
    sleep 0.1
  done
  fail "node $1 not ready after 10 s"
}
start_node a "$WORK/a.ini"
PID_A=$NODE_PID
start_node b "$WORK/b.ini"
PID_B=$NODE_PID
EXTRA_PIDS="$PID_A $PID_B"

# Six storescu at once: each site to both nodes.
senders=()
for site in S014 S027 S031; do
  ae=SITE${site#S}
  for node in A B; do
    port=PORT_$node
    send "$ae" "${!port}" "$WORK/in/$site"/*.dcm >"$WORK/send-$site-$node.log" 2>&1 &
    senders+=($!)
  done
done
for pid in "${senders[@]}"; do wait "$pid" || true; done

# The SOP Instance UID of every file storescu saw answered Success (file N.dcm of series S is S.N).
acked=$WORK/acked.txt
: >"$acked"
for site in S014 S027 S031; do
  for node in A B; do
    acked_files "$WORK/send-$site-$node.log" | sop_uids >>"$acked"
  done
done
total=$((3 * N))
[ "$(sort -u "$acked" | wc -l)" = "$total" ] || fail "acknowledged: $(sort -u "$acked" | wc -l) distinct of $total"
[ "$(wc -l <"$acked")" = $((2 * total)) ] || fail "both copies of every instance are answered Success ($(wc -l <"$acked"))"
ok "every instance acknowledged by both nodes"

[ "$(q "SELECT COUNT(*) FROM instances")" = "$total" ] || fail "rows: $(q "SELECT COUNT(*) FROM instances") (want $total)"
[ "$(q "SELECT COUNT(DISTINCT path) FROM instances")" = "$total" ] || fail "one path per row"
sort -u "$acked" >"$WORK/acked.sorted"
q "SELECT sop_instance_uid FROM instances ORDER BY 1" | sort >"$WORK/index.sorted"
comm -23 "$WORK/acked.sorted" "$WORK/index.sorted" >"$WORK/missing.txt"
[ ! -s "$WORK/missing.txt" ] || fail "acknowledged but not indexed: $(head -3 "$WORK/missing.txt")"
files=$(find "$WORK/archive/storage" -name '*.dcm' -not -path '*/.tmp/*' | wc -l)
[ "$files" = "$total" ] || fail "$files files in storage (want $total: never a second file)"
[ -z "$(ls -A "$WORK/archive/storage/.tmp" 2>/dev/null)" ] || fail "temporary files left"
ok "one row and one file per instance; every ack indexed"

# Each node finishes its associations' rows at release: wait for both nodes' six ends.
for _ in $(seq 50); do
  [ "$(q "SELECT COUNT(*) FROM associations WHERE ended_at IS NOT NULL")" -ge 6 ] && break
  sleep 0.1
done
read -r stored dups failed < <(q "SELECT SUM(n_stored), SUM(n_duplicates), SUM(n_failed) FROM associations" | tr '|' ' ')
[ "$stored" = "$total" ] && [ "$dups" = "$total" ] && [ "$failed" = 0 ] ||
  fail "associations: stored $stored, duplicates $dups, failed $failed (want $total, $total, 0)"
ok "the second copy of each instance counted a duplicate (stored $stored, duplicates $dups)"

"$RECISTRY" verify --archive "$WORK/archive" >"$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log"; fail "verify"; }
ok "verify clean"

# The reader server on the same database lists everything.
T=$WORK
A=$WORK/archive
R=$RECISTRY
printf '[archive]\npath = %s\ndatabase = %s\n[http]\nbind = 127.0.0.1\nport = 0\n' "$A" "$URI" >"$T/serve.ini"
"$R" serve --config "$T/serve.ini" >"$T/serve.out" 2>"$T/serve.err" &
EXTRA_PIDS="$EXTRA_PIDS $!"
for _ in $(seq 100); do grep -q '^listening on' "$T/serve.out" 2>/dev/null && break; sleep 0.05; done
U=$(sed -n 's/^listening on \(http:[^ ]*\)\/$/\1/p' "$T/serve.out")
[ -n "$U" ] || fail "server did not start: $(cat "$T/serve.err")"
printf 'pw-alice-123\n' >"$T/alice.pw"
"$R" user add --archive "$A" --name alice --role central --password-file "$T/alice.pw" >/dev/null
curl -s -c "$T/alice.jar" -H 'Content-Type: application/json' \
  --data-binary '{"name":"alice","password":"pw-alice-123"}' "$U/api/login" >/dev/null
curl -s -b "$T/alice.jar" "$U/api/worklist" >"$T/worklist.json"
jq -e '[.subjects[].subject_id] == ["CIREL-014-0001","CIREL-027-0001","CIREL-031-0001"]' "$T/worklist.json" \
  >/dev/null || fail "worklist: $(head -c 400 "$T/worklist.json")"
for study in $(jq -r '.subjects[].timepoints[].study_uid' "$T/worklist.json"); do
  curl -s -b "$T/alice.jar" "$U/api/studies/$study/series" >"$T/series.json"
  n=$(jq '[.. | objects | select(has("instances")) | .instances | if type == "array" then length else . end] | add' \
    "$T/series.json")
  [ "$n" = "$N" ] || fail "study $study: the server lists $n instances (want $N): $(head -c 300 "$T/series.json")"
done
ok "the reader server lists the three subjects and all their instances"

for pid in $PID_A $PID_B; do kill -TERM "$pid"; wait "$pid" || fail "a node exited non-zero after SIGTERM"; done
EXTRA_PIDS=${EXTRA_PIDS#"$PID_A $PID_B"}
echo "multinode: all checks passed"
