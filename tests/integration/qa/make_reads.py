"""Two central reads of the committed sample subjects for QA tests: R1 is sample-dicom/reads/central.json as
committed; R2 measures every follow-up target 10 % larger plus 0.7 mm and, for the first subject, calls an
unequivocal new liver lesion at the last timepoint (progression: BOR differs, the subject is triggered).
    make_reads.py CENTRAL.json OUT_R2.json"""
import json
import sys

reads = json.load(open(sys.argv[1]))
for subject in reads:
    for a in subject["assessments"][1:]:
        for t in a["target"]:
            if isinstance(t.get("diameter_mm"), (int, float)):
                t["diameter_mm"] = round(t["diameter_mm"] * 1.1 + 0.7, 1)
last = reads[0]["assessments"][-1]
last["new_lesions"] = last.get("new_lesions", []) + [
    {"lesion_id": "N9", "organ": "liver", "nodal": False, "state": "unequivocal"}]
json.dump(reads, open(sys.argv[2], "w"), indent=1)
