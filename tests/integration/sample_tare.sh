#!/usr/bin/env bash
# The TARE dosimetry phantoms (recistry sample --tare, docs/sample.md "TARE phantoms"): generation time, the PET
# and SPECT instances checked by dciodvfy (dicom3tools: no errors), then for each decay correction (START, ADMIN,
# NONE) /usr/bin/python3 (numpy, pydicom; tests/integration/lib/tare_phantom.py) reads the PET and the label maps
# and checks that the mean of stored * slope + intercept inside each label, times the decay factor it computes
# from the header alone, is the truth's concentration at administration within 0.5 %, plus the truth's own
# arithmetic (densities, LDM, MIRD, partition and lung doses). Last: the same options give the same bytes.
set -euo pipefail
: "${RECISTRY:?RECISTRY must name the recistry program}"
src="${RCY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
tmp="${RCY_TEST_TMP:-/tmp}/sample_tare.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
py=/usr/bin/python3
"$py" -c 'import numpy, pydicom' || fail "/usr/bin/python3 needs numpy and pydicom"
command -v dciodvfy >/dev/null || fail "dciodvfy (Debian dicom3tools) is missing"

start=$(date +%s.%N)
"$RECISTRY" sample --out "$tmp/a" --tare --seed 3 >"$tmp/log"
end=$(date +%s.%N)
cat "$tmp/log"
secs=$(echo "$end - $start" | bc)
echo "generation: $secs s"
[ "$(echo "$secs < 30" | bc)" = 1 ] || fail "generation took $secs s (limit 30 s)"
grep -q 'wrote 3 subjects, 6 studies' "$tmp/log" || fail "unexpected summary: $(cat "$tmp/log")"
# the second run for the determinism check, meanwhile (compared at the end)
"$RECISTRY" sample --out "$tmp/b" --tare --seed 3 >"$tmp/log_b" 2>&1 &
second=$!
for d in truth reads dirty lesions registry.csv; do
  [ ! -e "$tmp/a/$d" ] || fail "--tare also wrote $d"
done
for s in CIREL-014-0971 CIREL-014-0972 CIREL-014-0973; do
  [[ $s =~ ^CIREL-014-[0-9]{4}$ ]] || fail "subject id $s"
  [ -s "$tmp/a/tare/$s.json" ] || fail "no truth for $s"
  [ -s "$tmp/a/S014/$s/MAA/NM_0001.dcm" ] || fail "no SPECT for $s"
  [ -n "$(ls "$tmp/a/S014/$s/MAA"/CT_*.dcm 2>/dev/null)" ] || fail "no MAA CT for $s"
  [ -n "$(ls "$tmp/a/S014/$s/Y90"/PT_*.dcm 2>/dev/null)" ] || fail "no PET for $s"
  [ -n "$(ls "$tmp/a/S014/$s/Y90"/CT_*.dcm 2>/dev/null)" ] || fail "no Y90 CT for $s"
  for study in MAA Y90; do
    for voi in liver perfused_liver lungs T1 T2; do
      [ -s "$tmp/a/tare/$s/$study/$voi.nrrd" ] || fail "no label map $s/$study/$voi"
    done
  done
done

# dicom3tools' IOD checker: no errors on a PET slice, the SPECT and a CT slice (warnings are printed; the
# expected ones are explained in docs/sample.md)
for f in "$tmp/a/S014/CIREL-014-0972/Y90/PT_0030.dcm" "$tmp/a/S014/CIREL-014-0971/MAA/NM_0001.dcm" \
  "$tmp/a/S014/CIREL-014-0972/MAA/NM_0001.dcm" "$tmp/a/S014/CIREL-014-0971/Y90/CT_0040.dcm"; do
  dciodvfy "$f" >"$tmp/dciodvfy.txt" 2>&1 || true
  echo "dciodvfy $(basename "$(dirname "$f")")/$(basename "$f"):"
  grep -E '^(Error|Warning)' "$tmp/dciodvfy.txt" | sed 's/^/  /' || true
  if grep -q '^Error' "$tmp/dciodvfy.txt"; then
    fail "dciodvfy reports errors on $f"
  fi
done

"$py" "$src/tests/integration/lib/tare_phantom.py" "$tmp/a" START
# the other decay corrections on the accuracy subject alone (--phantom: the same bytes as in the full set)
for mode in admin none; do
  "$RECISTRY" sample --out "$tmp/$mode" --tare --seed 3 --tare-decay "$mode" --phantom accuracy >/dev/null
  [ ! -e "$tmp/$mode/S014/CIREL-014-0972" ] || fail "--phantom accuracy also wrote the realistic subject"
  "$py" "$src/tests/integration/lib/tare_phantom.py" "$tmp/$mode" "${mode^^}"
done
# the decay modes change only the PET (other series, other values), never the CT, SPECT or label maps
diff -r "$tmp/a/S014/CIREL-014-0971/MAA" "$tmp/none/S014/CIREL-014-0971/MAA" >/dev/null &&
  diff -r "$tmp/a/tare/CIREL-014-0971" "$tmp/none/tare/CIREL-014-0971" >/dev/null &&
  cmp -s "$tmp/a/S014/CIREL-014-0971/Y90/CT_0001.dcm" "$tmp/admin/S014/CIREL-014-0971/Y90/CT_0001.dcm" ||
  fail "--tare-decay changed more than the PET (or --phantom differs from the full set)"
cmp -s "$tmp/a/S014/CIREL-014-0971/Y90/PT_0001.dcm" "$tmp/admin/S014/CIREL-014-0971/Y90/PT_0001.dcm" &&
  fail "--tare-decay admin wrote the same PET as start"

# determinism: same options, same bytes (sha256 of every file)
wait "$second" || { cat "$tmp/log_b"; fail "the second run failed"; }
(cd "$tmp/a" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$tmp/a.sha"
(cd "$tmp/b" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$tmp/b.sha"
cmp -s "$tmp/a.sha" "$tmp/b.sha" || { diff "$tmp/a.sha" "$tmp/b.sha" | head; fail "same options gave different bytes"; }
echo "sha256 of $(wc -l <"$tmp/a.sha") files identical across two runs"
# bad options
if "$RECISTRY" sample --out "$tmp/c" --tare --tare-decay later >/dev/null 2>&1; then fail "accepted --tare-decay later"; fi
if "$RECISTRY" sample --out "$tmp/c" --tare-decay admin >/dev/null 2>&1; then fail "accepted --tare-decay without --tare"; fi
if "$RECISTRY" sample --out "$tmp/c" --tare --phantom thick >/dev/null 2>&1; then fail "accepted --phantom thick with --tare"; fi
echo "sample_tare: ok"
