#!/usr/bin/env python3
"""Matches recistry's endpoints JSON with R's "key<TAB>value" lines (endpoints_check.R) to an absolute
tolerance; checks recistry's own survival times against the generator's survival.csv through R's results
(R computes on the generator's survival.csv and dpr.csv). Also writes the counts R needs from the JSON:
  compare.py prepare ENDPOINTS.json OUTDIR [ENDPOINTS.json OUTDIR]...  -> OUTDIR/rates.csv (counts for binom.test)
  compare.py compare ENDPOINTS.json R.tsv TOL [ENDPOINTS.json R.tsv TOL]... -> exit 1 on any mismatch; prints max diff
(several cohorts in one python: each start costs a few tenths of a second of CPU on a loaded machine)"""
import csv, json, math, sys

def prepare(ep, outdir):
    doc = json.load(open(ep))
    with open(outdir + "/rates.csv", "w", newline="") as fh:
        w = csv.writer(fh); w.writerow(["group", "rate", "count", "n"])
        for g in doc["groups"]:
            for r in ("orr", "dcr", "ets20", "ets30"):
                w.writerow([g["group"], r, g[r]["count"], g[r]["n"]])

def flatten(doc):
    v = {}
    for g in doc["groups"]:
        name = g["group"]
        for e in ("os", "pfs", "hpfs"):
            k, km = name + "/" + e, g[e]
            v[k + "/n"], v[k + "/events"] = km["n"], km["events"]
            for i, p in enumerate(km["curve"]):
                for f in ("t", "n_risk", "n_event", "n_censor", "surv", "std_err"):
                    v["%s/curve/%d/%s" % (k, i, f)] = p[f]
                v["%s/curve/%d/lower" % (k, i)], v["%s/curve/%d/upper" % (k, i)] = p["ci95"]
            v[k + "/median"] = km["median_days"]
            v[k + "/median_lower"], v[k + "/median_upper"] = km["median_ci95_days"]
            for j, m in enumerate(km["landmarks"]):
                v["%s/landmark/%d/surv" % (k, j)] = m["surv"]
                v["%s/landmark/%d/lower" % (k, j)], v["%s/landmark/%d/upper" % (k, j)] = m["ci95"]
                v["%s/landmark/%d/n_risk" % (k, j)] = m["n_risk"]
        d = g["dpr"]
        v[name + "/dpr/median"], v[name + "/dpr/q1"], v[name + "/dpr/q3"] = d["median_pct"], d["q1_pct"], d["q3_pct"]
        v[name + "/ttn/median"], v[name + "/ttn/q1"], v[name + "/ttn/q3"] = (
            d["time_to_nadir_median_days"], d["time_to_nadir_q1_days"], d["time_to_nadir_q3_days"])
        for r in ("orr", "dcr", "ets20", "ets30"):
            v["%s/%s/lower" % (name, r)], v["%s/%s/upper" % (name, r)] = g[r]["ci95_pct"]
    for e, t in doc.get("logrank", {}).items():
        for f in ("chisq", "df", "p"): v["logrank/%s/%s" % (e, f)] = t[f]
    return v

def compare(ep, rtsv, tol):
    ours = flatten(json.load(open(ep)))
    n, bad, worst = 0, 0, 0.0
    for line in open(rtsv):
        key, val = line.rstrip("\n").split("\t")
        n += 1
        if key not in ours:
            print("missing in recistry: %s (R %s)" % (key, val)); bad += 1; continue
        o = ours[key]
        if val in ("NA", "Inf"):  # R's NA (and the Inf std.err at S = 0) are null in the JSON
            if o is not None: print("%s: R %s, recistry %r" % (key, val, o)); bad += 1
            continue
        r = float(val)
        if o is None or not math.isfinite(float(o)):
            print("%s: R %r, recistry %r" % (key, r, o)); bad += 1; continue
        diff = abs(float(o) - r)
        worst = max(worst, diff)
        if diff > tol: print("%s: R %.17g, recistry %.17g (diff %.3g)" % (key, r, float(o), diff)); bad += 1
    curve_keys = sum(1 for k in ours if "/curve/" in k)
    r_curve = sum(1 for line in open(rtsv) if "/curve/" in line)
    if curve_keys != r_curve:
        print("curve rows differ: recistry %d values, R %d" % (curve_keys, r_curve)); bad += 1
    print("compared %d values with R: max abs difference %.3g, %d mismatches" % (n, worst, bad))
    return 1 if bad else 0

a = sys.argv[2:]
if sys.argv[1] == "prepare":
    for i in range(0, len(a), 2): prepare(a[i], a[i + 1])
else:
    bad = 0
    for i in range(0, len(a), 3):
        if len(a) > 3: print("%s:" % a[i])
        bad |= compare(a[i], a[i + 1], float(a[i + 2]))
    sys.exit(bad)
