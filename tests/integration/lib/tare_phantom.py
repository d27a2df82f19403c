"""Independent checks of `recistry sample --tare` (tests/integration/sample_tare.sh).

Reads the PET, SPECT and CT with pydicom, the label maps with gzip + numpy (the NRRD header parsed here, not by
recistry), the truth JSON, and checks:
  - the PET header: PT, Units BQML, the decay correction asked for, the 90Y half-life and radionuclide code,
    Frame of Reference = the CT's, a Rescale Slope per slice (not all equal), Rescale Intercept 0;
  - for the "accuracy" subject (PET on the CT grid, no blur): the mean of stored * slope + intercept inside each
    label, times the decay factor computed here from the header alone, equals the truth's concentration at
    administration within 0.5 %; the SPECT's mean counts per label and its tumour-to-normal ratio likewise;
  - for the "realistic" subject: the PET's total activity (decay-corrected) is the injected activity within 2 %,
    and its tumours read low (partial volume) but not absurdly so;
  - the truth's own arithmetic: densities from the HU table, LDM = 49.67e-6 C / rho, masses, the activity budget,
    the MIRD, partition and lung doses recomputed from the masses.
Usage: tare_phantom.py DIR MODE (MODE: START, ADMIN or NONE).
"""
import datetime
import glob
import gzip
import json
import math
import os
import sys

import numpy as np
import pydicom

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def close(a, b, rel):
    return abs(a - b) <= rel * max(abs(b), 1e-30)


def read_nrrd(path):
    with open(path, "rb") as f:
        raw = f.read()
    head, _, data = raw.partition(b"\n\n")
    lines = head.decode("ascii").split("\n")
    if not lines[0].startswith("NRRD000"):
        raise ValueError(path + ": magic " + lines[0])
    fields = {}
    for line in lines[1:]:
        if line.startswith("#") or not line:
            continue
        k, _, v = line.partition(": ")
        fields[k.strip()] = v.strip()
    assert fields["type"] in ("uint8", "unsigned char", "uchar"), fields
    assert fields["dimension"] == "3"
    assert fields["encoding"] == "gzip", fields
    assert fields["space"] == "left-posterior-superior", fields
    sizes = [int(x) for x in fields["sizes"].split()]
    dirs = [[float(x) for x in d.strip("()").split(",")] for d in fields["space directions"].split()]
    origin = [float(x) for x in fields["space origin"].strip("()").split(",")]
    arr = np.frombuffer(gzip.decompress(data), dtype=np.uint8)
    assert arr.size == sizes[0] * sizes[1] * sizes[2], (arr.size, sizes)
    return arr.reshape(sizes[2], sizes[1], sizes[0]), dirs, origin


def dicom_dt(date, time):
    time = time.split(".")[0]
    return datetime.datetime.strptime(date + time[:6], "%Y%m%d%H%M%S")


def read_pet(folder):
    ds = [pydicom.dcmread(f) for f in sorted(glob.glob(os.path.join(folder, "PT_*.dcm")))]
    ds.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    vol = np.stack([d.pixel_array.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in ds])
    return ds, vol


def decay_factor(d):
    """Image value -> concentration at administration, from the header alone (permanent implant)."""
    rp = d.RadiopharmaceuticalInformationSequence[0]
    half = float(rp.RadionuclideHalfLife)
    lam = math.log(2) / half
    inj = datetime.datetime.strptime(rp.RadiopharmaceuticalStartDateTime[:14], "%Y%m%d%H%M%S")
    mode = d.DecayCorrection
    if mode == "ADMIN":
        return 1.0
    if mode == "START":
        t = (dicom_dt(d.SeriesDate, d.SeriesTime) - inj).total_seconds()
        return math.exp(lam * t)
    if mode == "NONE":
        t = (dicom_dt(d.AcquisitionDate, d.AcquisitionTime) - inj).total_seconds()
        T = float(d.ActualFrameDuration) / 1000.0
        return math.exp(lam * t) * lam * T / (1 - math.exp(-lam * T))
    raise ValueError("decay correction " + mode)


