"""Reader QC recomputed directly from exported reads, against `recistry adjudication qc --json`.
    check_qc.py QC.json R1_EXPORT.json R2_EXPORT.json R1R2_CONCORDANCE.json REGISTRY.csv
Lesions are paired by lesion ID and organ (imported reads carry no image positions, so that is how
rcy_review_match_lesions pairs them); only target lesions, at every timepoint both reads measured.
Triggered subjects: the R1 vs R2 concordance's discordant subjects (the same engine reasons, default settings)."""
import csv
import json
import math
import sys

qc, r1, r2, conc = (json.load(open(p)) for p in sys.argv[1:5])
site_of = {row["subject_id"]: row["site_id"] for row in csv.DictReader(open(sys.argv[5]))}
bad = []


def close(what, got, want, tol=1e-9):
    if want is None or (isinstance(want, float) and math.isnan(want)):
        if got is not None:
            bad.append(f"{what}: {got} != null")
    elif got is None or abs(got - want) > tol:
        bad.append(f"{what}: {got} != {want}")


def targets(subject):
    organ, out = {}, {}
    for a in subject["assessments"]:
        for t in a.get("target", []):
            organ.setdefault(t["lesion_id"], t.get("organ"))
            if isinstance(t.get("diameter_mm"), (int, float)):
                out[(t["lesion_id"], a["timepoint"])] = t["diameter_mm"]
    return organ, out


by1 = {s["subject_id"]: s for s in r1}
by2 = {s["subject_id"]: s for s in r2}
diffs, rel, lesions, subjects = [], [], set(), set()
for sid in sorted(set(by1) & set(by2)):
    o1, t1 = targets(by1[sid])
    o2, t2 = targets(by2[sid])
    for (lid, tp), a in t1.items():
        if (lid, tp) in t2 and o1.get(lid) == o2.get(lid):
            b = t2[(lid, tp)]
            diffs.append(a - b)
            if a + b > 0:
                rel.append(abs(a - b) / ((a + b) / 2) * 100)
            lesions.add((sid, lid))
            subjects.add(sid)
n = len(diffs)
mean = sum(diffs) / n
sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
lv = qc["lesion_variability"]["overall"]
assert lv["n"] == n and lv["lesions"] == len(lesions) and lv["subjects"] == len(subjects), (lv, n)
close("mean_difference_mm", lv["mean_difference_mm"], mean)
close("sd_mm", lv["sd_mm"], sd)
close("loa_lower_mm", lv["loa_lower_mm"], mean - 1.96 * sd)
close("loa_upper_mm", lv["loa_upper_mm"], mean + 1.96 * sd)
close("mean_abs_relative_difference_pct", lv["mean_abs_relative_difference_pct"], sum(rel) / len(rel))
pair = qc["lesion_variability"]["by_pair"]
assert len(pair) == 1 and pair[0]["n"] == n, pair

complete = sorted(set(by1) & set(by2))
triggered = {d["subject_id"] for d in conc["discordant"]}
adj = qc["adjudication"]
assert adj["overall"]["complete"] == len(complete), adj["overall"]
assert adj["overall"]["triggered"] == len(triggered), (adj["overall"], triggered)
close("overall rate", adj["overall"]["rate"], len(triggered) / len(complete))
sites = {}
for sid in complete:
    s = sites.setdefault(site_of[sid], [0, 0])
    s[0] += 1
    s[1] += sid in triggered
got = {r["site_id"]: [r["complete"], r["triggered"]] for r in adj["by_site"]}
assert got == sites, (got, sites)
assert [(p["r1"], p["r2"], p["complete"], p["triggered"]) for p in adj["by_pair"]] == \
    [("c1", "c2", len(complete), len(triggered))], adj["by_pair"]
if bad:
    sys.exit("reader QC differs:\n  " + "\n  ".join(bad))
print(f"reader QC: {n} lesion pairs, {len(triggered)}/{len(complete)} triggered: as computed directly")
