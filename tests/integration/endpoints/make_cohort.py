#!/usr/bin/env python3
"""Synthetic endpoint cohort for tests/integration/endpoints_r.sh and scripts/bench/endpoints.

Writes OUT/reads.json (engine input: subjects with assessments), OUT/registry.csv (the registry) and
OUT/dpr.csv (depth of response and time to nadir by design) and OUT/survival.csv: each subject's OS / PFS / hepatic PFS time and event worked out here, independently of
recistry, from how the subject was designed (which follow-up shows progression, in the liver or the lung,
which trailing follow-ups are not evaluable, death or last contact). Follow-ups sit on a grid of days and
deaths on multiples of 14 days, so event and censoring times tie often.

  make_cohort.py OUT SEED N [--special] [--bench]
--special adds the cases the R check needs: the 'consolidation' group is 4 subjects whose OS curve sits at
exactly 0.5 between days 20 and 40; 'other' subjects never progress nor die (a group with no events); one
read gives a treatment_start different from the registry's (a warning)."""
import csv, datetime, json, os, random, sys

out, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
special = "--special" in sys.argv
bench = "--bench" in sys.argv  # every subject: baseline + 7 follow-ups (progression only at the last)
rng = random.Random(seed)
os.makedirs(out, exist_ok=True)
EPOCH = datetime.date(2020, 1, 6)
IND = ["first_line", "consolidation", "intensification", "salvage", "ablation_combination", "other"]

def iso(d): return d.isoformat()

subjects, registry, surv, dprs = [], [], [], []

def add(sid, ind, start, assessments, death, last, pd_day, hpd_day, nonne_days, read_start=None):
    """death/last/pd days are from start (None when absent); nonne_days: days of non-NE assessments."""
    subjects.append({"subject_id": sid, "treatment_start": iso(read_start or start), "assessments": assessments})
    registry.append({"subject_id": sid, "site_id": "S%03d" % (1 + rng.randrange(9)), "treatment_start": iso(start),
                     "indication": ind, "liver_only": rng.choice(["yes", "no", ""]),
                     "death_date": iso(start + datetime.timedelta(death)) if death is not None else "",
                     "last_contact_date": iso(start + datetime.timedelta(last)) if last is not None else ""})
    os_t, os_e = (death, 1) if death is not None else (last, 0)
    def pfs(p):
        cands = [d for d in (p, death) if d is not None]
        if cands: return max(0, min(cands)), 1
        return max(0, max(nonne_days)), 0
    pt, pe = pfs(pd_day)
    ht, he = pfs(hpd_day)
    surv.append({"subject_id": sid, "indication": ind, "os_t": max(0, os_t), "os_e": os_e,
                 "pfs_t": pt, "pfs_e": pe, "hpfs_t": ht, "hpfs_e": he})

