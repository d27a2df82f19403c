#!/usr/bin/env bash
# The phantom generator's output checked by independent tools: dciodvfy (dicom3tools) finds no error in any
# clean instance, dcmdump shows the intended attributes, every truth JSON's slice UID matches its file,
# dates follow the CIREL schedule, the dirty cases carry exactly their defect, and the same seed gives the
# same bytes. Uses a small cohort (7 subjects = every scenario, CT and MR, 8 slices per series).
set -euo pipefail
: "${RECISTRY:?RECISTRY must name the recistry program}"
tmp="${RCY_TEST_TMP:-/tmp}/sample_dicom.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
attr() {
  dcmdump +P "$1" "$2" 2>/dev/null | head -1 | sed -e 's/^([^)]*) [A-Za-z][A-Za-z] //' -e 's/ *#.*$//' \
    -e 's/^\[\(.*\)\]$/\1/' -e 's/^=//' -e 's/^(no value available)$//'
}

out="$tmp/a"
"$RECISTRY" sample --out "$out" --subjects 7 --seed 3 --slices 8 --timepoints 3 >"$tmp/log"
grep -q 'instances/s' "$tmp/log" || fail "no speed line: $(cat "$tmp/log")"
cat "$tmp/log"

# 1. dciodvfy: no errors on any clean instance; warnings are collected and printed once.
find "$out" -path "$out/dirty" -prune -o -name '*.dcm' -print0 | sort -z >"$tmp/clean"
n=$(tr -cd '\0' <"$tmp/clean" | wc -c)
[ "$n" -ge 150 ] || fail "only $n clean instances"
# two dciodvfy at a time; each file's report is kept whole (one bash per batch, output per batch file)
xargs -0 -P 2 -n 24 bash -c 'out=$(mktemp "$0/v.XXXXXX"); for f; do echo "== $f"; dciodvfy "$f" 2>&1; done >"$out"' "$tmp" <"$tmp/clean"
cat "$tmp"/v.* >"$tmp/report"
if grep -q '^Error' "$tmp/report"; then grep -B8 '^Error' "$tmp/report" >&2; fail "dciodvfy reports errors"; fi
[ "$(grep -c '^== ' "$tmp/report")" = "$n" ] || fail "dciodvfy did not check every instance"
grep '^Warning' "$tmp/report" | sed 's/<CIREL-[0-9]*-[0-9]*>/<subject>/' >"$tmp/warnings" || true
echo "dciodvfy: $n clean instances, no errors; distinct warnings:"
sort -u "$tmp/warnings"

# 2. dcmdump: the intended attributes of one CT and one MR instance.
ct="$out/S014/CIREL-014-0001/BL/CT_0003.dcm"
expect() { local v; v=$(attr "$1" "$2"); [ "$v" = "$3" ] || fail "$2: ($1) is '$v', expected '$3'"; }
expect 0002,0010 "$ct" LittleEndianExplicit
expect 0008,0016 "$ct" CTImageStorage
expect 0010,0010 "$ct" CIREL-014-0001
expect 0010,0020 "$ct" CIREL-014-0001
expect 0012,0010 "$ct" FFCD
expect 0012,0020 "$ct" CIREL
expect 0012,0030 "$ct" S014
expect 0012,0040 "$ct" CIREL-014-0001
expect 0012,0050 "$ct" BL
expect 0012,0062 "$ct" YES
expect 0028,0010 "$ct" 512
expect 0028,0011 "$ct" 512
expect 0028,0103 "$ct" 1
expect 0028,1052 "$ct" -1024
expect 0028,1053 "$ct" 1
expect 0020,0037 "$ct" '1\0\0\0\1\0'
dcmdump +P 0008,0100 "$ct" >"$tmp/codes"
grep -q 113100 "$tmp/codes" || fail "no De-identification Method Code 113100"
[ -z "$(attr 0010,0030 "$ct")" ] || fail "birth date present in a clean instance"
mr="$out/S031/CIREL-031-0001/FU1/MR_0001.dcm"
expect 0008,0016 "$mr" MRImageStorage
expect 0028,0010 "$mr" 256
expect 0012,0050 "$mr" FU1
expect 0012,0030 "$mr" S031

