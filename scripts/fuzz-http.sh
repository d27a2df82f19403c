#!/usr/bin/env bash
# Fuzzes the reader workstation's HTTP API: tests/fuzz/http_fuzz.py sends mutated raw requests (request
# lines, headers, JSON bodies; seeds in tests/fuzz/http_corpus) to the ASan+UBSan build of `recistry serve`
# on a temporary archive with synthetic CT. Not part of CI.
#   scripts/fuzz-http.sh [SECONDS] [SEED]     (default 300; FUZZ_JOBS=2 parallel senders; builds build-asan/ if
#                                             missing; works in fuzz-build/http)
# Findings: 5xx replies or a dead server (requests saved in fuzz-build/http/findings/), and any sanitizer
# report in fuzz-build/http/serve.err (checked after a clean SIGTERM, so leaks are reported too).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
seed=${2:-$(date +%s)}
src=$PWD
[ -x build-asan/recistry ] || scripts/build.sh asan build-asan
R=$src/build-asan/recistry
W=$src/fuzz-build/http
rm -rf "$W" && mkdir -p "$W"
A=$W/archive
"$R" init --archive "$A" >/dev/null
lib=tests/integration/reader_lib
"$lib/make_ct.sh" "$W/dcm/bl" S014 CIREL-014-0001 BL 20250106 6 30
"$lib/make_ct.sh" "$W/dcm/fu" S014 CIREL-014-0001 FU1 20250303 6 20
"$lib/make_ct.sh" "$W/dcm/o" S015 CIREL-015-0001 BL 20250110 4 24 7.5
"$R" reads index --archive "$A" "$W"/dcm/*/*.dcm >/dev/null
pw=fuzz-password-123
printf '%s\n' "$pw" >"$W/pw"
"$R" user add --archive "$A" --name fuzzer --role central --password-file "$W/pw" >/dev/null
mkdir -p "$W/dist/assets" && echo '<html>x</html>' >"$W/dist/index.html" && echo 'x' >"$W/dist/assets/a.js"
printf '[archive]\npath = %s\n[http]\nbind = 127.0.0.1\nport = 0\nweb_root = %s\nthreads = 2\n' "$A" "$W/dist" >"$W/serve.ini"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$R" serve --config "$W/serve.ini" >"$W/serve.out" 2>"$W/serve.err" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 200); do grep -q '^listening on' "$W/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\)\/$/\1/p' "$W/serve.out")
[ -n "$port" ] || { echo "fuzz-http: server did not start: $(cat "$W/serve.err")" >&2; exit 2; }
U=http://127.0.0.1:$port
# A read with lesions and a key image, so that mutated requests reach the deeper paths.
curl -s -c "$W/jar" -H 'Content-Type: application/json' --data-binary "{\"name\":\"fuzzer\",\"password\":\"$pw\"}" "$U/api/login" >"$W/login.json"
csrf=$(jq -r .csrf_token "$W/login.json")
post() { curl -s -b "$W/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' -X "$1" --data-binary "$3" "$U$2" >"$W/last.json"; }
db=$A/recistry.db
S=CIREL-014-0001
study=$(sqlite3 "$db" "SELECT study_uid FROM studies WHERE subject_id = '$S' AND timepoint = 'BL'")
series=$(sqlite3 "$db" "SELECT series_uid FROM series WHERE study_uid = '$study'")
sop=$(sqlite3 "$db" "SELECT sop_instance_uid FROM instances WHERE series_uid = '$series' ORDER BY instance_number LIMIT 1 OFFSET 3")
fusop=$(sqlite3 "$db" "SELECT i.sop_instance_uid FROM instances i JOIN series USING (series_uid) JOIN studies st USING (study_uid)
  WHERE st.subject_id = '$S' AND st.timepoint = 'FU1' LIMIT 1 OFFSET 3")
post POST /api/reads/$S/lesions '{"kind":"target","organ":"liver","timepoint":"BL"}'
post POST /api/reads/$S/lesions '{"kind":"target","organ":"lung","timepoint":"BL"}'
post POST /api/reads/$S/lesions '{"kind":"non_target","organ":"bone","timepoint":"BL"}'
post PUT /api/reads/$S/timepoints/BL/lesions/T1 "{\"measurement\":{\"sop_instance_uid\":\"$sop\",\"p1\":[281,220],\"p2\":[319,220]}}"
key=$(jq -r '.lesions[] | select(.lesion_id == "T1") | .observations.BL.measurement.key_image_url' "$W/last.json")
context=$(jq -cn --arg s "$S" --arg sop "$sop" --arg fusop "$fusop" --arg st "$study" --arg se "$series" --arg k "$key" \
  '{SUBJECT: $s, SOP: $sop, FUSOP: $fusop, STUDY: $st, SERIES: $se, KEY: $k}')
rc=0
jobs=${FUZZ_JOBS:-2}
workers=()
for j in $(seq "$jobs"); do
  python3 tests/fuzz/http_fuzz.py --port "$port" --seconds "$seconds" --corpus tests/fuzz/http_corpus \
    --findings "$W/findings" --archive "$A" --password "$pw" --context "$context" --seed "$((seed + j))" \
    >"$W/fuzz.$j.log" 2>&1 &
  workers+=($!)
done
for w in "${workers[@]}"; do wait "$w" || rc=1; done
cat "$W"/fuzz.*.log
total=$(cat "$W"/fuzz.*.log | sed -n 's/^http_fuzz: \([0-9]*\) requests.*/\1/p' | paste -sd+ | bc)
echo "fuzz-http: $total requests in ${seconds}s by $jobs workers"
alive=1
kill -0 "$pid" 2>/dev/null || alive=0
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
trap - EXIT
[ "$alive" = 1 ] || { echo "fuzz-http: the server died, see $W/serve.err" >&2; rc=1; }
if grep -q -e 'ERROR: AddressSanitizer' -e 'ERROR: LeakSanitizer' -e 'runtime error' "$W/serve.err"; then
  echo "fuzz-http: sanitizer report in $W/serve.err" >&2
  rc=1
fi
"$R" audit verify --archive "$A" >"$W/audit.out" 2>&1 || { echo "fuzz-http: audit verify failed: $(cat "$W/audit.out")" >&2; rc=1; }
[ "$rc" = 0 ] && echo "fuzz-http: no findings in ${seconds}s (seed $seed)"
exit "$rc"