def check_truth_arithmetic(truth):
    name = truth["subject"]
    tab = truth["density_table"]["hu_g_per_ml"]
    hu_tab = [p[0] for p in tab]
    rho_tab = [p[1] for p in tab]
    y90 = truth["studies"]["Y90"]
    total = 0.0
    for c in y90["compartments"]:
        rho = float(np.interp(c["hu"], hu_tab, rho_tab))
        if not close(c["density_g_per_ml"], rho, 1e-6):
            fail("%s %s: density %s, table gives %s" % (name, c["name"], c["density_g_per_ml"], rho))
        if not close(c["mass_g"], c["volume_ml"] * rho, 1e-6):
            fail("%s %s: mass" % (name, c["name"]))
        ldm = 49.67e-6 * c["concentration_admin_bq_per_ml"] / rho
        if not close(c["ldm_mean_gy"], ldm, 1e-6):
            fail("%s %s: LDM %s, formula %s" % (name, c["name"], c["ldm_mean_gy"], ldm))
        total += c["activity_gbq"]
    inj = truth["treatment"]["injected_activity_gbq"]
    if not close(total, inj, 1e-6):
        fail("%s: compartments hold %.6f GBq, injected %.6f" % (name, total, inj))
    vois = {v["name"]: v for v in y90["vois"]}
    lsf = truth["treatment"]["lung_shunt_fraction"]
    if not close(vois["lungs"]["activity_gbq"], lsf * inj, 1e-6):
        fail("%s: lungs hold %.6f GBq, LSF x A = %.6f" % (name, vois["lungs"]["activity_gbq"], lsf * inj))
    m = truth["models"]["y90"]
    mt = sum(v["mass_g"] for v in y90["vois"] if v["kind"] == "tumour") / 1000
    mn = vois["perfused_normal"]["mass_g"] / 1000
    mp = vois["perfused_liver"]["mass_g"] / 1000
    ml = vois["lungs"]["mass_g"] / 1000
    a, tnr = m["activity_gbq"], m["tnr"]
    expect = {
        "mird_liver_gy": 49.67 * a * (1 - lsf) / mp,
        "partition_normal_gy": 49.67 * a * (1 - lsf) / (mn + tnr * mt),
        "partition_tumour_gy": tnr * 49.67 * a * (1 - lsf) / (mn + tnr * mt),
        "lung_gy": 49.67 * a * lsf / ml,
    }
    for k, v in expect.items():
        if not close(m[k], v, 1e-6):
            fail("%s: models.y90.%s %s, formula %s" % (name, k, m[k], v))
    # tumours hold TNR x the perfused normal liver's concentration
    pn = vois["perfused_normal"]["concentration_admin_bq_per_ml"]
    for v in y90["vois"]:
        if v["kind"] == "tumour" and not close(v["concentration_admin_bq_per_ml"], truth["treatment"]["tnr"] * pn, 1e-6):
            fail("%s %s: tumour concentration is not TNR x perfused normal" % (name, v["name"]))
    print("%s: %.3f GBq; MIRD %.1f Gy, partition T %.1f / N %.1f Gy, lungs %.1f Gy" % (
        name, total, m["mird_liver_gy"], m["partition_tumour_gy"], m["partition_normal_gy"], m["lung_gy"]))


def labels_on(folder_nrrd, name, shape_zyx, origin_expect, spacing_expect):
    lab, dirs, origin = read_nrrd(os.path.join(folder_nrrd, name + ".nrrd"))
    if lab.shape != shape_zyx:
        fail("%s: label shape %s, image %s" % (name, lab.shape, shape_zyx))
    if max(abs(origin[i] - origin_expect[i]) for i in range(3)) > 1e-3:
        fail("%s: label origin %s, image %s" % (name, origin, origin_expect))
    sp = [dirs[0][0], dirs[1][1], dirs[2][2]]
    if max(abs(sp[i] - spacing_expect[i]) for i in range(3)) > 1e-6:
        fail("%s: label spacing %s, image %s" % (name, sp, spacing_expect))
    return lab.astype(bool)


