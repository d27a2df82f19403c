#!/usr/bin/env bash
# Regenerates the committed sample set sample-dicom/ (docs/sample.md). Deterministic: running it again on
# the same recistry version gives byte-identical files, so `git status` stays clean unless the generator changed.
#   scripts/make-samples.sh [BUILD_DIR]     (default build/; builds it when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
[ -x "$build/recistry" ] || scripts/build.sh release "$build" >/dev/null
rm -rf sample-dicom
"$build/recistry" sample --out sample-dicom --subjects 3 --seed 1 --slices 12 --timepoints 2
du -sh sample-dicom