# 3. truth JSON: the named slice of every lesion and timepoint is that file, with that SOP Instance UID;
#    dates: first follow-up 4-8 weeks after treatment start, then every 6-10 weeks.
node -e '
const fs = require("fs"), dir = process.argv[1];
for (const f of fs.readdirSync(dir + "/truth")) {
  const t = JSON.parse(fs.readFileSync(dir + "/truth/" + f));
  const tps = t.timepoints;
  for (let i = 1; i < tps.length; i++) {
    const d = tps[i].days_from_treatment_start, gap = (Date.parse(tps[i].date) - Date.parse(tps[i-1].date)) / 864e5;
    if (i === 1 && (d < 28 || d > 56)) throw new Error(f + ": FU1 at day " + d);
    if (i > 1 && (gap < 42 || gap > 70)) throw new Error(f + ": " + tps[i].timepoint + " " + gap + " days after the previous");
  }
  if (tps[0].days_from_treatment_start >= 0) throw new Error(f + ": baseline after treatment start");
  if (t.recist_input.subject_id !== t.subject_id) throw new Error(f + ": recist_input subject");
  for (const l of t.lesions) for (const p of l.timepoints) if (p.present) console.log(p.file + " " + p.sop_instance_uid);
}' "$out" >"$tmp/uids"
[ "$(wc -l <"$tmp/uids")" -ge 40 ] || fail "too few lesion slices in the truth"
while read -r file uid; do
  got=$(attr 0008,0018 "$out/$file")
  [ "$got" = "$uid" ] || fail "$file: SOP Instance UID $got, truth says $uid"
done <"$tmp/uids"
echo "truth: $(wc -l <"$tmp/uids") lesion slices match their files"

# 4. dirty cases: each carries its defect.
d="$out/dirty"
[ "$(attr 0010,0010 "$d/phi_name/CT_0001.dcm")" != "CIREL-014-0901" ] || fail "phi_name: name is the subject ID"
[ -n "$(attr 0010,0030 "$d/phi_birthdate/CT_0001.dcm")" ] || fail "phi_birthdate: no birth date"
[ -n "$(attr 0008,0080 "$d/phi_institution/CT_0001.dcm")" ] || fail "phi_institution: no institution"
[ -n "$(attr 0008,0081 "$d/phi_institution/CT_0001.dcm")" ] || fail "phi_institution: no address"
expect 0028,0301 "$d/burned_in/CT_0001.dcm" YES
[ "$(ls "$d/slice_gap" | wc -l)" = 3 ] || fail "slice_gap: expected 3 of 4 slices"
zs=$(for f in "$d"/slice_gap/*.dcm; do attr 0020,0032 "$f" | cut -d'\' -f3; done | sort -g | tr '\n' ' ')
[ "$zs" = "-7.5 2.5 7.5 " ] || fail "slice_gap: positions $zs"
expect 0018,0050 "$d/thick_slices/CT_0001.dcm" 7.5
orients=$(for f in "$d"/mixed_orientation/*.dcm; do attr 0020,0037 "$f"; done | sort -u | wc -l)
[ "$orients" = 2 ] || fail "mixed_orientation: $orients orientations"
! dcmdump "$d/truncated/CT_0002.dcm" >/dev/null 2>&1 || fail "truncated: dcmdump reads it"
! dcmdump "$d/not_dicom/REPORT_0001.dcm" >/dev/null 2>&1 || fail "not_dicom: dcmdump reads it"
expect 0008,0016 "$d/wrong_sop_class/DOC_0001.dcm" EncapsulatedPDFStorage
cmp -s "$d/duplicate_instances/CT_0002.dcm" "$d/duplicate_instances/CT_0002_copy.dcm" || fail "duplicate: copy differs"
! cmp -s "$d/duplicate_instances/CT_0002.dcm" "$d/duplicate_instances/CT_0002_altered.dcm" || fail "duplicate: altered same"
[ "$(attr 0008,0018 "$d/duplicate_instances/CT_0002.dcm")" = "$(attr 0008,0018 "$d/duplicate_instances/CT_0002_altered.dcm")" ] ||
  fail "duplicate: altered copy has another UID"
expect 0012,0030 "$d/wrong_site/CT_0001.dcm" S027
expect 0012,0062 "$d/identity_not_removed/CT_0001.dcm" NO
[ "$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).length)' "$d/manifest.json")" = 13 ] ||
  fail "manifest: expected 13 cases"
echo "dirty: 13 cases carry their defect"

# 5. determinism: same seed, same bytes; another seed, other bytes.
"$RECISTRY" sample --out "$tmp/b" --subjects 7 --seed 3 --slices 8 --timepoints 3 >/dev/null
diff -r "$out" "$tmp/b" >/dev/null || fail "same seed gave different output"
"$RECISTRY" sample --out "$tmp/c" --subjects 1 --seed 4 --slices 8 --timepoints 2 --no-dirty >/dev/null
! cmp -s "$out/S014/CIREL-014-0001/BL/CT_0001.dcm" "$tmp/c/S014/CIREL-014-0001/BL/CT_0001.dcm" ||
  fail "another seed gave the same bytes"
[ ! -e "$tmp/c/dirty" ] || fail "--no-dirty wrote dirty cases"

# 6. usage errors are exit 2 with a message naming the option.
set +e
"$RECISTRY" sample --out "$tmp/d" --slices 2 2>"$tmp/err"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q slices "$tmp/err" || fail "--slices 2: exit $rc, $(cat "$tmp/err")"
echo "sample_dicom: ok"
