#!/usr/bin/env bash
# End to end on the generator's reads: the RECIST engine (`recistry recist`) given the perfect central read
# finds each subject's scenario (PR, PD by a new lesion, CR of nodes, PD by growth, SD, an equivocal new
# lesion confirmed later with progression dated back, liver-only progression), and `recistry concordance`
# finds the site read's deliberate discordance (the missed new lesion moves progression later).
set -euo pipefail
: "${RECISTRY:?RECISTRY must name the recistry program}"
tmp="${RCY_TEST_TMP:-/tmp}/sample_engine.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$RECISTRY" sample --out "$tmp/s" --subjects 7 --seed 11 --slices 8 --timepoints 4 --no-dirty >/dev/null
"$RECISTRY" recist "$tmp/s/reads/central.json" >"$tmp/central.out" || fail "recist refused the central read"
"$RECISTRY" recist "$tmp/s/reads/site.json" >"$tmp/site.out" || fail "recist refused the site read"
"$RECISTRY" concordance "$tmp/s/reads/site.json" "$tmp/s/reads/central.json" >"$tmp/conc.out" ||
  fail "concordance refused the reads"

node -e '
const fs = require("fs"), [dir, out, conc] = process.argv.slice(1);
const res = JSON.parse(fs.readFileSync(out)), c = JSON.parse(fs.readFileSync(conc));
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const overall = (s) => s.timepoints.map((t) => t.overall_response);
for (const s of res) {
  const truth = JSON.parse(fs.readFileSync(dir + "/truth/" + s.subject_id + ".json"));
  const o = overall(s), p = s.progression, why = (p && p.reasons) || [];
  const is = (cond, what) => { if (!cond) fail(s.subject_id + " (" + truth.scenario + "): " + what + " — " + JSON.stringify(s)); };
  switch (truth.scenario) {
    case "partial_response": is(s.best_overall_response === "PR" && !p, "confirmed PR, no progression"); break;
    case "progression_new_lesion": is(p && why.includes("new_lesion"), "PD by a new lesion"); break;
    case "complete_response_nodes": is(o.includes("CR") && !p, "CR (nodes < 10 mm), no progression"); break;
    case "progression_growth": is(p && why.includes("target") && !why.includes("new_lesion"), "PD by target growth"); break;
    case "stable_disease": is(s.best_overall_response === "SD" && !p, "SD, no progression"); break;
    case "equivocal_new_lesion_confirmed": is(p && p.timepoint === "FU1" && o[1] !== "PD" && o[2] === "PD",
        "equivocal at FU1, PD at FU2 dated back to FU1"); break;
    case "liver_only_progression": is(p && s.hepatic_progression && s.hepatic_progression.timepoint === p.timepoint,
        "hepatic progression"); break;
    default: fail("unknown scenario " + truth.scenario);
  }
}
const d = (c.discordant || []).find((x) => x.subject_id === "CIREL-027-0001");
if (!d || !d.reasons.includes("pd_timepoint_differs")) fail("concordance misses the site read that overlooked N1: " + JSON.stringify(c.discordant));
console.log("engine: " + res.length + " subjects match their scenarios; concordance flags " + c.discordant.length + " subject(s)");
' "$tmp/s" "$tmp/central.out" "$tmp/conc.out"
