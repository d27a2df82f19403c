"""Checks `recistry dose-response --json` against tools nobody here wrote (tests/integration/dose_response.sh).

Reads the cohort tables itself (csv module) and rebuilds every analysis' input by the definitions of
docs/dosimetry.md "Cohort analyses", then compares:
  Mann-Whitney          scipy.stats.mannwhitneyu(pos, neg, method='auto')          1e-6 relative
  logistic model        R glm(y ~ dose, family = binomial): coefficients, Wald SEs 1e-6 relative
                        sklearn LogisticRegression(penalty=None)                    1e-3 (an iterative solver)
  ROC, AUC, Youden      sklearn.metrics.roc_curve(drop_intermediate=False), roc_auc_score
  Spearman              scipy.stats.spearmanr
  Bland-Altman, Lin CCC numpy, the published formulas (Bland & Altman 1986; Lin 1989 with its Fisher-z CI)
  Kaplan-Meier, log-rank R survival: survfit medians and CIs, survdiff chi-square and p
Bootstrap CIs: only sanity (they contain the estimate's neighbourhood, low <= high). Then the model the
generator drew from must be recovered roughly (wide bounds: a sanity check, not a precision one).
usage: dose_response_check.py COHORT_DIR RESULT.json WORK_DIR [--no-model] [COHORT_DIR RESULT.json WORK_DIR [--no-model]]...
(--no-model: a small cohort, where the model cannot be recovered and some analyses may rightly be refused:
then each refusal must be justified by the data — too few, one outcome only, separation.)
"""
import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

try:
    import statsmodels.api as sm
except ImportError:
    sm = None
failures = []
checked = 0

def close(what, got, want, rel=1e-6, absolute=1e-12):
    global checked
    checked += 1
    if got is None or want is None or (isinstance(want, float) and math.isnan(want)):
        if not (got is None and (want is None or math.isnan(want))):
            failures.append(f"{what}: got {got}, want {want}")
        return
    # relative, so that tiny p-values (1e-15) are held to the same 1e-6; an absolute floor only around 0
    if abs(got - want) > (rel * abs(want) if want != 0 else absolute):
        failures.append(f"{what}: got {got!r}, want {want!r} (rel diff {abs(got - want) / max(abs(want), 1e-300):.3g})")



