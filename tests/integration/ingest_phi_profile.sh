# The anonymisation check follows the PS3.15 Basic Application Level Confidentiality Profile (table E.1-1, in
# src/ingest/deid_profile.c): identity-bearing attributes are refused wherever they are, at the top level or
# nested in a sequence at any depth; private data elements follow [policy] private_tags (refuse by default,
# quarantine, allow) with a private_allow list of known-safe private blocks. No value reaches the log.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
S=1.2.826.0.1.3680043.10.4
n=0
mk() { # NAME extra-dump-lines
  n=$((n + 1))
  make_ct "$WORK/$1.dcm" study=$S.$n series=$S.$n.1 sop=$S.$n.1.1 extra="$2"
}
mk accession   '(0008,0050) SH [ACC99887766]'
mk history     '(0010,21b0) LT [Seen by Dr Martin at home]'
mk station     '(0008,1010) SH [CTSCAN-ROOM3-HOSP]'
mk nestedname  "(0040,0260) SQ (Sequence with explicit length #=1)
(fffe,e000) na (Item with explicit length #=1)
(0010,0010) PN [DURAND^PAUL]
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)"
mk deepbirth   "(0040,0260) SQ (Sequence with explicit length #=1)
(fffe,e000) na (Item with explicit length #=1)
(0008,2218) SQ (Sequence with explicit length #=1)
(fffe,e000) na (Item with explicit length #=1)
(0010,0030) DA [19610203]
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)"
mk private     '(0009,0010) LO [ACME_IDENT]
(0009,1001) LO [BERNARD^ALICE]'
mk opname      '(0008,1070) PN [LEROY^MARC]'
CASES="accession history station nestedname deepbirth private opname"
NAMES="AccessionNumber AdditionalPatientHistory StationName PatientName PatientBirthDate private OperatorsName"
VALUES="ACC99887766 Dr.Martin CTSCAN-ROOM3 DURAND 19610203 BERNARD LEROY"
mk clean       ''
mk nestedok    "(0040,0260) SQ (Sequence with explicit length #=1)
(fffe,e000) na (Item with explicit length #=1)
(0010,0010) PN [CIREL-014-0001]
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)"
mk safeprivate '(0019,0010) LO [RCY_SAFE_VENDOR]
(0019,1001) DS [1.5]'

no_phi_in_log() {
  for v in $VALUES; do
    if grep -q "$v" "$WORK/daemon.log"; then fail "PHI value '$v' written to the log"; fi
  done
}
files() { for c in "$@"; do echo "$WORK/$c.dcm"; done; }

# Default policy (private_tags = refuse, no allow-list): every identity case and every private element refused.
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
PORT=$(free_port)
write_config "$WORK/c.ini" "$PORT" reject 1
start_daemon "$WORK/c.ini"
STORESCU_OPTS=-d send SITE014 "$PORT" $(files $CASES safeprivate) >"$WORK/o.log" 2>&1 || true
got=$(grep -ci "0xc001" "$WORK/o.log" || true)
[ "$got" -ge 8 ] || { cat "$WORK/o.log"; fail "expected 8 refusals 0xC001, got $got"; }
for name in $NAMES; do grep -q "$name" "$WORK/o.log" || fail "no Error Comment names $name"; done
send SITE014 "$PORT" $(files clean nestedok) >"$WORK/ok.log" || { cat "$WORK/ok.log"; fail "clean instances refused"; }
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 2 ] || fail "only the 2 clean instances are indexed"
no_phi_in_log
stop_daemon
ok "default: accession, history, station, nested name, name 2 levels deep, private name, operator refused"

# private_tags = allow with a known-safe block: the safe private block passes; an unlisted one too (allow).
rm -rf "$WORK/archive"; "$RECISTRY" init --archive "$WORK/archive" >/dev/null
PORT=$(free_port)
write_config "$WORK/c.ini" "$PORT" reject 1
sed -i 's/^\[policy\]/[policy]\nprivate_tags = refuse\nprivate_allow = 0019:RCY_SAFE_VENDOR, 0029/' "$WORK/c.ini"
start_daemon "$WORK/c.ini"
send SITE014 "$PORT" $(files safeprivate) >"$WORK/sp.log" || { cat "$WORK/sp.log"; fail "allow-listed private block refused"; }
STORESCU_OPTS=-d send SITE014 "$PORT" $(files private) >"$WORK/p.log" 2>&1 || true
grep -qi "0xc001" "$WORK/p.log" || fail "unlisted private block not refused"
stop_daemon
ok "private_allow: a listed creator block passes, an unlisted one is refused"

# private_tags = quarantine: kept aside even under phi = reject.
rm -rf "$WORK/archive"; "$RECISTRY" init --archive "$WORK/archive" >/dev/null
PORT=$(free_port)
write_config "$WORK/c.ini" "$PORT" reject 1
sed -i 's/^\[policy\]/[policy]\nprivate_tags = quarantine/' "$WORK/c.ini"
start_daemon "$WORK/c.ini"
STORESCU_OPTS=-d send SITE014 "$PORT" $(files private) >"$WORK/q.log" 2>&1 || true
grep -qi "0xc001" "$WORK/q.log" || fail "quarantine: not answered 0xC001"
[ "$(sql 'SELECT COUNT(*) FROM quarantine')" = 1 ] || fail "private_tags = quarantine: 1 row"
stop_daemon
ok "private_tags = quarantine keeps the instance aside"

# private_tags = allow: private elements pass (identity in standard attributes still refused).
rm -rf "$WORK/archive"; "$RECISTRY" init --archive "$WORK/archive" >/dev/null
PORT=$(free_port)
write_config "$WORK/c.ini" "$PORT" reject 1
sed -i 's/^\[policy\]/[policy]\nprivate_tags = allow/' "$WORK/c.ini"
start_daemon "$WORK/c.ini"
send SITE014 "$PORT" $(files private safeprivate) >"$WORK/a.log" || { cat "$WORK/a.log"; fail "allow: refused"; }
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 2 ] || fail "allow: 2 stored"
no_phi_in_log
stop_daemon
ok "private_tags = allow"

# A bad policy value is a configuration error naming the key.
sed -i 's/^private_tags = allow/private_tags = sometimes/' "$WORK/c.ini"
if "$RECISTRY" ingest --config "$WORK/c.ini" >"$WORK/bad.log" 2>&1; then fail "bad private_tags accepted"; fi
grep -q "private_tags" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "config error names private_tags"; }
ok "unknown private_tags value: configuration error"
