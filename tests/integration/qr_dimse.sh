# Query/retrieve on the daemon with DCMTK's own SCUs: findscu (Study and Patient Root; levels, wildcards,
# date ranges, UID lists, return keys), movescu as its own move destination and getscu, each file received
# byte-identical (data set) to the archive's; the rights: a peer limited to S014 never sees S027, a peer
# without find is refused, an unknown move destination gets 0xA801, an unknown calling AE is rejected; the
# [peer:NAME] configuration is validated; every request is in the audit log.
source "$(dirname "$0")/lib/ingest.sh"
source "$(dirname "$0")/lib/qr.sh"
ingest_setup
PORT=$(free_port)
MPORT=$(free_port)
S14=1.2.826.0.1.3680043.10.1.1
S27=1.2.826.0.1.3680043.10.2.1

make_series "$WORK/in/a" 3 study=$S14 series=$S14.1
make_series "$WORK/in/b" 2 study=$S14 series=$S14.2 extra='(0008,103e) LO [portal venous]'
make_series "$WORK/in/c" 2 site=S027 subject=CIREL-027-0001 study=$S27 series=$S27.1
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT"
cat >>"$WORK/c.ini" <<INI
[peer:workstation]
ae = RESEARCH
host = 127.0.0.1
port = $MPORT
rights = find, move, get
sites = S014
[peer:pacs]
ae = ALLPACS
rights = find
sites = *
[peer:mover]
ae = NOFIND
rights = move
sites = S014
INI
start_daemon "$WORK/c.ini"
send SITE014 "$PORT" "$WORK"/in/a/*.dcm "$WORK"/in/b/*.dcm >"$WORK/s1.log" || { cat "$WORK/s1.log"; fail "send S014"; }
STORESCU_OPTS= send SITE027 "$PORT" "$WORK"/in/c/*.dcm >"$WORK/s2.log" || { cat "$WORK/s2.log"; fail "send S027"; }
[ "$(sql "SELECT COUNT(*) FROM instances")" = 7 ] || fail "7 instances indexed"

# find AE OUTDIR keys... : findscu (Study Root unless -P is among the keys), responses extracted to OUTDIR.
find_as() {
  local ae=$1 out=$2; shift 2
  rm -rf "$out"; mkdir -p "$out"
  local model=-S
  [ "${1:-}" = -P ] && { model=-P; shift; }
  findscu -v $model -aet "$ae" -aec FFCD_CORE -X -od "$out" 127.0.0.1 "$PORT" "$@" >"$out.log" 2>&1
}
n_rsp() { ls "$1" | grep -c '^rsp' || true; }
val() { dcmdump +P "$2" "$1" 2>/dev/null | head -1 | sed -n 's/.*\[\(.*\)\].*/\1/p'; }

# ---- C-FIND, study level: only the peer's sites; the keys asked, in their values
find_as RESEARCH "$WORK/f1" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID -k PatientID -k StudyDate \
  -k ModalitiesInStudy -k NumberOfStudyRelatedSeries -k NumberOfStudyRelatedInstances -k PatientName \
  || { cat "$WORK/f1.log"; fail "findscu study level"; }
