#!/usr/bin/env bash
# Test fixture (not a test): writes a synthetic anonymised 512x512 CT series with one round liver lesion of
# known diameter, as DICOM files built by DCMTK's dump2dcm from a text dump + raw pixels (python3 stdlib
# draws the pixels). Deterministic: UIDs derive from the arguments.
#   make_ct.sh OUTDIR SITE SUBJECT TIMEPOINT YYYYMMDD N_SLICES LESION_DIAMETER_MM [SLICE_THICKNESS_MM]
# Geometry: pixel spacing 0.78125 mm (400 mm FOV), slices 2.5 mm apart (z = 0, 2.5, ...), lesion centred at
# column 300, row 220, on the middle slices (sphere). Prints nothing; exits non-zero on failure.
set -euo pipefail
out=$1 site=$2 subject=$3 tp=$4 date=$5 n=$6 diam=$7 thick=${8:-2.5}
mkdir -p "$out"
# The files depend only on this script and its arguments: made once per build tree, then copied (a series
# costs ~2 s of CPU to make, and the reader tests make three each, on both database engines).
cache_root=${RCY_BUILD_DIR:-${TMPDIR:-/tmp}}/test-cache/make_ct
cache=$cache_root/$( { cat "$0"; printf '%s\n' "${@:2}"; } | sha256sum | cut -c1-32)
if [ -f "$cache/done" ]; then
  cp "$cache"/*.dcm "$out/"
  exit 0
fi
mkdir -p "$cache_root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Stable numeric ids from the subject and timepoint (UIDs must be digits and dots).
key=$(printf '%s' "$subject/$tp" | cksum | cut -d' ' -f1)
root="1.2.826.0.1.3680043.9.7133.$key"
python3 - "$work" "$n" "$diam" "$thick" <<'PY'
import array, math, os, sys
work, n, diam, thick = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
px = 0.78125
cx, cy = 300.0, 220.0
# abdomen: ellipse of soft tissue (40 HU) in air (-1000 HU); liver block (60 HU) on the left. Stored values
# are HU + 1024 (rescale intercept -1024), little-endian unsigned 16 bit.
base = array.array('H', bytes(512 * 512 * 2))
for r in range(512):
    for c in range(512):
        dx, dy = (c - 256) / 230.0, (r - 256) / 180.0
        hu = -1000 if dx * dx + dy * dy > 1 else 60 if 200 <= c <= 380 and 150 <= r <= 300 else 40
        base[r * 512 + c] = hu + 1024
if sys.byteorder != 'little': base.byteswap()
def write(name, radius_px):
    img = array.array('H', base)
    if radius_px > 0:  # only the lesion's bounding box is visited
        for r in range(max(0, int(cy - radius_px) - 1), min(512, int(cy + radius_px) + 2)):
            for c in range(max(0, int(cx - radius_px) - 1), min(512, int(cx + radius_px) + 2)):
                if (c - cx) ** 2 + (r - cy) ** 2 <= radius_px ** 2: img[r * 512 + c] = 120 + 1024
    with open(f'{work}/{name}.raw', 'wb') as f: f.write(img.tobytes())
write('plain', 0)
# lesion slices: a sphere of the given diameter centred on the middle slice; each line: raw name, z in mm
mid = (n - 1) / 2.0
radius_mm = diam / 2.0
lines = []
for i in range(n):
    dz = abs(i - mid) * 2.5
    name = 'plain'
    if dz < radius_mm:
        rr = math.sqrt(radius_mm ** 2 - dz ** 2) / px
        name = f'lesion{int(round(rr * 4))}'
        if not os.path.exists(f'{work}/{name}.raw'): write(name, rr)
    lines.append(f'{name} {i * 2.5:.2f}')
open(f'{work}/names.txt', 'w').write('\n'.join(lines) + '\n')
PY
i=0
while read -r raw z; do
  i=$((i + 1))
  cat > "$work/dump.txt" <<DUMP
(0008,0016) UI =CTImageStorage
(0008,0018) UI [$root.3.$i]
(0008,0020) DA [$date]
(0008,0060) CS [CT]
(0008,103e) LO [Abdomen portal venous]
(0012,0030) LO [$site]
(0012,0040) LO [$subject]
(0012,0050) LO [$tp]
(0018,0050) DS [$thick]
(0020,000d) UI [$root.1]
(0020,000e) UI [$root.2]
(0020,0011) IS [2]
(0020,0013) IS [$i]
(0020,0032) DS [-200\\-200\\$z]
(0020,0037) DS [1\\0\\0\\0\\1\\0]
(0020,0052) UI [$root.4]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 512
(0028,0011) US 512
(0028,0030) DS [0.78125\\0.78125]
(0028,0100) US 16
(0028,0101) US 16
(0028,0102) US 15
(0028,0103) US 1
(0028,1050) DS [40]
(0028,1051) DS [400]
(0028,1052) DS [-1024]
(0028,1053) DS [1]
(7fe0,0010) OW =$work/$raw.raw
DUMP
  dump2dcm -q "$work/dump.txt" "$out/$tp-$(printf %03d "$i").dcm"
done < "$work/names.txt"
# Into the cache: a complete copy renamed into place (two tests making the same series at once both succeed).
made=$(mktemp -d "$cache_root/.new.XXXXXX")
for k in $(seq 1 "$n"); do cp "$out/$tp-$(printf %03d "$k").dcm" "$made/"; done && touch "$made/done" && mv -T "$made" "$cache" 2>/dev/null || rm -rf "$made"
