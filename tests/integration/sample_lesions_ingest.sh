#!/usr/bin/env bash
# The lesion phantoms (recistry sample --lesion-phantoms) go through the ingest daemon as site S014 sends them,
# with the demo's site configuration (subject pattern ^CIREL-014-[0-9]{4}$): every instance stored, the six
# studies complete (not flagged, not refused), under the subjects and timepoints of the truth files.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 1
"$RECISTRY" sample --out "$WORK/ph" --lesion-phantoms >/dev/null
start_daemon "$WORK/c.ini"
send SITE014 "$PORT" $(find "$WORK/ph/S014" -name '*.dcm' | sort) >"$WORK/send.log" || {
  tail -5 "$WORK/send.log"; fail "storescu failed"; }
expected=$(find "$WORK/ph/S014" -name '*.dcm' | wc -l)
[ "$(sql 'SELECT COUNT(*) FROM instances')" = "$expected" ] || fail "not all $expected phantom instances stored"
for _ in $(seq 1 40); do
  [ "$(sql "SELECT COUNT(*) FROM studies WHERE status = 'receiving'")" = 0 ] && break
  sleep 0.25
done
got=$(sql "SELECT subject_id || '/' || timepoint || '=' || status FROM studies ORDER BY 1" | tr '\n' ' ')
want="CIREL-014-0961/BL=complete CIREL-014-0961/FU1=complete CIREL-014-0962/BL=complete CIREL-014-0962/FU1=complete CIREL-014-0963/BL=complete CIREL-014-0963/FU1=complete "
[ "$got" = "$want" ] || { "$RECISTRY" studies --archive "$WORK/archive"; fail "studies: $got"; }
ok "lesion phantoms ingested: $expected instances, 6 studies complete"
