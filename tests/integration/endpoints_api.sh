#!/usr/bin/env bash
# Registry endpoints over HTTP (issue 12): on a generated cohort (scripts/demo-cohort.py: tiny DICOM instances
# indexed with `recistry reads index`, the registry, site reads and one central reader's reads imported),
# GET /api/endpoints equals `recistry endpoints --archive --reader R [--by indication] --json` for both
# readers; GET /api/endpoints/subjects gives one row per analysed subject whose survival times and events are
# the ones the curves count and whose best % change is the minimum over follow-ups up to the first PD; only QA
# and admin reach either (403 for central and site users, 401 without a session, 400 for a bad reader).
set -euo pipefail
. "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
reader_setup endpoints_api
python3 "$RCY_SOURCE_DIR/scripts/demo-cohort.py" "$T/cohort" 40 7 >/dev/null
"$R" reads index --archive "$A" "$T"/cohort/dicom/*.dcm >/dev/null
"$R" registry import --archive "$A" "$T/cohort/registry.csv" >/dev/null
"$R" reads import --archive "$A" --role site "$T/cohort/site.json" >/dev/null
"$R" reads import --archive "$A" --role central --reader c1 "$T/cohort/central.json" >/dev/null
add_user qa1 qa
add_user admin1 admin
add_user c1 central
add_user site1 site S014

for r in site central; do
  "$R" endpoints --archive "$A" --reader "$r" --by indication --json >"$T/cli_${r}_ind.json"
  "$R" endpoints --archive "$A" --reader "$r" --json >"$T/cli_${r}_none.json"
  [ "$(jq '.groups[0].n' "$T/cli_${r}_ind.json")" = 40 ] || fail "$r: the 40 subjects should all be analysed"
done

reader_start
for u in qa1 admin1 c1 site1; do login $u; done
for who in qa1 admin1; do
  for r in site central; do
    call $who GET "/api/endpoints?reader=$r&by=indication"; [ "$code" = 200 ] || fail "$who $r → $code $(cat "$T/out")"
    diff <(jq -S . "$T/out") <(jq -S . "$T/cli_${r}_ind.json") >"$T/diff" || fail "$who $r by indication: API differs from the CLI: $(head -20 "$T/diff")"
    call $who GET "/api/endpoints?reader=$r&by=none"; [ "$code" = 200 ] || fail "$who $r none → $code"
    diff <(jq -S . "$T/out") <(jq -S . "$T/cli_${r}_none.json") >/dev/null || fail "$who $r: API (by=none) differs from the CLI"
  done
done
call qa1 GET "/api/endpoints"; jqe '.reader == "central" and .by == null' || fail "default reader should be central"

# Per-subject plot data: consistent with the curves and the engine's timepoints.
for r in site central; do
  call qa1 GET "/api/endpoints/subjects?reader=$r"; [ "$code" = 200 ] || fail "subjects $r → $code"
  cp "$T/out" "$T/subj_$r.json"
  python3 - "$T/subj_$r.json" "$T/cli_${r}_ind.json" <<'PY' || fail "subjects $r: inconsistent with the endpoints"
import json, sys
subj = json.load(open(sys.argv[1]))["subjects"]
doc = json.load(open(sys.argv[2]))
assert len(subj) == doc["groups"][0]["n"], (len(subj), doc["groups"][0]["n"])
for k in ("os", "pfs", "hpfs"):
    assert sum(s["survival"][k]["event"] for s in subj) == doc["groups"][0][k]["events"], k
    for g in doc["groups"][1:]:
        mine = [s for s in subj if s["indication"] == g["group"]]
        assert len(mine) == g["n"] and sum(s["survival"][k]["event"] for s in mine) == g[k]["events"], (k, g["group"])
    # the curve's last time is the largest subject time
    assert max(s["survival"][k]["time_days"] for s in subj) == doc["groups"][0][k]["curve"][-1]["t"], k
for s in subj:
    best = None
    for t in s["timepoints"][1:]:
        c = t["change_from_baseline_pct"]
        if c is not None and (best is None or c < best): best = c
        if t["overall_response"] == "PD": break
    assert s["best_change_pct"] == best, (s["subject_id"], s["best_change_pct"], best)
    assert s["timepoints"][0]["timepoint"] == "BL" and s["timepoints"][0]["overall_response"] is None
    if s["death_day"] is not None: assert s["survival"]["os"]["event"] and s["survival"]["os"]["time_days"] == max(0, s["death_day"])
orr = sum(s["best_overall_response"] in ("CR", "PR") for s in subj)
assert orr == doc["groups"][0]["orr"]["count"], (orr, doc["groups"][0]["orr"])
PY
done

call qa1 GET "/api/endpoints?reader=adjudicator"
[ "$code" = 400 ] && jqe '.error | test("reader")' || fail "bad reader → $code $(cat "$T/out")"
call qa1 GET "/api/endpoints?reader=site&by=site"; [ "$code" = 400 ] || fail "bad by → $code"
for who in c1 site1; do
  for p in "/api/endpoints?reader=site" "/api/endpoints?reader=central&by=indication" "/api/endpoints/subjects?reader=central"; do
    call $who GET "$p"; [ "$code" = 403 ] || fail "$who GET $p → $code (must be 403)"
  done
done
call - GET /api/endpoints; [ "$code" = 401 ] || fail "no session → $code"
echo "endpoints_api: ok"
