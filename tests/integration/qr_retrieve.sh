# Query/retrieve on the daemon, C-MOVE and C-GET with DCMTK's movescu (its own move destination) and getscu:
# each file received byte-identical (data set) to the archive's; S027 never sent to a peer of S014; an
# unknown move destination gets 0xA801; every request in the audit log without the query's values. (The
# [peer:NAME] configuration's checks: tests/unit/test_ingest_peers.c.)
source "$(dirname "$0")/lib/ingest.sh"
source "$(dirname "$0")/lib/qr.sh"
ingest_setup
qr_setup

# ---- C-MOVE: movescu is its own destination (RESEARCH, port MPORT, as configured)
mkdir -p "$WORK/m1"
movescu -S -aet RESEARCH -aec FFCD_CORE -aem RESEARCH --port "$MPORT" -od "$WORK/m1" 127.0.0.1 "$PORT" \
  -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=$S14 >"$WORK/m1.log" 2>&1 || { cat "$WORK/m1.log"; fail "movescu"; }
compare_received "$WORK/m1" 5
ok "C-MOVE study level: 5 files at the configured destination, data sets byte-identical to the archive's"

mkdir -p "$WORK/m2"
movescu -v -S -aet RESEARCH -aec FFCD_CORE -aem RESEARCH --port "$MPORT" -od "$WORK/m2" 127.0.0.1 "$PORT" \
  -k QueryRetrieveLevel=IMAGE -k StudyInstanceUID=$S14 -k SeriesInstanceUID=$S14.2 -k "SOPInstanceUID=$S14.2.1" \
  >"$WORK/m2.log" 2>&1 || { cat "$WORK/m2.log"; fail "movescu image"; }
compare_received "$WORK/m2" 1
mkdir -p "$WORK/m3"
movescu -v -S -aet RESEARCH -aec FFCD_CORE -aem RESEARCH --port "$MPORT" -od "$WORK/m3" 127.0.0.1 "$PORT" \
  -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=$S27 >"$WORK/m3.log" 2>&1 || true
compare_received "$WORK/m3" 0
mkdir -p "$WORK/m4"
movescu -v -S -aet RESEARCH -aec FFCD_CORE -aem ELSEWHERE --port "$MPORT" -od "$WORK/m4" 127.0.0.1 "$PORT" \
  -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=$S14 >"$WORK/m4.log" 2>&1 || true
grep -q "Refused: MoveDestinationUnknown" "$WORK/m4.log" || { cat "$WORK/m4.log"; fail "unknown destination: 0xA801"; }
compare_received "$WORK/m4" 0
mkdir -p "$WORK/m5"
movescu -v -S -aet NOFIND -aec FFCD_CORE -aem RESEARCH --port "$MPORT" -od "$WORK/m5" 127.0.0.1 "$PORT" \
  -k QueryRetrieveLevel=SERIES -k StudyInstanceUID=$S14 -k SeriesInstanceUID=$S14.1 >"$WORK/m5.log" 2>&1 \
  || { cat "$WORK/m5.log"; fail "movescu by a move-only peer"; }
compare_received "$WORK/m5" 3
ok "C-MOVE: image level; S027 never sent to an S014 peer; unknown destination 0xA801; a move-only peer may move"

# ---- C-GET on the same association
mkdir -p "$WORK/g1"
getscu -S -aet RESEARCH -aec FFCD_CORE -od "$WORK/g1" 127.0.0.1 "$PORT" \
  -k QueryRetrieveLevel=SERIES -k StudyInstanceUID=$S14 -k SeriesInstanceUID=$S14.1 >"$WORK/g1.log" 2>&1 \
  || { cat "$WORK/g1.log"; fail "getscu"; }
compare_received "$WORK/g1" 3
mkdir -p "$WORK/g2"
if getscu -S -aet ALLPACS -aec FFCD_CORE -od "$WORK/g2" 127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY \
  -k StudyInstanceUID=$S14 >"$WORK/g2.log" 2>&1; then
  compare_received "$WORK/g2" 0
fi
compare_received "$WORK/g2" 0
ok "C-GET series level: 3 files on the same association, byte-identical; a find-only peer gets none"

# ---- the audit: each request, its level and counts, no query values
find_as ALLPACS "$WORK/f1" -k QueryRetrieveLevel=SERIES -k StudyInstanceUID=$S14 -k SeriesDescription='portal*' \
  || fail "findscu"
[ "$(n_rsp "$WORK/f1")" = 1 ] || fail "one series"
"$RECISTRY" audit list --archive "$WORK/archive" --action dicom. --limit 100 >"$WORK/audit.txt"
grep -q "dicom.find" "$WORK/audit.txt" && grep -q "dicom.move" "$WORK/audit.txt" && grep -q "dicom.get" "$WORK/audit.txt" \
  || { cat "$WORK/audit.txt"; fail "audit rows"; }
grep -q "C-MOVE level STUDY to RESEARCH: 5 matched, 5 sent" "$WORK/audit.txt" || { cat "$WORK/audit.txt"; fail "move counts audited"; }
grep -q "0xa801" "$WORK/audit.txt" || fail "refused move audited"
! grep -q "CIREL-\|portal" "$WORK/audit.txt" || fail "query values in the audit"
! grep -q "CIREL-027\|portal venous" "$WORK/daemon.log" || fail "query values in the log"
"$RECISTRY" audit verify --archive "$WORK/archive" >/dev/null || fail "audit chain"
stop_daemon
ok "every query and retrieve audited (level, counts), without the query's values"
