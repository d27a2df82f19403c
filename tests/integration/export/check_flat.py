#!/usr/bin/python3
"""Checks recistry's flat CSV (export csv --reader all) against the SDTM exports of the same archive: the same
reads, lesions and values, row for TR record; sums equal to the sum of the lesions' contributions; BOR and the
final-read flag as RS has them.

usage: check_flat.py FLAT.csv CENTRAL_SDTM_DIR CENTRAL_STUDY SITE_SDTM_DIR SITE_STUDY"""
import csv
import sys
from collections import defaultdict

flat_path, central_dir, central_study, site_dir, site_study = sys.argv[1:6]
problems = []
COLUMNS = ["subject_id", "site_id", "indication", "liver_only", "treatment_start", "death_date", "last_contact_date",
           "secondary_resection_date", "read_role", "reader", "reader_position", "acceptance", "final_central_read",
           "timepoint", "timepoint_index", "date", "days_from_treatment_start", "modality", "lesion_id",
           "lesion_kind", "organ", "nodal", "diameter_mm", "lesion_state", "merged_into", "sod_contribution_mm",
           "sum_mm", "nadir_mm", "change_from_baseline_pct", "change_from_nadir_pct", "target_response",
           "non_target_response", "new_lesions", "overall_response", "best_overall_response",
           "progression_timepoint", "progression_date", "progression_reasons", "hepatic_progression_timepoint",
           "hepatic_progression_date"]

with open(flat_path, newline="", encoding="utf-8") as f:
    reader = csv.DictReader(f)
    if reader.fieldnames != COLUMNS:
        problems.append(f"columns {reader.fieldnames}")
    flat = list(reader)


def load(d, name):
    with open(f"{d}/{name}", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


SUBJECTS = {r["subject_id"] for r in flat}


def subject_of(usubjid, study):
    """The subject of a USUBJID: the subject itself when its ID already begins with STUDYID-, else
    STUDYID-subject (docs/exports.md)."""
    return usubjid if usubjid in SUBJECTS else usubjid[len(study) + 1:]


def evalid(r):
    if r["read_role"] == "site":
        return ""
    return "ADJUDICATOR" if r["reader_position"] == "ADJ" else "RADIOLOGIST " + r["reader_position"][1:]


sdtm = {"site": (site_dir, site_study), "central": (central_dir, central_study)}
tr_count, tr_value, bor, accepted = defaultdict(int), {}, {}, set()
for side, (d, study) in sdtm.items():
    for r in load(d, "tr.csv"):
        subj = subject_of(r["USUBJID"], study)
        if r["TRTESTCD"] != "SUMDIAM":
            tr_count[(side, subj, r["TREVALID"], r["VISIT"])] += 1
            tr_value[(side, subj, r["TREVALID"], r["VISIT"], r["TRLNKID"].split("-", 1)[-1])] = r["TRSTRESN"]
    for r in load(d, "rs.csv"):
        subj = subject_of(r["USUBJID"], study)
        if r["RSTESTCD"] == "BESTRSP":
            bor[(side, subj, r["RSEVALID"])] = r["RSSTRESC"].replace("NON-CR/NON-PD", "NON_CR_NON_PD")
        if r["RSACPTFL"] == "Y":
            accepted.add((subj, r["RSEVALID"]))

rows, sums, contrib, complete = defaultdict(int), {}, defaultdict(float), defaultdict(lambda: True)
reads = {}
for i, r in enumerate(flat, 2):
    side = "site" if r["read_role"] == "site" else "central"
    key = (side, r["subject_id"], evalid(r), r["timepoint"])
    if r["lesion_id"]:
        rows[key] += 1
        want = tr_value.get(key + (r["lesion_id"],))
        if r["lesion_kind"] == "target" and (want or "") != r["sod_contribution_mm"]:
            problems.append(f"line {i}: contribution {r['sod_contribution_mm']} != TRSTRESN {want}")
    if r["lesion_kind"] == "target":
        if r["sod_contribution_mm"]:
            contrib[key] += float(r["sod_contribution_mm"])
        else:
            complete[key] = False
    sums[key] = r["sum_mm"]
    reads[(side, r["subject_id"], evalid(r))] = (r["best_overall_response"], r["final_central_read"])
    for c in ("subject_id", "site_id", "indication", "treatment_start", "read_role", "reader", "timepoint", "date",
              "days_from_treatment_start", "modality"):
        if not r[c]:
            problems.append(f"line {i}: {c} empty")

if rows != tr_count:
    problems.append(f"lesion rows per read and timepoint differ from TR: {dict(rows)} vs {dict(tr_count)}")
for key, s in sums.items():
    if complete[key] and s and abs(float(s) - contrib[key]) > 1e-3:
        problems.append(f"{key}: sum_mm {s} != sum of contributions {contrib[key]}")
for key, (b, fin) in reads.items():
    if bor.get(key) != b:
        problems.append(f"{key}: BOR {b} != BESTRSP {bor.get(key)}")
    if key[0] == "central" and (fin == "Y") != ((key[1], key[2]) in accepted):
        problems.append(f"{key}: final_central_read {fin} but RSACPTFL disagrees")
if set(reads) != set(bor):
    problems.append(f"reads {sorted(reads)} != SDTM reads {sorted(bor)}")

for p in problems[:40]:
    print("check_flat:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
