# Deeply nested sequences against the daemon (issue 9, item 2). A data set or a command set nested thousands
# of sequences deep used to overflow the association thread's stack inside DCMTK's recursive parser and kill
# the daemon (ingest down for every site). Now the received bytes are scanned before DCMTK parses them:
# a data set deeper than 64 sequences is answered 0xC000 with an Error Comment, a command set that deep ends
# its association, the daemon keeps serving; 64 levels are still accepted (explicit and implicit VR).
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
RAW="python3 $(dirname "$0")/lib/rawdicom.py"
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 2
start_daemon "$WORK/c.ini"

alive() {
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon died ($1)"
  echoscu -to 10 -aet SITE014 -aec FFCD_CORE 127.0.0.1 "$PORT" || fail "C-ECHO after $1"
}

# 20 000 levels in 720 KB of explicit VR little endian, before Patient's Name
make_ct "$WORK/deep.dcm" sop=1.2.826.0.1.3680043.10.1.1.1.901
out=$($RAW nest-store 127.0.0.1 "$PORT" SITE014 FFCD_CORE "$WORK/deep.dcm" 20000 2>&1) || { echo "$out"; alive "deep data set"; fail "no answer to a deep data set"; }
alive "a data set nested 20000 deep"
echo "$out" | grep -q "^0xc000 " || fail "deep data set answered '$out', not 0xC000"
echo "$out" | grep -qi "nested" || fail "no Error Comment about nesting: '$out'"
grep -q "sequences nested deeper than 64" "$WORK/daemon.log" || fail "no log line for the deep data set"
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 0 ] || fail "deep data set stored"
[ -z "$(ls -A "$WORK/archive/storage/.tmp" 2>/dev/null)" ] || fail "temporary file left"
ok "data set nested 20000 deep refused (0xC000), daemon alive"

# the same in implicit VR little endian
dcmconv +ti "$WORK/deep.dcm" "$WORK/deep-i.dcm"
out=$($RAW nest-store 127.0.0.1 "$PORT" SITE014 FFCD_CORE "$WORK/deep-i.dcm" 20000 2>&1) || { echo "$out"; alive "deep implicit data set"; fail "no answer"; }
alive "an implicit VR data set nested 20000 deep"
echo "$out" | grep -q "^0xc000 " || fail "deep implicit data set answered '$out'"
ok "implicit VR data set nested 20000 deep refused (0xC000)"

# the same, deflated (the guard inflates as it scans)
make_ct "$WORK/deep-d.dcm" sop=1.2.826.0.1.3680043.10.1.1.1.902
out=$($RAW nest-store 127.0.0.1 "$PORT" SITE014 FFCD_CORE "$WORK/deep-d.dcm" 20000 --ts deflated 2>&1) || { echo "$out"; alive "deep deflated data set"; fail "no answer"; }
alive "a deflated data set nested 20000 deep"
echo "$out" | grep -q "^0xc000 " || fail "deep deflated data set answered '$out'"
ok "deflated data set nested 20000 deep refused (0xC000)"

# the limit: 64 levels stored, 65 refused
make_ct "$WORK/d64.dcm" sop=1.2.826.0.1.3680043.10.1.1.1.964 n=2 z=2.5
out=$($RAW nest-store 127.0.0.1 "$PORT" SITE014 FFCD_CORE "$WORK/d64.dcm" 63 2>&1) || fail "64: $out"
echo "$out" | grep -q "^0x0000" || fail "63 levels refused: '$out'"
make_ct "$WORK/d65.dcm" sop=1.2.826.0.1.3680043.10.1.1.1.965 n=3 z=5
out=$($RAW nest-store 127.0.0.1 "$PORT" SITE014 FFCD_CORE "$WORK/d65.dcm" 64 2>&1) || fail "65: $out"
echo "$out" | grep -q "^0x0000" || fail "64 levels refused: '$out'"
make_ct "$WORK/d66.dcm" sop=1.2.826.0.1.3680043.10.1.1.1.966 n=4 z=7.5
out=$($RAW nest-store 127.0.0.1 "$PORT" SITE014 FFCD_CORE "$WORK/d66.dcm" 65 2>&1) || fail "66: $out"
echo "$out" | grep -q "^0xc000 " || fail "65 levels accepted: '$out'"
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 2 ] || fail "expected the 63- and 64-level instances stored"
f=$(sql "SELECT path FROM instances WHERE sop_instance_uid = '1.2.826.0.1.3680043.10.1.1.1.965'")
[ "$(dcmdump "$WORK/archive/storage/$f" | grep -c '(fffe,e000)')" = 64 ] || fail "stored 64-level instance lost items"
ok "63 and 64 nested sequences stored, 65 refused"

# a command set nested 20000 deep (C-ECHO with a sequence in its command set)
out=$($RAW nest-command 127.0.0.1 "$PORT" SITE014 FFCD_CORE 20000 2>&1) || true
alive "a command set nested 20000 deep"
grep -q "command set.*nested deeper than 64" "$WORK/daemon.log" || { echo "$out"; fail "no log line for the deep command set"; }
ok "command set nested 20000 deep: association ended, daemon alive"

# a command set of 1 MB (real ones are a few hundred bytes; DCMTK would hold it all in memory)
out=$($RAW big-command 127.0.0.1 "$PORT" SITE014 FFCD_CORE 1000000 2>&1) || true
alive "a 1 MB command set"
grep -q "command set larger than 65536 bytes" "$WORK/daemon.log" || { echo "$out"; fail "no log line for the 1 MB command set"; }
ok "command set of 1 MB: association ended, daemon alive"

# a good send afterwards
make_series "$WORK/good" 3
send SITE014 "$PORT" "$WORK"/good/*.dcm >"$WORK/send.log" || { cat "$WORK/send.log"; fail "send after the attacks"; }
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 5 ] || fail "3 more instances indexed"
ok "normal send afterwards"
stop_daemon
