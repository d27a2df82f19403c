# Query/retrieve on the daemon, C-FIND with DCMTK's findscu: Study and Patient Root, levels STUDY to IMAGE,
# wildcards, date ranges, UID lists, the keys a response carries; the rights: a peer limited to S014 never
# sees S027, a peer without find is refused, an unknown calling AE and a site's AE without a [peer] too.
source "$(dirname "$0")/lib/ingest.sh"
source "$(dirname "$0")/lib/qr.sh"
ingest_setup
qr_setup

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
find_as ALLPACS "$WORK/f4" -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$S14\\$S27\\1.2.3" \
  -k StudyDate=-20231231 || fail "UID list, date range"
[ "$(n_rsp "$WORK/f4")" = 0 ] || fail "UID list and a date range before both studies"
ok "C-FIND matching: UID by value, * and ? wildcards, date ranges, UID lists (more: tests/unit/test_ingest_qr.c)"

# ---- series and image levels
find_as RESEARCH "$WORK/f5" -k QueryRetrieveLevel=SERIES -k StudyInstanceUID=$S14 -k SeriesInstanceUID -k Modality \
  -k SeriesNumber -k SeriesDescription -k NumberOfSeriesRelatedInstances || fail "series level"
[ "$(n_rsp "$WORK/f5")" = 2 ] || fail "2 series"
dcmdump "$WORK"/f5/rsp* >"$WORK/r.txt"
grep -q "portal venous" "$WORK/r.txt" || fail "SeriesDescription"
find_as RESEARCH "$WORK/f5" -k QueryRetrieveLevel=SERIES -k StudyInstanceUID=$S14 -k SeriesDescription='portal*' \
  -k NumberOfSeriesRelatedInstances || fail "series by description"
[ "$(n_rsp "$WORK/f5")" = 1 ] && [ "$(val "$WORK/f5/rsp0001.dcm" 0020,1209)" = 2 ] || fail "series wildcard + count"
dcmdump "$WORK/f5/rsp0001.dcm" >"$WORK/r.txt"
! grep -q "^(0020,000e)" "$WORK/r.txt" || fail "a key not asked (Series Instance UID) returned"
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
stop_daemon
