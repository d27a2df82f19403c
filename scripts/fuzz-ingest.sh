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
clang -c "${flags[@]}" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE src/common/error.c -o "$out/error.o"
clang -c "${flags[@]}" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE src/common/log.c -o "$out/log.o"
clang++ "${flags[@]}" -std=c++17 -I/usr/include/dcmtk src/dicom/read_attrs.cc tests/fuzz/ingest_fuzz.cc \
  "$out/checks.o" "$out/error.o" "$out/log.o" -ldcmdata -loflog -lofstd -o "$out/ingest_fuzz"
# Seeds: small CT instances (8x8 pixels, so that mutations reach the header rather than the pixels): a clean
# one, and variants with identity left in (a birth date, a sequence of other IDs, burned-in annotation) and
# with another site's ID.
seeds="$out/ingest-seeds"
rm -rf "$seeds" && mkdir -p "$seeds"
head -c 128 /dev/zero | tr '\0' '\1' >"$seeds/px.raw"
seed() { # NAME EXTRA_DUMP_LINES
  cat >"$seeds/$1.dump" <<DUMP
(0008,0016) UI [1.2.840.10008.5.1.4.1.1.2]
(0008,0018) UI [1.2.826.0.1.3680043.10.9.1.1.1]
(0008,0020) DA [20240115]
(0008,0060) CS [CT]
(0010,0010) PN [CIREL-014-0001]
(0010,0020) LO [CIREL-014-0001]
(0012,0030) LO [S014]
(0012,0040) LO [CIREL-014-0001]
(0012,0050) LO [BL]
(0012,0062) CS [YES]
(0018,0050) DS [2.5]
(0020,000d) UI [1.2.826.0.1.3680043.10.9.1]
(0020,000e) UI [1.2.826.0.1.3680043.10.9.1.1]
(0020,0013) IS [1]
(0020,0032) DS [-200\\-200\\0]
(0020,0037) DS [1\\0\\0\\0\\1\\0]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 8
(0028,0011) US 8
(0028,0030) DS [0.78\\0.78]
(0028,0100) US 16
(0028,0101) US 12
(0028,0102) US 11
(0028,0103) US 0
$2
(7fe0,0010) OW =$seeds/px.raw
DUMP
  dump2dcm +te "$seeds/$1.dump" "$seeds/$1.dcm" >/dev/null && rm "$seeds/$1.dump"
}
seed clean ""
seed birthdate "(0010,0030) DA [19500101]"
seed other_ids "(0010,1002) SQ (Sequence with explicit length #=1)
(fffe,e000) na (Item with explicit length #=1)
(0010,0020) LO [H123]
(fffe,e00d) na (ItemDelimitationItem for re-encoding)
(fffe,e0dd) na (SequenceDelimitationItem for re-encoding)"
seed burned_in "(0028,0301) CS [YES]"
seed other_site "(0012,0031) LO [Centre 27]"
rm "$seeds/px.raw"
cd "$out"
RCY_LOG=${RCY_LOG:-error} RECISTRY_LOG=error ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64} ./ingest_fuzz \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ingest-corpus ingest-seeds 2>&1 |
  tee ingest-fuzz.log | grep -E "^#[0-9]+.*(DONE|pulse)|stat::|ERROR|SUMMARY" || true
grep -q "ERROR: \|SUMMARY: " ingest-fuzz.log && { echo "fuzz-ingest: findings, see $out/ingest-fuzz.log" >&2; exit 1; }
echo "fuzz-ingest: no findings in ${seconds}s ($(grep -o 'stat::number_of_executed_units: [0-9]*' ingest-fuzz.log | awk '{print $2}') executions)"
