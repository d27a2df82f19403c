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