[ "$(n_rsp "$WORK/f1")" = 1 ] || { cat "$WORK/f1.log"; fail "RESEARCH (S014 only) sees 1 study, got $(n_rsp "$WORK/f1")"; }
r=$WORK/f1/rsp0001.dcm
[ "$(val "$r" 0020,000d)" = $S14 ] || fail "study UID"
[ "$(val "$r" 0010,0020)" = CIREL-014-0001 ] || fail "PatientID"
[ "$(val "$r" 0008,0020)" = 20240115 ] || fail "StudyDate"
[ "$(val "$r" 0008,0061)" = CT ] || fail "ModalitiesInStudy"
[ "$(val "$r" 0020,1206)" = 2 ] || fail "NumberOfStudyRelatedSeries"
[ "$(val "$r" 0020,1208)" = 5 ] || fail "NumberOfStudyRelatedInstances"
[ "$(val "$r" 0008,0052)" = STUDY ] || fail "QueryRetrieveLevel in the response"
dcmdump "$r" >"$WORK/r.txt"
grep -q "(0010,0010) PN (no value available)" "$WORK/r.txt" || { cat "$WORK/r.txt"; fail "PatientName returned empty"; }
# nothing the request did not ask for (beyond the level)
[ "$(grep '^(' "$WORK/r.txt" | grep -vc "^(0002,")" = 8 ] || { cat "$WORK/r.txt"; fail "response carries exactly the 7 keys + level"; }
find_as ALLPACS "$WORK/f2" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID || fail "findscu ALLPACS"
[ "$(n_rsp "$WORK/f2")" = 2 ] || fail "ALLPACS (sites = *) sees both studies"
ok "C-FIND study level: a peer limited to S014 sees its study only, with the keys asked; sites = * sees both"

find_as RESEARCH "$WORK/f3" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=$S27 || fail "findscu S027 by UID"
[ "$(n_rsp "$WORK/f3")" = 0 ] || fail "RESEARCH must not see S027's study even by its UID"
find_as RESEARCH "$WORK/f3" -k QueryRetrieveLevel=STUDY -k PatientID=CIREL-027* || fail "findscu S027 wildcard"
[ "$(n_rsp "$WORK/f3")" = 0 ] || fail "RESEARCH must not see S027's subject"
find_as ALLPACS "$WORK/f4" -k QueryRetrieveLevel=STUDY -k PatientID='CIREL-0?7-*' || fail "wildcard ?"
[ "$(n_rsp "$WORK/f4")" = 1 ] && [ "$(val "$WORK/f4/rsp0001.dcm" 0010,0020)" = CIREL-027-0001 ] || fail "? wildcard"
find_as ALLPACS "$WORK/f4" -k QueryRetrieveLevel=STUDY -k StudyDate=20240101-20240131 || fail "date range"
[ "$(n_rsp "$WORK/f4")" = 2 ] || fail "date range in"
find_as ALLPACS "$WORK/f4" -k QueryRetrieveLevel=STUDY -k StudyDate=-20231231 || fail "date range out"
[ "$(n_rsp "$WORK/f4")" = 0 ] || fail "date range out"
find_as ALLPACS "$WORK/f4" -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$S14\\$S27\\1.2.3" || fail "UID list"
[ "$(n_rsp "$WORK/f4")" = 2 ] || fail "UID list"
find_as ALLPACS "$WORK/f4" -k QueryRetrieveLevel=STUDY -k ModalitiesInStudy=MR || fail "modalities"
[ "$(n_rsp "$WORK/f4")" = 0 ] || fail "ModalitiesInStudy=MR matches nothing"
ok "C-FIND matching: UID by value, * and ? wildcards, date ranges, UID lists, ModalitiesInStudy"

# ---- series and image levels
find_as RESEARCH "$WORK/f5" -k QueryRetrieveLevel=SERIES -k StudyInstanceUID=$S14 -k SeriesInstanceUID -k Modality \
  -k SeriesNumber -k SeriesDescription -k NumberOfSeriesRelatedInstances || fail "series level"
[ "$(n_rsp "$WORK/f5")" = 2 ] || fail "2 series"
dcmdump "$WORK"/f5/rsp* >"$WORK/r.txt"
grep -q "portal venous" "$WORK/r.txt" || fail "SeriesDescription"
find_as RESEARCH "$WORK/f5" -k QueryRetrieveLevel=SERIES -k StudyInstanceUID=$S14 -k SeriesDescription='portal*' \
  -k NumberOfSeriesRelatedInstances || fail "series by description"
[ "$(n_rsp "$WORK/f5")" = 1 ] && [ "$(val "$WORK/f5/rsp0001.dcm" 0020,1209)" = 2 ] || fail "series wildcard + count"
[ "$(val "$WORK/f5/rsp0001.dcm" 0020,000e)" = $S14.2 ] || fail "the series' unique key returned unasked"
find_as RESEARCH "$WORK/f6" -k QueryRetrieveLevel=IMAGE -k StudyInstanceUID=$S14 -k SeriesInstanceUID=$S14.1 \
  -k SOPInstanceUID -k InstanceNumber=2 -k SOPClassUID || fail "image level"
[ "$(n_rsp "$WORK/f6")" = 1 ] && [ "$(val "$WORK/f6/rsp0001.dcm" 0008,0018)" = $S14.1.2 ] || fail "image by number"
find_as RESEARCH "$WORK/f6" -k QueryRetrieveLevel=IMAGE -k StudyInstanceUID=$S27 -k SeriesInstanceUID=$S27.1 \
  -k SOPInstanceUID || fail "image level S027"
[ "$(n_rsp "$WORK/f6")" = 0 ] || fail "S027's images hidden at image level too"
find_as RESEARCH "$WORK/f7" -P -k QueryRetrieveLevel=PATIENT -k PatientID -k NumberOfPatientRelatedStudies \
  -k NumberOfPatientRelatedInstances || fail "patient root"
[ "$(n_rsp "$WORK/f7")" = 1 ] && [ "$(val "$WORK/f7/rsp0001.dcm" 0020,1204)" = 5 ] || fail "patient level"
find_as RESEARCH "$WORK/f7" -k QueryRetrieveLevel=PATIENT -k PatientID || true
grep -q "DataSetDoesNotMatchSOPClass\|0xa900" "$WORK/f7.log" || { cat "$WORK/f7.log"; fail "PATIENT level in Study Root refused (A900)"; }
ok "C-FIND series, image and Patient Root levels; PATIENT in Study Root refused with 0xA900"

# ---- refusals
if find_as NOFIND "$WORK/f8" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID; then fail "a peer without find queried"; fi
grep -qi "no acceptable presentation context\|No presentation context" "$WORK/f8.log" || { cat "$WORK/f8.log"; fail "refusal reason"; }
if find_as STRANGER "$WORK/f9" -k QueryRetrieveLevel=STUDY; then fail "unknown AE queried"; fi
grep -qi "rejected\|Calling AE Title Not Recognized" "$WORK/f9.log" || { cat "$WORK/f9.log"; fail "unknown AE reason"; }
if find_as SITE014 "$WORK/f10" -k QueryRetrieveLevel=STUDY; then fail "a site's own AE queried without a peer section"; fi
ok "refused: a peer without find (no presentation context), an unknown AE, a site's AE with no [peer]"

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

# ---- configuration errors name the section and key
bad() {
  write_config "$WORK/bad.ini" "$PORT"
  printf '%s\n' "$@" >>"$WORK/bad.ini"
  if "$RECISTRY" ingest --config "$WORK/bad.ini" >"$WORK/bad.log" 2>&1; then fail "accepted: $*"; fi
}
bad "[peer:x]" "ae = X" "rights = find" "sites = S099"
grep -q "\[peer:x\] sites: S099 is not a \[site:ID\]" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "unknown site message"; }
bad "[peer:x]" "ae = X" "rights = find, delete" "sites = *"
grep -q "\[peer:x\] rights: 'delete' is not a right" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "bad right message"; }
bad "[peer:x]" "ae = X" "port = 104" "rights = move" "sites = *"
grep -q "\[peer:x\] host: required with port" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "port without host"; }
bad "[peer:x]" "rights = find" "sites = *"
grep -q "\[peer:x\] ae: missing" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "missing ae"; }
bad "[peer:x]" "ae = X" "rights = find"
grep -q "\[peer:x\] sites: missing" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "missing sites"; }
bad "[peer:x]" "ae = X" "colour = blue"
grep -q "\[peer:x\] colour: unknown key" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "unknown key"; }
ok "[peer:NAME] validated: unknown site, right, key; port without host; missing ae or sites"
