#!/usr/bin/env bash
# The workstation's dose endpoints over HTTP (readers/server/dose_api.c; docs/api.md "Dose view"), so that they
# run under ASan too (the browser test dose_view does not): GET /api/dose/{subject} gives the same compartments
# as `recistry dose --archive` with the same VOIs; /volume is the dose grid as Float32 (size from the JSON's
# grid), /ct the CT as Int16; a site user, a subject without a PET and an unknown subject are refused with a
# message; the second request is served from the cache (the same bytes).
source "$RCY_SOURCE_DIR/tests/integration/reader_lib/server.sh"
reader_setup dose_api
S=CIREL-014-0971
"$R" sample --out "$T/p" --tare --phantom accuracy >/dev/null
find "$T/p/S014/$S" -name '*.dcm' -print0 | xargs -0 "$R" reads index --archive "$A" >/dev/null
mkdir -p "$T/voi/$S" && cp "$T/p/tare/$S/Y90/"*.nrrd "$T/voi/$S/"
add_user carol central
add_user quinn qa
add_user site14 site S014
reader_start "$(printf '[dose]\nvoi_dir = %s\nthresholds = %s' "$T/voi" "$RCY_SOURCE_DIR/config/dose-thresholds.ini")"
for u in carol quinn site14; do login $u; done

echo "== the dose JSON equals the command line's"
expect 200 carol GET "/api/dose/$S"
cp "$T/out" "$T/api.json"
vois=()
for f in "$T/voi/$S"/*.nrrd; do vois+=(--voi "$(basename "$f" .nrrd)=$f"); done
"$R" dose --archive "$A" --subject $S "${vois[@]}" --thresholds "$RCY_SOURCE_DIR/config/dose-thresholds.ini" --json \
  >"$T/cli.json" || fail "recistry dose --archive failed"
jq -S '[.compartments[] | {name, mean_gy, d70_gy, v100_pct}] | sort_by(.name)' "$T/api.json" >"$T/a"
jq -S '[.compartments[] | {name, mean_gy, d70_gy, v100_pct}] | sort_by(.name)' "$T/cli.json" >"$T/b"
cmp -s "$T/a" "$T/b" || fail "API and CLI differ: $(diff "$T/a" "$T/b" | head -5)"
jqe '(.compartments | length) >= 5 and (.flags | length) >= 1 and (.grid.size | length) == 3' "$T/api.json" ||
  fail "dose JSON: $(head -c 300 "$T/api.json")"

echo "== the dose grid (Float32) and the CT (Int16) have the grid's size"
n=$(jq '.grid.size | .[0] * .[1] * .[2]' "$T/api.json")
curl -s -b "$T/carol.jar" -o "$T/vol" "$U/api/dose/$S/volume"
[ "$(stat -c %s "$T/vol")" = $((n * 4)) ] || fail "volume: $(stat -c %s "$T/vol") bytes for $n voxels"
curl -s -b "$T/carol.jar" -o "$T/ct" "$U/api/dose/$S/ct"
[ "$(stat -c %s "$T/ct")" = $((n * 2)) ] || fail "ct: $(stat -c %s "$T/ct") bytes for $n voxels"
/usr/bin/python3 - "$T/vol" "$T/api.json" <<'PY' || fail "the Float32 grid's hottest voxel is not the tumours'"
import json, sys, numpy as np
v = np.fromfile(sys.argv[1], dtype="<f4")
t = max(c["max_gy"] for c in json.load(open(sys.argv[2]))["compartments"])
assert abs(float(v.max()) - t) < 1e-3 * t, (float(v.max()), t)
PY

echo "== cached: the same bytes again; QA may see it; refusals carry a message"
expect 200 quinn GET "/api/dose/$S"
cmp -s <(jq -S .compartments "$T/out") <(jq -S .compartments "$T/api.json") || fail "second request differs"
call site14 GET "/api/dose/$S"
[ "$code" = 403 ] || [ "$code" = 404 ] || fail "a site user got $code"
expect 404 carol GET "/api/dose/CIREL-014-9999"
call - GET "/api/dose/$S"
[ "$code" = 401 ] || fail "no session got $code"
echo "dose_api: ok"
