#!/usr/bin/env bash
# Fuzzes the DICOM network path end to end with libFuzzer (clang -fsanitize=fuzzer,address,undefined on our
# code; DCMTK is Debian's build): the storage SCP runs in the fuzzer's process on a loopback port and each
# input is the raw byte stream of one client connection (association, P-DATA, release). See
# tests/fuzz/net_fuzz.cc. Not part of CI.
#   scripts/fuzz-net.sh [SECONDS] [JOBS]   (default 300 s, 1 job; builds into fuzz-build/, corpus fuzz-build/net-corpus)
# Seeds: tests/fuzz/net-seeds/ (made by tests/fuzz/net_seeds.py: echo, store of an 8x8 CT in explicit and
# deflated VR, fragmented store then echo, release only, abort, a data set and a command set nested 70 deep).
# Findings (crash-*, leak-*, timeout-*) land in fuzz-build/; reproduce with fuzz-build/net_fuzz FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
jobs=${2:-1}
out=fuzz-build
command -v clang++ >/dev/null || { echo "fuzz-net: clang++ not found (scripts/setup.sh installs it)" >&2; exit 2; }
mkdir -p "$out/net-corpus"
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude)
for c in error log; do
  clang -c "${flags[@]}" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE src/common/$c.c -o "$out/$c.o"
done
clang++ "${flags[@]}" -std=c++17 -I/usr/include/dcmtk src/dicom/net_scp.cc src/dicom/net_receive.cc \
  src/dicom/net_spool.cc src/dicom/net_transport.cc src/dicom/nesting_guard.cc src/dicom/read_attrs.cc \
  tests/fuzz/net_fuzz.cc "$out/error.o" "$out/log.o" \
  -ldcmtls -ldcmnet -ldcmdata -loflog -lofstd -lssl -lcrypto -lz -lpthread -o "$out/net_fuzz"
cd "$out"
# detect_leaks=0: the SCP's association threads are detached and still running when libFuzzer checks.
# Fork mode with -ignore_ooms: the fuzzer process's RSS grows by megabytes per input under ASan (one new
# thread per connection; the release daemon's RSS stays flat over the same corpus), so each child runs
# until the RSS limit and is replaced; crashes and sanitizer reports still stop the run.
rm -rf fork-logs && mkdir -p fork-logs
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:quarantine_size_mb=64} ./net_fuzz \
  -max_total_time="$seconds" -max_len=8192 -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
  -fork="$jobs" -ignore_ooms=1 -ignore_timeouts=1 -create_missing_dirs=1 -artifact_prefix=./ \
  net-corpus ../tests/fuzz/net-seeds > net-fuzz.log 2>&1 || true
grep -E "^#[0-9]+.*DONE|INFO: fuzzed for|stat::number_of_executed_units|ERROR|SUMMARY" net-fuzz.log | tail -5 || true
if grep -q "deadly signal\|ERROR: AddressSanitizer\|runtime error\|ERROR: UndefinedBehaviorSanitizer\|crash-" net-fuzz.log; then
  echo "fuzz-net: findings, see $out/net-fuzz.log" >&2
  exit 1
fi
execs=$(grep -o '^#[0-9]*' net-fuzz.log | tr -d '#' | sort -n | tail -1)  # fork mode: "#N: cov: ..." totals
ooms=$(grep -o 'oom/timeout/crash: [0-9/]*' net-fuzz.log | tail -1 | awk '{print $2}')
echo "fuzz-net: no crash or sanitizer report in ${seconds}s (${execs:-?} executions; oom/timeout/crash: ${ooms:-0/0/0})"
