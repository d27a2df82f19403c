#!/usr/bin/env bash
# One config file drives both `recistry ingest` and `recistry serve`, running at once on one archive:
# a study sent by storescu to the daemon shows up, complete, in the reader's worklist and series list.
source "$RCY_SOURCE_DIR/tests/integration/lib/ingest.sh"
ingest_setup
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
port=$(free_port)
write_config "$WORK/core.ini" "$port" reject 1
printf '[http]\nbind = 127.0.0.1\nport = 0\n' >>"$WORK/core.ini"
start_daemon "$WORK/core.ini"

"$RECISTRY" serve --config "$WORK/core.ini" >"$WORK/serve.out" 2>"$WORK/serve.err" &
EXTRA_PIDS=$!
for _ in $(seq 100); do grep -q '^listening on' "$WORK/serve.out" && break; sleep 0.05; done
U=$(sed -n 's/^listening on \(http:[^ ]*\)\/$/\1/p' "$WORK/serve.out")
[ -n "$U" ] || fail "serve did not start with the daemon's config: $(cat "$WORK/serve.err")"
ok "daemon and server share $WORK/core.ini"

make_series "$WORK/in" 6
storescu -aet SITE014 -aec FFCD_CORE 127.0.0.1 "$port" "$WORK"/in/*.dcm || fail "storescu refused"
study=1.2.826.0.1.3680043.10.1.1
for _ in $(seq 100); do
  "$RECISTRY" studies --archive "$WORK/archive" --json | jq -e --arg s "$study" \
    '.[] | select(.study_uid == $s and .status == "complete")' >/dev/null 2>&1 && break
  sleep 0.1
done
"$RECISTRY" studies --archive "$WORK/archive" --json | jq -e --arg s "$study" \
  '.[] | select(.study_uid == $s and .status == "complete" and .instances == 6)' >/dev/null ||
  fail "study not complete: $("$RECISTRY" studies --archive "$WORK/archive")"
ok "6 instances stored and the study checked complete"

printf 'pw-reader-123\n' >"$WORK/pw"
"$RECISTRY" user add --archive "$WORK/archive" --name reader --role central --password-file "$WORK/pw" >/dev/null
curl -sf -c "$WORK/jar" -H 'Content-Type: application/json' \
  --data-binary '{"name":"reader","password":"pw-reader-123"}' "$U/api/login" >/dev/null || fail "login"
curl -sf -b "$WORK/jar" "$U/api/worklist" >"$WORK/worklist.json" || fail "worklist"
jq -e --arg s "$study" '.subjects[] | select(.subject_id == "CIREL-014-0001") | .timepoints[] |
  select(.study_uid == $s and .timepoint == "BL")' "$WORK/worklist.json" >/dev/null ||
  fail "received study missing from the worklist: $(cat "$WORK/worklist.json")"
curl -sf -b "$WORK/jar" "$U/api/studies/$study/series" >"$WORK/series.json" || fail "series"
jq -e '.series | length == 1 and (.[0].instances | length) == 6' "$WORK/series.json" >/dev/null ||
  fail "series list: $(cat "$WORK/series.json")"
sop=$(jq -r '.series[0].instances[0].sop_instance_uid' "$WORK/series.json")
curl -sf -b "$WORK/jar" -o "$WORK/first.dcm" "$U/wado/instances/$sop" || fail "wado"
cmp -s "$WORK/first.dcm" "$(find "$WORK/archive/storage" -name "$sop.dcm")" || fail "served file differs from stored file"
ok "the reader sees the received study; the served file is the stored one"
