#!/usr/bin/env bash
# Fuzzes what the ingest daemon does with a received file before storing it (attribute extraction over
# DCMTK, then the site and anonymisation checks) with libFuzzer (clang -fsanitize=fuzzer,address,undefined
# on our code; DCMTK is Debian's build). Not part of CI.
#   scripts/fuzz-ingest.sh [SECONDS]        (default 300; builds into fuzz-build/, corpus in fuzz-build/ingest-corpus)
# Seeds: the committed sample instances (one per series) and the dirty cases the generator makes. Findings
# (crash-*, leak-*, timeout-*) land in fuzz-build/; reproduce with fuzz-build/ingest_fuzz FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
out=fuzz-build
command -v clang++ >/dev/null || { echo "fuzz-ingest: clang++ not found (scripts/setup.sh installs it)" >&2; exit 2; }
mkdir -p "$out/ingest-corpus"
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude -Isrc/ingest)
clang -c "${flags[@]}" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE src/ingest/checks.c -o "$out/checks.o"
clang -c "${flags[@]}" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE src/ingest/deid_profile.c -o "$out/deid_profile.o"
clang -c "${flags[@]}" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE src/common/error.c -o "$out/error.o"
clang -c "${flags[@]}" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE src/common/log.c -o "$out/log.o"
clang++ "${flags[@]}" -std=c++17 -I/usr/include/dcmtk src/dicom/read_attrs.cc tests/fuzz/ingest_fuzz.cc \
  "$out/checks.o" "$out/deid_profile.o" "$out/error.o" "$out/log.o" -lpthread -ldcmdata -loflog -lofstd -o "$out/ingest_fuzz"
# Seeds: small CT instances (8x8 pixels, so that mutations reach the header rather than the pixels), made by
# the ingest tests' make_ct: a clean one, and variants with identity left in (a birth date, a sequence of other
# IDs, burned-in annotation), not marked de-identified, and of another site.
seeds="$out/ingest-seeds"
rm -rf "$seeds" && mkdir -p "$seeds"
RECISTRY=$PWD/build/recistry source tests/integration/lib/ingest.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
make_ct "$seeds/clean.dcm" rows=8 cols=8
make_ct "$seeds/birthdate.dcm" rows=8 cols=8 extra="(0010,0030) DA [19500101]"
make_ct "$seeds/other_ids.dcm" rows=8 cols=8 extra="(0010,1002) SQ (Sequence with explicit length #=1)
(fffe,e000) na (Item with explicit length #=1)
(0010,0020) LO [H123]
(fffe,e00d) na (ItemDelimitationItem for re-encoding)
(fffe,e0dd) na (SequenceDelimitationItem for re-encoding)"
make_ct "$seeds/burned_in.dcm" rows=8 cols=8 extra="(0028,0301) CS [YES]"
make_ct "$seeds/not_deidentified.dcm" rows=8 cols=8 pir=NO
make_ct "$seeds/other_site.dcm" rows=8 cols=8 site=S027 subject=CIREL-027-0001
make_ct "$seeds/private.dcm" rows=8 cols=8 extra="(0009,0010) LO [ACME]
(0009,1001) LO [X]"
make_ct "$seeds/nested.dcm" rows=8 cols=8 extra="(0040,0260) SQ (Sequence with explicit length #=1)
(fffe,e000) na (Item with explicit length #=1)
(0008,2218) SQ (Sequence with explicit length #=1)
(fffe,e000) na (Item with explicit length #=1)
(0010,0010) PN [X]
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)"
make_ct "$seeds/burned_multi.dcm" rows=8 cols=8 extra="(0028,0301) CS [NO\\YES]"
cd "$out"
RCY_LOG=${RCY_LOG:-error} RECISTRY_LOG=error ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64} ./ingest_fuzz \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ingest-corpus ingest-seeds 2>&1 |
  tee ingest-fuzz.log | grep -E "^#[0-9]+.*(DONE|pulse)|stat::|ERROR|SUMMARY" || true
grep -q "ERROR: \|SUMMARY: " ingest-fuzz.log && { echo "fuzz-ingest: findings, see $out/ingest-fuzz.log" >&2; exit 1; }
echo "fuzz-ingest: no findings in ${seconds}s ($(grep -o 'stat::number_of_executed_units: [0-9]*' ingest-fuzz.log | awk '{print $2}') executions)"
