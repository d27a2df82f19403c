"""Checks `recistry concordance --unrounded` against computations nobody here wrote, on the engine's own
per-subject results of the same two reads (`recistry recist`):

  check_stats.py FIRST_RESULTS.json SECOND_RESULTS.json CONCORDANCE_UNROUNDED.json CONCORDANCE.json TOL

- every confusion table (per timepoint label, pooled, BOR): the counts; percent agreement; Cohen's kappa
  against sklearn.metrics.cohen_kappa_score on the paired labels; its SE and 95 % CI against
  statsmodels.stats.inter_rater.cohens_kappa (std_kappa, kappa_low, kappa_upp) on the same table;
- Bland–Altman of SOD and of the % change of SOD from baseline: bias, SD, limits, their CIs (Bland & Altman
  1999, t from scipy) and every plot point, against numpy on the pairs rebuilt here from the sums;
- pairing, progression agreement, EDR/LDR (Amit et al. 2011) and the discordant list, recounted here;
- the default (rounded) report: the same keys, each value the unrounded one rounded as documented.
Prints what it checked; exits 1 on the first class of mismatch with every mismatch listed."""
import datetime
import json
import math
import sys

import numpy as np
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa

first_path, second_path, unrounded_path, rounded_path, tol = sys.argv[1:6]
tol = float(tol)
load = lambda p: json.load(open(p))
first = {r["subject_id"]: r for r in load(first_path)}
second = {r["subject_id"]: r for r in load(second_path)}
c, cr = load(unrounded_path), load(rounded_path)
errors = []


def close(what, got, want):
    if got is None or want is None or not math.isfinite(want):
        if got != want and not (got is None and want is not None and not math.isfinite(want)):
            errors.append("%s: %r, expected %r" % (what, got, want))
    elif abs(got - want) > tol:
        errors.append("%s: %.17g, expected %.17g (|diff| %.3g)" % (what, got, want, abs(got - want)))


def equal(what, got, want):
    if got != want:
        errors.append("%s: %r, expected %r" % (what, got, want))


cats = c["best_overall_response_agreement"]["categories"]
ids = sorted(set(first) & set(second))
equal("subjects", c["subjects"], len(ids))
equal("unpaired", c["unpaired"], {"first_only": sorted(set(first) - set(second)),
                                  "second_only": sorted(set(second) - set(first))})

# --- confusion tables -------------------------------------------------------------------------------------
pairs = {"pooled": ([], []), "bor": ([], [])}
labels_in_order, label_days = [], {}
day = lambda iso: datetime.date.fromisoformat(iso).toordinal()
for sid in ids:
    a, b = first[sid], second[sid]
    pairs["bor"][0].append(a["best_overall_response"])
    pairs["bor"][1].append(b["best_overall_response"])
    tb = {t["timepoint"]: t for t in b["timepoints"]}
    for ta in a["timepoints"]:
        t2 = tb.get(ta["timepoint"])
        if t2 is None or ta["overall_response"] is None or t2["overall_response"] is None:
            continue
        for key in ("pooled", ta["timepoint"]):
            if key not in pairs:
                pairs[key] = ([], [])
                labels_in_order.append(key)
                label_days[key] = []
            pairs[key][0].append(ta["overall_response"])
            pairs[key][1].append(t2["overall_response"])
        label_days[ta["timepoint"]].append(day(ta["date"]) - day(a["timepoints"][0]["date"]))
equal("timepoints", c["timepoints"], len(pairs["pooled"][0]))
# Schedule order: by mean days from the first read's baseline, ties in the order met (sorted is stable).
labels_in_order = [k for k in labels_in_order if k != "pooled"]
labels_in_order.sort(key=lambda k: np.mean(label_days[k]))
tables = {"pooled": c["overall_response_agreement"], "bor": c["best_overall_response_agreement"]}
equal("timepoint labels", [t["timepoint"] for t in c["timepoint_agreement"]], labels_in_order)
for t in c["timepoint_agreement"]:
    tables[t["timepoint"]] = t
