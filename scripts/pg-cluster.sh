#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and local trials of the PostgreSQL backend: Debian's server
# binaries run as an unprivileged user (initdb refuses root, and CI runs as root), the data in DIR/data,
# listening only on a unix socket in DIR (no TCP port to collide with anything). Trust authentication: only
# the socket's file permissions guard it. PG_FSYNC=off (the test fixture's choice) skips the server's flushes:
# they protect committed rows only from an operating-system crash or power loss, which no test causes — the
# crash tests kill recistry's processes, never the server — and on this disk they cost ~1 ms per commit.
# Benchmarks keep the default, on.
#
#   scripts/pg-cluster.sh start DIR          initdb (first time) and start; prints the base URI
#   scripts/pg-cluster.sh createdb DIR NAME  a fresh, empty database; prints its URI
#   scripts/pg-cluster.sh stop DIR           stop the server and remove DIR
#   scripts/pg-cluster.sh uri DIR [NAME]     the URI of database NAME (default postgres)
#   scripts/pg-cluster.sh bindir DIR         the server's binaries' folder (its psql is the client itself;
#                                            /usr/bin/psql is Debian's Perl wrapper, ~50 ms more per call)
set -euo pipefail

usage() { echo "usage: $0 start|stop|bindir DIR | createdb DIR NAME | uri DIR [NAME]" >&2; exit 2; }
(($# >= 2)) || usage
cmd=$1
dir=$2

bin=${RCY_PG_BIN:-}
if [ -z "$bin" ]; then
  for v in 17 16 15 14 13; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then bin=/usr/lib/postgresql/$v/bin; break; fi
  done
fi
[ -n "$bin" ] && [ -x "$bin/pg_ctl" ] || { echo "pg-cluster: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }

PGUSER_NAME=rcy  # the cluster's superuser role (any name: trust authentication on the socket)

# Runs a server binary as the unprivileged owner of DIR when we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    local owner
    owner=$(stat -c %U "$dir")
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}

uri() { # NAME
  local abs
  abs=$(cd "$dir" && pwd)
  printf 'postgresql:///%s?host=%s&user=%s\n' "$1" "$abs" "$PGUSER_NAME"
}

case "$cmd" in
  bindir)
    echo "$bin"
    ;;
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      # Debian's package creates the system user postgres; fall back to nobody.
      owner=postgres
      id "$owner" >/dev/null 2>&1 || owner=nobody
      chown "$owner" "$dir"
      chmod 0711 "$dir"
    fi
    abs=$(cd "$dir" && pwd)
    if ((${#abs} > 90)); then
      echo "pg-cluster: $abs is too long for a unix socket path (at most ~90 characters)" >&2; exit 1
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$abs/data" -U "$PGUSER_NAME" -A trust -E UTF8 --locale=C.UTF-8 >"$abs/initdb.log" 2>&1 ||
        { cat "$abs/initdb.log" >&2; exit 1; }
    fi
    fsync=${PG_FSYNC:-on}
    case $fsync in on | off) ;; *) echo "pg-cluster: PG_FSYNC must be on or off, not '$fsync'" >&2; exit 2 ;; esac
    as_owner "$bin/pg_ctl" -D "$abs/data" -l "$abs/server.log" -w -t 60 \
      -o "-c listen_addresses='' -c unix_socket_directories='$abs' -c fsync=$fsync -c max_connections=200" \
      start >/dev/null || { tail -20 "$abs/server.log" >&2; exit 1; }
    uri postgres
    ;;
  createdb)
    (($# == 3)) || usage
    "$bin/createdb" -h "$(cd "$dir" && pwd)" -U "$PGUSER_NAME" "$3"
    uri "$3"
    ;;
  uri)
    uri "${3:-postgres}"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$(cd "$dir" && pwd)/data" -m immediate -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
