#!/usr/bin/env python3
"""A synthetic registry cohort for the demo (scripts/demo.sh): QA's endpoints page needs a few hundred
subjects with reads to show real-looking Kaplan–Meier curves, a waterfall, a spider and a swimmer plot.

  scripts/demo-cohort.py OUT N [SEED]

Writes, for N subjects of sites S014, S027 and S031 (IDs CIREL-0SS-1001…, matching the demo's subject
patterns):
  OUT/dicom/<subject>_<timepoint>.dcm   one tiny anonymised CT instance per subject and timepoint (2×2 pixels):
                                        Patient ID/Name = Clinical Trial Subject ID, Clinical Trial Site ID,
                                        Clinical Trial Time Point ID (BL, FU1, …: the label `recistry reads
                                        index` takes the timepoint from), Study Instance UID, Study Date
  OUT/registry.csv                      the registry rows (docs/registry.md)
  OUT/central.json, OUT/site.json       engine-input reads: the designed diameters (central) and the site
                                        investigator's, each measurement off by a few per cent

The design follows tests/integration/endpoints/make_cohort.py (baseline, follow-ups every 8 weeks until
progression, death, drop-out or the data cut; progression by growth of a liver target or a new lung lesion;
NE assessments now and then) with realistic numbers: progression and death times exponential with a median
per indication (salvage worst, consolidation best), depth of response spread from deep responses to early
progression.

The DICOM files are written here byte by byte (explicit VR little endian, a dozen attributes): the demo must
not depend on pydicom, and one dcmtk process per file would cost seconds. `dcmdump` reads them; the archive
indexes them with the same reader as any received instance."""
import csv, datetime, hashlib, json, math, os, random, struct, sys