def regular(i, ind):
    sid = "S%02d-%04d" % (seed % 100, i)
    start = EPOCH + datetime.timedelta(rng.randrange(700))
    bl_off = -rng.choice([0, 3, 7, 14])
    lung = rng.random() < 0.4
    f = rng.choice([0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.05])
    never = ind == "other"
    first = rng.choice([35, 42, 56, 56, 70])
    m = 7 if bench else rng.randrange(0, 8)
    fu_days = [first + 56 * k for k in range(m)]
    pd_k = None if never or m == 0 or rng.random() < 0.35 else (m - 1 if bench else rng.randrange(m))
    pd_lung = lung and pd_k is not None and rng.random() < 0.4
    if pd_k is not None: fu_days = fu_days[:pd_k + 1]
    ne_tail = 0 if pd_k is not None or bench else min(len(fu_days), rng.choice([0, 0, 1, 2]))
    def target(t1, t2, ne=False):
        tl = [{"lesion_id": "T1", "diameter_mm": t1} if not ne else {"lesion_id": "T1", "state": "not_evaluable"}]
        if lung: tl.append({"lesion_id": "T2", "diameter_mm": t2})
        return tl
    bl = {"timepoint": "BL", "date": iso(start + datetime.timedelta(bl_off)),
          "target": [{"lesion_id": "T1", "organ": "liver", "nodal": False, "diameter_mm": 40.0}] +
                    ([{"lesion_id": "T2", "organ": "lung", "nodal": False, "diameter_mm": 30.0}] if lung else []),
          "non_target": [], "new_lesions": []}
    assessments = [bl]
    nonne = [bl_off]
    pd_day = hpd_day = None
    complete = []
    for k, d in enumerate(fu_days):
        t1, t2 = round(40 * f, 1), round(30 * f, 1)
        ne = k >= len(fu_days) - ne_tail
        if k == pd_k:
            if pd_lung: t2 = round(30 * max(f, 1) * 1.6 + 40, 1)  # PD over any nadir, even with T1 shrunk
            else: t1 = round(40 * max(f, 1) * 1.6 + 10, 1)
            pd_day = d
            if not pd_lung: hpd_day = d
        assessments.append({"timepoint": "FU%d" % (k + 1), "date": iso(start + datetime.timedelta(d)),
                            "target": target(t1, t2, ne), "non_target": [], "new_lesions": []})
        if not ne: nonne.append(d)
        if not ne:  # complete sums up to and including the progression: depth of response
            complete.append((t1 + t2 if lung else t1, d))
    last_fu = fu_days[-1] if fu_days else 0
    death = None
    if not never and rng.random() < 0.6:
        death = 14 * rng.randrange(1, 60)
    last = None if death is not None else max(last_fu, 14 * rng.randrange(1, 60))
    if complete:  # the engine's DpR: the first smallest complete sum, (B - min) / B * 100
        base = 40.0 + 30.0 if lung else 40.0
        best = min(complete, key=lambda x: x[0])
        dprs.append({"subject_id": sid, "indication": ind, "dpr": repr((base - best[0]) / base * 100.0),
                     "ttn": best[1]})
    add(sid, ind, start, assessments, death, last, pd_day, hpd_day, nonne,
        read_start=(start + datetime.timedelta(1)) if special and i == 1 else None)

pool = [x for x in IND if not (special and x == "consolidation")]
for i in range(1, n + 1):
    regular(i, rng.choice(pool))
if special:
    # consolidation: OS deaths at days 10, 20, 40 and a censoring at 25 -> S = 0.75, 0.5 (from day 20 to 40), 0.
    for j, (death, last) in enumerate([(10, None), (20, None), (None, 25), (40, None)]):
        start = EPOCH + datetime.timedelta(100 + j)
        bl = {"timepoint": "BL", "date": iso(start - datetime.timedelta(2)),
              "target": [{"lesion_id": "T1", "organ": "liver", "nodal": False, "diameter_mm": 40.0}],
              "non_target": [], "new_lesions": []}
        add("C%02d-%04d" % (seed % 100, j + 1), "consolidation", start, [bl], death, last, None, None, [-2])

with open(os.path.join(out, "reads.json"), "w") as fh: json.dump(subjects, fh)
# The same reads with the registry's treatment start (what the engine sees inside `recistry endpoints`).
for s, r in zip(subjects, registry): s["treatment_start"] = r["treatment_start"]
with open(os.path.join(out, "reads_registry_start.json"), "w") as fh: json.dump(subjects, fh)
cols = ["subject_id", "site_id", "treatment_start", "indication", "liver_only", "death_date", "last_contact_date"]
with open(os.path.join(out, "registry.csv"), "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=cols); w.writeheader(); w.writerows(registry)
with open(os.path.join(out, "dpr.csv"), "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=["subject_id", "indication", "dpr", "ttn"]); w.writeheader(); w.writerows(dprs)
with open(os.path.join(out, "survival.csv"), "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(surv[0].keys())); w.writeheader(); w.writerows(surv)
