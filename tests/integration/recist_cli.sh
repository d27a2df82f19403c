#!/usr/bin/env bash
# `recistry recist` and `recistry concordance` as a user runs them: the real program on the JSON files in
# tests/data/recist/, checking outputs (jq), exit codes 0/1/2 and the error messages.
set -uo pipefail
: "${RECISTRY:?}" "${RCY_SOURCE_DIR:?}" "${RCY_TEST_TMP:?}"
data="$RCY_SOURCE_DIR/tests/data/recist"
tmp="$RCY_TEST_TMP/recist_cli"
rm -rf "$tmp" && mkdir -p "$tmp"
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# run EXPECTED_EXIT ARGS... : runs the program, keeps stdout/stderr in $tmp/out, $tmp/err
run() {
  local want=$1; shift
  "$RECISTRY" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" = "$want" ] || fail "recistry $* exited $got, expected $want; stderr: $(head -c 300 "$tmp/err")"
}

expect_err() { grep -qF -- "$1" "$tmp/err" || fail "stderr lacks '$1': $(head -c 300 "$tmp/err")"; }
expect_jq() { # expect_jq FILTER EXPECTED (compact JSON)
  local got
  got=$(jq -c "$1" "$tmp/out" 2>&1) || { fail "jq '$1' failed: $got"; return; }
  [ "$got" = "$2" ] || fail "jq '$1' = $got, expected $2"
}

# --- the contract's example, key by key and as a whole -------------------------------------------------
run 0 recist "$data/contract_example.json"
expect_jq '.timepoints[1] | [.sum_mm, .nadir_mm, .change_from_baseline_pct, .change_from_nadir_pct]' '[35,59,-40.7,-40.7]'
expect_jq '.timepoints[1] | [.target_response, .non_target_response, .new_lesions, .overall_response]' \
  '["PR","NON_CR_NON_PD",true,"PD"]'
expect_jq '.timepoints[0] | [.target_response, .overall_response, .change_from_baseline_pct]' '[null,null,0]'
expect_jq '.best_overall_response' '"PD"'
expect_jq '.early_tumour_shrinkage' '{"timepoint":"FU1","days":39,"in_window":true,"change_pct":-40.7,"ets20":true,"ets30":true}'
expect_jq '.depth_of_response' '{"pct":40.7,"timepoint":"FU1","time_to_nadir_days":39}'
expect_jq '.progression | [.timepoint, .date, .reasons]' '["FU1","2019-04-12",["new_lesion"]]'
expect_jq '[.hepatic_progression, .warnings]' '[null,[]]'
diff <(jq -S . "$tmp/out") <(jq -S . "$data/contract_example.expected.json") >/dev/null ||
  fail "contract example output differs from contract_example.expected.json"
grep -q '"change_from_baseline_pct": -40.7,' "$tmp/out" || fail "percentages are not printed with one decimal"

# stdin, with and without "-"
"$RECISTRY" recist <"$data/contract_example.json" >"$tmp/stdin1" || fail "recist from stdin failed"
"$RECISTRY" recist - <"$data/contract_example.json" >"$tmp/stdin2" || fail "recist - failed"
cmp -s "$tmp/stdin1" "$data/contract_example.expected.json" || fail "stdin output differs"
cmp -s "$tmp/stdin2" "$data/contract_example.expected.json" || fail "'-' output differs"

# --- options ----------------------------------------------------------------------------------------------
run 0 recist "$data/unconfirmed_pr.json"
expect_jq '[.timepoints[1].overall_response, .best_overall_response]' '["PR","SD"]'
run 0 recist --no-confirmation "$data/unconfirmed_pr.json"
expect_jq '.best_overall_response' '"PR"'

run 1 recist "$data/invalid/too_many_targets.json"
expect_err "recistry recist: subject S014-0009, timepoint BL, lesion T6: more than 5 target lesions at baseline"
run 0 recist --lenient "$data/invalid/too_many_targets.json"
expect_jq '.warnings' '["subject S014-0009, timepoint BL, lesion T6: more than 5 target lesions at baseline"]'
expect_jq '.timepoints[1] | [.sum_mm, .target_response]' '[120,"SD"]'

