#!/usr/bin/env bash
# Installs every Debian package recistry needs to build, test and run (idempotent).
# Used by both README commands and by CI; nothing is ever installed by hand.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev
  # libraries (see DESIGN.md, "Dependencies")
  libdcmtk-dev libinsighttoolkit5-dev libsqlite3-dev libpng-dev libjansson-dev
  libpq-dev libcmocka-dev libmicrohttpd-dev libinih-dev libsodium-dev libcairo2-dev libssl-dev libcsv-dev
  # real DICOM peers and validators used by tests and benchmarks
  dcmtk dicom3tools orthanc orthanc-dicomweb sqlite3 curl
  # the PostgreSQL backend's tests: a throwaway cluster (scripts/pg-cluster.sh), psql checks
  postgresql postgresql-client
  # DVHs checked against plastimatch (dvh)
  plastimatch
  # PDF reports checked in tests (pdfinfo, pdftotext, pdftoppm)
  poppler-utils
  # JSON checks in integration tests (jq); reader CT fixture pixels (python3, stdlib only)
  jq python3 bc
  # endpoints checked against R survival (survfit, survdiff) and binom.test
  r-base-core r-cran-survival
  # concordance statistics checked against sklearn (kappa), statsmodels (kappa SE/CI), numpy and scipy
  python3-numpy python3-scipy python3-sklearn python3-statsmodels python3-pydicom
  # the dose report's PNG pages read back pixel by pixel (tests/integration/dose_report.sh)
  python3-pil
  # browser tests (the tests run the headless shell when installed; chromium for looking at the UI)
  chromium chromium-headless-shell
  # the Debian package (cpack's dpkg-shlibdeps; tests/integration/package_deb.sh: strings, systemd-analyze)
  dpkg-dev binutils systemd
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js + npm: take Debian's only when no node is present (the machine may ship its own build).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm  >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Orthanc's package starts a system service; our tests start their own instances.
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now orthanc >/dev/null 2>&1 || true; fi
  $SUDO service orthanc stop >/dev/null 2>&1 || true
else
  echo "setup: all Debian packages present" >&2
fi