out, n = sys.argv[1], int(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 12
rng = random.Random(seed)
os.makedirs(os.path.join(out, "dicom"), exist_ok=True)

SITES = ["S014", "S027", "S031"]
# indication: (weight, PFS median days, OS median days)
IND = {"first_line": (0.14, 300, 700), "consolidation": (0.12, 360, 820), "intensification": (0.30, 250, 560),
       "salvage": (0.32, 170, 380), "ablation_combination": (0.06, 330, 760), "other": (0.06, 220, 520)}
CUT = datetime.date(2023, 6, 30)  # data cut: alive subjects are last seen then (or earlier, lost to follow-up)


def iso(d): return d.isoformat()


def uid(*parts):
    return "2.25.%d" % int.from_bytes(hashlib.sha1("/".join(map(str, parts)).encode()).digest()[:16], "big")


# ---- a minimal DICOM Part 10 writer (explicit VR little endian) ----
def element(group, elem, vr, value):
    if isinstance(value, str):
        raw = value.encode("ascii")
        if len(raw) % 2: raw += b"\0" if vr == "UI" else b" "
    else:
        raw = value
    if vr in ("OB", "OW", "UN", "SQ", "UT"):
        return struct.pack("<HH2sHI", group, elem, vr.encode(), 0, len(raw)) + raw
    return struct.pack("<HH2sH", group, elem, vr.encode(), len(raw)) + raw


def write_instance(path, subject, site, tp, tp_desc, date, study_uid, series_uid, sop_uid):
    ct = "1.2.840.10008.5.1.4.1.1.2"
    ts = "1.2.840.10008.1.2.1"
    meta_body = (element(0x0002, 0x0001, "OB", b"\0\1") + element(0x0002, 0x0002, "UI", ct) +
                 element(0x0002, 0x0003, "UI", sop_uid) + element(0x0002, 0x0010, "UI", ts) +
                 element(0x0002, 0x0012, "UI", "1.2.826.0.1.3680043.10.1367.1"))
    meta = element(0x0002, 0x0000, "UL", struct.pack("<I", len(meta_body))) + meta_body
    d = date.strftime("%Y%m%d")
    ds = [
        (0x0008, 0x0016, "UI", ct), (0x0008, 0x0018, "UI", sop_uid), (0x0008, 0x0020, "DA", d),
        (0x0008, 0x0030, "TM", "100000"), (0x0008, 0x0060, "CS", "CT"), (0x0008, 0x103E, "LO", "demo cohort"),
        (0x0010, 0x0010, "PN", subject), (0x0010, 0x0020, "LO", subject),
        (0x0012, 0x0010, "LO", "FFCD"), (0x0012, 0x0020, "LO", "CIREL"), (0x0012, 0x0030, "LO", site),
        (0x0012, 0x0040, "LO", subject), (0x0012, 0x0050, "LO", tp), (0x0012, 0x0051, "ST", tp_desc),
        (0x0012, 0x0062, "CS", "YES"), (0x0012, 0x0063, "LO", "synthetic demo data"),
        (0x0018, 0x0050, "DS", "5"), (0x0020, 0x000D, "UI", study_uid), (0x0020, 0x000E, "UI", series_uid),
        (0x0020, 0x0011, "IS", "1"), (0x0020, 0x0013, "IS", "1"), (0x0020, 0x0032, "DS", "0\\0\\0"),
        (0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0"), (0x0020, 0x0052, "UI", series_uid + ".1"),
        (0x0028, 0x0002, "US", struct.pack("<H", 1)), (0x0028, 0x0004, "CS", "MONOCHROME2"),
        (0x0028, 0x0010, "US", struct.pack("<H", 2)), (0x0028, 0x0011, "US", struct.pack("<H", 2)),
        (0x0028, 0x0030, "DS", "1\\1"), (0x0028, 0x0100, "US", struct.pack("<H", 16)),
        (0x0028, 0x0101, "US", struct.pack("<H", 12)), (0x0028, 0x0102, "US", struct.pack("<H", 11)),
        (0x0028, 0x0103, "US", struct.pack("<H", 0)), (0x0028, 0x1050, "DS", "40"), (0x0028, 0x1051, "DS", "400"),
        (0x7FE0, 0x0010, "OW", struct.pack("<4H", 0, 1000, 1000, 0)),
    ]
    body = b"".join(element(*e) for e in sorted(ds, key=lambda e: (e[0], e[1])))
    with open(path, "wb") as fh:
        fh.write(b"\0" * 128 + b"DICM" + meta + body)


# ---- the cohort ----
registry, central, site_reads = [], [], []
names = list(IND)
weights = [IND[k][0] for k in names]
for i in range(1, n + 1):
    site = SITES[(i - 1) % 3]
    sid = "CIREL-%s-%04d" % (site[1:], 1000 + i)
    ind = rng.choices(names, weights)[0]
    _, pfs_med, os_med = IND[ind]
    start = datetime.date(2019, 1, 7) + datetime.timedelta(rng.randrange(900))
    bl_day = -rng.randrange(3, 25)
    pfs_t = rng.expovariate(math.log(2) / pfs_med)
    os_t = max(rng.expovariate(math.log(2) / os_med), min(pfs_t, 2000) + rng.expovariate(math.log(2) / 200))
    dropout = rng.expovariate(1 / 2500.0)
    cut_day = (CUT - start).days
    end = min(os_t, cut_day, dropout)  # no assessment after death, the data cut or drop-out
    # depth of the response: deep (0.3–0.75 shrinkage), stable (−0.1–0.3) or none (early growth)
    u = rng.random()
    depth = rng.uniform(0.3, 0.75) if u < 0.38 else rng.uniform(-0.1, 0.29) if u < 0.85 else rng.uniform(-0.15, 0.0)
    lung = rng.random() < 0.35
    n_liver = rng.choice([1, 2, 2])  # RECIST 1.1: at most 2 targets per organ
    base = [round(rng.uniform(15, 60), 1) for _ in range(n_liver)] + ([round(rng.uniform(11, 30), 1)] if lung else [])
    organs = ["liver"] * n_liver + (["lung"] if lung else [])
    days = []
    d = rng.choice([35, 42, 49, 56, 63])
    while d < end:
        days.append(d)
        d += 56 + rng.randrange(-7, 8)
    assessments = [{"timepoint": "BL", "date": iso(start + datetime.timedelta(bl_day)),
                    "target": [{"lesion_id": "T%d" % (k + 1), "organ": organs[k], "nodal": False,
                                "diameter_mm": base[k]} for k in range(len(base))],
                    "non_target": [], "new_lesions": []}]
    nadir = sum(base)
    progressed = False
    for k, day in enumerate(days):
        frac = depth * (1 - math.exp(-(k + 1) / 1.3))  # approaches its depth over two or three assessments
        sizes = [round(max(b * (1 - frac) * rng.uniform(0.96, 1.04), 5.0), 1) for b in base]
        new = []
        if day >= pfs_t:  # the first assessment after the designed progression shows it
            progressed = True
            if lung and rng.random() < 0.3 or rng.random() < 0.15:
                new = [{"lesion_id": "N1", "organ": "lung", "nodal": False, "state": "unequivocal"}]
            else:
                grow = nadir * rng.uniform(0.25, 0.6) + 6 - (sum(sizes) - nadir)
                sizes[0] = round(sizes[0] + max(grow, 6), 1)
        ne = not progressed and rng.random() < 0.04
        target = [{"lesion_id": "T%d" % (j + 1), "diameter_mm": s} if not (ne and j == 0)
                  else {"lesion_id": "T1", "state": "not_evaluable"} for j, s in enumerate(sizes)]
        if not ne and not progressed: nadir = min(nadir, sum(sizes))
        assessments.append({"timepoint": "FU%d" % (k + 1), "date": iso(start + datetime.timedelta(day)),
                            "target": target, "non_target": [], "new_lesions": new})
        if progressed: break
    dead = os_t <= min(cut_day, dropout)
    last_ass = (start + datetime.timedelta(days[len(assessments) - 2])) if len(assessments) > 1 else start
    death = start + datetime.timedelta(max(int(os_t), (last_ass - start).days + 1)) if dead else None
    last = None if dead else max(last_ass, start + datetime.timedelta(int(min(cut_day, dropout))))
    resection = ""
    if depth > 0.45 and not progressed and len(assessments) > 3 and rng.random() < 0.4:
        resection = iso(start + datetime.timedelta(days[2] + 20))
        if (death or last) and resection > iso(death or last): resection = ""
    registry.append({"subject_id": sid, "site_id": site, "treatment_start": iso(start), "indication": ind,
                     "liver_only": "no" if lung else "yes", "death_date": iso(death) if death else "",
                     "last_contact_date": iso(last) if last else "", "secondary_resection_date": resection})
    central.append({"subject_id": sid, "treatment_start": iso(start), "assessments": assessments})
    # the site investigator measures the same lesions a few per cent differently
    sa = json.loads(json.dumps(assessments))
    for a in sa:
        for t in a["target"]:
            if "diameter_mm" in t:
                t["diameter_mm"] = round(max(t["diameter_mm"] * rng.gauss(1.0, 0.07), 5.0), 1)
    site_reads.append({"subject_id": sid, "treatment_start": iso(start), "assessments": sa})
    study_series = {}
    for a in assessments:
        tp = a["timepoint"]
        date = datetime.date.fromisoformat(a["date"])
        write_instance(os.path.join(out, "dicom", "%s_%s.dcm" % (sid, tp)), sid, site, tp,
                       "Baseline" if tp == "BL" else "Follow-up " + tp[2:], date, uid(seed, sid, tp),
                       uid(seed, sid, tp, "series"), uid(seed, sid, tp, "sop"))

cols = ["subject_id", "site_id", "treatment_start", "indication", "liver_only", "death_date", "last_contact_date",
        "secondary_resection_date"]
with open(os.path.join(out, "registry.csv"), "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=cols)
    w.writeheader()
    w.writerows(registry)
for name, reads in (("central.json", central), ("site.json", site_reads)):
    with open(os.path.join(out, name), "w") as fh:
        json.dump(reads, fh)
print("%d subjects, %d instances" % (n, sum(len(s["assessments"]) for s in central)))
