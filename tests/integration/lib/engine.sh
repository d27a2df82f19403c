# Sourced by integration tests that also run as pg/<name> (tests/integration/lib/pg/run.sh sets
# RCY_TEST_ENGINE=postgresql): a twin on PostgreSQL is there for what differs on that engine, the store's
# SQL and locking. A section that never reaches the index (parsing, validation, HTTP details) runs on SQLite
# only, the pg/ run says that it skipped it:
#   if engine_section "strict schema"; then ... fi       (prints "== strict schema" when it runs)
#   engine_section --all "the archive"                   (a section that runs on every engine: prints only)
engine_section() {
  if [ "$1" = --all ]; then echo "== $2"; return 0; fi
  if [ "${RCY_TEST_ENGINE:-sqlite}" != sqlite ]; then
    echo "== $1: skipped on $RCY_TEST_ENGINE (never reaches the index; the SQLite run has it)"
    return 1
  fi
  echo "== $1"
}
