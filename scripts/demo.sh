#!/usr/bin/env bash
# The README's main command: install what is missing, build, and run recistry on the committed sample data —
# a demo archive receives the sample studies by DICOM (C-STORE with DCMTK's storescu, as sites send them),
# checks and indexes them, the RECIST engine and concordance run on the sample reads, and the reader
# workstation is served with a demo reader account. Ctrl-C stops everything.
#
# A generated registry cohort (scripts/demo-cohort.py: DEMO_COHORT subjects, default 300, with tiny DICOM
# instances, registry rows, site and central reads) gives QA's endpoints page something worth plotting.
#
# Site S031 is not sent: its node (an Orthanc started here) holds its studies and the daemon polls it
# (docs/ingest.md, "Polling sites").
#
#   scripts/demo.sh   (env: DEMO_DIR=demo-archive  DICOM_PORT=11112  HTTP_PORT=8080  DEMO_COHORT=300; 0: none
#                      ORTHANC_PORT=14242  ORTHANC_HTTP_PORT=18042: S031's node)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== building (release)" >&2
scripts/build.sh release build >/dev/null
R=$PWD/build/recistry
SAMPLES=sample-dicom
DEMO_DIR=${DEMO_DIR:-demo-archive}
DICOM_PORT=${DICOM_PORT:-11112}
HTTP_PORT=${HTTP_PORT:-8080}
DEMO_COHORT=${DEMO_COHORT:-300}
ORTHANC_PORT=${ORTHANC_PORT:-14242}
ORTHANC_HTTP_PORT=${ORTHANC_HTTP_PORT:-18042}
export TCP_NODELAY=1 # DCMTK peers: no 40 ms Nagle stall per instance

# The demo archive is disposable: recreated on every run (a real archive is never touched by this script).
[ ! -e "$DEMO_DIR" ] || [ -f "$DEMO_DIR/.recistry-demo" ] ||
  { echo "demo: $DEMO_DIR exists and is not a demo archive; set DEMO_DIR" >&2; exit 1; }
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
"$R" init --archive "$DEMO_DIR/archive" >/dev/null
touch "$DEMO_DIR/.recistry-demo"
cat >"$DEMO_DIR/core.ini" <<INI
[archive]
path = $PWD/$DEMO_DIR/archive
[dicom]
ae_title = FFCD_CORE
port = $DICOM_PORT
bind = 127.0.0.1
max_associations = 8
stable_age = 2
[policy]
phi = quarantine
[http]
bind = 127.0.0.1
port = $HTTP_PORT
[dose]
voi_dir = $PWD/$DEMO_DIR/tare-voi
thresholds = $PWD/config/dose-thresholds.ini
cohort_dir = $PWD/$DEMO_DIR/tare-cohort
[site:S014]
name = Centre 14
ae_title = SITE014
subject_pattern = ^CIREL-014-[0-9]{4}\$
[site:S027]
name = Centre 27
ae_title = SITE027
subject_pattern = ^CIREL-027-[0-9]{4}\$
[site:S031]
name = Centre 31
ae_title = SITE031
subject_pattern = ^CIREL-031-[0-9]{4}\$
pacs = 127.0.0.1:$ORTHANC_PORT:S031PACS   ; the site's node: polled every 2 s for CIREL-031-* (C-GET)
poll_interval = 2
poll_since_days = 3650
# A research workstation that may query (C-FIND) the archive, S014's studies only (docs/ingest.md).
[peer:RESEARCH]
ae = RESEARCH
rights = find
sites = S014
INI

pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

# S031's node: an Orthanc holding the site's studies (it knows us for C-GET/C-MOVE).
mkdir -p "$DEMO_DIR/orthanc"
cat >"$DEMO_DIR/orthanc/config.json" <<JSON
{ "Name": "S031PACS", "StorageDirectory": "$PWD/$DEMO_DIR/orthanc/db", "IndexDirectory": "$PWD/$DEMO_DIR/orthanc/db",
  "HttpPort": $ORTHANC_HTTP_PORT, "DicomPort": $ORTHANC_PORT, "DicomAet": "S031PACS", "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "DicomCheckCalledAet": false, "Plugins": [],
  "DicomModalities": { "core": { "AET": "FFCD_CORE", "Host": "127.0.0.1", "Port": $DICOM_PORT,
                                 "AllowGet": true, "AllowMove": true } } }
JSON
Orthanc "$DEMO_DIR/orthanc/config.json" >"$DEMO_DIR/orthanc.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ORTHANC_HTTP_PORT/system" >/dev/null && break; sleep 0.1; done
storescu -aet SITE031 -aec S031PACS +sd +r 127.0.0.1 "$ORTHANC_PORT" "$SAMPLES/S031" 2>/dev/null ||
  { echo "demo: loading S031's node (Orthanc) failed; see $DEMO_DIR/orthanc.log" >&2; exit 1; }

