"""Checks of `recistry dose --json` against the TARE phantom's analytic truth and against plastimatch's DVHs
(tests/integration/dose_accuracy.sh). Each subcommand exits non-zero with what differs.

  truth RESULT.json TRUTH.json TOL_PCT        LDM means vs the truth's analytic LDM doses; MIRD, partition
                                              and lung doses vs the truth's hand computation (1e-6 relative)
  nrrd-ss OUT.nrrd OUT.txt LABEL.nrrd...      a plastimatch structure-set image: bit i = label file i
  plastimatch RESULT.json DVH.csv NAME...     D50/D70/D90 and V100/V150/V205 vs plastimatch's cumulative DVH
"""
import csv
import gzip
import json
import sys

import numpy as np


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def read_nrrd(path):
    raw = open(path, "rb").read()
    head, _, body = raw.partition(b"\n\n")
    fields = {}
    for line in head.decode().splitlines()[1:]:
        if ":" in line and not line.startswith("#"):
            k, _, v = line.partition(":")
            fields[k.strip()] = v.strip()
    if fields.get("encoding") == "gzip":
        body = gzip.decompress(body)
    types = {"uchar": np.uint8, "unsigned char": np.uint8, "uint8": np.uint8, "float": np.float32}
    data = np.frombuffer(body, dtype=types[fields["type"]])
    return fields, data


def truth(result_path, truth_path, tol_pct):
    r = json.load(open(result_path))
    t = json.load(open(truth_path))
    comps = {c["name"]: c for c in r["compartments"]}
    checked = 0
    for c in t["studies"]["Y90"]["compartments"]:
        name = c["name"]
        if name not in comps:
            continue
        want, got = c.get("ldm_energy_over_mass_gy", c["ldm_mean_gy"]), comps[name]["mean_gy"]  # energy / mass
        err = 100 * (got - want) / want
        print(f"  {name:24s} LDM mean {got:9.3f} Gy, analytic {want:9.3f} Gy: {err:+.3f} %")
        if abs(err) > tol_pct:
            fail(f"{name}: mean {got} Gy vs analytic {want} Gy ({err:+.3f} % > {tol_pct} %)")
        checked += 1
    if checked < 4:
        fail(f"only {checked} compartments compared: {sorted(comps)}")
    m, h = r["models"], t["models"]["y90"]
    for k in ("mird_liver_gy", "partition_tumour_gy", "partition_normal_gy", "lung_gy"):
        # The truth's masses are the phantom's; ours are the VOIs' on the CT (the same voxels, the same HU).
        if m[k] is None or abs(m[k] - h[k]) > 1e-3 * abs(h[k]):
            fail(f"model {k}: {m[k]} vs hand computation {h[k]}")
        print(f"  {k:24s} {m[k]:9.3f} Gy, by hand {h[k]:9.3f} Gy")


def nrrd_ss(out, out_list, labels):
    fields, first = read_nrrd(labels[0])
    ss = np.zeros(first.shape, np.uint8)
    for i, path in enumerate(labels):
        _, d = read_nrrd(path)
        ss |= ((d != 0).astype(np.uint8) << i)
    keep = ["type", "dimension", "space", "sizes", "space directions", "kinds", "endian", "space origin"]
    head = "NRRD0004\n" + "".join(f"{k}: {fields[k]}\n" for k in keep if k in fields)
    head = head.replace("type: " + fields["type"], "type: uchar") + "encoding: raw\n\n"
    open(out, "wb").write(head.encode() + ss.tobytes())
    with open(out_list, "w") as f:
        for i, path in enumerate(labels):
            name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            f.write(f"{i}|255 0 0|{name}\n")


def plastimatch(result_path, dvh_path, names):
    r = json.load(open(result_path))
    comps = {c["name"]: c for c in r["compartments"]}
    rows = list(csv.reader(open(dvh_path)))
    header, rows = rows[0], [[float(x) for x in row] for row in rows[1:] if row]
    dose = np.array([row[0] for row in rows])
    for name in names:
        col = header.index(name)
        frac = np.array([row[col] for row in rows]) * (100 if max(row[col] for row in rows) <= 1.0 else 1)
        c = comps[name]
        for x in (50, 70, 90):
            # Dx: the highest dose where the cumulative volume is still >= x %.
            idx = np.nonzero(frac >= x)[0]
            d = dose[idx[-1]] if len(idx) else 0.0
            ours = c[f"d{x}_gy"]
            tol = max(0.01 * ours, 0.1)  # 1 %, and plastimatch's bin (0.1 Gy) for small doses
            print(f"  {name:24s} D{x} ours {ours:8.2f} Gy, plastimatch {d:8.2f} Gy")
            if abs(ours - d) > tol:
                fail(f"{name}: D{x} {ours} Gy vs plastimatch {d} Gy")
        for x in (100, 150, 205):
            v = float(np.interp(x, dose, frac))
            ours = c[f"v{x}_pct"]
            print(f"  {name:24s} V{x} ours {ours:7.2f} %, plastimatch {v:7.2f} %")
            if abs(ours - v) > 1.0:
                fail(f"{name}: V{x} {ours} % vs plastimatch {v} % (more than 1 point)")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "truth":
        truth(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif cmd == "nrrd-ss":
        nrrd_ss(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif cmd == "plastimatch":
        plastimatch(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        fail(f"unknown subcommand {cmd}")
