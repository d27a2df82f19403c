"""Independent checks of `recistry sample --lesion-phantoms` (tests/integration/sample_lesions.sh).

Reads the DICOM series with pydicom, the label volumes with gzip + numpy (its own NRRD header parser) and the
truth JSON, and checks: the label volume's geometry is the series'; each lesion's label voxel count, volume,
RECIST diameters (brute-force Feret of the label slices), click point, mean CT number, rim/core contrast,
host tissue; the follow-up's scale and shift. Usage: lesion_phantoms.py DIR [ITK_CHECK]; ITK_CHECK (tests/tools/nrrd_itk_check.cc) reads every label volume
with ITK's NRRD reader, which must see the same geometry and label counts.
"""
import glob
import gzip
import json
import math
import os
import subprocess
import sys

import numpy as np
import pydicom
from scipy import ndimage

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def read_nrrd(path):
    with open(path, "rb") as f:
        raw = f.read()
    head, _, data = raw.partition(b"\n\n")
    lines = head.decode("ascii").split("\n")
    if lines[0] != "NRRD0004":
        raise ValueError(path + ": magic " + lines[0])
    fields = {}
    for line in lines[1:]:
        if line.startswith("#"):
            continue
        k, _, v = line.partition(": ")
        fields[k] = v
    assert fields["type"] == "uint8", fields
    assert fields["dimension"] == "3"
    assert fields["encoding"] == "gzip"
    assert fields["space"] == "left-posterior-superior"
    sizes = [int(x) for x in fields["sizes"].split()]
    dirs = [[float(x) for x in d.strip("()").split(",")] for d in fields["space directions"].split()]
    origin = [float(x) for x in fields["space origin"].strip("()").split(",")]
    arr = np.frombuffer(gzip.decompress(data), dtype=np.uint8)
    assert arr.size == sizes[0] * sizes[1] * sizes[2], (arr.size, sizes)
    return arr.reshape(sizes[2], sizes[1], sizes[0]), dirs, origin


def read_series(folder):
    ds = [pydicom.dcmread(f) for f in glob.glob(os.path.join(folder, "*.dcm"))]
    ds.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    vol = np.stack([d.pixel_array.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in ds])
    return ds, vol


def boundary_pixels(m):
    er = ndimage.binary_erosion(m, structure=np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]]), border_value=0)
    return np.argwhere(m & ~er)  # (row, col)


def feret(rc, dx):
    """Max distance between pixel centres (mm) and the pair (brute force)."""
    p = rc.astype(np.float64) * dx
    d2 = ((p[:, None, :] - p[None, :, :]) ** 2).sum(-1)
    i, j = np.unravel_index(np.argmax(d2), d2.shape)
    return math.sqrt(d2[i, j]), rc[i], rc[j]


def perpendicular_span(m, a, b, dx):
    """Longest extent of mask m perpendicular to the segment a-b (pixel centres, mm): bins of one pixel."""
    rc = np.argwhere(m).astype(np.float64) * dx
    e = (b - a).astype(np.float64)
    e /= np.linalg.norm(e)
    n = np.array([-e[1], e[0]])
    s = (rc - a * dx) @ e
    w = (rc - a * dx) @ n
    bins = np.round(s / dx).astype(int)
    best = 0.0
    for k in np.unique(bins):
        ww = w[bins == k]
        best = max(best, ww.max() - ww.min())
    return best


