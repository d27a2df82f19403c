# Every UID level belongs to exactly one site, subject and parent: a study to one site and subject, a series to
# one study, an instance to one series. A site that reuses another site's Series Instance UID under a study
# of its own (or a series of another subject of the same site) is refused with 0x0124 like a study of another
# site, nothing of the owner's is altered, the refusal is logged without PHI, and `recistry verify` agrees.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 1
start_daemon "$WORK/c.ini"

B=1.2.826.0.1.3680043.10.9   # S014 CIREL-014-0001 baseline: study B.1, series B.1.1, 3 instances
make_series "$WORK/own" 3 study=$B.1 series=$B.1.1
send SITE014 "$PORT" "$WORK"/own/*.dcm >"$WORK/own.log" || { cat "$WORK/own.log"; fail "baseline not stored"; }
[ "$(sql "SELECT COUNT(*) FROM instances WHERE series_uid = '$B.1.1'")" = 3 ] || fail "baseline: 3 instances"

# 1. S027, its own subject and a new study, but S014's series UID.
make_ct "$WORK/plant.dcm" site=S027 subject=CIREL-027-0840 study=$B.27 series=$B.1.1 sop=$B.27.1.1
STORESCU_OPTS=-d send SITE027 "$PORT" "$WORK/plant.dcm" >"$WORK/plant.log" 2>&1 || true
grep -qi "0x0124" "$WORK/plant.log" || { cat "$WORK/plant.log"; fail "cross-site series: not refused with 0x0124"; }
grep -qi "series belongs to another study" "$WORK/plant.log" || fail "cross-site series: Error Comment"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE sop_instance_uid = '$B.27.1.1'")" = 0 ] || fail "planted instance indexed"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE series_uid = '$B.1.1'")" = 3 ] || fail "owner's series altered"
[ "$(sql "SELECT COUNT(*) FROM studies WHERE study_uid = '$B.27'")" = 0 ] || fail "planted study indexed"
[ -z "$(find "$WORK/archive/storage/S027" -type f 2>/dev/null)" ] || fail "planted file kept in storage"
grep -q "refused $B.27.1.1 (status 0x0124)" "$WORK/daemon.log" || fail "refusal not logged"
ok "another site's series under a new study: refused 0x0124, owner's series unchanged"

# 2. Same site, another subject, new study, the series of CIREL-014-0001.
make_ct "$WORK/cross.dcm" subject=CIREL-014-0002 study=$B.2 series=$B.1.1 sop=$B.2.1.1
STORESCU_OPTS=-d send SITE014 "$PORT" "$WORK/cross.dcm" >"$WORK/cross.log" 2>&1 || true
grep -qi "0x0124" "$WORK/cross.log" || { cat "$WORK/cross.log"; fail "cross-subject series: not refused"; }
[ "$(sql "SELECT COUNT(*) FROM instances WHERE series_uid = '$B.1.1'")" = 3 ] || fail "series altered (same site)"

# 3. Same subject, another study of its own, the baseline's series.
make_ct "$WORK/restudy.dcm" study=$B.3 series=$B.1.1 sop=$B.3.1.1
STORESCU_OPTS=-d send SITE014 "$PORT" "$WORK/restudy.dcm" >"$WORK/restudy.log" 2>&1 || true
grep -qi "0x0124" "$WORK/restudy.log" || { cat "$WORK/restudy.log"; fail "series moved to another study"; }

# 4. Two new instances in one association claim one new series under two different studies: the first wins.
make_ct "$WORK/twin1.dcm" study=$B.4 series=$B.4.1 sop=$B.4.1.1
make_ct "$WORK/twin2.dcm" study=$B.5 series=$B.4.1 sop=$B.5.1.1
STORESCU_OPTS=-d send SITE014 "$PORT" "$WORK/twin1.dcm" "$WORK/twin2.dcm" >"$WORK/twin.log" 2>&1 || true
[ "$(sql "SELECT study_uid FROM series WHERE series_uid = '$B.4.1'")" = "$B.4" ] || fail "twin series: first study"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE series_uid = '$B.4.1'")" = 1 ] || fail "twin series: one instance"
grep -qi "0x0124" "$WORK/twin.log" || { cat "$WORK/twin.log"; fail "twin series: second not refused"; }

# 5. Another site's study UID (the existing rule) still refused.
make_ct "$WORK/study.dcm" site=S027 subject=CIREL-027-0840 study=$B.1 series=$B.27.9 sop=$B.27.9.1
STORESCU_OPTS=-d send SITE027 "$PORT" "$WORK/study.dcm" >"$WORK/study.log" 2>&1 || true
grep -qi "0x0124" "$WORK/study.log" || fail "another site's study: not refused"
ok "same site, other subject / other study / same batch: refused 0x0124"

# The instance S027 really owns is stored and served under S027 only.
make_ct "$WORK/mine.dcm" site=S027 subject=CIREL-027-0840 study=$B.27 series=$B.27.1 sop=$B.27.1.1
send SITE027 "$PORT" "$WORK/mine.dcm" >"$WORK/mine.log" || { cat "$WORK/mine.log"; fail "S027's own image refused"; }
[ "$(sql "SELECT s.site_id FROM instances i JOIN series e USING (series_uid) JOIN studies s USING (study_uid)
  WHERE i.sop_instance_uid = '$B.27.1.1'")" = S027 ] || fail "S027's image not under S027"
stop_daemon
"$RECISTRY" verify --archive "$WORK/archive" >"$WORK/verify.log" || { cat "$WORK/verify.log"; fail "verify"; }

# The index refuses a re-parented series even when a writer bypasses the daemon, and verify reports an index
# whose paths disagree with its hierarchy.
if sqlite3 "$WORK/archive/recistry.db" "UPDATE series SET study_uid = '$B.27' WHERE series_uid = '$B.1.1'" 2>/dev/null; then
  fail "the index let a series move to another study"
fi
sqlite3 "$WORK/archive/recistry.db" "PRAGMA foreign_keys=OFF; DROP TRIGGER IF EXISTS series_study_fixed;
  UPDATE series SET study_uid = '$B.27' WHERE series_uid = '$B.1.1'"
if "$RECISTRY" verify --archive "$WORK/archive" >"$WORK/verify2.log" 2>&1; then
  cat "$WORK/verify2.log"; fail "verify did not see a series indexed under another study"
fi
grep -q "$B.1.1" "$WORK/verify2.log" || fail "verify names the series"
ok "index refuses re-parenting; verify reports a hierarchy that disagrees with the files"
