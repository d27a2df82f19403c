# Ingest daemon with real DCMTK peers: C-ECHO, accepted sends (stored byte-for-byte with a valid meta header,
# indexed, QC'd complete), association policy (unknown calling AE, wrong called AE, host not listed),
# wrong site, duplicates (identical = no-op, different = refused), unsupported SOP class, non-DICOM bytes on
# the wire, QC warnings (gap, thick slices, mixed orientation), verify catching a damaged file, audit rows,
# clean exit on SIGTERM.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
SITE027_EXTRA="hosts = 10.9.9.9"
write_config "$WORK/c.ini" "$PORT" reject 2
start_daemon "$WORK/c.ini"

echoscu -aet SITE014 -aec FFCD_CORE 127.0.0.1 "$PORT" || fail "C-ECHO"
ok "C-ECHO"

make_series "$WORK/good" 5
send SITE014 "$PORT" "$WORK"/good/*.dcm >"$WORK/send.log" || { cat "$WORK/send.log"; fail "accepted send"; }
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 5 ] || fail "5 instances indexed"
f=$(sql "SELECT path FROM instances WHERE sop_instance_uid = '1.2.826.0.1.3680043.10.1.1.1.3'")
[ "$f" = "S014/CIREL-014-0001/1.2.826.0.1.3680043.10.1.1/1.2.826.0.1.3680043.10.1.1.1/1.2.826.0.1.3680043.10.1.1.1.3.dcm" ] || fail "path $f"
stored="$WORK/archive/storage/$f"
cmp <(dcmdump +P 7fe0,0010 "$stored") <(dcmdump +P 7fe0,0010 "$WORK/good/3.dcm") || fail "pixel data differs"
diff <(dciodvfy "$stored" 2>&1) <(dciodvfy "$WORK/good/3.dcm" 2>&1) || fail "dciodvfy finds new problems in the stored file"
grep -q "MediaStorageSOPInstanceUID" <(dcmdump "$stored") || fail "meta header"
# the daemon hashes after the Success, in the background: the row's hash is filled within moments
for _ in $(seq 1 50); do [ "$(sql "SELECT sha256 FROM instances WHERE path = '$f'")" != pending ] && break; sleep 0.1; done
[ "$(sha256sum "$stored" | cut -d' ' -f1)" = "$(sql "SELECT sha256 FROM instances WHERE path = '$f'")" ] || fail "sha256"
ok "5 instances stored, indexed, valid"

# association policy
if send BADAE "$PORT" "$WORK/good/1.dcm" >"$WORK/o.log"; then fail "unknown AE accepted"; fi
grep -q "Calling AE Title Not Recognized" "$WORK/o.log" || fail "unknown AE reason"
if CALLED_AE=OTHER send SITE014 "$PORT" "$WORK/good/1.dcm" >"$WORK/o.log"; then fail "wrong called AE accepted"; fi
grep -q "Called AE Title Not Recognized" "$WORK/o.log" || fail "wrong called AE reason"
if send SITE027 "$PORT" "$WORK/good/1.dcm" >"$WORK/o.log"; then fail "host not listed accepted"; fi
grep -q "host 127.0.0.1 is not listed for site S027" "$WORK/daemon.log" || fail "host log"
ok "unknown AE, wrong called AE, unlisted host rejected at association"

# wrong site: S014 sends an instance whose Clinical Trial Site ID is S027
make_ct "$WORK/wrongsite.dcm" site=S027 subject=CIREL-027-0001 study=1.2.826.0.1.3680043.10.9 series=1.2.826.0.1.3680043.10.9.1 sop=1.2.826.0.1.3680043.10.9.1.1
STORESCU_OPTS=-d send SITE014 "$PORT" "$WORK/wrongsite.dcm" >"$WORK/o.log" || true
grep -Eqi "0x0?124" "$WORK/o.log" && grep -q "ErrorComment" "$WORK/o.log" || { cat "$WORK/o.log"; fail "wrong site status"; }
[ "$(sql "SELECT COUNT(*) FROM instances WHERE sop_instance_uid LIKE '1.2.826.0.1.3680043.10.9.%'")" = 0 ] || fail "wrong site stored"
ok "instance of another site refused (0x0124)"

# duplicates
send SITE014 "$PORT" "$WORK/good/2.dcm" >"$WORK/o.log" || fail "identical duplicate should succeed"
make_ct "$WORK/dupdiff.dcm" sop=1.2.826.0.1.3680043.10.1.1.1.2 n=2 z=99
STORESCU_OPTS=-d send SITE014 "$PORT" "$WORK/dupdiff.dcm" >"$WORK/o.log" || true
grep -qi "0xc002" "$WORK/o.log" || { cat "$WORK/o.log"; fail "conflicting duplicate status"; }
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 5 ] || fail "duplicates changed the index"
cmp <(dcmdump +P 0020,0032 "$WORK/archive/storage/S014/CIREL-014-0001/1.2.826.0.1.3680043.10.1.1/1.2.826.0.1.3680043.10.1.1.1/1.2.826.0.1.3680043.10.1.1.1.2.dcm") <(dcmdump +P 0020,0032 "$WORK/good/2.dcm") || fail "stored instance altered"
grep -q "refused 1.2.826.0.1.3680043.10.1.1.1.2 (status 0xc002)" "$WORK/daemon.log" || fail "conflict not logged"
ok "identical duplicate is a no-op, different content refused (0xC002) and logged"

# SOP class we do not take (Ultrasound): refused at negotiation, logged
make_ct "$WORK/us.dcm" sopclass=1.2.840.10008.5.1.4.1.1.6.1 sop=1.2.826.0.1.3680043.10.1.7.1 series=1.2.826.0.1.3680043.10.1.7
if STORESCU_OPTS=-R send SITE014 "$PORT" "$WORK/us.dcm" >"$WORK/o.log"; then fail "US accepted"; fi
grep -q "refused: UltrasoundImageStorage" "$WORK/daemon.log" || fail "refused context not logged"
ok "unsupported SOP class refused at negotiation"

# non-DICOM and truncated files: storescu refuses to send them; raw garbage on the socket must not hurt us
head -c 3000 /dev/urandom >"$WORK/not_dicom.dcm"
if send SITE014 "$PORT" "$WORK/not_dicom.dcm" >"$WORK/o.log"; then :; fi
head -c 4000 "$WORK/good/1.dcm" >"$WORK/truncated.dcm"
if send SITE014 "$PORT" "$WORK/truncated.dcm" >"$WORK/o.log"; then :; fi
head -c 5000 /dev/urandom >/dev/tcp/127.0.0.1/"$PORT" || true
echoscu -aet SITE014 -aec FFCD_CORE 127.0.0.1 "$PORT" || fail "daemon hurt by garbage"
[ "$(sql 'SELECT COUNT(*) FROM instances')" = 5 ] || fail "garbage indexed"
ok "non-DICOM / truncated / garbage stored nothing, daemon alive"

# QC: a gap, thick slices, mixed orientation (three more studies)
make_series "$WORK/gap" 6 study=1.2.826.0.1.3680043.10.2 series=1.2.826.0.1.3680043.10.2.1 subject=CIREL-014-0002
rm "$WORK/gap/4.dcm"
make_series "$WORK/thick" 4 study=1.2.826.0.1.3680043.10.3 series=1.2.826.0.1.3680043.10.3.1 subject=CIREL-014-0003 thick=7 spacing=7
make_series "$WORK/mixed" 4 study=1.2.826.0.1.3680043.10.4 series=1.2.826.0.1.3680043.10.4.1 subject=CIREL-014-0004
make_ct "$WORK/mixed/4.dcm" study=1.2.826.0.1.3680043.10.4 series=1.2.826.0.1.3680043.10.4.1 sop=1.2.826.0.1.3680043.10.4.1.4 subject=CIREL-014-0004 n=4 z=7.5 orient='1\0\0\0\0\-1'
send SITE014 "$PORT" "$WORK"/gap/*.dcm "$WORK"/thick/*.dcm "$WORK"/mixed/*.dcm >"$WORK/o.log" || fail "QC sends"
for i in $(seq 1 40); do
  [ "$(sql "SELECT COUNT(*) FROM studies WHERE status = 'receiving'")" = 0 ] && break
  sleep 0.25
done
[ "$(sql "SELECT status FROM studies WHERE study_uid = '1.2.826.0.1.3680043.10.1.1'")" = complete ] || fail "clean study not complete"
[ "$(sql "SELECT status FROM studies WHERE study_uid = '1.2.826.0.1.3680043.10.2'")" = qc-warning ] || fail "gap study status"
grep -qx slice_gap <(sql "SELECT code FROM qc_findings WHERE study_uid = '1.2.826.0.1.3680043.10.2'") || fail "slice_gap finding"
grep -qx thick_slices <(sql "SELECT code FROM qc_findings WHERE study_uid = '1.2.826.0.1.3680043.10.3'") || fail "thick finding"
grep -qx orientation_mixed <(sql "SELECT code FROM qc_findings WHERE study_uid = '1.2.826.0.1.3680043.10.4'") || fail "orientation finding"
"$RECISTRY" studies --archive "$WORK/archive" --json >"$WORK/studies.json"
python3 - "$WORK/studies.json" <<'PY'
import json, sys
s = {x["study_uid"]: x for x in json.load(open(sys.argv[1]))}
a = s["1.2.826.0.1.3680043.10.1.1"]
assert (a["site"], a["subject"], a["timepoint"], a["modality"], a["study_date"], a["series"], a["instances"], a["status"]) == \
    ("S014", "CIREL-014-0001", "BL", "CT", "2024-01-15", 1, 5, "complete"), a
g = s["1.2.826.0.1.3680043.10.2"]
assert g["status"] == "qc-warning" and any(f["code"] == "slice_gap" for f in g["findings"]), g
PY
grep -q "warning slice_gap" <("$RECISTRY" studies --archive "$WORK/archive") || fail "studies text output"
ok "QC: complete / qc-warning with slice_gap, thick_slices, orientation_mixed; studies --json"

# audit: every association recorded with its outcome and counts
[ "$(sql "SELECT COUNT(*) FROM associations WHERE outcome = 'rejected'")" -ge 3 ] || fail "rejections audited"
[ "$(sql "SELECT n_stored FROM associations WHERE outcome = 'accepted' AND n_stored = 5")" = 5 ] || fail "counts audited"
[ "$(sql "SELECT COUNT(*) FROM associations WHERE n_refused = 1 AND last_refusal LIKE '%different content%'")" = 1 ] || fail "refusal audited"
ok "associations audited"

# the spool made each association's next temporary file ahead: nothing of it may outlive the associations
[ -z "$(ls -A "$WORK/archive/storage/.tmp")" ] || fail "temporary files left after the associations ended"
grep -q "calling AE SITE014: 5 data set(s); mean per instance: .* ms receiving" "$WORK/daemon.log" ||
  fail "per-association timing line"
stop_daemon
"$RECISTRY" verify --archive "$WORK/archive" >/dev/null || fail "verify after clean run"
printf 'X' | dd of="$stored" bs=1 seek=400 conv=notrunc 2>/dev/null
touch "$WORK/archive/storage/S014/stray.dcm"
if "$RECISTRY" verify --archive "$WORK/archive" >"$WORK/v.log"; then fail "verify missed damage"; fi
grep -q "SHA-256 differs from the index: $f" "$WORK/v.log" || fail "verify: sha line"
grep -q "file not in the index: S014/stray.dcm" "$WORK/v.log" || fail "verify: stray line"
ok "no temporary file left, timing logged; SIGTERM exit 0; verify clean, then reports a damaged and a stray file"
