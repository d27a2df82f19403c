#!/usr/bin/env bash
# How ctest runs a test a second time on PostgreSQL (the pg/ tests; tests/CMakeLists.txt):
#   run.sh CLUSTER_DIR TEST_NAME COMMAND...
# CLUSTER_DIR is the throwaway cluster the pg fixture started (scripts/pg-cluster.sh). The test gets
#   RCY_TEST_POSTGRES  the URI of a fresh, empty database of its own (unit tests use it directly);
#   RECISTRY           a wrapper whose `init` creates a further fresh database for each archive the test
#                      makes and passes it as --database (so the folder's database.url sends every later
#                      --archive command of the test to PostgreSQL): the tests themselves are unchanged;
#   RCY_TEST_TMP       a folder of its own under the usual one (tests name their folder after themselves,
#                      and the SQLite run of the same test may be running beside it);
#   PATH               with a `sqlite3` stand-in first, which runs a test's direct checks of DIR/recistry.db
#                      with psql against the archive's database instead (check against PostgreSQL itself),
#                      then the server's own binaries (psql without Debian's Perl wrapper);
#   RCY_TEST_ENGINE    postgresql: a test may skip its sections that never reach the index (lib/engine.sh).
set -euo pipefail
cluster=$1 name=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../../.." && pwd)
# database names: the test's name, made an identifier, and this process's id (a re-run gets new ones)
base=$(printf '%s' "$name" | tr -c 'a-zA-Z0-9' '_' | tr 'A-Z' 'a-z' | cut -c1-40)_$$
export RCY_PG_CLUSTER=$cluster RCY_PG_DB_BASE=$base RCY_PG_DB_SEQ_FILE
RCY_PG_DB_SEQ_FILE=$(mktemp "${TMPDIR:-/tmp}/rcy-pg-seq.XXXXXX")
trap 'rm -f "$RCY_PG_DB_SEQ_FILE"' EXIT
RCY_TEST_POSTGRES=$("$src/scripts/pg-cluster.sh" createdb "$cluster" "$base")
export RCY_TEST_POSTGRES
if [ -n "${RECISTRY:-}" ]; then
  export RCY_PG_REAL_RECISTRY=$RECISTRY
  export RECISTRY=$here/recistry
fi
if [ -n "${RCY_TEST_TMP:-}" ]; then
  export RCY_TEST_TMP=$RCY_TEST_TMP/pg
  mkdir -p "$RCY_TEST_TMP"
fi
# psql straight from the server's binaries, not through Debian's Perl wrapper: the tests' checks call it often
export PATH=$here/bin:$("$src/scripts/pg-cluster.sh" bindir "$cluster"):$PATH
export RCY_TEST_ENGINE=postgresql
"$@"
