"""`recistry dose` against the TARE phantoms' analytic truth (tests/integration/dose_tare_truth.sh).

For one subject of `recistry sample --tare` (docs/sample.md "TARE phantoms"): runs `recistry dose` on the Y90
study's PET + CT with the label maps, and the MAA study's SPECT + CT with its own label maps, and compares with
DIR/tare/<subject>.json:
  - always: the decay factor (the truth's value_to_admin_factor), every VOI's mass (the CT's noise averages out:
    0.2 %), the MIRD and lung doses and the predicted (MAA, planned activity) MIRD and lung doses (0.3 %: masses);
  - "accuracy" (PET on the CT grid, no blur): each VOI's mean dose = the truth's energy / mass dose
    (ldm_energy_over_mass_gy, what dose/ calls mean_gy) within 0.5 %, its activity within 0.5 %, the MAA TNR within
    1 % of the truth's, the activity in the field of view = the injected activity within 0.5 %;
  - blurred subjects: the activity in the field of view within 1 %, every tumour's mean dose below the truth
    (partial volume) but above half of it.
Usage: dose_tare_truth.py RECISTRY DIR SUBJECT
"""
import json
import subprocess
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def close(a, b, rel):
    return abs(a - b) <= rel * max(abs(b), 1e-30)


def main():
    recistry, root, sid = sys.argv[1:4]
    t = json.load(open("%s/tare/%s.json" % (root, sid)))
    s = "%s/S014/%s" % (root, sid)
    args = [recistry, "dose", "--pet", s + "/Y90", "--ct", s + "/Y90", "--maa", s + "/MAA", "--maa-ct", s + "/MAA",
            "--planned-gbq", repr(t["maa"]["planned_activity_gbq"]),
            "--lsf", repr(t["treatment"]["lung_shunt_fraction"]), "--no-flags", "--json"]
    for study, flag in (("Y90", "--voi"), ("MAA", "--maa-voi")):
        for name, rel in sorted(t["studies"][study]["voi_files"].items()):
            args += [flag, "%s=%s/%s" % (name, root, rel)]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        fail("%s: recistry dose failed (%d): %s" % (sid, p.returncode, p.stderr.strip()))
        return
    d = json.loads(p.stdout)
    y90 = t["studies"]["Y90"]
    truth = {v["name"]: v for v in y90["vois"]}
    truth["perfused_normal_liver"] = truth["perfused_normal"]
    accuracy = t["kind"] == "accuracy"
    want_f = y90["pet"]["value_to_admin_factor"]
    print("%s (%s, %s): decay factor %.6f, truth %.6f; activity in the FOV %.4f GBq, injected %.4f" % (
        sid, t["kind"], y90["pet"]["decay_correction"], d["decay_factor"], want_f, d["activity_in_fov_gbq"],
        t["treatment"]["injected_activity_gbq"]))
    if not close(d["decay_factor"], want_f, 1e-4):
        fail("%s: decay factor %s, truth %s" % (sid, d["decay_factor"], want_f))
    if not close(d["activity_in_fov_gbq"], t["treatment"]["injected_activity_gbq"], 0.005 if accuracy else 0.01):
        fail("%s: activity in the FOV %s GBq, injected %s" % (sid, d["activity_in_fov_gbq"],
                                                          t["treatment"]["injected_activity_gbq"]))
    seen = 0
    for c in d["compartments"]:
        w = truth.get(c["name"])
        if w is None:
            continue
        seen += 1
        rel = c["mean_gy"] / w["ldm_energy_over_mass_gy"] - 1
        print("  %-22s mean %8.2f Gy  truth %8.2f  (%+6.2f %%)   mass %8.1f g  truth %8.1f" % (
            c["name"], c["mean_gy"], w["ldm_energy_over_mass_gy"], 100 * rel, c["mass_g"], w["mass_g"]))
        if not close(c["mass_g"], w["mass_g"], 0.002):
            fail("%s %s: mass %.2f g, truth %.2f" % (sid, c["name"], c["mass_g"], w["mass_g"]))
        if accuracy:
            if abs(rel) > 0.005:
                fail("%s %s: mean dose %.3f Gy, truth %.3f" % (sid, c["name"], c["mean_gy"],
                                                                 w["ldm_energy_over_mass_gy"]))
            if not close(c["activity_gbq"], w["activity_gbq"], 0.005):
                fail("%s %s: activity %.5f GBq, truth %.5f" % (sid, c["name"], c["activity_gbq"], w["activity_gbq"]))
        elif w["kind"] == "tumour" and not 0.5 < 1 + rel < 1.0:
            fail("%s %s: mean dose / truth %.3f, expected partial volume in (0.5, 1)" % (sid, c["name"], 1 + rel))
    if seen < len(y90["voi_files"]):
        fail("%s: dose reported %d of the %d VOIs" % (sid, seen, len(y90["voi_files"])))
    m, tm = d["models"], t["models"]["y90"]
    pm, tp = d["predicted"]["models"], t["models"]["maa_planned"]
    for got, want, what in ((m["mird_liver_gy"], tm["mird_liver_gy"], "MIRD"), (m["lung_gy"], tm["lung_gy"], "lung"),
                            (pm["mird_liver_gy"], tp["mird_liver_gy"], "predicted MIRD"),
                            (pm["lung_gy"], tp["lung_gy"], "predicted lung")):
        print("  %-15s %8.2f Gy  truth %8.2f" % (what, got, want))
        if not close(got, want, 0.003):
            fail("%s: %s dose %.3f Gy, truth %.3f" % (sid, what, got, want))
    print("  MAA TNR measured %.3f, truth %.3f" % (m["tnr"], t["maa"]["tnr"]))
    if accuracy and not close(m["tnr"], t["maa"]["tnr"], 0.01):
        fail("%s: MAA TNR %.4f, truth %.4f" % (sid, m["tnr"], t["maa"]["tnr"]))


if __name__ == "__main__":
    main()
    if failures:
        print("%d failure(s)" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("dose against the TARE truth (%s): ok" % sys.argv[3])
