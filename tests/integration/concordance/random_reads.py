"""Two random reads of the same cohort in the engine's JSON input format (shared/spec/recist-engine.md), for
tests/integration/concordance_python.sh. Seeded: the same seed gives the same files.

  random_reads.py SEED N_SUBJECTS FIRST.json SECOND.json

The first read is a "site" read of a random tumour course; the second re-measures every lesion with
reader noise, sometimes misses or invents a new lesion, calls a non-target differently, marks a target not
evaluable or skips the last follow-up. A few subjects are in one read only. Subjects without targets (sums
null) and incomplete sums are included so that every branch of the pairing is taken."""
import datetime
import json
import random
import sys

seed, n, out_first, out_second = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
rng = random.Random(seed)
day0 = datetime.date(2020, 1, 6)


def iso(d):
    return (day0 + datetime.timedelta(days=d)).isoformat()


def subject(i):
    sid = "R%04d" % i
    targets = []
    if rng.random() > 0.08:  # 8 % without target lesions: Table 2, sums null
        organs = ["liver", "liver", "lung", "lung", "lymph node", "lymph node", "adrenal"]
        rng.shuffle(organs)
        for k, organ in enumerate(organs[: rng.randint(1, 4)]):
            nodal = organ == "lymph node"
            size = round(rng.uniform(15, 40) if nodal else rng.uniform(10, 90), 1)
            targets.append({"lesion_id": "T%d" % (k + 1), "organ": organ, "nodal": nodal, "diameter_mm": size})
    non_targets = [{"lesion_id": "NT%d" % (k + 1), "organ": o, "state": "present"}
                   for k, o in enumerate(rng.sample(["peritoneum", "bone", "pleura"], rng.randint(0 if targets else 1, 2)))]
    n_fu = rng.randint(1, 6)
    days = [0]
    for _ in range(n_fu):
        days.append(days[-1] + rng.choice([35, 42, 49, 56, 63, 84]))
    # One tumour course for both reads: a log-size random walk, shrinking on average early on.
    course, f = [1.0], 1.0
    drift = rng.uniform(-0.25, 0.15)
    for _ in range(n_fu):
        f *= max(0.0, 1.0 + drift + rng.gauss(0, 0.12))
        course.append(f)
    new_at = rng.randint(1, n_fu) if rng.random() < 0.25 else None
    # Labels follow the protocol schedule: a missed visit leaves a gap (FU1 missed: BL, FU2, FU3...). The
    # first subject always misses FU1, so the lowest id does not show every label in schedule order.
    skip = 1 if i == 1 or rng.random() < 0.05 else 0
    return sid, targets, non_targets, days, course, new_at, skip


def baseline_mm(t, noise):
    # Re-measured, but still measurable (RECIST: >= 10 mm, nodes >= 15 mm short axis), or the engine refuses it.
    return max(15.0 if t["nodal"] else 10.0, round(t["diameter_mm"] * (1 + noise), 1))


def read(sid, targets, non_targets, days, course, new_at, skip, second):
    noise = (lambda: rng.gauss(0, 0.07)) if second else (lambda: rng.gauss(0, 0.03))
    n_visits = len(days)
    if second and n_visits > 2 and rng.random() < 0.05:
        n_visits -= 1  # the second reader did not read the last scan
    assessments = [{"timepoint": "BL", "date": iso(0),
                    "target": [dict(t, diameter_mm=baseline_mm(t, noise() if second else 0.0)) for t in targets],
                    "non_target": [dict(x) for x in non_targets], "new_lesions": []}]
    for v in range(1, n_visits):
        tg = []
        for t in targets:
            size = t["diameter_mm"] * course[v] * (1 + noise())
            r = rng.random()
            if r < 0.03:
                tg.append({"lesion_id": t["lesion_id"], "state": "not_evaluable"})
            elif size < 4 and not t["nodal"]:
                tg.append({"lesion_id": t["lesion_id"], "state": "disappeared" if r < 0.5 else "too_small"})
            else:
                tg.append({"lesion_id": t["lesion_id"], "diameter_mm": round(max(size, 0.0), 1)})
        nt = []
        for x in non_targets:
            r = rng.random()
            state = ("unequivocal_progression" if r < 0.03 else "not_evaluable" if r < 0.05
                     else "absent" if r < 0.10 else "present")
            nt.append({"lesion_id": x["lesion_id"], "state": state})
        new = []
        seen = new_at is not None and v >= new_at
        if (seen and rng.random() < 0.85) or rng.random() < 0.02:
            new.append({"lesion_id": "N1", "organ": "liver", "state": "unequivocal" if rng.random() < 0.9 else "equivocal"})
        assessments.append({"timepoint": "FU%d" % (v + skip), "date": iso(days[v] + 42 * skip), "target": tg, "non_target": nt,
                            "new_lesions": new})
    return {"subject_id": sid, "assessments": assessments}


first, second = [], []
for i in range(1, n + 1):
    s = subject(i)
    only = rng.random()
    if only >= 0.02:
        second.append(read(*s, second=True))
    if only < 0.02 or only >= 0.04:
        first.append(read(*s, second=False))
rng.shuffle(second)  # pairing must not depend on order
for path, reads in ((out_first, first), (out_second, second)):
    with open(path, "w") as f:
        json.dump(reads, f)
