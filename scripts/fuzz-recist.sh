#!/usr/bin/env bash
# Fuzzes the JSON entry points of `recistry recist` / `recistry concordance` with libFuzzer
# (clang -fsanitize=fuzzer,address,undefined). Not part of CI.
#   scripts/fuzz-recist.sh [SECONDS]        (default 300; builds into fuzz-build/, corpus in fuzz-build/corpus)
# Findings (crash-*, leak-*, timeout-*) land in fuzz-build/; reproduce with fuzz-build/recist_fuzz FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
out=fuzz-build
command -v clang >/dev/null || { echo "fuzz-recist: clang not found (scripts/setup.sh installs it)" >&2; exit 2; }
mkdir -p "$out/corpus"
clang -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Iinclude src/recist/*.c src/common/error.c src/reads/engine_json.c tests/fuzz/recist_fuzz.c \
  $(pkg-config --cflags --libs jansson) -lm -o "$out/recist_fuzz"
# Seeds: every JSON fixture, and the demo reads joined by a form feed (the concordance path).
seeds="$out/seeds"
rm -rf "$seeds" && mkdir -p "$seeds"
cp tests/data/recist/*.json tests/data/recist/invalid/*.json "$seeds/"
{ cat tests/data/recist/demo_site.json; printf '\f'; cat tests/data/recist/demo_central.json; } >"$seeds/concordance.json"
cd "$out"
ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64} ./recist_fuzz -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=1024 \
  -print_final_stats=1 corpus seeds 2>&1 | tee fuzz.log | grep -E "^#[0-9]+.*(DONE|pulse)|stat::|ERROR|SUMMARY" || true
grep -q "ERROR: \|SUMMARY: " fuzz.log && { echo "fuzz-recist: findings, see $out/fuzz.log" >&2; exit 1; }
echo "fuzz-recist: no findings in ${seconds}s ($(grep -o 'stat::number_of_executed_units: [0-9]*' fuzz.log | awk '{print $2}') executions)"