def run(cohort, result_path, work, check_model):
    global checked
    res = json.load(open(result_path))


    def read(name):
        path = os.path.join(cohort, name)
        with open(path, newline="") as f:
            return list(csv.DictReader(f))


    patients = read("patients.csv")
    tumours = read("tumours.csv")
    toxicity = read("toxicity.csv")
    pairs = read("concordance.csv")
    pidx = {p["subject"]: i for i, p in enumerate(patients)}
    max_grade = [0] * len(patients)
    for t in toxicity:
        i = pidx[t["subject"]]
        max_grade[i] = max(max_grade[i], int(t["grade"]))

    # the analyses' inputs, rebuilt
    inputs = {}
    tx, ty = [], []
    for t in tumours:
        if t["pct_change_3m"] == "":
            continue
        tx.append(float(t["mean_gy"]))
        ty.append(1 if float(t["pct_change_3m"]) <= -30 else 0)
    inputs["per_tumour"] = (np.array(tx), np.array(ty))
    px, py = [], []
    for p in patients:
        if p["response_3m"] == "NE":
            continue
        px.append(float(p["tumour_mean_gy"]))
        py.append(1 if p["response_3m"] in ("CR", "PR") else 0)
    inputs["per_patient"] = (np.array(px), np.array(py))
    nl = np.array([float(p["normal_liver_mean_gy"]) for p in patients])
    inputs["grade_ge3"] = (nl, np.array([1 if g >= 3 else 0 for g in max_grade]))
    inputs["grade_ge2"] = (nl, np.array([1 if g >= 2 else 0 for g in max_grade]))

    blocks = {
        "per_tumour": res["dose_response"]["per_tumour"],
        "per_patient": res["dose_response"]["per_patient"],
        "grade_ge3": res["dose_toxicity"]["grade_ge3"],
        "grade_ge2": res["dose_toxicity"]["grade_ge2"],
    }

    r_input = []
    methods_seen = set()
    separations_seen = 0
    for key, b in blocks.items():
        x, y = inputs[key]
        if b["n"] != len(x) or b["n_positive"] != int(y.sum()):
            failures.append(f"{key}: n {b['n']}/{b['n_positive']} positive, python {len(x)}/{int(y.sum())}")
            continue
        pos, neg = x[y == 1], x[y == 0]
        if "error" in b:
            if check_model or not (len(x) < 3 or len(pos) == 0 or len(neg) == 0):
                failures.append(f"{key}: not computed: {b['error']} (n {len(x)}, {len(pos)} positive)")
            else:
                print(f"{key}: rightly refused: {b['error']}")
            continue
        separated = pos.min() >= neg.max() or neg.min() >= pos.max()
        close(f"{key} mean positive", b["mean_gy_positive"], float(pos.mean()))
        close(f"{key} mean negative", b["mean_gy_negative"], float(neg.mean()))
        mw = stats.mannwhitneyu(pos, neg, alternative="two-sided", method="auto")
        close(f"{key} Mann-Whitney U", b["mann_whitney"]["u"], float(mw.statistic))
        close(f"{key} Mann-Whitney p", b["mann_whitney"]["p"], float(mw.pvalue))
        exact = not (len(pos) > 8 and len(neg) > 8) and len(np.unique(x)) == len(x)
        if b["mann_whitney"]["method"] != ("exact" if exact else "asymptotic"):
            failures.append(f"{key}: Mann-Whitney method {b['mann_whitney']['method']}, scipy's auto would be exact={exact}")
        methods_seen.add(b["mann_whitney"]["method"])
        fpr, tpr, thr = roc_curve(y, x, drop_intermediate=False)
        pts = b["roc"]["points"]
        if len(pts) != len(thr):
            failures.append(f"{key} ROC: {len(pts)} points, sklearn {len(thr)}")
        else:
            for i in range(1, len(thr)):  # sklearn's first threshold is max+1 (or inf), ours +inf (null)
                close(f"{key} ROC threshold {i}", pts[i][0], float(thr[i]))
                close(f"{key} ROC fpr {i}", pts[i][1], float(fpr[i]), absolute=1e-12)
                close(f"{key} ROC tpr {i}", pts[i][2], float(tpr[i]), absolute=1e-12)
        close(f"{key} AUC", b["roc"]["auc"], float(roc_auc_score(y, x)))
        j = tpr - fpr
        # the first maximum (the highest threshold); J values equal but for rounding (e.g. 3/4 - 2/4 and
        # 2/4 - 1/4) are a tie, which the documented convention gives to the highest threshold
        k = int(np.nonzero(j >= j.max() - 1e-12)[0][0])
        close(f"{key} Youden J", b["roc"]["youden_j"], float(j[k]))
        close(f"{key} Youden threshold", b["roc"]["youden_threshold_gy"], float(thr[k]))
        if "error" in b["logistic"]:
            if not separated:
                failures.append(f"{key}: logistic refused without separation: {b['logistic']['error']}")
            else:
                print(f"{key}: logistic rightly refused: {b['logistic']['error']}")
                separations_seen += 1
            continue
        if separated:
            failures.append(f"{key}: separated outcome, yet a logistic fit {b['logistic']}")
        if sm is not None:
            fit = sm.Logit(y, sm.add_constant(x)).fit(disp=0, tol=1e-12, maxiter=100)
            close(f"{key} logistic b0 (statsmodels)", b["logistic"]["b0"], float(fit.params[0]))
            close(f"{key} logistic b1 (statsmodels)", b["logistic"]["b1"], float(fit.params[1]))
            close(f"{key} logistic SE b0 (statsmodels)", b["logistic"]["se_b0"], float(fit.bse[0]))
            close(f"{key} logistic SE b1 (statsmodels)", b["logistic"]["se_b1"], float(fit.bse[1]))
            close(f"{key} logistic p b1 (statsmodels)", b["logistic"]["p_b1"], float(fit.pvalues[1]))
        # sklearn without penalty: an iterative solver, so a looser bound; R's glm below is the exact reference
        lr = LogisticRegression(penalty=None, tol=1e-12, max_iter=100000).fit(x.reshape(-1, 1), y)
        close(f"{key} logistic b1 (sklearn)", b["logistic"]["b1"], float(lr.coef_[0][0]), rel=1e-3)
        close(f"{key} logistic b0 (sklearn)", b["logistic"]["b0"], float(lr.intercept_[0]), rel=1e-3)
        path = os.path.join(work, f"{key}.csv")
        np.savetxt(path, np.column_stack([x, y]), delimiter=",", header="dose,y", comments="", fmt="%.17g")
        r_input.append((key, path))
        bs = b.get("bootstrap")
        if bs is None or "error" in bs:
            failures.append(f"{key}: no bootstrap: {bs}")
        else:
            lo, hi = bs["auc_ci95"]
            if not (bs["valid"] > (0.9 if check_model else 0.5) * bs["replicates"] and lo <= b["roc"]["auc"] + 0.05 and hi >= b["roc"]["auc"] - 0.05
                    and lo <= hi and 0 <= lo and hi <= 1):
                failures.append(f"{key}: bootstrap AUC CI {bs['auc_ci95']} around {b['roc']['auc']} ({bs['valid']} valid)")
            dlo, dhi = bs["diff_mean_ci95_gy"]
            if not (dlo <= b["diff_mean_gy"] <= dhi):
                failures.append(f"{key}: bootstrap difference CI {bs['diff_mean_ci95_gy']} excludes {b['diff_mean_gy']}")
            tlo, thi = bs["youden_threshold_ci95_gy"]
            if not (tlo <= thi and tlo <= b["roc"]["youden_threshold_gy"] * 1.5 and thi >= b["roc"]["youden_threshold_gy"] / 1.5):
                failures.append(f"{key}: bootstrap threshold CI {bs['youden_threshold_ci95_gy']}")

    # R: glm for the logistic models
    r_script = os.path.join(work, "glm.R")
    with open(r_script, "w") as f:
        f.write("args <- commandArgs(TRUE)\n"
                "for (p in args) { d <- read.csv(p); m <- glm(y ~ dose, family = binomial, data = d,"
                " control = glm.control(epsilon = 1e-14, maxit = 100)); s <- summary(m)$coefficients;"
                " cat(sprintf('%.17g', c(s[1,1], s[2,1], s[1,2], s[2,2], s[2,4])), '\\n') }\n")
    out = "" if not r_input else subprocess.run(["Rscript", r_script] + [p for _, p in r_input], capture_output=True, text=True, check=True).stdout
    for (key, _), line in zip(r_input, out.strip().split("\n")):
        b0, b1, se0, se1, p1 = map(float, line.split())
        lg = blocks[key]["logistic"]
        close(f"{key} logistic b0 (R glm)", lg["b0"], b0)
        close(f"{key} logistic b1 (R glm)", lg["b1"], b1)
        # summary.glm takes the covariance from the QR of the last IRLS iteration, whose weights are those of the
        # previous coefficients: its SEs are ~1e-7 off the converged information (statsmodels, above, and a
        # Newton step in numpy agree with ours to 1e-9), so the SE and p are held to 1e-5 against R.
        close(f"{key} logistic SE b0 (R glm)", lg["se_b0"], se0, rel=1e-5)
        close(f"{key} logistic SE b1 (R glm)", lg["se_b1"], se1, rel=1e-5)
        close(f"{key} logistic p b1 (R glm)", lg["p_b1"], p1, rel=1e-5)
        close(f"{key} logistic dose50", lg["dose50_gy"], -b0 / b1)

    # Spearman
    sp = stats.spearmanr(nl, max_grade)
    close("Spearman rho", res["dose_toxicity"]["spearman_grade"]["rho"], float(sp.correlation))
    close("Spearman p", res["dose_toxicity"]["spearman_grade"]["p"], float(sp.pvalue))

    # Bland-Altman and Lin's CCC (Lin 1989: 1/n moments; Fisher z CI with his asymptotic variance)
    def lin(x, y):
        n = len(x)
        mx, my = x.mean(), y.mean()
        sx2, sy2 = ((x - mx) ** 2).mean(), ((y - my) ** 2).mean()
        sxy = ((x - mx) * (y - my)).mean()
        pc = 2 * sxy / (sx2 + sy2 + (mx - my) ** 2)
        r = sxy / math.sqrt(sx2 * sy2)
        u = (mx - my) / math.sqrt(math.sqrt(sx2 * sy2))
        var = ((1 - r ** 2) * pc ** 2 / ((1 - pc ** 2) * r ** 2) + 2 * pc ** 3 * (1 - pc) * u ** 2 / (r * (1 - pc ** 2) ** 2)
               - pc ** 4 * u ** 4 / (2 * r ** 2 * (1 - pc ** 2) ** 2)) / (n - 2)
        z, se = math.atanh(pc), math.sqrt(var)
        return pc, math.tanh(z - stats.norm.ppf(0.975) * se), math.tanh(z + stats.norm.ppf(0.975) * se), r


    comps = {}
    for p in pairs:
        comps.setdefault(p["compartment"], []).append((float(p["maa_gy"]), float(p["y90_gy"])))
    got = {c["compartment"]: c for c in res["concordance"]}
    if set(got) != set(comps):
        failures.append(f"concordance compartments {sorted(got)} vs {sorted(comps)}")
    for name, v in comps.items():
        a = np.array(v)
        pre, post = a[:, 0], a[:, 1]
        d = post - pre
        m = (post + pre) / 2
        c = got.get(name, {})
        close(f"{name} bias", c.get("bias_gy"), float(d.mean()))
        close(f"{name} SD", c.get("sd_gy"), float(d.std(ddof=1)))
        close(f"{name} LoA low", c.get("loa95_gy", [None])[0], float(d.mean() - 1.96 * d.std(ddof=1)))
        close(f"{name} LoA high", c.get("loa95_gy", [None, None])[1], float(d.mean() + 1.96 * d.std(ddof=1)))
        dp = 100 * d / m
        close(f"{name} bias %", c.get("bias_pct"), float(dp.mean()))
        close(f"{name} SD %", c.get("sd_pct"), float(dp.std(ddof=1)))
        pc, lo, hi, r = lin(pre, post)
        close(f"{name} CCC", c.get("ccc"), pc)
        close(f"{name} CCC low", c.get("ccc_ci95", [None])[0], lo)
        close(f"{name} CCC high", c.get("ccc_ci95", [None, None])[1], hi)
        close(f"{name} Pearson r", c.get("pearson_r"), float(stats.pearsonr(pre, post)[0]))

    # Kaplan-Meier and log-rank: R survival
    thr = res["ttp"]["threshold_gy"]
    surv = os.path.join(work, "ttp.csv")
    with open(surv, "w") as f:
        f.write("time,event,group\n")
        for p in patients:
            if p["ttp_days"] == "":
                continue
            f.write(f"{p['ttp_days']},{p['progression']},{1 if float(p['tumour_mean_gy']) >= thr else 0}\n")
    r_km = os.path.join(work, "km.R")
    with open(r_km, "w") as f:
        f.write("library(survival)\nd <- read.csv(commandArgs(TRUE)[1])\n"
                "for (g in 0:1) { if (sum(d$group == g) == 0) { cat('NA\\n'); next };"
                " s <- summary(survfit(Surv(time, event) ~ 1, data = d[d$group == g,]))$table;"
                " cat(sprintf('%.17g', c(s['records'], s['events'], s['median'], s['0.95LCL'], s['0.95UCL'])), '\\n') }\n"
                "if (length(unique(d$group)) == 2) { t <- survdiff(Surv(time, event) ~ group, data = d);"
                " cat(sprintf('%.17g', c(t$chisq, pchisq(t$chisq, 1, lower.tail = FALSE), t$obs, t$exp)), '\\n') }\n")
    lines = subprocess.run(["Rscript", r_km, surv], capture_output=True, text=True, check=True).stdout.strip().split("\n")
    groups = res["ttp"]["groups"]
    for g in range(2):
        vals = lines[g].split()
        if len(vals) < 5 or "NA" in vals[:2]:  # an empty group: R has no fit
            if groups[g]["n"] != 0 or "km" in groups[g]:
                failures.append(f"TTP group {g}: R has no curve, ours {groups[g]}")
            continue
        n, ev, med, lo, hi = [math.nan if v == "NA" else float(v) for v in vals]
        close(f"TTP group {g} n", groups[g]["n"], n)
        close(f"TTP group {g} events", groups[g]["events"], ev)
        km = groups[g]["km"]
        close(f"TTP group {g} median", km["median_days"], None if math.isnan(med) else med)
        close(f"TTP group {g} median CI low", km["median_ci95_days"][0], None if math.isnan(lo) else lo)
        close(f"TTP group {g} median CI high", km["median_ci95_days"][1], None if math.isnan(hi) else hi)
    lr = res["ttp"].get("logrank")
    if lr is not None:
        chisq, p, o0, o1, e0, e1 = [float(v) for v in lines[2].split()]
        close("log-rank chi-square", lr["chisq"], chisq)
        close("log-rank p", lr["p"], p)
        close("log-rank expected below", lr["expected"][0], e0)
        close("log-rank expected above", lr["expected"][1], e1)
    elif groups[0]["n"] and groups[1]["n"]:
        failures.append(f"no log-rank with two groups: {res['ttp'].get('error')}")
    print(f"Mann-Whitney methods compared: {sorted(methods_seen)}; logistic separations refused: {separations_seen}")
    if not check_model:
        return

    # The generator's model, recovered roughly (B1 = 0.02 /Gy, 50 % at 200 Gy; TTP hazard lower above 189 Gy;
    # 90Y = MAA x 1.10 for the tumour, x 0.95 for the normal liver).
    t = blocks["per_tumour"]
    if not (0.005 <= t["logistic"]["b1"] <= 0.06):
        failures.append(f"per-tumour b1 {t['logistic']['b1']} far from the model's 0.02 /Gy")
    if not (100 <= t["roc"]["youden_threshold_gy"] <= 320):
        failures.append(f"per-tumour Youden threshold {t['roc']['youden_threshold_gy']} Gy far from the model's 200 Gy")
    if not (120 <= t["logistic"]["dose50_gy"] <= 280):
        failures.append(f"per-tumour dose for 50 % {t['logistic']['dose50_gy']} Gy far from the model's 200 Gy")
    if not (t["mean_gy_positive"] > t["mean_gy_negative"]):
        failures.append("responders' mean tumour dose not above the non-responders'")
    if not (blocks["grade_ge2"]["logistic"]["b1"] > 0 and res["dose_toxicity"]["spearman_grade"]["rho"] > 0):
        failures.append("toxicity does not increase with the normal-liver dose")
    if not (got["tumour"]["bias_pct"] > 2 and got["tumour"]["bias_pct"] < 18):
        failures.append(f"tumour MAA vs 90Y bias {got['tumour']['bias_pct']} % far from the model's +9.5 %")
    if not (got["normal_liver"]["bias_pct"] < 0 and got["normal_liver"]["bias_pct"] > -12):
        failures.append(f"normal-liver MAA vs 90Y bias {got['normal_liver']['bias_pct']} % far from the model's -5 %")
    if not (lr["observed"][1] < lr["expected"][1]):
        failures.append("fewer progressions than expected are not in the high-dose group")

    print(f"per tumour: n {t['n']}, b1 {t['logistic']['b1']:.4f} /Gy, dose50 {t['logistic']['dose50_gy']:.0f} Gy, "
          f"AUC {t['roc']['auc']:.3f} {t['bootstrap']['auc_ci95']}, Youden {t['roc']['youden_threshold_gy']:.0f} Gy "
          f"{t['bootstrap']['youden_threshold_ci95_gy']}")



# arguments: groups of COHORT_DIR RESULT.json WORK_DIR [--no-model], one python start for all (sklearn's import
# is slow on a loaded machine)
args = sys.argv[1:]
while args:
    cohort, result_path, work = args[:3]
    args = args[3:]
    model = not (args and args[0] == "--no-model")
    if not model:
        args = args[1:]
    before_f, before_c = len(failures), checked
    print(f"== {cohort}")
    run(cohort, result_path, work, model)
    print(f"{checked - before_c} numbers compared with scipy, sklearn, statsmodels, R and numpy; "
          f"{len(failures) - before_f} failures")
if failures:
    print("\n".join("FAIL: " + f for f in failures), file=sys.stderr)
    sys.exit(1)
print("OK")