def check(dirname, itk_check=None):
    files = sorted(glob.glob(os.path.join(dirname, "lesions", "*.json")))
    if len(files) != 3:
        fail("expected 3 phantom subjects, got %d" % len(files))
    report = []
    for jf in files:
        truth = json.load(open(jf))
        subj = truth["subject"]
        if not subj.startswith("CIREL-014-09") or truth["site"] != "S014":
            fail("%s: subject/site %s %s" % (jf, subj, truth["site"]))
        by_tp = {}
        for tp in truth["timepoints"]:
            name = "%s/%s" % (subj, tp["timepoint"])
            lab, dirs, origin = read_nrrd(os.path.join(dirname, tp["label_volume"]))
            ds, vol = read_series(os.path.join(dirname, tp["series_dir"]))
            dx, t = tp["pixel_spacing_mm"], tp["slice_thickness_mm"]
            # geometry: the NRRD is the DICOM series, slices inferior to superior
            if lab.shape != vol.shape:
                fail("%s: label shape %s, series %s" % (name, lab.shape, vol.shape))
                continue
            ipp0 = [float(v) for v in ds[0].ImagePositionPatient]
            if max(abs(a - b) for a, b in zip(ipp0, origin)) > 1e-4:
                fail("%s: NRRD origin %s, first slice %s" % (name, origin, ipp0))
            ps = [float(v) for v in ds[0].PixelSpacing]
            zs = [float(d.ImagePositionPatient[2]) for d in ds]
            if abs(ps[0] - dx) > 1e-6 or abs(dirs[0][0] - dx) > 1e-6 or abs(dirs[1][1] - dx) > 1e-6:
                fail("%s: pixel spacing %s / NRRD %s / truth %s" % (name, ps, dirs, dx))
            if max(abs(b - a - t) for a, b in zip(zs, zs[1:])) > 1e-4 or abs(dirs[2][2] - t) > 1e-6:
                fail("%s: slice spacing (NRRD %s, thickness %s)" % (name, dirs[2], t))
            if abs(float(ds[0].SliceThickness) - t) > 1e-6:
                fail("%s: Slice Thickness %s" % (name, ds[0].SliceThickness))
            if [float(v) for v in ds[0].ImageOrientationPatient] != [1, 0, 0, 0, 1, 0]:
                fail("%s: orientation" % name)
            if ds[0].StudyInstanceUID != tp["study_uid"] or ds[0].SeriesInstanceUID != tp["series_uid"]:
                fail("%s: study/series UID" % name)
            if ds[0].PatientID != subj or ds[0].ClinicalTrialTimePointID != tp["timepoint"]:
                fail("%s: patient/time point" % name)
            if itk_check:
                out = subprocess.run([itk_check, os.path.join(dirname, tp["label_volume"])], capture_output=True,
                                     text=True, check=False)
                if out.returncode != 0:
                    fail("%s: ITK cannot read the label volume: %s" % (name, out.stderr.strip()))
                else:
                    itk = {}
                    for line in out.stdout.splitlines():
                        key, *vals = line.split()
                        if key == "label":
                            itk.setdefault("labels", {})[int(vals[0])] = int(vals[1])
                        else:
                            itk[key] = [float(v) for v in vals]
                    want_dir = [1, 0, 0, 0, 1, 0, 0, 0, 1]
                    if (itk["size"] != [lab.shape[2], lab.shape[1], lab.shape[0]] or
                            max(abs(a - b) for a, b in zip(itk["origin"], ipp0)) > 1e-4 or
                            max(abs(a - b) for a, b in zip(itk["spacing"], [dx, dx, t])) > 1e-6 or
                            itk["direction"] != want_dir):
                        fail("%s: ITK sees %s" % (name, out.stdout.splitlines()[:4]))
                    for les in tp["lesions"]:
                        if itk["labels"].get(les["label"]) != les["label_voxels"]:
                            fail("%s %s: ITK counts %s voxels, truth %d" % (name, les["id"], itk["labels"].get(les["label"]),
                                                                        les["label_voxels"]))
            uid_slice = {d.SOPInstanceUID: k for k, d in enumerate(ds)}
            labels_present = set(np.unique(lab).tolist()) - {0}
            if labels_present != set(range(1, len(tp["lesions"]) + 1)):
                fail("%s: labels %s" % (name, sorted(labels_present)))
            vox_ml = dx * dx * t / 1000.0
            for les in tp["lesions"]:
                L = les["label"]
                lname = "%s %s(%s)" % (name, les["id"], les["type"])
                m = lab == L
                n = int(m.sum())
                if n != les["label_voxels"]:
                    fail("%s: %d label voxels, truth says %d" % (lname, n, les["label_voxels"]))
                # volume: label voxels x voxel volume vs the solid's volume
                ratio = n * vox_ml / les["volume_ml"]
                tol = 0.10 if t <= 2.5 else 0.15
                if les["type"] == "small" and t > 2.5:
                    tol = 0.35  # a 10 mm lesion on 5 mm slices: the >= 0.5 slab rule loses its caps
                if abs(ratio - 1) > tol:
                    fail("%s: label volume %.3f ml vs %.3f ml (ratio %.3f)" % (lname, n * vox_ml, les["volume_ml"], ratio))
                # RECIST: brute-force Feret over the label slices (the longest distance between boundary pixel
                # centres, the largest over slices) within one pixel of long_mm (maximising over directions and
                # slices offsets the half pixel lost at each end); the short axis: the longest span of the label
                # perpendicular to that Feret segment (pixel-wide bins), plus one pixel (half a pixel at each end),
                # within one pixel of short_mm. "One pixel" is its diagonal (sqrt(2) x spacing): a label's pixel
                # centres can lie up to half a diagonal inside the boundary at each end of an oblique diameter
                best = (0, None, None, None)
                for k in np.unique(np.argwhere(m)[:, 0]):
                    b = boundary_pixels(m[k])
                    if len(b) < 2:
                        continue
                    f, a, c = feret(b, dx)
                    if f > best[0]:
                        best = (f, k, a, c)
                f, k, a, c = best
                px1 = math.sqrt(2) * dx
                if abs(f - les["long_mm"]) > px1:
                    fail("%s: label Feret %.2f mm (slice %s), truth long %.2f" % (lname, f, k, les["long_mm"]))
                la, sa = les["long_axis"], les["short_axis"]
                ks = uid_slice.get(la["sop_instance_uid"])
                if ks is None:
                    fail("%s: long axis slice UID not in the series" % lname)
                    continue
                # on the truth's slice, perpendicular to the truth's long axis (near-equal diameters of lobulated or
                # irregular lesions make the label's own Feret direction unstable)
                p1, p2 = np.array(la["p1"][::-1]), np.array(la["p2"][::-1])  # (row, col)
                sp = perpendicular_span(m[ks], p1, p2, dx)
                if abs(sp + dx - les["short_mm"]) > px1:
                    fail("%s: label short axis %.2f mm, truth %.2f" % (lname, sp + dx, les["short_mm"]))
                # the long axis' ends are on the label's edge
                cells = np.argwhere(m[ks]).astype(np.float64)
                for q in (p1, p2):
                    dmin = np.sqrt(((cells - q) ** 2).sum(1)).min()
                    if dmin > math.sqrt(2):
                        fail("%s: long axis end %s is %.2f px from the label" % (lname, q[::-1], dmin))
                axis_len = math.dist(la["p1"], la["p2"]) * dx
                short_len = math.dist(sa["p1"], sa["p2"]) * dx
                if abs(axis_len - les["long_mm"]) > 0.05 or abs(short_len - les["short_mm"]) > 0.05:
                    fail("%s: axis endpoints %.2f/%.2f vs %.2f/%.2f" % (lname, axis_len, short_len, les["long_mm"], les["short_mm"]))
                if uid_slice.get(les["seed"]["sop_instance_uid"]) != ks or uid_slice.get(sa["sop_instance_uid"]) != ks:
                    fail("%s: seed, long and short axis not on the same slice" % lname)
                    continue
                if abs(ks - les["seed"]["slice_index"]) != 0:
                    fail("%s: seed slice %d vs slice_index %d" % (lname, ks, les["seed"]["slice_index"]))
                col, row = les["seed"]["col"], les["seed"]["row"]
                if lab[ks, row, col] != L:
                    fail("%s: seed pixel (%d,%d) has label %d" % (lname, col, row, lab[ks, row, col]))
                # the truth slice's own region agrees too
                bk = boundary_pixels(m[ks])
                fk = feret(bk, dx)[0] if len(bk) > 1 else 0
                if abs(fk - les["long_mm"]) > 2.0 * dx:
                    fail("%s: label Feret on the truth slice %.2f vs %.2f" % (lname, fk, les["long_mm"]))
                # mean CT number inside (the interior: eroded in-plane by 2 px and by one slice)
                host, hu = les["host_hu"], les["lesion_hu"]
                inner = ndimage.binary_erosion(m, structure=np.ones((3, 5, 5)), border_value=0)
                if les["type"] != "rim":
                    if inner.sum() < 20:
                        inner = ndimage.binary_erosion(m, structure=np.ones((1, 5, 5)), border_value=0)
                    mean = vol[inner].mean()
                    lim = 0.08 * abs(host - hu) + 4 + 3 * tp["noise_hu"] / math.sqrt(max(inner.sum(), 1))
                    if abs(mean - hu) > lim:
                        fail("%s: mean %.1f HU inside (%d voxels), lesion_hu %s" % (lname, mean, inner.sum(), hu))
                else:
                    s2 = m[ks]
                    ring = s2 & ~ndimage.binary_erosion(s2, iterations=3)
                    core = ndimage.binary_erosion(s2, iterations=int(math.ceil((les["rim_mm"] + 2) / dx)))
                    rmean, cmean = vol[ks][ring].mean(), vol[ks][core].mean()
                    if not (rmean > host + 15 and cmean < host - 40 and abs(cmean - les["core_hu"]) < 15):
                        fail("%s: ring %.1f HU, core %.1f HU (liver %s)" % (lname, rmean, cmean, host))
                    if not ndimage.binary_erosion(s2, iterations=int(math.ceil(les["rim_mm"] / dx)))[row, col]:
                        fail("%s: seed not inside the core" % lname)
                    mean = rmean
                # host tissue around nodes and nodules (a shell 2-4 px outside on the truth slice)
                if les["type"] in ("node", "lung_nodule"):
                    s2 = m[ks]
                    shell = ndimage.binary_dilation(s2, iterations=5) & ~ndimage.binary_dilation(s2, iterations=2)
                    sm = vol[ks][shell].mean()
                    if abs(sm - host) > 0.1 * abs(host - hu) + 10:
                        fail("%s: around it %.1f HU, host %s" % (lname, sm, host))
                # touching lesions: the vessel (>= 140 HU) or fat (< -50 HU) next to the touch point
                if "touches" in les:
                    p = les["touch_point_mm"]
                    kk = int(round((p[2] - zs[0]) / t))
                    if kk != les["touch_slice_index"] or abs(kk - ks) > 1:
                        fail("%s: touch slice %d (truth %d), longest slice %d" % (lname, kk, les["touch_slice_index"], ks))
                    cc = (p[0] - ipp0[0]) / dx
                    rr = (p[1] - ipp0[1]) / dx
                    win = vol[kk, int(rr) - 4:int(rr) + 6, int(cc) - 4:int(cc) + 6]
                    lw = lab[kk, int(rr) - 4:int(rr) + 6, int(cc) - 4:int(cc) + 6]
                    ok = (win.max() > 140) if les["touches"] == "vessel" else (win.min() < -50)
                    if not ok or not (lw == L).any():
                        fail("%s: no %s next to the touch point" % (lname, les["touches"]))
                report.append("%-26s %-13s long %6.2f (label %6.2f) short %6.2f (label %6.2f) vol %7.3f ml (label %.3f) mean %7.1f"
                              % (name + " " + les["id"], les["type"], les["long_mm"], f, les["short_mm"], sp + dx,
                                 les["volume_ml"], n * vox_ml, mean))
            by_tp[tp["timepoint"]] = tp
        # follow-up: 0.8 x in size (volume 0.512 x), centres moved by the shift (scaled about the anchor)
        bl, fu = by_tp["BL"], by_tp["FU1"]
        sh = fu["shift_mm"]
        if not (0 < math.sqrt(sum(v * v for v in sh)) <= 3.0):
            fail("%s: follow-up shift %s" % (subj, sh))
        for a, b in zip(bl["lesions"], fu["lesions"]):
            if abs(b["volume_ml"] / a["volume_ml"] - 0.512) > 0.005:
                fail("%s %s: follow-up volume ratio %.4f" % (subj, a["id"], b["volume_ml"] / a["volume_ml"]))
            # (on 5 mm slices a small lesion's slab-fraction region shrinks faster than the solid)
            if abs(b["long_mm"] / a["long_mm"] - 0.8) > (0.06 if bl["slice_thickness_mm"] <= 2.5 else 0.15):
                fail("%s %s: follow-up long ratio %.3f" % (subj, a["id"], b["long_mm"] / a["long_mm"]))
            if "touches" not in a:
                d = [b["center_mm"][i] - a["center_mm"][i] - sh[i] for i in range(3)]
                if max(abs(v) for v in d) > 0.02:
                    fail("%s %s: centre moved by %s, not the shift %s" % (subj, a["id"], d, sh))
            else:
                d = [b["touch_point_mm"][i] - a["touch_point_mm"][i] - sh[i] for i in range(3)]
                if max(abs(v) for v in d) > 0.02:
                    fail("%s %s: touch point moved by %s" % (subj, a["id"], d))
    print("\n".join(report))
    return not failures


if __name__ == "__main__":
    ok = check(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    print("lesion phantoms: %s" % ("ok" if ok else "%d failures" % len(failures)))
    sys.exit(0 if ok else 1)
