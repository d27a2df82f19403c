# One-click segmentation on every lesion phantom (docs/segmentation.md): the lesion phantoms go through the
# daemon like any study (all stored, every study complete, with the demo's site configuration), then
# `recistry segment` runs at each lesion's seed and tests/integration/lib/segment_check.py compares diameters,
# Dice and volume with the truth using numpy alone. Also the CLI's answers to bad input, and the SEG.
# Under ASan (RCY_FLAVOUR=asan, scripts/test.sh) only the standard phantom is segmented: the memory checks need
# every code path once, not every phantom (the release run checks them all).
source "$(dirname "$0")/lib/ingest.sh"
ingest_setup
PORT=$(free_port)
"$RECISTRY" init --archive "$WORK/archive" >/dev/null
write_config "$WORK/c.ini" "$PORT" reject 0
only=; [ "${RCY_FLAVOUR:-}" = asan ] && only=standard
"$RECISTRY" sample --out "$WORK/sample" --lesion-phantoms ${only:+--phantom $only} >/dev/null || fail "sample --lesion-phantoms"
start_daemon "$WORK/c.ini"
phantoms=$(/usr/bin/python3 -c "import json,glob; print(' '.join(sorted(json.load(open(f))['phantom'] for f in glob.glob('$WORK/sample/lesions/*.json'))))")
files=$(/usr/bin/python3 - "$WORK/sample" "$only" <<'PY'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/lesions/*.json")):
    t = json.load(open(f))
    if sys.argv[2] and t["phantom"] != sys.argv[2]:
        continue
    for tp in t["timepoints"]:
        print(*sorted(glob.glob(f"{sys.argv[1]}/{tp['series_dir']}/*.dcm")), sep="\n")
PY
)
expected=$(echo "$files" | wc -l)
send SITE014 "$PORT" $files >"$WORK/send.log" || { tail -5 "$WORK/send.log"; fail "sending the phantoms"; }
[ "$(sql 'SELECT COUNT(*) FROM instances')" = "$expected" ] || fail "not all $expected phantom instances stored"
for _ in $(seq 1 120); do # the daemon closes studies on its own clock: allow for a loaded machine
  [ "$(sql "SELECT COUNT(*) FROM studies WHERE status = 'receiving'")" = 0 ] && break
  sleep 0.25
done
[ "$(sql "SELECT COUNT(*) FROM studies WHERE status <> 'complete'")" = 0 ] || fail "a phantom study not complete"
ok "$expected phantom instances stored, every study complete (phantoms: ${only:-$phantoms})"
stop_daemon
/usr/bin/python3 "$RCY_SOURCE_DIR/tests/integration/lib/segment_check.py" "$RECISTRY" "$WORK/archive" \
  "$WORK/sample" "$WORK/masks" --table "$WORK/accuracy.md" ${only:+--phantoms $only} --limits "$RCY_SOURCE_DIR/tests/integration/segment_limits.json" ||
  fail "segmentation accuracy (table above)"
ok "every lesion phantom within tolerance"
[ -n "${RCY_SEGMENT_TABLE:-}" ] && cp "$WORK/accuracy.md" "$RCY_SEGMENT_TABLE"

# Bad input: each refused with a message naming what is wrong, exit 1 (2 for usage).
sop=$(/usr/bin/python3 -c "import json,glob; t=json.load(open(sorted(glob.glob('$WORK/sample/lesions/*.json'))[0])); print(t['timepoints'][0]['lesions'][0]['seed']['sop_instance_uid'])")
set +e
"$RECISTRY" segment --archive "$WORK/archive" --instance "$sop" --point 12 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "COL,ROW" "$WORK/err" || fail "--point 12 → usage ($rc: $(cat "$WORK/err"))"
"$RECISTRY" segment --archive "$WORK/archive" --instance 1.2.3.4 --point 10,10 2>"$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "no instance 1.2.3.4" "$WORK/err" || fail "unknown instance ($rc: $(cat "$WORK/err"))"
"$RECISTRY" segment --archive "$WORK/archive" --instance "$sop" --point 900,10 2>"$WORK/err"; rc=$?
[ $rc = 1 ] && grep -q "outside the 512x512 image" "$WORK/err" || fail "point off the image ($rc: $(cat "$WORK/err"))"
"$RECISTRY" segment --archive "$WORK/archive" --instance "$sop" --point 3,3 2>"$WORK/err"; rc=$?
[ $rc = 1 ] && grep -qi "boundary\|stands out" "$WORK/err" || fail "a click in the air around the body ($rc: $(cat "$WORK/err"))"
set -e
ok "bad input refused with a message"

# The mask as DICOM SEG: valid for dicom3tools' dciodvfy (no error; the two warnings are the de-identified
# subject ID and the account name in PN attributes, as on the source images), referencing the source series.
seed=$(/usr/bin/python3 -c "import json,glob; t=json.load(open(sorted(glob.glob('$WORK/sample/lesions/*.json'))[0])); s=t['timepoints'][0]['lesions'][0]['seed']; print(s['sop_instance_uid'], '%s,%s' % (s['col'], s['row']))")
"$RECISTRY" segment --archive "$WORK/archive" --instance ${seed% *} --point ${seed#* } --seg-out "$WORK/t1.seg.dcm" \
  --label "T1 liver" --organ liver --json >"$WORK/seg.json" || fail "segment --seg-out"
dciodvfy "$WORK/t1.seg.dcm" >"$WORK/dciodvfy.txt" 2>&1 || true
grep -q "^Error" "$WORK/dciodvfy.txt" && { cat "$WORK/dciodvfy.txt"; fail "dciodvfy errors in the SEG"; }
grep "^Warning" "$WORK/dciodvfy.txt" | grep -v "Retired Person Name form" && fail "unexpected dciodvfy warnings"
series=$(/usr/bin/python3 -c "import json; print(json.load(open('$WORK/seg.json'))['series_instance_uid'])")
# (grep on a saved dump: `dcmdump | grep -q` under pipefail fails when grep exits first and dcmdump gets SIGPIPE)
dcmdump +P 0008,1115 +P 0020,000e "$WORK/t1.seg.dcm" >"$WORK/seg.dump"
grep -q "$series" "$WORK/seg.dump" || fail "the SEG does not reference series $series"
[ "$(dcmdump +P 0062,0008 "$WORK/t1.seg.dcm" | grep -c SEMIAUTOMATIC)" = 1 ] || fail "SEG algorithm type SEMIAUTOMATIC"
ok "SEG valid for dciodvfy, referencing the source series, SEMIAUTOMATIC"
