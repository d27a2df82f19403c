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
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Stable numeric ids from the subject and timepoint (UIDs must be digits and dots).
key=$(printf '%s' "$subject/$tp" | cksum | cut -d' ' -f1)
root="1.2.826.0.1.3680043.9.7133.$key"
python3 - "$work" "$n" "$diam" "$thick" <<'PY'
import math, struct, sys
work, n, diam, thick = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
px = 0.78125
cx, cy = 300.0, 220.0
def body_row(r):
    # abdomen: ellipse of soft tissue (40 HU) in air (-1000 HU); liver block (60 HU) on the left
    row = []
    for c in range(512):
        dx, dy = (c - 256) / 230.0, (r - 256) / 180.0
        if dx * dx + dy * dy > 1: hu = -1000
        elif 200 <= c <= 380 and 150 <= r <= 300: hu = 60
        else: hu = 40
        row.append(hu)
    return row
base = [body_row(r) for r in range(512)]
def write(name, radius_px):
    out = bytearray()
    for r in range(512):
        row = base[r]
        for c in range(512):
            hu = row[c]
            if radius_px > 0 and (c - cx) ** 2 + (r - cy) ** 2 <= radius_px ** 2: hu = 120
            out += struct.pack('<h', hu + 1024)
    open(f'{work}/{name}.raw', 'wb').write(out)
write('plain', 0)
# lesion slices: a sphere of the given diameter centred on the middle slice
mid = (n - 1) / 2.0
radius_mm = diam / 2.0
names = []
for i in range(n):
    dz = abs(i - mid) * 2.5
    if dz < radius_mm:
        rr = math.sqrt(radius_mm ** 2 - dz ** 2) / px
        name = f'lesion{int(round(rr * 4))}'
        import os
        if not os.path.exists(f'{work}/{name}.raw'): write(name, rr)
        names.append(name)
    else:
        names.append('plain')
open(f'{work}/names.txt', 'w').write('\n'.join(names) + '\n')
PY
i=0
while read -r raw; do
  i=$((i + 1))
  z=$(awk -v i="$i" 'BEGIN{printf "%.2f", (i - 1) * 2.5}')
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
