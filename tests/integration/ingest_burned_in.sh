# Burned In Annotation (0028,0301): only a clear "NO" passes (DICOM padding trimmed); "YES" in any case,
# a multi-value containing YES, and any unrecognised value are refused with 0xC001 naming the attribute.
# Absent is allowed (the attribute is Type 1C/3 in the CT and MR IODs; docs/ingest.md).
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 1
start_daemon "$WORK/c.ini"

S=1.2.826.0.1.3680043.10.6
i=0
for v in 'YES' 'yes' 'Yes' 'NO\YES' 'YES\NO' 'MAYBE' 'N' '' ; do
  i=$((i + 1))
  make_ct "$WORK/bad$i.dcm" study=$S.$i series=$S.$i.1 sop=$S.$i.1.1 extra="(0028,0301) CS [$v]"
done
# '' (present, empty) is refused too: Type 1C when present means it has a value.
STORESCU_OPTS=-d send SITE014 "$PORT" "$WORK"/bad?.dcm >"$WORK/bad.log" 2>&1 || true
n=$(grep -ci "0xc001" "$WORK/bad.log" || true)
[ "$n" -ge 8 ] || { cat "$WORK/bad.log"; fail "8 burned-in values: expected 8 refusals 0xC001, got $n"; }
grep -q "BurnedInAnnotation" "$WORK/bad.log" || fail "Error Comment names BurnedInAnnotation"
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 0 ] || fail "a burned-in instance was indexed"
ok "YES / yes / Yes / NO\\YES / YES\\NO / MAYBE / N / empty: refused 0xC001"

make_ct "$WORK/no.dcm" study=$S.20 series=$S.20.1 sop=$S.20.1.1 extra='(0028,0301) CS [NO]'
make_ct "$WORK/nopad.dcm" study=$S.21 series=$S.21.1 sop=$S.21.1.1 extra='(0028,0301) CS [NO ]'
make_ct "$WORK/absent.dcm" study=$S.22 series=$S.22.1 sop=$S.22.1.1
send SITE014 "$PORT" "$WORK/no.dcm" "$WORK/nopad.dcm" "$WORK/absent.dcm" >"$WORK/ok.log" || { cat "$WORK/ok.log"; fail "NO / absent refused"; }
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 3 ] || fail "NO, 'NO ' and absent: 3 stored"
ok "NO, NO with padding, absent: stored"
stop_daemon
