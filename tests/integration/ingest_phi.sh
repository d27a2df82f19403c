# Anonymisation checks with real storescu sends: each identity-bearing case is answered with failure status
# 0xC001 and an Error Comment naming the attribute; under phi = reject nothing is kept, under
# phi = quarantine the instance is kept aside in DIR/quarantine (row in `quarantine`, not a study). No PHI
# value ever reaches the log.
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup

S=1.2.826.0.1.3680043.10.5
make_ct "$WORK/birth.dcm"   study=$S.1 series=$S.1.1 sop=$S.1.1.1 extra='(0010,0030) DA [19580412]'
make_ct "$WORK/inst.dcm"    study=$S.2 series=$S.2.1 sop=$S.2.1.1 extra='(0008,0080) LO [Hopital Saint-Secret]'
make_ct "$WORK/name.dcm"    study=$S.3 series=$S.3.1 sop=$S.3.1.1 name='DUPONT^JEANNE'
make_ct "$WORK/notrem.dcm"  study=$S.4 series=$S.4.1 sop=$S.4.1.1 pir=NO
make_ct "$WORK/burned.dcm"  study=$S.5 series=$S.5.1 sop=$S.5.1.1 extra='(0028,0301) CS [YES]'
make_ct "$WORK/subject.dcm" study=$S.6 series=$S.6.1 sop=$S.6.1.1 subject=MRN778899123
make_ct "$WORK/clean.dcm"   study=$S.7 series=$S.7.1 sop=$S.7.1.1

check_refusals() { # LOG
  local n
  n=$(grep -ci "0xc001" "$1" || true)
  [ "$n" -ge 6 ] || { cat "$1"; fail "expected 6 refusals with status 0xC001, got $n"; }
  grep -q "not anonymised: PatientBirthDate" "$1" || fail "comment names PatientBirthDate"
  grep -q "not anonymised: InstitutionName" "$1" || fail "comment names InstitutionName"
  grep -q "not anonymised: PatientName" "$1" || fail "comment names PatientName"
  grep -q "PatientIdentityRemoved!=YES" "$1" || fail "comment names PatientIdentityRemoved"
  grep -q "BurnedInAnnotation=YES" "$1" || fail "comment names BurnedInAnnotation"
  grep -q "subject ID does not match site pattern" "$1" || fail "comment: subject pattern"
}
no_phi_in_log() {
  for v in 19580412 Saint-Secret DUPONT MRN778899123; do
    if grep -q "$v" "$WORK/daemon.log"; then fail "PHI value '$v' written to the log"; fi
  done
}

for policy in reject quarantine; do
  rm -rf "$WORK/archive"
  "$RECISTRY" init --archive "$WORK/archive" >/dev/null
  PORT=$(free_port)
  write_config "$WORK/c.ini" "$PORT" "$policy" 1
  start_daemon "$WORK/c.ini"
  STORESCU_OPTS=-d send SITE014 "$PORT" "$WORK"/{birth,inst,name,notrem,burned,subject,clean}.dcm >"$WORK/o.log" || true
  check_refusals "$WORK/o.log"
  [ "$(sql 'SELECT COUNT(*) FROM instances')" = 1 ] || fail "$policy: only the clean instance is indexed"
  [ "$(sql 'SELECT COUNT(*) FROM studies')" = 1 ] || fail "$policy: only the clean study"
  if [ $policy = reject ]; then
    [ "$(sql 'SELECT COUNT(*) FROM quarantine')" = 0 ] || fail "reject: nothing quarantined"
    [ -z "$(find "$WORK/archive/quarantine" -type f)" ] || fail "reject: quarantine dir empty"
  else
    [ "$(sql 'SELECT COUNT(*) FROM quarantine')" = 6 ] || fail "quarantine: 6 rows"
    [ "$(find "$WORK/archive/quarantine/S014" -type f -name '*.dcm' | wc -l)" = 6 ] || fail "quarantine: 6 files"
    [ "$(sql "SELECT COUNT(*) FROM quarantine WHERE subject_id IS NULL")" = 1 ] || fail "an off-pattern subject is not recorded"
    grep -q "PatientBirthDate" <(sql "SELECT reason FROM quarantine WHERE sop_instance_uid = '$S.1.1.1'") || fail "reason"
    q=$(sql "SELECT path FROM quarantine WHERE sop_instance_uid = '$S.2.1.1'")
    [ "$(sha256sum "$WORK/archive/quarantine/$q" | cut -d' ' -f1)" = "$(sql "SELECT sha256 FROM quarantine WHERE path = '$q'")" ] || fail "quarantine sha"
    "$RECISTRY" studies --archive "$WORK/archive" --json >"$WORK/s.json"
    python3 -c "import json,sys; s=json.load(open(sys.argv[1])); q=[x for x in s if x['status']=='quarantined']; assert len(q)==6 and all(x['site']=='S014' for x in q), s" "$WORK/s.json"
  fi
  no_phi_in_log
  stop_daemon
  "$RECISTRY" verify --archive "$WORK/archive" >/dev/null || fail "$policy: verify"
  ok "phi = $policy: 6 identity cases refused with 0xC001 + Error Comment; no PHI in the log"
done
