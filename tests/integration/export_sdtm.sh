#!/usr/bin/env bash
# `recistry export sdtm|csv` (src/qa/sdtm.c, flat_csv.c; docs/exports.md) on an archive built from sample-dicom
# as review_cli.sh builds it: site reads, two central readers (alice R1, bob R2) in double reading, one subject
# waiting for adjudication. tests/integration/export/check_sdtm.py checks both readers' SDTM datasets against the
# IG's rules and the engine's own results (BESTRSP = BOR, SUMDIAM = sum of diameters, RSACPTFL on the final
# central read only); the final rule is then switched to R2 and the flag must follow. check_flat.py checks the
# flat CSV against the SDTM export and the engine.
set -euo pipefail
: "${RECISTRY:?}" "${RCY_SOURCE_DIR:?}"
R=$RECISTRY
PY=/usr/bin/python3
here=$RCY_SOURCE_DIR/tests/integration/export
tmp=${RCY_TEST_TMP:-/tmp}/export_sdtm.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
s=$RCY_SOURCE_DIR/sample-dicom
a=$tmp/archive
"$R" init --archive "$a" >/dev/null
"$R" reads index --archive "$a" "$s"/S0*/*/*/*_0001.dcm >/dev/null
"$R" registry import --archive "$a" "$s/registry.csv" >/dev/null
"$R" reads import --archive "$a" --role site "$s/reads/site.json" >/dev/null
# bob (R2) sees a new lung lesion at FU1 of CIREL-014-0001 (adjudication), and reads CIREL-031-0001's FU1 as
# stable (agreed: both BORs SD).
jq '(.[] | select(.subject_id == "CIREL-014-0001") | .assessments[1].new_lesions) =
      [{"lesion_id": "N1", "organ": "lung", "nodal": false, "state": "unequivocal"}]
  | (.[] | select(.subject_id == "CIREL-031-0001") | .assessments[1].target) |=
      map(.diameter_mm = (.diameter_mm * 0.0 + 14.0))' "$s/reads/central.json" >"$tmp/r2.json"
"$R" reads import --archive "$a" --role central --reader alice "$s/reads/central.json" >/dev/null
"$R" reads import --archive "$a" --role central --reader bob "$tmp/r2.json" >/dev/null
"$R" adjudication config --archive "$a" --paradigm double --reason "protocol: BICR with two readers" >/dev/null

# The engine's BOR of every read, keyed "subject|EVALID" as the SDTM export names the evaluator; the final read's
# EVALID per subject.
evalids() { # subject -> {"alice": "RADIOLOGIST 1", ...} from the review's reader order
  for subj in $("$R" reads export --archive "$a" --role site --json | jq -r '.[].subject_id'); do
    "$R" adjudication show --archive "$a" --subject "$subj" \
      | jq -c --arg s "$subj" '{($s): (.central_readers | to_entries | map({(.value): "RADIOLOGIST \(.key + 1)"}) | add)}'
  done | jq -s add
}
expected() { # reader -> writes $tmp/bor.json and $tmp/final.json
  if [ "$1" = site ]; then
    "$R" reads export --archive "$a" --role site --json >"$tmp/site.json"
    "$R" recist "$tmp/site.json" | jq 'map({(.subject_id + "|"): .best_overall_response}) | add' >"$tmp/bor.json"
    echo '{}' >"$tmp/final.json"
    return
  fi
  evalids >"$tmp/evalids.json"
  echo '{}' >"$tmp/bor.json"
  for who in alice bob; do
    "$R" reads export --archive "$a" --role central --reader "$who" --json >"$tmp/$who.json"
    "$R" recist "$tmp/$who.json" | jq --arg w "$who" --slurpfile ev "$tmp/evalids.json" --slurpfile acc "$tmp/bor.json" \
      '$acc[0] + (map({(.subject_id + "|" + $ev[0][.subject_id][$w]): .best_overall_response}) | add)' >"$tmp/bor2.json"
    mv "$tmp/bor2.json" "$tmp/bor.json"
  done
  "$R" reads export --archive "$a" --final --json \
    | jq --slurpfile ev "$tmp/evalids.json" 'map({(.subject_id): $ev[0][.subject_id][.reader]}) | add // {}' >"$tmp/final.json"
}

for reader in site central; do
  "$R" export sdtm --archive "$a" --reader "$reader" --out "$tmp/sdtm-$reader" 2>/dev/null
  expected "$reader"
  "$PY" "$here/check_sdtm.py" "$tmp/sdtm-$reader" "$reader" CIREL "$tmp/bor.json" "$tmp/final.json" \
    || fail "SDTM $reader export"
done
# The final read of the two agreed subjects is alice's (R1); CIREL-014-0001 waits for adjudication (no Y).
[ "$(jq -c . "$tmp/final.json")" = '{"CIREL-027-0001":"RADIOLOGIST 1","CIREL-031-0001":"RADIOLOGIST 1"}' ] \
  || fail "final reads $(cat "$tmp/final.json")"
grep -q '"CIREL-014-0001".*"BESTRSP".*"RADIOLOGIST 2"' "$tmp/sdtm-central/rs.csv" \
  || fail "R2's read of the subject awaiting adjudication is not exported"

# Deterministic: the same archive exports the same datasets byte for byte.
"$R" export sdtm --archive "$a" --reader central --out "$tmp/again" 2>/dev/null
for f in tu.csv tr.csv rs.csv define_variables.csv define_codelists.csv; do
  cmp -s "$tmp/sdtm-central/$f" "$tmp/again/$f" || fail "$f differs between two exports"
done

# The final rule picks R2: the accepted flag moves with it.
"$R" adjudication config --archive "$a" --final-rule r2 --reason "SAP v2" >/dev/null
"$R" export sdtm --archive "$a" --reader central --study CIREL2 --out "$tmp/sdtm-r2" 2>/dev/null
expected central
[ "$(jq -c . "$tmp/final.json")" = '{"CIREL-027-0001":"RADIOLOGIST 2","CIREL-031-0001":"RADIOLOGIST 2"}' ] \
  || fail "final reads with r2 $(cat "$tmp/final.json")"
"$PY" "$here/check_sdtm.py" "$tmp/sdtm-r2" central CIREL2 "$tmp/bor.json" "$tmp/final.json" || fail "SDTM, final rule r2"

# Usage errors.
set +e
"$R" export sdtm --archive "$a" --reader all --out "$tmp/x" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "--reader all for sdtm gave $rc"
"$R" export sdtm --archive "$a" --out "$tmp/x" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "sdtm without --reader gave $rc"
"$R" export xml --archive "$a" --out "$tmp/x" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "unknown format gave $rc"
set -e

# The flat CSV: every read, one row per timepoint and lesion, consistent with the SDTM export and the engine.
"$R" export csv --archive "$a" --out "$tmp/flat.csv" 2>/dev/null
"$PY" "$here/check_flat.py" "$tmp/flat.csv" "$tmp/sdtm-r2" CIREL2 "$tmp/sdtm-site" CIREL || fail "flat CSV"
echo "export_sdtm: ok"
