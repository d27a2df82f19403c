#!/usr/bin/env bash
# Builds the reader workstation web UI (readers/web → readers/web/dist) with the committed package-lock.json:
# `npm ci` (exact, reproducible; only the npm registry is contacted) then `vite build`. Called by
# scripts/build.sh. Skips quickly when dist/ is newer than every source and the lock file.
#   scripts/build-ui.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/../readers/web"
force=${1:-}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "build-ui: node and npm are required (scripts/setup.sh installs them)" >&2
  exit 1
fi

stamp=dist/index.html
if [ "$force" != "--force" ] && [ -f "$stamp" ] && [ -d node_modules ] \
   && [ -z "$(find package.json package-lock.json vite.config.js index.html src -newer "$stamp" -print -quit)" ] \
   && [ ! node_modules/.package-lock.json -nt "$stamp" ]; then
  echo "build-ui: readers/web/dist is up to date" >&2
  exit 0
fi

# npm ci only when node_modules does not match the lock file (npm writes its own copy of the lock there).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "build-ui: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "build-ui: vite build" >&2
start=$(date +%s)
npx --no-install vite build --logLevel error
touch "$stamp"
echo "build-ui: built readers/web/dist in $(( $(date +%s) - start )) s ($(du -sh dist | cut -f1))" >&2