# --- an array of subjects: the demo cohort -----------------------------------------------------------------
run 0 recist "$data/demo_site.json"
expect_jq 'length' '7'
expect_jq '[.[] | .best_overall_response]' '["PR","SD","SD","SD","CR","SD","PD"]'
expect_jq '.[6].progression | [.timepoint, .confirmed_timepoint]' '["FU1","FU2"]'
expect_jq '.[5].timepoints[1] | [.target_response, .sum_mm, .evaluable_sum_mm]' '["NE",null,30]'

# --- invalid input: exit 1, message naming subject, timepoint and lesion -----------------------------------
while IFS='|' read -r file message; do
  run 1 recist "$data/invalid/$file"
  expect_err "$message"
  [ -s "$tmp/out" ] && fail "$file: output printed despite the error"
done <<'CASES'
malformed.json|recistry recist: input: malformed JSON at line 2
wrong_type.json|subject S014-0009, timepoint BL, lesion T1: diameter_mm must be a number
unknown_state.json|subject S014-0009, timepoint FU1, lesion T1: unknown target state 'gone'
unknown_nt_state.json|subject S014-0009, timepoint FU1, lesion NT1: unknown non-target state 'bigger'
dates_not_increasing.json|subject S014-0009, timepoint FU2: date 2019-04-12 is not after the previous assessment FU1
bad_date.json|subject S014-0009, timepoint BL: date: invalid date '2019-02-30'
unknown_lesion.json|subject S014-0009, timepoint FU1, lesion T3: target lesion not present at baseline
too_many_targets.json|subject S014-0009, timepoint BL, lesion T6: more than 5 target lesions at baseline
two_states.json|subject S014-0009, timepoint FU1, lesion T1: give exactly one of diameter_mm, state
not_a_subject.json|subject #2: a subject must be a JSON object
unknown_option.json|subject S014-0009: unknown option "confirm"
merge_cycle.json|subject S014-0011, timepoint FU1, lesion T1: merged_into 'T2', but T2 is itself merged_into 'T1' at this timepoint
CASES
# a merge cycle is refused with --lenient too (it is not a baseline rule): both lesions would drop out
run 1 recist --lenient "$data/invalid/merge_cycle.json"
expect_err "lesion T1: merged_into 'T2', but T2 is itself merged_into 'T1'"
run 1 recist "$tmp/does-not-exist.json"
expect_err "cannot open"

# --- usage errors: exit 2 ------------------------------------------------------------------------------------
run 2 recist --bogus "$data/contract_example.json"
expect_err "unknown option '--bogus'"
run 2 recist "$data/demo_site.json" "$data/demo_central.json"
expect_err "too many operands"
run 2 concordance "$data/demo_site.json"
expect_err "need two files"
run 0 recist --help
grep -q "usage: recistry recist" "$tmp/out" || fail "recist --help prints no usage"

# --- concordance of the demo reads ---------------------------------------------------------------------------
run 0 concordance "$data/demo_site.json" "$data/demo_central.json"
expect_jq '[.subjects, .timepoints]' '[7,21]'
expect_jq '.best_overall_response_agreement | [.n, .agreement_pct, .kappa]' '[7,85.7,0.788]'
expect_jq '.progression' '{"both_pd":4,"first_only_pd":0,"second_only_pd":0,"neither_pd":3,"same_timepoint":3}'
expect_jq '.discrepancy_rates | [.edr, .ldr, .investigator_pd, .investigator_earlier]' '[0.25,0,4,1]'
expect_jq '[.discordant[] | [.subject_id, .reasons]]' '[["S014-0002",["bor_differs"]],["S022-0003",["pd_timepoint_differs"]]]'
expect_jq '.bland_altman_sum_mm.n' '27'
expect_jq '.unpaired' '{"first_only":[],"second_only":[]}'
run 1 concordance "$data/demo_site.json" "$data/invalid/wrong_type.json"
expect_err "second read: subject S014-0009, timepoint BL, lesion T1: diameter_mm must be a number"

if [ "$failures" -ne 0 ]; then
  echo "recist_cli: $failures failure(s)" >&2
  exit 1
fi
echo "recist_cli: all checks passed"