def check_subject(root, truth, mode):
    name = truth["subject"]
    y90 = truth["studies"]["Y90"]
    pet_dir = os.path.join(root, y90["series_dir"])
    ds, pet = read_pet(pet_dir)
    ct = [pydicom.dcmread(f, stop_before_pixels=True) for f in glob.glob(os.path.join(pet_dir, "CT_*.dcm"))]
    ct.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    d0 = ds[0]
    for attr, want in (("Modality", "PT"), ("Units", "BQML"), ("DecayCorrection", mode),
                       ("CountsSource", "EMISSION")):
        if str(getattr(d0, attr, "")) != want:
            fail("%s PET %s = %r, want %r" % (name, attr, getattr(d0, attr, None), want))
    if list(d0.SeriesType) != ["STATIC", "IMAGE"]:
        fail("%s PET Series Type %s" % (name, d0.SeriesType))
    rp = d0.RadiopharmaceuticalInformationSequence[0]
    if abs(float(rp.RadionuclideHalfLife) - 230590.8) > 0.01:
        fail("%s PET half-life %s" % (name, rp.RadionuclideHalfLife))
    code = rp.RadionuclideCodeSequence[0]
    if (code.CodeValue, code.CodingSchemeDesignator) != ("14691008", "SCT"):
        fail("%s PET radionuclide code %s %s" % (name, code.CodeValue, code.CodingSchemeDesignator))
    if not close(float(rp.RadionuclideTotalDose), truth["treatment"]["injected_activity_gbq"] * 1e9, 1e-9):
        fail("%s PET total dose %s" % (name, rp.RadionuclideTotalDose))
    if d0.FrameOfReferenceUID != ct[0].FrameOfReferenceUID or d0.StudyInstanceUID != ct[0].StudyInstanceUID:
        fail("%s PET and CT differ in frame of reference or study" % name)
    slopes = {float(d.RescaleSlope) for d in ds}
    if len(slopes) < len(ds) // 2:
        fail("%s PET: only %d distinct slopes over %d slices" % (name, len(slopes), len(ds)))
    if any(float(d.RescaleIntercept) != 0 for d in ds):
        fail("%s PET: Rescale Intercept not 0" % name)
    acq = {(d.AcquisitionDate, d.AcquisitionTime) for d in ds}
    if len(acq) != 1:
        fail("%s PET: slices with different acquisition times %s" % (name, acq))
    f = decay_factor(d0)
    if not close(f, y90["pet"]["value_to_admin_factor"], 1e-6):
        fail("%s: decay factor from the header %.9f, truth %.9f" % (name, f, y90["pet"]["value_to_admin_factor"]))
    pet_grid = y90["pet"]["grid"]
    origin = [float(x) for x in ds[0].ImagePositionPatient]
    spacing = [float(d0.PixelSpacing[1]), float(d0.PixelSpacing[0]),
               float(ds[1].ImagePositionPatient[2]) - float(ds[0].ImagePositionPatient[2])]
    if max(abs(origin[i] - pet_grid["origin_mm"][i]) for i in range(3)) > 1e-3:
        fail("%s PET origin %s, truth %s" % (name, origin, pet_grid["origin_mm"]))
    vois = {v["name"]: v for v in y90["vois"]}
    if truth["kind"] == "accuracy":
        ct_origin = [float(x) for x in ct[0].ImagePositionPatient]
        if max(abs(ct_origin[i] - origin[i]) for i in range(3)) > 1e-6:
            fail("%s: PET and CT grids differ" % name)
        for vname in y90["voi_files"]:
            m = labels_on(os.path.join(root, "tare", name, "Y90"), vname, pet.shape, origin, spacing)
            got = pet[m].mean() * f
            want = vois[vname]["concentration_admin_bq_per_ml"]
            if m.sum() != vois[vname]["voxels"]:
                fail("%s %s: %d label voxels, truth %d" % (name, vname, m.sum(), vois[vname]["voxels"]))
            # 0.5 %, or 4 x the noise's standard error where that is tighter (the large VOIs): a reader that
            # forgot the decay during the frame (0.135 % for 15 min) must not pass on the liver
            noise = y90["pet"]["noise_relative"]
            tol = min(0.005, max(4 * noise / math.sqrt(m.sum()), 0.0005))
            ok = close(got, want, tol)
            print("  %s Y90 %-15s %7d voxels  PET %12.1f Bq/mL  truth %12.1f  (%+.3f %%, tolerance %.3f %%)%s" % (
                name, vname, m.sum(), got, want, 100 * (got / want - 1), 100 * tol, "" if ok else "  <-- FAIL"))
            if not ok:
                fail("%s %s: PET mean x decay %.1f, truth %.1f" % (name, vname, got, want))
        # the SPECT on the MAA CT's grid: counts per label and the tumour-to-normal ratio
        maa = truth["studies"]["MAA"]
        nm = pydicom.dcmread(os.path.join(root, maa["series_dir"], maa["spect"]["file"]))
        check_nm_header(name, nm, maa)
        counts = nm.pixel_array.astype(np.float64)
        voxel_ml = np.prod(maa["spect"]["grid"]["spacing_mm"]) / 1000
        mv = {v["name"]: v for v in maa["vois"]}
        labdir = os.path.join(root, "tare", name, "MAA")
        means = {}
        for vname in maa["voi_files"]:
            m = labels_on(labdir, vname, counts.shape, maa["spect"]["grid"]["origin_mm"],
                          maa["spect"]["grid"]["spacing_mm"])
            means[vname] = counts[m].mean()
            want = mv[vname]["counts_per_ml"] * voxel_ml
            ok = close(means[vname], want, 0.01)
            print("  %s MAA %-15s SPECT %9.2f counts/voxel  truth %9.2f  (%+.3f %%)%s" % (
                name, vname, means[vname], want, 100 * (means[vname] / want - 1), "" if ok else "  <-- FAIL"))
            if not ok:
                fail("%s MAA %s: mean counts %.2f, truth %.2f" % (name, vname, means[vname], want))
        pl = labels_on(labdir, "perfused_liver", counts.shape, maa["spect"]["grid"]["origin_mm"],
                       maa["spect"]["grid"]["spacing_mm"])
        tum = np.zeros_like(pl)
        for vname in maa["voi_files"]:
            if vname.startswith("T"):
                tum |= labels_on(labdir, vname, counts.shape, maa["spect"]["grid"]["origin_mm"],
                                 maa["spect"]["grid"]["spacing_mm"])
        tnr = counts[tum].mean() / counts[pl & ~tum].mean()
        print("  %s MAA TNR measured %.4f, truth %.4f" % (name, tnr, truth["maa"]["tnr"]))
        if not close(tnr, truth["maa"]["tnr"], 0.01):
            fail("%s MAA TNR %.4f, truth %.4f" % (name, tnr, truth["maa"]["tnr"]))
    else:
        # PET on its own grid, blurred: the activity is all there, tumours read low
        voxel_ml = spacing[0] * spacing[1] * spacing[2] / 1000
        total = pet.sum() * voxel_ml * f / 1e9
        inj = truth["treatment"]["injected_activity_gbq"]
        print("  %s PET total %.4f GBq at administration, injected %.4f GBq" % (name, total, inj))
        if not close(total, inj, 0.02):
            fail("%s: PET holds %.4f GBq, injected %.4f" % (name, total, inj))
        zc = origin[2] + spacing[2] * np.arange(pet.shape[0])
        for t in truth["geometry"]["tumours"]:
            c, r = t["center_mm"], t["diameter_mm"] / 2
            z, y, x = np.meshgrid(zc, origin[1] + spacing[1] * np.arange(pet.shape[1]),
                                  origin[0] + spacing[0] * np.arange(pet.shape[2]), indexing="ij")
            m = (x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2 <= r * r
            rc = pet[m].mean() * f / vois[t["id"]]["concentration_admin_bq_per_ml"]
            print("  %s %s (%.0f mm): PET mean / truth %.3f (partial volume)" % (name, t["id"], 2 * r, rc))
            if not 0.5 < rc < 1.0:
                fail("%s %s: recovery %.3f outside (0.5, 1)" % (name, t["id"], rc))
        maa = truth["studies"]["MAA"]
        nm = pydicom.dcmread(os.path.join(root, maa["series_dir"], maa["spect"]["file"]))
        check_nm_header(name, nm, maa)
        if not close(float(nm.pixel_array.sum()), maa["spect"]["counts_in_image"], 1e-9):
            fail("%s SPECT counts %s, truth %s" % (name, nm.pixel_array.sum(), maa["spect"]["counts_in_image"]))


def check_nm_header(name, nm, maa):
    g = maa["spect"]["grid"]
    if nm.Modality != "NM" or list(nm.ImageType)[2:] != ["RECON TOMO", "EMISSION"]:
        fail("%s NM modality/type %s %s" % (name, nm.Modality, nm.ImageType))
    if int(nm.NumberOfFrames) != g["size"][2] or nm.Rows != g["size"][1] or nm.Columns != g["size"][0]:
        fail("%s NM size" % name)
    det = nm.DetectorInformationSequence[0]
    if max(abs(float(det.ImagePositionPatient[i]) - g["origin_mm"][i]) for i in range(3)) > 1e-3:
        fail("%s NM position %s, truth %s" % (name, det.ImagePositionPatient, g["origin_mm"]))
    if abs(float(nm.SpacingBetweenSlices) - g["spacing_mm"][2]) > 1e-6:
        fail("%s NM spacing" % name)
    if str(nm.get("Units", "")) != "CNTS":
        fail("%s NM units %s" % (name, nm.get("Units")))
    if nm.FrameOfReferenceUID != maa["frame_of_reference_uid"]:
        fail("%s NM frame of reference" % name)


def main():
    root, mode = sys.argv[1], sys.argv[2]
    truths = sorted(glob.glob(os.path.join(root, "tare", "*.json")))
    if not truths:
        fail("no truth files in %s/tare" % root)
    for path in truths:
        with open(path) as f:
            truth = json.load(f)
        if truth["treatment"]["decay_correction"] != mode:
            fail("%s: truth says decay %s" % (path, truth["treatment"]["decay_correction"]))
        check_truth_arithmetic(truth)
        check_subject(root, truth, mode)
    if failures:
        print("%d failure(s)" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("tare phantom checks (%s): ok" % mode)


if __name__ == "__main__":
    main()
