#!/usr/bin/env bash
# The TARE phantoms (recistry sample --tare, docs/sample.md "TARE phantoms") through the ingest daemon as site
# S014, the way a site sends them (DCMTK storescu +sd +r on the subject's folder): every CT slice, PET slice and the
# multi-frame SPECT is stored, both studies complete, and the index holds the PT and NM series with the CT's frame
# of reference.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 1
"$RECISTRY" sample --out "$WORK/tare" --tare --phantom accuracy --seed 4 >/dev/null
start_daemon "$WORK/c.ini"

subject=CIREL-014-0971
send SITE014 "$PORT" +sd +r "$WORK/tare/S014/$subject" >"$WORK/send.log" || { tail -20 "$WORK/send.log"; fail "storescu failed"; }
expected=$(find "$WORK/tare/S014/$subject" -name '*.dcm' | wc -l)
[ "$(sql 'SELECT COUNT(*) FROM instances')" = "$expected" ] || {
  grep -i "status" "$WORK/send.log" | sort | uniq -c | head; fail "$expected instances stored"; }
for i in $(seq 1 60); do
  [ "$(sql "SELECT COUNT(*) FROM studies WHERE status = 'receiving'")" = 0 ] && break
  sleep 0.25
done
[ "$(sql "SELECT COUNT(*) FROM studies WHERE subject_id = '$subject' AND status IN ('complete', 'qc-warning')")" = 2 ] || {
  "$RECISTRY" studies --archive "$WORK/archive"; fail "both studies of $subject closed"; }
[ "$(sql "SELECT group_concat(modality, ',') FROM (SELECT modality FROM series ORDER BY modality)")" = "CT,CT,NM,PT" ] ||
  fail "series modalities: $(sql 'SELECT modality FROM series')"
[ "$(sql "SELECT COUNT(DISTINCT frame_of_reference_uid) FROM series")" = 2 ] || fail "one frame of reference per study"
ok "$subject: $expected instances (CT, 90Y PET, 99mTc-MAA SPECT) stored, MAA and Y90 studies closed"
sql "SELECT timepoint, status FROM studies ORDER BY timepoint"
echo "sample_tare_ingest: ok"
