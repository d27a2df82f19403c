#!/usr/bin/env bash
# Fuzzes `recistry reads import` (CSV and JSON: parse, strict schema, plausibility, archive checks and the
# engine's validation) with libFuzzer + ASan + UBSan, on a temporary archive seeded with two subjects
# (tests/fuzz/reads_import_fuzz.c). Not part of CI.
#   scripts/fuzz-reads-import.sh [SECONDS]   (default 300; builds with clang into fuzz-build/reads-import/,
#                                             corpus in fuzz-build/reads-import-corpus)
# Findings (crash-*, leak-*, timeout-*) land in fuzz-build/; reproduce with
# fuzz-build/reads-import/tests/fuzz/reads_import_fuzz FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
out=fuzz-build
build=$out/reads-import
command -v clang >/dev/null || { echo "fuzz-reads-import: clang not found (scripts/setup.sh installs it)" >&2; exit 2; }
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS=-O1 -DCMAKE_CXX_FLAGS=-O1 -DRCY_SANITIZE=ON -DRCY_FUZZ=ON -DRCY_TESTS=OFF -DRCY_WERROR=OFF >/dev/null
cmake --build "$build" --target reads_import_fuzz -j "$(nproc 2>/dev/null || echo 2)" >"$out/reads-import-build.log" 2>&1 ||
  { tail -30 "$out/reads-import-build.log" >&2; exit 2; }
# Seeds: the committed ones (a valid CSV and JSON for the seeded subjects, and near misses) and the engine's
# JSON fixtures (other subjects: they exercise the archive check and the schema).
seeds="$out/reads-import-seeds"
rm -rf "$seeds" && mkdir -p "$seeds" "$out/reads-import-corpus"
cp tests/fuzz/reads_import_seeds/* "$seeds/"
cp tests/data/recist/contract_example.json tests/data/recist/unconfirmed_pr.json "$seeds/"
ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64:detect_leaks=1} "$build/tests/fuzz/reads_import_fuzz" \
  -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$out/" -dict=tests/fuzz/reads_import.dict "$out/reads-import-corpus" "$seeds" 2>&1 |
  tee "$out/reads-import-fuzz.log" | grep -E "^#[0-9]+.*(DONE|pulse)|stat::|ERROR|SUMMARY|reads_import_fuzz:" || true
grep -q "ERROR: \|SUMMARY: \|reads_import_fuzz: " "$out/reads-import-fuzz.log" &&
  { echo "fuzz-reads-import: findings, see $out/reads-import-fuzz.log" >&2; exit 1; }
echo "fuzz-reads-import: no findings in ${seconds}s ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/reads-import-fuzz.log" | awk '{print $2}') executions)"
