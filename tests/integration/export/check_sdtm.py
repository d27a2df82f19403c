#!/usr/bin/python3
"""Checks an SDTM export of recistry (tu.csv, tr.csv, rs.csv, define_*.csv) against the SDTM IG's rules that
matter here and against the RECIST engine's own results, with the csv module only.

usage: check_sdtm.py OUT_DIR READER STUDY BOR.json FINAL.json
  READER     site | central
  BOR.json   {"<subject>|<EVALID>": "<engine best_overall_response>"} for every exported read (EVALID "" for site)
  FINAL.json {"<subject>": "<EVALID of the final central read>"} (central only; {} for site)
Exit 1 with one line per problem."""
import csv
import json
import re
import sys
from collections import defaultdict

out, reader, study, bor_path, final_path = sys.argv[1:6]
problems = []



def subject_of(usubjid):
    """The subject of a USUBJID (docs/exports.md): the subject ID itself when it begins with STUDYID- (CIREL's
    IDs do), else STUDYID-subject_id."""
    rest = usubjid[len(study) + 1:]
    return usubjid if re.fullmatch(r"CIREL-\d{3}-\d{4}", usubjid) else rest

def fail(msg):
    problems.append(msg)


def load(name):
    with open(f"{out}/{name}", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


tu, tr, rs = load("tu.csv"), load("tr.csv"), load("rs.csv")
define = load("define_variables.csv")
terms = defaultdict(set)
for row in load("define_codelists.csv"):
    terms[row["codelist"]].add(row["term"])
prov = {r["key"]: r["value"] for r in load("define_provenance.csv")}
bor = json.load(open(bor_path))
final = json.load(open(final_path))

for name, rows in (("tu", tu), ("tr", tr), ("rs", rs)):
    if not rows:
        fail(f"{name}.csv has no records")

# Required (Req) variables present and never empty; expected ones present.
REQ = {
    "TU": ["STUDYID", "DOMAIN", "USUBJID", "TUSEQ", "TUTESTCD", "TUTEST"],
    "TR": ["STUDYID", "DOMAIN", "USUBJID", "TRSEQ", "TRTESTCD", "TRTEST"],
    "RS": ["STUDYID", "DOMAIN", "USUBJID", "RSSEQ", "RSTESTCD", "RSTEST"],
}
EXP = {
    "TU": ["TULNKID", "TUORRES", "TUSTRESC", "TULOC", "TUMETHOD", "TUEVAL", "TUEVALID", "TUACPTFL", "VISITNUM", "VISIT", "TUDTC"],
    "TR": ["TRGRPID", "TRLNKID", "TRORRES", "TRORRESU", "TRSTRESC", "TRSTRESN", "TRSTRESU", "TRSTAT", "TRREASND",
           "TREVAL", "TREVALID", "TRACPTFL", "VISITNUM", "VISIT", "TRDTC"],
    "RS": ["RSCAT", "RSORRES", "RSSTRESC", "RSEVAL", "RSEVALID", "RSACPTFL", "VISITNUM", "VISIT", "RSDTC"],
}
for dom, rows in (("TU", tu), ("TR", tr), ("RS", rs)):
    cols = rows[0].keys() if rows else []
    for v in REQ[dom] + EXP[dom]:
        if v not in cols:
            fail(f"{dom}: variable {v} missing")
    for i, r in enumerate(rows, 2):
        for v in REQ[dom] + [dom + "EVAL"]:
            if not r.get(v):
                fail(f"{dom} line {i}: {v} empty")
        if r["STUDYID"] != study or r["DOMAIN"] != dom:
            fail(f"{dom} line {i}: STUDYID/DOMAIN {r['STUDYID']}/{r['DOMAIN']}")
        if not r["USUBJID"].startswith(study + "-"):
            fail(f"{dom} line {i}: USUBJID {r['USUBJID']} does not begin with STUDYID-")
        dtc = r.get(dom + "DTC", "")
        if dtc and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", dtc):
            fail(f"{dom} line {i}: {dom}DTC {dtc} not ISO 8601")
        if dom != "RS" or r["RSTESTCD"] != "BESTRSP":
            if not r["VISIT"] or not r["VISITNUM"] or not dtc:
                fail(f"{dom} line {i}: visit or date missing")
        stat = r.get(dom + "STAT", "")
        if not r.get(dom + "ORRES") and stat != "NOT DONE":
            fail(f"{dom} line {i}: {dom}ORRES empty without {dom}STAT = NOT DONE")
        if stat == "NOT DONE" and (r.get(dom + "ORRES") or not r.get(dom + "REASND")):
            fail(f"{dom} line {i}: NOT DONE with a result or without a reason")
        want_eval = "INVESTIGATOR" if reader == "site" else "INDEPENDENT ASSESSOR"
        if r[dom + "EVAL"] != want_eval:
            fail(f"{dom} line {i}: {dom}EVAL {r[dom + 'EVAL']} for a {reader} export")
        if (reader == "central") != bool(r[dom + "EVALID"]):
            fail(f"{dom} line {i}: {dom}EVALID '{r[dom + 'EVALID']}'")
    # --SEQ: a positive integer, unique within USUBJID.
    seen = set()
    for i, r in enumerate(rows, 2):
        key = (r["USUBJID"], r[dom + "SEQ"])
        if not r[dom + "SEQ"].isdigit() or key in seen:
            fail(f"{dom} line {i}: {dom}SEQ {r[dom + 'SEQ']} not unique/integer within {r['USUBJID']}")
        seen.add(key)

# Terms within the declared codelists (variables whose codelist is a plain name).
for d in define:
    cl = d["codelist"]
    rows = {"TU": tu, "TR": tr, "RS": rs}[d["dataset"]]
    if cl and cl != "ISO 8601" and " " not in cl:
        if cl not in terms:
            fail(f"{d['dataset']}.{d['variable']}: codelist {cl} not declared")
        for r in rows:
            v = r.get(d["variable"], "")
            if v and v not in terms[cl]:
                fail(f"{d['dataset']}.{d['variable']} = '{v}' not in codelist {cl}")
    if d["type"] == "Char":
        longest = max((len(r.get(d["variable"], "")) for r in rows), default=0)
        if int(d["length"]) < longest:
            fail(f"define: length of {d['dataset']}.{d['variable']} {d['length']} < {longest}")
for r in tr:
    if r["TRTESTCD"] == "TUMSTATE" and r["TRSTAT"] != "NOT DONE":
        for v in ("TRORRES", "TRSTRESC"):
            if r[v] not in terms["TUMSTATE"]:
                fail(f"TR TUMSTATE {v} '{r[v]}' not a TUMSTATE term")
    if r["TRTESTCD"] in ("LDIAM", "LPERP", "SUMDIAM") and r["TRSTAT"] != "NOT DONE":
        if r["TRSTRESU"] != "mm" or float(r["TRSTRESN"]) != float(r["TRSTRESC"]):
            fail(f"TR {r['USUBJID']} {r['TRLNKID']} {r['VISIT']}: numeric result/unit inconsistent")
for d in ("TU", "TR", "RS"):
    for v in REQ[d] + EXP[d]:
        if not any(x["dataset"] == d and x["variable"] == v for x in define):
            fail(f"define_variables.csv lacks {d}.{v}")

# Every TR link ID names a TU record of the same subject and evaluator; a lesion's TR group is its TU result.
tu_ids = {(r["USUBJID"], r["TULNKID"]): r for r in tu}
if len(tu_ids) != len(tu):
    fail("TU: TULNKID repeated within a subject")
for r in tr:
    if r["TRTESTCD"] == "SUMDIAM":
        if r["TRLNKID"]:
            fail("SUMDIAM has a TRLNKID")
        continue
    t = tu_ids.get((r["USUBJID"], r["TRLNKID"]))
    if not t:
        fail(f"TR {r['USUBJID']} TRLNKID {r['TRLNKID']} has no TU record")
    elif t["TUEVALID"] != r["TREVALID"] or t["TUORRES"] != r["TRGRPID"]:
        fail(f"TR {r['USUBJID']} {r['TRLNKID']}: evaluator or group differs from TU")
    elif (t["TULOC"] == "LYMPH NODE") != (r["TRTESTCD"] == "LPERP") and r["TRTESTCD"] != "TUMSTATE":
        fail(f"TR {r['USUBJID']} {r['TRLNKID']}: {r['TRTESTCD']} for TULOC {t['TULOC']}")

# SUMDIAM = sum of the target lesions' diameters (LDIAM, LPERP for nodes) at the visit, per read.
sums, parts, complete = {}, defaultdict(float), defaultdict(lambda: True)
for r in tr:
    key = (r["USUBJID"], r["TREVALID"], r["VISITNUM"])
    if r["TRTESTCD"] == "SUMDIAM":
        sums[key] = r["TRSTRESN"]
    elif r["TRGRPID"] == "TARGET":
        if r["TRSTAT"] == "NOT DONE":
            complete[key] = False
        else:
            parts[key] += float(r["TRSTRESN"])
if not sums:
    fail("no SUMDIAM record")
for key, s in sums.items():
    if not complete[key]:
        if s:
            fail(f"SUMDIAM {key} given with a target not evaluable")
    elif abs(float(s) - parts[key]) > 1e-3:
        fail(f"SUMDIAM {key} = {s}, sum of diameters {parts[key]}")

# BESTRSP is the engine's best overall response, one per read; responses only at follow-ups.
TERM = {"NON_CR_NON_PD": "NON-CR/NON-PD"}
got = {}
for r in rs:
    if r["RSCAT"] != "RECIST 1.1":
        fail(f"RSCAT {r['RSCAT']}")
    if r["RSORRES"] != r["RSSTRESC"]:
        fail(f"RS {r['USUBJID']} {r['RSTESTCD']}: RSSTRESC differs from RSORRES")
    if r["RSTESTCD"] == "BESTRSP":
        key = subject_of(r["USUBJID"]) + "|" + r["RSEVALID"]
        if key in got:
            fail(f"two BESTRSP for {key}")
        got[key] = r["RSSTRESC"]
    elif r["VISITNUM"] == "1":
        fail(f"RS {r['USUBJID']} {r['RSTESTCD']} at baseline")
want = {k: TERM.get(v, v) for k, v in bor.items()}
if got != want:
    fail(f"BESTRSP {got} != engine BOR {want}")

# ACPTFL = Y exactly on the final central read's records (every domain).
for dom, rows in (("TU", tu), ("TR", tr), ("RS", rs)):
    for r in rows:
        subject = subject_of(r["USUBJID"])
        should = reader == "central" and final.get(subject) == r[dom + "EVALID"]
        if (r[dom + "ACPTFL"] == "Y") != should or r[dom + "ACPTFL"] not in ("", "Y"):
            fail(f"{dom} {subject} {r[dom + 'EVALID']} {r[dom + 'TESTCD']} {r['VISIT']}: ACPTFL "
                 f"'{r[dom + 'ACPTFL']}', final read {final.get(subject)}")
if reader == "central" and final and not any(r["RSACPTFL"] == "Y" for r in rs):
    fail("no accepted record")

if prov.get("reader") != reader or prov.get("studyid") != study or not prov.get("archive") \
        or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", prov.get("exported_at", "")):
    fail(f"define_provenance.csv: {prov}")
if int(prov.get("rs_records", -1)) != len(rs):
    fail("define_provenance.csv: rs_records")

for p in problems[:40]:
    print("check_sdtm:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
