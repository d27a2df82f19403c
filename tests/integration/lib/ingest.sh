# Shared helpers of the ingest integration tests (sourced, not a test itself): free ports, test instances
# made with DCMTK's dump2dcm, an archive + config, starting and stopping the daemon.
set -euo pipefail

: "${RECISTRY:?RECISTRY must point at the recistry program}"
: "${RCY_TEST_TMP:=/tmp/rcy-test}"
export TCP_NODELAY=1

# A fresh working directory per test script; removed on exit unless KEEP=1.
ingest_setup() {
  WORK=$(mktemp -d "$RCY_TEST_TMP/ingest.XXXXXX" 2>/dev/null || { mkdir -p "$RCY_TEST_TMP"; mktemp -d "$RCY_TEST_TMP/ingest.XXXXXX"; })
  DAEMON_PID=
  trap ingest_cleanup EXIT
}

ingest_cleanup() {
  local rc=$?
  if [ -n "${DAEMON_PID:-}" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then kill -9 "$DAEMON_PID" 2>/dev/null || true; fi
  for pid in ${EXTRA_PIDS:-}; do kill -9 "$pid" 2>/dev/null || true; done
  if [ $rc -ne 0 ] && [ -f "$WORK/daemon.log" ]; then echo "--- daemon log (tail)"; tail -40 "$WORK/daemon.log"; fi
  if [ "${KEEP:-0}" != 1 ]; then
    mountpoint -q "$WORK/full" 2>/dev/null && umount "$WORK/full" 2>/dev/null
    rm -rf "$WORK"
  fi
  exit $rc
}

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

# A TCP port nobody listens on (the kernel picks it; tiny race accepted).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# A site's node (tests of pull and polling): Orthanc with AE SITEPACS on free ports O_DICOM and O_HTTP, knowing
# our AE FFCD_CORE at $PORT for C-GET and C-MOVE. site_orthanc_config [LUA_SCRIPT] writes its configuration;
# start_orthanc starts it (again after a kill: ORTHANC_PID) and waits for its REST API; ORTHANC_VERBOSE=1 logs
# at --verbose.
site_orthanc_config() {
  O_DICOM=$(free_port)
  O_HTTP=$(free_port)
  mkdir -p "$WORK/orthanc"
  local lua=
  [ -z "${1:-}" ] || lua="\"LuaScripts\": [\"$1\"],"
  cat >"$WORK/orthanc/config.json" <<JSON
{
  "Name": "SITEPACS",
  "StorageDirectory": "$WORK/orthanc/storage",
  "IndexDirectory": "$WORK/orthanc/index",
  "HttpPort": $O_HTTP,
  "DicomPort": $O_DICOM,
  "DicomAet": "SITEPACS",
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomCheckCalledAet": false,
  "Plugins": [],
  $lua
  "DicomModalities": {
    "core": { "AET": "FFCD_CORE", "Host": "127.0.0.1", "Port": $PORT, "AllowGet": true, "AllowMove": true }
  }
}
JSON
}
start_orthanc() {
  Orthanc ${ORTHANC_VERBOSE:+--verbose} "$WORK/orthanc/config.json" >>"$WORK/orthanc.log" 2>&1 &
  ORTHANC_PID=$!
  EXTRA_PIDS="${EXTRA_PIDS:-} $ORTHANC_PID"
  local i
  for i in $(seq 1 100); do curl -sf "http://127.0.0.1:$O_HTTP/system" >/dev/null && return 0; sleep 0.1; done
  tail "$WORK/orthanc.log"
  fail "Orthanc did not start"
}

# make_ct OUT key=value... : a small CT instance (64x64 by default). Keys: site subject study series sop z
# rows cols thick tp pir (Patient Identity Removed) name (Patient Name) extra (raw dump lines) sopclass date
make_ct() {
  local out=$1; shift
  local site=S014 subject=CIREL-014-0001 study=1.2.826.0.1.3680043.10.1.1 series=1.2.826.0.1.3680043.10.1.1.1
  local sop=1.2.826.0.1.3680043.10.1.1.1.1 z=0 rows=64 cols=64 thick=2.5 tp=BL pir=YES name= extra= n=1
  local sopclass=1.2.840.10008.5.1.4.1.1.2 ts=+te orient='1\0\0\0\1\0' date=20240115
  local kv
  for kv in "$@"; do eval "local ${kv%%=*}=\"\${kv#*=}\""; done
  [ -n "$name" ] || name=$subject
  local px="$WORK/px-${rows}x${cols}.raw"
  [ -f "$px" ] || head -c $((rows * cols * 2)) /dev/zero | tr '\0' '\1' > "$px"
  cat > "$out.dump" <<DUMP
(0008,0016) UI [$sopclass]
(0008,0018) UI [$sop]
(0008,0020) DA [$date]
(0008,0060) CS [CT]
(0008,0090) PN []
(0010,0010) PN [$name]
(0010,0020) LO [$subject]
(0012,0030) LO [$site]
(0012,0040) LO [$subject]
(0012,0050) LO [$tp]
(0012,0062) CS [$pir]
(0018,0050) DS [$thick]
(0020,000d) UI [$study]
(0020,000e) UI [$series]
(0020,0011) IS [1]
(0020,0013) IS [$n]
(0020,0032) DS [-200\\-200\\$z]
(0020,0037) DS [$orient]
(0020,0052) UI [$study.9]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US $rows
(0028,0011) US $cols
(0028,0030) DS [0.78\\0.78]
(0028,0100) US 16
(0028,0101) US 12
(0028,0102) US 11
(0028,0103) US 0
(0028,1050) DS [40]
(0028,1051) DS [400]
$extra
(7fe0,0010) OW =$px
DUMP
  dump2dcm $ts "$out.dump" "$out" >/dev/null
  rm -f "$out.dump"
}

# make_series DIR COUNT key=value... : COUNT slices 2.5 mm apart (z = 0, 2.5, ...), SOP UIDs SERIES.N
make_series() {
  local dir=$1 count=$2; shift 2
  mkdir -p "$dir"
  local series=1.2.826.0.1.3680043.10.1.1.1 spacing=2.5 kv
  for kv in "$@"; do case $kv in series=*) series=${kv#series=} ;; spacing=*) spacing=${kv#spacing=} ;; esac; done
  local i
  for ((i = 1; i <= count; i++)); do
    make_ct "$dir/$i.dcm" "$@" series="$series" sop="$series.$i" n=$i z=$(awk "BEGIN{print ($i-1)*$spacing}")
  done
}

# write_config FILE PORT [phi] [stable_age] : an archive at $WORK/archive with sites S014 and S027.
write_config() {
  local file=$1 port=$2 phi=${3:-reject} stable=${4:-2}
  cat > "$file" <<INI
[archive]
path = $WORK/archive
${ARCHIVE_EXTRA:-}
[dicom]
ae_title = FFCD_CORE
port = $port
bind = 127.0.0.1
max_associations = 8
stable_age = $stable
${TLS_DICOM_LINES:-}
[policy]
phi = $phi                 ; reject | quarantine
[site:S014]
name = Centre 14
ae_title = SITE014
hosts = 127.0.0.1
subject_pattern = ^CIREL-014-[0-9]{4}\$
${SITE014_EXTRA:-}
[site:S027]
name = Centre 27
ae_title = SITE027
subject_pattern = ^CIREL-027-[0-9]{4}\$
${SITE027_EXTRA:-}
[site:S031]
name = Centre 31
ae_title = SITE031
subject_pattern = ^CIREL-031-[0-9]{4}\$
INI
}

# start_daemon CONFIG : runs `recistry ingest` in the background, waits until it is listening.
start_daemon() {
  local before
  before=$(grep -c "ready: AE" "$WORK/daemon.log" 2>/dev/null || true)
  "$RECISTRY" ingest --config "$1" >>"$WORK/daemon.log" 2>&1 &
  DAEMON_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    if [ "$(grep -c "ready: AE" "$WORK/daemon.log" 2>/dev/null || true)" -gt "${before:-0}" ]; then return 0; fi
    kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/daemon.log"; fail "daemon exited at start"; }
    sleep 0.1
  done
  fail "daemon not ready after 10 s"
}

stop_daemon() {
  kill -TERM "$DAEMON_PID"
  local rc=0
  wait "$DAEMON_PID" || rc=$?
  DAEMON_PID=
  [ $rc -eq 0 ] || fail "daemon exited $rc after SIGTERM"
}

# make_sample DIR [options] : the project's phantom generator (deterministic: seed 1).
make_sample() {
  local dir=$1; shift
  "$RECISTRY" sample --out "$dir" --seed 1 "$@" >/dev/null
}

# sql QUERY : one value from the archive index.
sql() { sqlite3 "$WORK/archive/recistry.db" "$1"; }

# sop_uids : the SOP Instance UID of each DICOM file named on stdin, one per line, in the same order. One
# dcmdump for many files: the crash tests check hundreds of acknowledged files, and a dcmdump (and, on the pg/
# runs, a psql) per file was most of their time.
sop_uids() { xargs -r dcmdump +P 0008,0018 | sed -n 's/^(0008,0018) UI \[\(.*\)\].*/\1/p'; }

# acked_files LOG... : the files storescu -v saw answered Success, in the order it sent them.
acked_files() { awk '/Sending file:/ {f=$NF} /Received Store Response \(Success\)/ {print f}' "$@"; }

# missing_uids FILE : those of the SOP Instance UIDs listed in FILE that have no row in the index (one query).
missing_uids() {
  local list
  list=$(sort -u "$1" | sed "s/.*/'&'/" | paste -sd,)
  [ -n "$list" ] || return 0
  sort -u "$1" | comm -23 - <(sql "SELECT sop_instance_uid FROM instances WHERE sop_instance_uid IN ($list)" | sort -u)
}

# send AE PORT FILES... : storescu with Nagle off; prints its log; returns its status.
send() {
  local ae=$1 port=$2; shift 2
  storescu -v --no-halt -aet "$ae" -aec "${CALLED_AE:-FFCD_CORE}" ${STORESCU_OPTS:-} 127.0.0.1 "$port" "$@" 2>&1
}
