#!/usr/bin/env bash
# The README's main command: install, build, and run recistry on the committed sample data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release build >/dev/null
R=build/recistry
echo "== RECIST 1.1 responses of the sample subjects (recistry recist)"
$R recist sample-dicom/reads/central.json
echo "== site vs central concordance (recistry concordance)"
$R concordance sample-dicom/reads/site.json sample-dicom/reads/central.json
