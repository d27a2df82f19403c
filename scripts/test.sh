#!/usr/bin/env bash
# The README's test command (and CI's): install what is missing, then build twice — a normal build and an
# ASan+UBSan build, both with -Wall -Wextra -Werror — and run the whole ctest suite on each.
#   scripts/test.sh [ctest args...]      e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export TCP_NODELAY=1   # DCMTK peers: no 40 ms Nagle stall per instance (shared/notes/machine.md)
# Release: one more job than cores — its tests wait on sockets, daemons and browsers a third of the time
# (64 % CPU use with -j2 on 2 cores; -j3 took 520 s down to 478 s). ASan: as many jobs as cores — its tests are
# CPU-bound, and -j3 made them slower (436 s -> 491 s).
cores=$(nproc 2>/dev/null || echo 2)
status=0
# Under ASan the browser tests mostly exercise the UI again (the server's every endpoint already runs under
# ASan in the integration tests): only the two end-to-end flows run there — a whole central read
# (reader_e2e) and double reading with adjudication (adjudication) — which keeps the suite under 15 minutes
# on 2 cores. Likewise sample_lesions (python checks of the phantoms' geometry; the generator itself runs under
# ASan in segment_accuracy), and segment_accuracy segments only the standard phantom there (RCY_FLAVOUR).
# sample_tare (python checks of the TARE phantoms; their generator runs under ASan in dose_accuracy and
# dose_report) and the dose browser views likewise.
# The tests whose point is agreement with a tool nobody here wrote — R's survival (endpoints_r), scikit-learn
# (concordance_python), the dose-response fits (dose_response), the SDTM checks (export_sdtm), dciodvfy on the
# phantoms (sample_dicom) — run in the release build only: the C code under them runs under ASan in their
# siblings (endpoints_api, qa_concordance, dose_response_archive, export_sr, the unit tests).
# RCY_ASAN_ALL_BROWSER=1, or any ctest arguments, run everything asked for.
# The pg/ repetitions of the ingest, reader and reads tests on PostgreSQL run in the release build only (the
# store's code under them is the same; its unit tests, multinode and the crash test run under ASan on both).
asan_skip='(browser/(reader_trust|reader_views|reader_places|reader_audit|qa_page|endpoints_page|viewer_.*|segment_.*|dose_.*)|integration/(sample_lesions|sample_tare|sample_dicom|endpoints_r|concordance_python|dose_response|export_sdtm)|pg/(reader_.*|reads_.*|qr_find|dicomweb_orthanc|ingest_(accept|commit_window|connections|disk_full|durability|hash_later|phi|pull|sample|uid_ownership)))$'
for flavour in release asan; do
  dir=build; [ "$flavour" = asan ] && dir=build-asan
  echo "== $flavour build ($dir)" >&2
  scripts/build.sh "$flavour" "$dir"
  echo "== $flavour tests" >&2
  args=("$@")
  jobs=$cores; [ "$flavour" = release ] && jobs=$((cores + 1))
  if [ "$flavour" = asan ] && [ $# -eq 0 ] && [ "${RCY_ASAN_ALL_BROWSER:-0}" != 1 ]; then args=(-E "$asan_skip"); fi
  # detect_leaks stays on: every allocator has its _free.
  RCY_FLAVOUR=$flavour ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$jobs" "${args[@]}" || status=1
done
exit $status
