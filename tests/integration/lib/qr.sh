# Shared helpers of the query/retrieve tests (sourced): an archive with two sites' studies and three peers,
# findscu, and comparing what a peer received with what the archive stored, data set for data set.
set -euo pipefail

# compare_received DIR N : DIR holds N files, each with a data set byte-identical to that of a distinct file
# of the archive (the bytes after the file meta information: the meta header is each writer's own, with its
# implementation UID and source AE). One process for all: the archive of these tests holds a few files.
compare_received() {
  /usr/bin/python3 - "$1" "$2" "$WORK/archive/storage" <<'PY' || fail "$1: received files differ from the archive's"
import os, struct, sys
def body(path):
    b = open(path, "rb").read()
    if b[128:132] != b"DICM" or b[132:136] != b"\x02\x00\x00\x00":
        sys.exit(path + ": not Part 10 with a group length first")
    n = struct.unpack("<I", b[140:144])[0]  # (0002,0000) UL: tag 4, VR 2, length 2, value 4
    return b[144 + n:]
stored = {}
for root, _, names in os.walk(sys.argv[3]):
    if "/." in root:
        continue
    for name in names:
        stored.setdefault(body(os.path.join(root, name)), os.path.join(root, name))
received = [os.path.join(sys.argv[1], f) for f in sorted(os.listdir(sys.argv[1]))]
seen = set()
for f in received:
    match = stored.get(body(f))
    if match is None:
        sys.exit(f + ": no archive file has this data set")
    if match in seen:
        sys.exit(f + ": received twice")
    seen.add(match)
if len(received) != int(sys.argv[2]):
    sys.exit("%s: %d file(s), expected %s" % (sys.argv[1], len(received), sys.argv[2]))
PY
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

