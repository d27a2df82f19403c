# UIDs are validated on ingest (VR UI, PS3.5 9.1: 1-64 characters, digits and dots, no empty component, no
# leading zero in a component other than "0") and never truncated: five studies whose UIDs share their first
# 64 characters stay five refusals, not one indexed study. Overlong identifiers elsewhere (site, subject) are
# refused too, never cut.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 1
start_daemon "$WORK/c.ini"

P=1.2.826.0.1.3680043.10.7.1234567890.1234567890.1234567890.123456  # 64 characters
[ ${#P} = 64 ] || fail "prefix length ${#P}"
files=
for i in 1 2 3 4 5; do
  make_ct "$WORK/long$i.dcm" study=$P$i series=$P$i.1 sop=1.2.826.0.1.3680043.10.7.$i.1.1
  files="$files $WORK/long$i.dcm"
done
STORESCU_OPTS=-d send SITE014 "$PORT" $files >"$WORK/long.log" 2>&1 || true
n=$(grep -ci "0xa900" "$WORK/long.log" || true)
[ "$n" -ge 5 ] || { cat "$WORK/long.log"; fail "5 overlong Study UIDs: expected 5 refusals 0xA900, got $n"; }
grep -q "StudyInstanceUID" "$WORK/long.log" || fail "Error Comment names StudyInstanceUID"
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 0 ] || fail "an overlong-UID instance was indexed"
[ "$(sql 'SELECT COUNT(*) FROM studies')" = 0 ] || fail "an overlong-UID study was indexed"
ok "Study UIDs of 65 characters: refused 0xA900 naming the attribute, nothing indexed"

# Five series of five studies whose Series UIDs agree on 64 characters.
files=
for i in 1 2 3 4 5; do
  make_ct "$WORK/lser$i.dcm" study=1.2.826.0.1.3680043.10.7.$i series=$P$i sop=1.2.826.0.1.3680043.10.7.$i.2.1
  files="$files $WORK/lser$i.dcm"
done
STORESCU_OPTS=-d send SITE014 "$PORT" $files >"$WORK/lser.log" 2>&1 || true
n=$(grep -ci "0xa900" "$WORK/lser.log" || true)
[ "$n" -ge 5 ] || { cat "$WORK/lser.log"; fail "5 overlong Series UIDs: expected 5 refusals, got $n"; }
grep -q "SeriesInstanceUID" "$WORK/lser.log" || fail "Error Comment names SeriesInstanceUID"
[ "$(sql 'SELECT COUNT(*) FROM series')" = 0 ] || fail "an overlong series was indexed"
ok "Series UIDs of 65 characters: refused"

# Malformed UIDs of legal length.
i=0
for bad in 1.2.826.01.5 1.2..826.5 .1.2.826.5 1.2.826.5. 1.2.826.a.5 1.2.826.-5; do
  i=$((i + 1))
  make_ct "$WORK/bad$i.dcm" study="$bad" series=1.2.826.0.1.3680043.10.8.$i.1 sop=1.2.826.0.1.3680043.10.8.$i.1.1
done
STORESCU_OPTS=-d send SITE014 "$PORT" "$WORK"/bad?.dcm >"$WORK/bad.log" 2>&1 || true
n=$(grep -ci "0xa900" "$WORK/bad.log" || true)
[ "$n" -ge 6 ] || { cat "$WORK/bad.log"; fail "6 malformed Study UIDs: expected 6 refusals, got $n"; }
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 0 ] || fail "a malformed UID was indexed"
ok "leading zero, empty component, leading/trailing dot, letter, sign: refused"

# 64-character UIDs (Series, SOP Instance, Frame of Reference = study.9) and a component "0" are valid and
# stored whole.
Q=${P:0:62}
make_ct "$WORK/max.dcm" study=$Q series=$Q.0 sop=$Q.1
send SITE014 "$PORT" "$WORK/max.dcm" >"$WORK/max.log" 2>&1 || true
grep -q "Received Store Response (Success)" "$WORK/max.log" || { cat "$WORK/max.log"; fail "64-character UIDs refused"; }
[ "$(sql "SELECT COUNT(*) FROM series WHERE series_uid = '$Q.0' AND study_uid = '$Q' AND frame_of_reference_uid = '$Q.9'")" = 1 ] ||
  fail "64-character Series / Frame of Reference UID not stored whole"
[ "$(sql "SELECT COUNT(*) FROM instances WHERE sop_instance_uid = '$Q.1'")" = 1 ] || fail "64-character SOP UID not stored whole"
ok "a 64-character UID is stored whole"

# Overlong site and subject IDs (LO: 64 characters) are refused, never cut to a matching value.
long_subject=CIREL-014-0001$(printf 'X%.0s' $(seq 1 60))
make_ct "$WORK/lsubj.dcm" subject="$long_subject" study=1.2.826.0.1.3680043.10.8.20 series=1.2.826.0.1.3680043.10.8.20.1 sop=1.2.826.0.1.3680043.10.8.20.1.1
STORESCU_OPTS=-d send SITE014 "$PORT" "$WORK/lsubj.dcm" >"$WORK/lsubj.log" 2>&1 || true
grep -qi "0x0000" "$WORK/lsubj.log" && grep -qi "Received Store Response (Success)" "$WORK/lsubj.log" && fail "overlong subject accepted"
[ "$(sql "SELECT COUNT(*) FROM studies WHERE study_uid = '1.2.826.0.1.3680043.10.8.20'")" = 0 ] || fail "overlong subject indexed"
ok "overlong subject ID refused"
stop_daemon
