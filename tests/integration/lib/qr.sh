# Shared helpers of the query/retrieve tests (sourced): comparing what a peer received with what the archive
# stored, data set for data set.
set -euo pipefail

# same_dataset A B : the bytes after the file meta information of two Part 10 files are identical (the meta
# header is each writer's own: implementation UID, source AE).
same_dataset() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import struct, sys
def body(path):
    b = open(path, "rb").read()
    assert b[128:132] == b"DICM", path + ": not Part 10"
    # (0002,0000) UL, explicit VR: tag 4, VR 2, length 2, value 4
    assert b[132:136] == b"\x02\x00\x00\x00", path + ": no group length first"
    n = struct.unpack("<I", b[140:144])[0]
    return b[144 + n:]
a, b = body(sys.argv[1]), body(sys.argv[2])
sys.exit(0 if a == b else 1)
PY
}

# sop_of FILE : its SOP Instance UID.
sop_of() { dcmdump +P 0008,0018 "$1" | sed 's/.*\[\(.*\)\].*/\1/'; }

# archive_file SOP_UID : the path of the archive's file of an instance.
archive_file() { echo "$WORK/archive/storage/$(sql "SELECT path FROM instances WHERE sop_instance_uid = '$1'")"; }

# compare_received DIR N : DIR holds N files, each byte-identical (data set) to the archive's file.
compare_received() {
  local dir=$1 want=$2 n=0 f
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    local sop
    sop=$(sop_of "$f")
    [ -n "$(sql "SELECT path FROM instances WHERE sop_instance_uid = '$sop'")" ] || fail "$f: $sop not in the archive"
    same_dataset "$f" "$(archive_file "$sop")" || fail "$f differs from the archive's file of $sop"
    n=$((n + 1))
  done
  [ "$n" = "$want" ] || fail "$dir: $n file(s), expected $want"
}

# qr_setup : an archive with S014's study (series .1 of 3 images, series .2 of 2) and S027's (2 images), the
# daemon running with three peers: workstation (RESEARCH: find, move, get on S014; its move destination port
# MPORT), pacs (ALLPACS: find on every site), mover (NOFIND: move only, S014).
qr_setup() {
  PORT=$(free_port)
  MPORT=$(free_port)
  S14=1.2.826.0.1.3680043.10.1.1
  S27=1.2.826.0.1.3680043.10.2.1

  make_series "$WORK/in/a" 3 study=$S14 series=$S14.1
  make_series "$WORK/in/b" 2 study=$S14 series=$S14.2 extra='(0008,103e) LO [portal venous]'
  make_series "$WORK/in/c" 2 site=S027 subject=CIREL-027-0001 study=$S27 series=$S27.1
  "$RECISTRY" init --archive "$WORK/archive" >/dev/null
  write_config "$WORK/c.ini" "$PORT"
  cat >>"$WORK/c.ini" <<INI
[peer:workstation]
ae = RESEARCH
host = 127.0.0.1
port = $MPORT
rights = find, move, get
sites = S014
[peer:pacs]
ae = ALLPACS
rights = find
sites = *
[peer:mover]
ae = NOFIND
rights = move
sites = S014
INI
  start_daemon "$WORK/c.ini"
  send SITE014 "$PORT" "$WORK"/in/a/*.dcm "$WORK"/in/b/*.dcm >"$WORK/s1.log" || { cat "$WORK/s1.log"; fail "send S014"; }
  send SITE027 "$PORT" "$WORK"/in/c/*.dcm >"$WORK/s2.log" || { cat "$WORK/s2.log"; fail "send S027"; }
  [ "$(sql "SELECT COUNT(*) FROM instances")" = 7 ] || fail "7 instances indexed"
}

# find AE OUTDIR keys... : findscu (Study Root unless -P is among the keys), responses extracted to OUTDIR.
find_as() {
  local ae=$1 out=$2; shift 2
  rm -rf "$out"; mkdir -p "$out"
  local model=-S
  [ "${1:-}" = -P ] && { model=-P; shift; }
  findscu -v $model -aet "$ae" -aec FFCD_CORE -X -od "$out" 127.0.0.1 "$PORT" "$@" >"$out.log" 2>&1
}
n_rsp() { ls "$1" | grep -c '^rsp' || true; }
val() { dcmdump +P "$2" "$1" 2>/dev/null | head -1 | sed -n 's/.*\[\(.*\)\].*/\1/p'; }