n_tables = 0
for key, (y1, y2) in pairs.items():
    t = tables[key]
    m = np.zeros((len(cats), len(cats)), dtype=int)
    for u, v in zip(y1, y2):
        m[cats.index(u), cats.index(v)] += 1
    equal(key + " matrix", t["matrix"], m.tolist())
    equal(key + " n", t["n"], len(y1))
    close(key + " agreement_pct", t["agreement_pct"], 100.0 * np.trace(m) / m.sum())
    if len(set(y1) | set(y2)) < 2:  # chance agreement 1: kappa undefined
        equal(key + " kappa (undefined)", [t["kappa"], t["kappa_se"], t["kappa_ci95"]], [None, None, None])
        continue
    close(key + " kappa vs sklearn", t["kappa"], cohen_kappa_score(y1, y2))
    res = cohens_kappa(m)
    close(key + " kappa vs statsmodels", t["kappa"], res.kappa)
    close(key + " kappa_se vs statsmodels std_kappa", t["kappa_se"], res.std_kappa)
    close(key + " kappa_ci95[0] vs statsmodels kappa_low", t["kappa_ci95"][0], res.kappa_low)
    close(key + " kappa_ci95[1] vs statsmodels kappa_upp", t["kappa_ci95"][1], res.kappa_upp)
    n_tables += 1

# --- Bland–Altman -----------------------------------------------------------------------------------------
points = {"mm": [], "pct": []}
for sid in ids:
    a, b = first[sid], second[sid]
    tb = {t["timepoint"]: t for t in b["timepoints"]}
    bl_a, bl_b = a["timepoints"][0]["sum_mm"], b["timepoints"][0]["sum_mm"]
    for i, ta in enumerate(a["timepoints"]):
        t2 = tb.get(ta["timepoint"])
        if t2 is None:
            continue
        if ta["sum_mm"] is not None and t2["sum_mm"] is not None:
            points["mm"].append((sid, ta["timepoint"], ta["sum_mm"], t2["sum_mm"]))
        # % change recomputed from the sums; the engine's (rounded) value only says whether it is defined.
        if i > 0 and t2 is not b["timepoints"][0] and ta["change_from_baseline_pct"] is not None \
                and t2["change_from_baseline_pct"] is not None:
            points["pct"].append((sid, ta["timepoint"], 100.0 * (ta["sum_mm"] - bl_a) / bl_a,
                                  100.0 * (t2["sum_mm"] - bl_b) / bl_b))
for unit, key in (("mm", "bland_altman_sum_mm"), ("pct", "bland_altman_change_pct")):
    ba, pts = c[key], points[unit]
    x1 = np.array([p[2] for p in pts])
    x2 = np.array([p[3] for p in pts])
    d = x1 - x2
    n = len(d)
    equal(key + " n", ba["n"], n)
    equal(key + " points (subject, timepoint)", [(p["subject_id"], p["timepoint"]) for p in ba["points"]],
          [(p[0], p[1]) for p in pts])
    if len(ba["points"]) == n:
        for p, q, m_, dd in zip(ba["points"], pts, (x1 + x2) / 2, d):
            w = "%s %s %s" % (key, q[0], q[1])
            close(w + " first", p["first"], q[2])
            close(w + " second", p["second"], q[3])
            close(w + " mean", p["mean"], m_)
            close(w + " diff", p["diff"], dd)
    bias, sd = d.mean(), d.std(ddof=1)
    t = stats.t.ppf(0.975, n - 1)
    se_bias, se_loa = sd / math.sqrt(n), sd * math.sqrt(1 / n + 1.96 ** 2 / (2 * (n - 1)))
    want = {"mean_diff": bias, "sd": sd, "loa_lower": bias - 1.96 * sd, "loa_upper": bias + 1.96 * sd}
    for k, v in want.items():
        close("%s %s_%s" % (key, k, unit), ba["%s_%s" % (k, unit)], v)
    for k, centre, se in (("mean_diff", bias, se_bias), ("loa_lower", want["loa_lower"], se_loa),
                          ("loa_upper", want["loa_upper"], se_loa)):
        got = ba["%s_ci95_%s" % (k, unit)]
        close("%s %s_ci95_%s[0]" % (key, k, unit), got[0], centre - t * se)
        close("%s %s_ci95_%s[1]" % (key, k, unit), got[1], centre + t * se)

