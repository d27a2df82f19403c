#!/usr/bin/env bash
# The committed sample-dicom/ is exactly what the current generator makes with scripts/make-samples.sh's
# options: a generator change that alters output must come with regenerated samples.
set -euo pipefail
: "${RECISTRY:?RECISTRY must name the recistry program}"
src="${RCY_SOURCE_DIR:?}"
tmp="${RCY_TEST_TMP:-/tmp}/sample_committed.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
[ -d "$src/sample-dicom" ] || { echo "FAIL: no sample-dicom/ in $src" >&2; exit 1; }
opts=$(sed -n 's/^"\$build\/recistry" sample --out sample-dicom \(.*\)$/\1/p' "$src/scripts/make-samples.sh")
[ -n "$opts" ] || { echo "FAIL: cannot read the options in scripts/make-samples.sh" >&2; exit 1; }
# shellcheck disable=SC2086
"$RECISTRY" sample --out "$tmp/s" $opts >/dev/null
if ! diff -rq "$src/sample-dicom" "$tmp/s" >"$tmp/diff"; then
  head -20 "$tmp/diff" >&2
  echo "FAIL: sample-dicom/ differs from the generator's output: run scripts/make-samples.sh" >&2
  exit 1
fi
echo "sample-dicom/ matches: recistry sample $opts"