"$R" ingest --config "$DEMO_DIR/core.ini" 2>"$DEMO_DIR/ingest.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "ready: AE" "$DEMO_DIR/ingest.log" && break; sleep 0.1; done
grep -q "ready: AE" "$DEMO_DIR/ingest.log" || { cat "$DEMO_DIR/ingest.log" >&2; exit 1; }

echo "== sites send their studies (storescu → FFCD_CORE@127.0.0.1:$DICOM_PORT)"
for site_dir in "$SAMPLES"/S*/; do
  site=$(basename "$site_dir")
  [ "$site" != S031 ] || continue # polled from its node, below
  n=$(find "$site_dir" -name '*.dcm' | wc -l)
  storescu -aet "SITE${site#S}" -aec FFCD_CORE +sd +r 127.0.0.1 "$DICOM_PORT" "$site_dir" 2>/dev/null ||
    { echo "demo: sending $site failed; see $DEMO_DIR/ingest.log" >&2; exit 1; }
  echo "   $site: $n instances sent"
done
echo "== S031 is polled from its node (Orthanc S031PACS; C-FIND PatientID=CIREL-031-*, then C-GET of what is new)"
n031=$(find "$SAMPLES/S031" -name '*.dcm' | wc -l)
for _ in $(seq 150); do
  [ "$(sqlite3 "$DEMO_DIR/archive/recistry.db" "SELECT COUNT(*) FROM instances i JOIN series s USING (series_uid)
      JOIN studies st USING (study_uid) WHERE st.site_id = 'S031'")" -ge "$n031" ] && break
  sleep 0.1
done
"$R" pull status --config "$DEMO_DIR/core.ini" | sed 's/^/   /'
echo "== a research workstation queries the archive (findscu -aet RESEARCH: C-FIND, S014's studies only)"
mkdir -p "$DEMO_DIR/find"
findscu -S -aet RESEARCH -aec FFCD_CORE -X -od "$DEMO_DIR/find" 127.0.0.1 "$DICOM_PORT" -k QueryRetrieveLevel=STUDY \
  -k PatientID='CIREL-*' -k StudyDate -k ModalitiesInStudy -k NumberOfStudyRelatedInstances 2>/dev/null ||
  { echo "demo: findscu failed; see $DEMO_DIR/ingest.log" >&2; exit 1; }
for f in "$DEMO_DIR"/find/rsp*.dcm; do
  [ -e "$f" ] || continue
  dcmdump -q +P PatientID +P StudyDate +P ModalitiesInStudy +P NumberOfStudyRelatedInstances "$f" |
    sed -n 's/.*\[\(.*\)\].*/\1/p' | paste -sd' ' | sed 's/^/   /'
done
echo "== lesion phantoms for one-click measurement (recistry sample --lesion-phantoms; docs/segmentation.md)"
"$R" sample --out "$DEMO_DIR/lesion-phantoms" --lesion-phantoms >/dev/null
storescu -aet SITE014 -aec FFCD_CORE +sd +r 127.0.0.1 "$DICOM_PORT" "$DEMO_DIR/lesion-phantoms/S014" 2>/dev/null ||
  { echo "demo: sending the lesion phantoms failed; see $DEMO_DIR/ingest.log" >&2; exit 1; }
echo "   S014: CIREL-014-0961 (standard), -0962 (5 mm slices), -0963 (low dose), BL and FU1, ten lesion types each"
seed=$(/usr/bin/python3 -c "import json; l=json.load(open('$DEMO_DIR/lesion-phantoms/lesions/CIREL-014-0961.json'))['timepoints'][0]['lesions'][0]; s=l['seed']; print(s['sop_instance_uid'], '%s,%s' % (s['col'], s['row']), l['long_mm'])")
set -- $seed
echo "== one click on CIREL-014-0961's T1 (recistry segment; truth: longest diameter $3 mm)"
"$R" segment --archive "$DEMO_DIR/archive" --instance "$1" --point "$2" | sed 's/^/   /'
echo "== TARE 90Y dosimetry phantoms (recistry sample --tare; docs/dosimetry.md, docs/sample.md)"
"$R" sample --out "$DEMO_DIR/tare" --tare >/dev/null
storescu -aet SITE014 -aec FFCD_CORE +sd +r 127.0.0.1 "$DICOM_PORT" "$DEMO_DIR/tare/S014" 2>/dev/null ||
  { echo "demo: sending the TARE phantoms failed; see $DEMO_DIR/ingest.log" >&2; exit 1; }
