#!/usr/bin/env python3
"""Second, independent parser for `recistry export sr` (tests/integration/export_sr.sh): pydicom walks each
TID 1500 report's content tree and compares it with the read as the workstation's API returns it.
usage: sr_check.py READ.json SOP_UIDS.txt REPORT.dcm...   exit 1 with a message on the first difference."""
import json
import sys

import pydicom

LONG = ("103339001", "SCT")
SHORT = ("103340004", "SCT")


def code(item):
    c = item.ConceptNameCodeSequence[0]
    return (c.CodeValue, c.CodingSchemeDesignator)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def groups(ds):
    """TID 1501 measurement groups: CONTAINER (125007, DCM) under Imaging Measurements (126010, DCM)."""
    for top in ds.ContentSequence:
        if top.ValueType == "CONTAINER" and code(top) == ("126010", "DCM"):
            for g in top.ContentSequence:
                if g.ValueType == "CONTAINER" and code(g) == ("125007", "DCM"):
                    yield g


def main():
    read = json.load(open(sys.argv[1]))
    archive = set(open(sys.argv[2]).read().split())
    lesions = {l["lesion_id"]: l for l in read["lesions"]}
    uid_of = {}  # lesion -> tracking UID, must be the same at every timepoint
    seen = {}
    for path in sys.argv[3:]:
        ds = pydicom.dcmread(path)
        tp = ds.ClinicalTrialTimePointID
        if ds.SOPClassUID != "1.2.840.10008.5.1.4.1.1.88.22":
            fail(f"{path}: not Enhanced SR ({ds.SOPClassUID})")
        if ds.ContentTemplateSequence[0].TemplateIdentifier != "1500":
            fail(f"{path}: template {ds.ContentTemplateSequence[0].TemplateIdentifier}")
        for ev in ds.CurrentRequestedProcedureEvidenceSequence:
            for se in ev.ReferencedSeriesSequence:
                for s in se.ReferencedSOPSequence:
                    if s.ReferencedSOPInstanceUID not in archive:
                        fail(f"{path}: evidence {s.ReferencedSOPInstanceUID} not in the archive")
        for g in groups(ds):
            tid = tuid = None
            meas = []
            for it in g.ContentSequence:
                c = code(it)
                if c == ("112039", "DCM"):
                    tid = it.TextValue
                elif c == ("112040", "DCM"):
                    tuid = it.UID
                elif it.ValueType == "NUM" and c in (LONG, SHORT):
                    mm = float(it.MeasuredValueSequence[0].NumericValue)
                    unit = it.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0]
                    if (unit.CodeValue, unit.CodingSchemeDesignator) != ("mm", "UCUM"):
                        fail(f"{path} {tid}: unit {unit.CodeValue}")
                    sc = [x for x in it.ContentSequence if x.ValueType == "SCOORD"]
                    if len(sc) != 1 or sc[0].GraphicType != "POLYLINE":
                        fail(f"{path} {tid}: measurement without its POLYLINE")
                    img = sc[0].ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
                    meas.append(("long" if c == LONG else "short", mm, [float(v) for v in sc[0].GraphicData], img))
            if not tid or not tuid:
                fail(f"{path}: group without tracking identifier/UID")
            if tid not in lesions:
                fail(f"{path}: tracking identifier {tid} is not a lesion of the read")
            if uid_of.setdefault(tid, tuid) != tuid:
                fail(f"{tid}: tracking UID {tuid} at {tp} differs from {uid_of[tid]}")
            obs = lesions[tid]["observations"].get(tp) or {}
            m = obs.get("measurement")
            for kind, mm, pts, img in meas:
                if not m:
                    fail(f"{path} {tid}: a measurement the read does not have")
                want_mm = m["long_mm"] if kind == "long" else m["short_mm"]
                if abs(mm - want_mm) > 0.01:
                    fail(f"{path} {tid} {tp}: {kind} axis {mm} mm, read has {want_mm}")
                if kind == "long" and not lesions[tid].get("nodal") and abs(mm - obs["diameter_mm"]) > 0.01:
                    fail(f"{path} {tid} {tp}: long axis {mm} mm, read's diameter {obs['diameter_mm']}")
                if kind == "short" and lesions[tid].get("nodal") and abs(mm - obs["diameter_mm"]) > 0.01:
                    fail(f"{path} {tid} {tp}: short axis {mm} mm, read's diameter {obs['diameter_mm']}")
                ends = m["p1"] + m["p2"] if kind == "long" else m["short_p1"] + m["short_p2"]
                if any(abs(a - b) > 0.001 for a, b in zip(pts, ends)) or len(pts) != 4:
                    fail(f"{path} {tid} {tp}: {kind} SCOORD {pts}, calipers {ends}")
                if img != m["sop_instance_uid"] or img not in archive:
                    fail(f"{path} {tid} {tp}: SCOORD on {img}, read measured {m['sop_instance_uid']}")
            if m and not meas:
                fail(f"{path} {tid} {tp}: the read's measurement is missing")
            seen.setdefault(tid, set()).add(tp)
    for tid, l in lesions.items():
        if l["kind"] == "target" and seen.get(tid) != {"BL", "FU1"}:
            fail(f"target {tid} reported at {sorted(seen.get(tid, []))}, want BL and FU1")
    print(f"sr_check: {len(sys.argv) - 3} reports, lesions {sorted(seen)} consistent with the read")


main()