# --- progression, EDR/LDR (Amit et al. 2011), discordant subjects -------------------------------------------
prog = {"both_pd": 0, "first_only_pd": 0, "second_only_pd": 0, "neither_pd": 0, "same_timepoint": 0}
early = late = inv_only = cen_only = inv_pd = 0
discordant = []
for sid in ids:
    pa, pb = first[sid]["progression"], second[sid]["progression"]
    if pa and pb:
        prog["both_pd"] += 1
        prog["same_timepoint"] += pa["timepoint"] == pb["timepoint"]
        early += pa["date"] < pb["date"]
        late += pa["date"] > pb["date"]
    elif pa:
        prog["first_only_pd"] += 1
        inv_only += 1
    elif pb:
        prog["second_only_pd"] += 1
        cen_only += 1
    else:
        prog["neither_pd"] += 1
    inv_pd += pa is not None
    reasons = []
    if first[sid]["best_overall_response"] != second[sid]["best_overall_response"]:
        reasons.append("bor_differs")
    if (pa is None) != (pb is None) or (pa and pa["timepoint"] != pb["timepoint"]):
        reasons.append("pd_timepoint_differs")
    if reasons:
        discordant.append([sid, reasons])
equal("progression", c["progression"], prog)
disc = early + late + inv_only + cen_only
dr = c["discrepancy_rates"]
equal("discrepancy counts", [dr[k] for k in ("investigator_pd", "investigator_earlier", "investigator_later",
                                             "investigator_pd_only", "central_pd_only", "pd_discrepancies")],
      [inv_pd, early, late, inv_only, cen_only, disc])
close("edr", dr["edr"], (early + inv_only) / inv_pd if inv_pd else None)
close("ldr", dr["ldr"], (late + cen_only) / disc if disc else None)
equal("discordant", [[x["subject_id"], x["reasons"]] for x in c["discordant"]], discordant)

# --- the default report: same keys, values rounded as documented -------------------------------------------
def rounded(x, decimals):
    if x is None:
        return None
    r = math.floor(abs(x) * 10 ** decimals + 0.5) / 10 ** decimals  # half away from zero
    return math.copysign(r, x) if r else 0.0


def compare_rounded(path, u, r, decimals):
    if isinstance(u, dict):
        equal(path + " keys", sorted(r), sorted(u))
        for k in u:
            if k in r:
                compare_rounded(path + "." + k, u[k], r[k], decimals_of(k, decimals))
    elif isinstance(u, list):
        equal(path + " length", len(r), len(u))
        for i, (a, b) in enumerate(zip(u, r)):
            compare_rounded("%s[%d]" % (path, i), a, b, decimals)
    elif isinstance(u, float) and decimals is not None:
        # At a printed half (11.25 from 26.7 vs 24 mm) the binary value may lie on either side: both do.
        half = abs(abs(u) * 10 ** decimals % 1 - 0.5) < 1e-6
        ok = r is not None and (abs(r - rounded(u, decimals)) <= 1e-9 or
                                (half and abs(r - rounded(u, decimals)) <= 10 ** -decimals + 1e-9))
        if not ok:
            errors.append("rounded %s: %r, expected %r (of %r)" % (path, r, rounded(u, decimals), u))
    elif not isinstance(u, float):
        equal("rounded " + path, r, u)


def decimals_of(key, inherited):
    if key in ("kappa", "kappa_se", "kappa_ci95", "edr", "ldr"):
        return 3
    if key == "agreement_pct":
        return 1
    if key in ("first", "second"):
        return inherited  # set per analysis below
    if key.endswith("_mm") or key.endswith("_pct") or key in ("mean", "diff"):
        return 2
    return inherited


for key in list(c):
    if key in ("bland_altman_sum_mm", "bland_altman_change_pct"):
        u, r = dict(c[key]), dict(cr[key])
        up, rp = u.pop("points"), r.pop("points")
        compare_rounded(key, u, r, None)
        equal(key + " points length", len(rp), len(up))
        for i, (a, b) in enumerate(zip(up, rp)):
            for k in ("mean", "diff"):
                compare_rounded("%s.points[%d].%s" % (key, i, k), a[k], b[k], 2)
            for k in ("first", "second"):  # as the engine prints a subject: mm as computed, % to 1 decimal
                compare_rounded("%s.points[%d].%s" % (key, i, k), a[k], b[k], 1 if key.endswith("pct") else 15)
    else:
        compare_rounded(key, c[key], cr.get(key), None)

if errors:
    print("%d mismatch(es):" % len(errors), file=sys.stderr)
    for e in errors[:40]:
        print("  " + e, file=sys.stderr)
    sys.exit(1)
print("ok: %d subjects, %d kappa tables (sklearn, statsmodels), Bland-Altman SOD n=%d and %% change n=%d "
      "(numpy, scipy), progression/EDR/LDR/discordant, rounded report; tolerance %g"
      % (len(ids), n_tables, len(points["mm"]), len(points["pct"]), tol))