echo "   S014: CIREL-014-0971 (accuracy), -0972 (realistic), -0973: MAA work-up (CT + 99mTc-MAA SPECT), Y90 (CT + 90Y PET)"
# The workstation's dose view finds each subject's label maps in [dose] voi_dir/<subject>/ (docs/api.md).
for d in "$DEMO_DIR"/tare/tare/CIREL-*/Y90; do
  subject=$(basename "$(dirname "$d")")
  mkdir -p "$DEMO_DIR/tare-voi/$subject" && cp "$d"/*.nrrd "$DEMO_DIR/tare-voi/$subject/"
done
echo "== a site sends an instance with PHI left in (refused and quarantined, values never logged)"
storescu -aet SITE014 -aec FFCD_CORE 127.0.0.1 "$DICOM_PORT" "$SAMPLES"/dirty/phi_name/*.dcm >/dev/null 2>&1 || true
sleep 0.5
grep -m1 'quarantined' "$DEMO_DIR/ingest.log" | sed 's/^.*ingest: /   daemon: /' || true

sleep 3 # stable_age: studies are checked after 2 s of silence
echo "== what arrived (recistry studies)"
"$R" studies --archive "$DEMO_DIR/archive"
"$R" verify --archive "$DEMO_DIR/archive" >/dev/null && echo "   recistry verify: index and files agree"

# Each subject's label maps (liver, perfused territory, lungs, tumours) stand for the physicist's contours.
for TARE_SUBJECT in CIREL-014-0972 CIREL-014-0973; do
  V="$DEMO_DIR/tare/tare/$TARE_SUBJECT"
  planned=$(jq -r .maa.planned_activity_gbq "$V.json")
  lsf=$(jq -r .treatment.lung_shunt_fraction "$V.json")
  tare_vois=() maa_vois=()
  for f in "$V"/Y90/*.nrrd; do
    v=$(basename "$f" .nrrd)
    tare_vois+=(--voi "$v=$V/Y90/$v.nrrd") maa_vois+=(--maa-voi "$v=$V/MAA/$v.nrrd")
  done
  echo "== $TARE_SUBJECT's absorbed doses from the archive (recistry dose --archive; report $DEMO_DIR/dose-$TARE_SUBJECT.pdf)"
  "$R" dose --archive "$DEMO_DIR/archive" --subject "$TARE_SUBJECT" "${tare_vois[@]}" "${maa_vois[@]}" \
    --planned-gbq "$planned" --lsf "$lsf" --report "$DEMO_DIR/dose-$TARE_SUBJECT.pdf" --signed-by "demo" | sed 's/^/   /'
done
echo "== the TARE cohort analyses on a generated cohort of 40 (recistry sample --tare-cohort; recistry dose-response)"
"$R" sample --out "$DEMO_DIR/tare-cohort" --tare-cohort 40 >/dev/null
"$R" dose-response --cohort "$DEMO_DIR/tare-cohort" --plots "$DEMO_DIR/tare-cohort/plots" | sed -n '3,9p;31,40p' | sed 's/^/   /'
echo "   plots: $DEMO_DIR/tare-cohort/plots"

echo "== RECIST 1.1 on the sample central reads (recistry recist, summary)"
"$R" recist "$SAMPLES/reads/central.json" | jq -r '.[] | "   \(.subject_id): " +
  ([.timepoints[] | "\(.timepoint) \(.sum_mm) mm \(.overall_response // "-")"] | join(", ")) +
  "  → BOR \(.best_overall_response)"'
echo "== site vs central concordance (recistry concordance, summary)"
"$R" concordance "$SAMPLES/reads/site.json" "$SAMPLES/reads/central.json" |
  jq -r '"   subjects \(.subjects), timepoints \(.timepoints); BOR agreement \(.best_overall_response_agreement.agreement_pct) %, kappa \(.best_overall_response_agreement.kappa); discordant: \([.discordant[]? | .subject_id] | join(", "))"'

echo "== the registry's subject data (treatment start, indication, survival dates) is imported (recistry registry import)"
"$R" registry import --archive "$DEMO_DIR/archive" "$SAMPLES/registry.csv" | sed 's/^/   /'
echo "== the site investigators' reads, captured elsewhere, are imported (recistry reads import)"
"$R" reads import --archive "$DEMO_DIR/archive" --role site "$SAMPLES/reads/site.json" | sed 's/^/   /'
if [ "$DEMO_COHORT" -gt 0 ]; then
  echo "== a generated registry cohort of $DEMO_COHORT subjects for the endpoints (scripts/demo-cohort.py)"
  python3 scripts/demo-cohort.py "$DEMO_DIR/cohort" "$DEMO_COHORT" | sed 's/^/   /'
  # `reads index` takes a list of files: xargs keeps each call under the argument limit.
  find "$DEMO_DIR/cohort/dicom" -name '*.dcm' -print0 | sort -z |
    xargs -0 -n 1000 "$R" reads index --archive "$DEMO_DIR/archive" | sed 's/^/   /'
  "$R" registry import --archive "$DEMO_DIR/archive" "$DEMO_DIR/cohort/registry.csv" | sed 's/^/   /'
  "$R" reads import --archive "$DEMO_DIR/archive" --role site "$DEMO_DIR/cohort/site.json" | sed 's/^/   site: /'
fi
echo "== registry endpoints from the site reads (recistry endpoints: ORR, DCR, ETS, DpR, OS/PFS/HPFS)"
"$R" endpoints --archive "$DEMO_DIR/archive" --reader site | sed -n '3,8p' | sed 's/^/   /'
printf 'demo-reader\n' >"$DEMO_DIR/reader.pw"
for account in reader:central alice:central bob:central adjudicator:adjudicator qa:qa admin:admin; do
  "$R" user add --archive "$DEMO_DIR/archive" --name "${account%%:*}" --role "${account#*:}" \
    --password-file "$DEMO_DIR/reader.pw" >/dev/null
done
echo "== independent central review: two blinded central readers (alice = R1, bob = R2), read elsewhere and imported"
# bob reads CIREL-014-0001 differently from alice: he calls a new lung lesion at FU1.
jq '(.[] | select(.subject_id == "CIREL-014-0001") | .assessments[1].new_lesions) =
      [{"lesion_id": "N1", "organ": "lung", "nodal": false, "state": "unequivocal"}]' \
  "$SAMPLES/reads/central.json" >"$DEMO_DIR/central_r2.json"
"$R" reads import --archive "$DEMO_DIR/archive" --role central --reader alice "$SAMPLES/reads/central.json" | sed 's/^/   alice: /'
"$R" reads import --archive "$DEMO_DIR/archive" --role central --reader bob "$DEMO_DIR/central_r2.json" | sed 's/^/   bob: /'
if [ "$DEMO_COHORT" -gt 0 ]; then # the cohort's central reads: alice and bob agree, so each is final
  "$R" reads import --archive "$DEMO_DIR/archive" --role central --reader alice "$DEMO_DIR/cohort/central.json" | sed 's/^/   alice (cohort): /'
  "$R" reads import --archive "$DEMO_DIR/archive" --role central --reader bob "$DEMO_DIR/cohort/central.json" | sed 's/^/   bob (cohort): /'
fi
"$R" adjudication config --archive "$DEMO_DIR/archive" --paradigm double \
  --reason "CIREL charter: two blinded central readers with adjudication" >/dev/null
echo "== the adjudication queue (recistry adjudication list)"
"$R" adjudication list --archive "$DEMO_DIR/archive" | sed 's/^/   /'
echo "== site vs final central read, from the archive (recistry concordance --archive --pair site:central)"
"$R" concordance --archive "$DEMO_DIR/archive" --pair site:central |
  jq -r '"   subjects \(.subjects), BOR agreement \(.best_overall_response_agreement.agreement_pct) %, kappa \(.best_overall_response_agreement.kappa // "n/a"); discordant: \(.discordant | length)" +
    (if (.discordant | length) > 0 then " (\([.discordant[:6][] | .subject_id] | join(", "))\(if (.discordant | length) > 6 then ", …" else "" end))" else "" end)'
"$R" serve --config "$DEMO_DIR/core.ini" >"$DEMO_DIR/serve.out" 2>"$DEMO_DIR/serve.log" &
pids+=($!)
for _ in $(seq 100); do grep -q '^listening on' "$DEMO_DIR/serve.out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$DEMO_DIR/serve.out")
[ -n "$url" ] || { cat "$DEMO_DIR/serve.log" >&2; exit 1; }
n_qido=$(curl -sf -u qa:demo-reader "$url/dicomweb/studies" | jq length) ||
  { echo "demo: DICOMweb query failed; see $DEMO_DIR/serve.log" >&2; exit 1; }
cat <<MSG

== DICOMweb: ${url%/}/dicomweb (QIDO-RS, WADO-RS, STOW-RS; HTTP Basic or the session; docs/dicomweb.md has
   an OHIF data source for it). As qa, GET /dicomweb/studies lists $n_qido studies.
== reader workstation: $url
   log in (password demo-reader for every demo account) as
     reader       a central reader who reads in the workstation
     adjudicator  resolves CIREL-014-0001, where alice and bob disagree (adjudication queue)
     qa           every read, the concordance and reader QC pages, the endpoints page, the TARE cohort page, the audit log
     admin        assignments and review settings
   TARE dosimetry: as reader, open CIREL-014-0972 or -0973 and follow the Dose tab (the dose over the CT, DVHs,
   EANM flags); reports in $DEMO_DIR/dose-CIREL-014-097*.pdf; as qa, the TARE cohort page
   (demo accounts only)
   daemon log: $DEMO_DIR/ingest.log   server log: $DEMO_DIR/serve.log
   Ctrl-C stops the daemon and the server.
MSG
wait
