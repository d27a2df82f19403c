#!/usr/bin/python3
"""DICOMweb conformance checks of recistry against Orthanc's DICOMweb plugin (tests/integration/dicomweb_*.sh).

Usage: dicomweb_compare.py CHECK RECISTRY_ROOT USER:PASSWORD ORTHANC_ROOT [args]
       dicomweb_compare.py batch CHECK ROOT AUTH ROOT [args] -- CHECK ... [-- ...]   (several checks in one
       python, in order: each start costs a few tenths of a second of CPU on a loaded machine)
Each check prints one line per comparison and exits 1 on the first difference. Only the standard library:
the test has to run where PyPI is not reachable."""
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request


def authorize(req, auth):
    """auth: "user:password" (HTTP Basic), "session:TOKEN:CSRF" (the workstation's session: a Basic login
    costs an argon2id check per request, too slow for a test of many requests), or "-" / None (none)."""
    if not auth or auth == "-":
        return
    if auth.startswith("session:"):
        _, token, csrf = auth.split(":")
        req.add_header("Cookie", "rcy_session=" + token)
        req.add_header("X-CSRF-Token", csrf)
    else:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())


def get(url, auth=None, accept="application/dicom+json"):
    req = urllib.request.Request(url, headers={"Accept": accept})
    authorize(req, auth)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def multipart(headers, body):
    ct = headers.get("Content-Type", "")
    b = [p.split("=", 1)[1].strip('"') for p in ct.split(";") if p.strip().startswith("boundary=")][0]
    parts = []
    for chunk in body.split(b"--" + b.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.partition(b"\r\n\r\n")
        parts.append(data[:-2] if data.endswith(b"\r\n") else data)
    return parts


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def first(attr):
    if not attr or "Value" not in attr or not attr["Value"]:
        return None
    v = attr["Value"]
    v = [x.get("Alphabetic") if isinstance(x, dict) else x for x in v]
    # numbers as text: Orthanc sends IS as strings or numbers depending on version
    return [str(x) if not isinstance(x, float) else repr(x) for x in v]


# The attribute that names one result at each level.
KEY = {"studies": "0020000D", "series": "0020000E", "instances": "00080018"}


def qido(rroot, auth, oroot, queries):
    for q in queries:
        level = q.split("?")[0].rstrip("/").split("/")[-1]
        sr, _, br = get(rroot + q, auth)
        so, _, bo = get(oroot + q)
        if sr != 200 or so != 200:
            fail(f"{q}: recistry {sr}, Orthanc {so}: {br[:200]!r} {bo[:200]!r}")
        jr, jo = json.loads(br or b"[]"), json.loads(bo or b"[]")
        key = KEY[level]
        ur = {first(x.get(key))[0]: x for x in jr}
        uo = {first(x.get(key))[0]: x for x in jo}
        if set(ur) != set(uo):
            fail(f"{q}: matched UIDs differ: recistry {sorted(ur)} Orthanc {sorted(uo)}")
        compared = 0
        for uid in ur:
            a, b = ur[uid], uo[uid]
            for tag in set(a) & set(b):
                if tag in ("00081190",):  # RetrieveURL: each server's own address
                    continue
                va, vb = first(a[tag]), first(b[tag])
                if va is None or vb is None:
                    continue
                if tag == "00080061":
                    va, vb = sorted(va), sorted(vb)
                if va != vb:
                    fail(f"{q}: {uid} {tag}: recistry {va} Orthanc {vb}")
                compared += 1
        print(f"ok - QIDO {q}: {len(ur)} match(es) on both, {compared} common attribute values equal")


def wado_instances(rroot, auth, oroot, files):
    """Instances by URL = the files sent, byte for byte; the series in bulk too."""
    import subprocess
    by_sop = {}
    for f in files:
        out = subprocess.run(["dcmdump", "+P", "0008,0018", "+P", "0020,000d", "+P", "0020,000e", f],
                             capture_output=True, text=True).stdout.splitlines()
        vals = [l.split("[")[1].split("]")[0] for l in out]
        by_sop[vals[0]] = (f, vals[1], vals[2]) if "0008,0018" in out[0] else None
    for sop, (f, study, series) in by_sop.items():
        s, h, body = get(f"{rroot}/studies/{study}/series/{series}/instances/{sop}", auth, "multipart/related; type=\"application/dicom\"")
        if s != 200:
            fail(f"instance {sop}: {s} {body[:200]!r}")
        parts = multipart(h, body)
        data = open(f, "rb").read()
        if len(parts) != 1 or parts[0] != data:
            fail(f"instance {sop}: bytes differ from the file sent ({len(parts)} parts)")
    study, series = next(iter(by_sop.values()))[1:]
    s, h, body = get(f"{rroot}/studies/{study}/series/{series}", auth, "multipart/related; type=\"application/dicom\"")
    parts = multipart(h, body)
    want = sorted(hashlib.sha256(open(f, "rb").read()).hexdigest() for f, st, se in by_sop.values() if se == series)
    got = sorted(hashlib.sha256(p).hexdigest() for p in parts)
    if got != want:
        fail(f"series {series} in bulk: {len(got)} parts, not the {len(want)} files sent")
    print(f"ok - WADO-RS: {len(by_sop)} instances byte-identical to the files sent; series in bulk ({len(parts)} parts)")


def metadata(rroot, auth, oroot, study):
    sr, _, br = get(f"{rroot}/studies/{study}/metadata", auth)
    so, _, bo = get(f"{oroot}/studies/{study}/metadata")
    if sr != 200 or so != 200:
        fail(f"metadata: recistry {sr} Orthanc {so}")
    ir = {first(x["00080018"])[0]: x for x in json.loads(br)}
    io = {first(x["00080018"])[0]: x for x in json.loads(bo)}
    if set(ir) != set(io):
        fail("metadata: different instances")
    n = 0
    for sop in ir:
        a, b = ir[sop], io[sop]
        if set(a) != set(b):
            fail(f"metadata {sop}: attributes only in recistry {sorted(set(a) - set(b))}, only in Orthanc {sorted(set(b) - set(a))}")
        for tag in a:
            if a[tag].get("vr") != b[tag].get("vr"):
                fail(f"metadata {sop} {tag}: VR {a[tag].get('vr')} vs {b[tag].get('vr')}")
            if "BulkDataURI" in a[tag] or "BulkDataURI" in b[tag] or "InlineBinary" in a[tag]:
                if ("BulkDataURI" in a[tag]) != ("BulkDataURI" in b[tag]):
                    fail(f"metadata {sop} {tag}: bulk data in one only: {a[tag]} {b[tag]}")
                continue
            if first(a[tag]) != first(b[tag]):
                fail(f"metadata {sop} {tag}: recistry {first(a[tag])} Orthanc {first(b[tag])}")
            n += 1
    print(f"ok - metadata of {len(ir)} instances: same attributes, same VRs, {n} values equal to Orthanc's")


def frames(rroot, auth, oroot, study, series, sop, path, nbytes):
    s, h, body = get(f"{rroot}/studies/{study}/series/{series}/instances/{sop}/frames/1", auth,
                     "multipart/related; type=\"application/octet-stream\"")
    if s != 200:
        fail(f"frames: {s} {body[:200]!r}")
    mine = multipart(h, body)
    theirs = None
    if oroot != "-":
        so, ho, bo = get(f"{oroot}/studies/{study}/series/{series}/instances/{sop}/frames/1", None,
                         "multipart/related; type=\"application/octet-stream\"")
        theirs = multipart(ho, bo) if so == 200 else None
    pixels = open(path, "rb").read()[-int(nbytes):]
    if len(mine) != 1 or mine[0] != pixels:
        fail(f"frame 1: {len(mine[0]) if mine else 0} bytes, not the file's {len(pixels)} pixel bytes")
    if theirs is not None and theirs[0] != mine[0]:
        fail("frame 1 differs from Orthanc's")
    s, h, _ = get(f"{rroot}/studies/{study}/series/{series}/instances/{sop}/frames/2", auth, "multipart/related")
    if s != 404:
        fail(f"frame 2 of a single-frame instance: {s}, want 404")
    print(f"ok - frames: frame 1 = the file's {len(pixels)} pixel bytes" + (" = Orthanc's frame" if theirs else "") +
          "; frame 2 is 404")


def stow(url, auth, want_status, want_reasons, files):
    """POSTs the files as one multipart/related request; checks the HTTP status and the FailureReasons."""
    boundary = "stow-test-boundary-1234"
    body = b""
    for f in files:
        data = open(f, "rb").read() if f != "-garbage" else b"this is not DICOM at all" * 10
        body += b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + data + b"\r\n"
    body += b"--" + boundary.encode() + b"--\r\n"
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
        "Accept": "application/dicom+json"})
    authorize(req, auth)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, reply = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, reply = e.code, e.read()
    if str(status) != want_status:
        fail(f"STOW {url}: HTTP {status}, want {want_status}: {reply[:300]!r}")
    j = json.loads(reply) if reply else {}
    reasons = sorted(x["00081197"]["Value"][0] for x in j.get("00081198", {}).get("Value", []))
    want = sorted(int(x, 16) for x in want_reasons.split(",") if x)
    if reasons != want:
        fail(f"STOW {url}: FailureReasons {[hex(x) for x in reasons]}, want {[hex(x) for x in want]}")
    ok = len(j.get("00081199", {}).get("Value", []))
    print(f"ok - STOW-RS {len(files)} part(s) -> HTTP {status}, {ok} referenced, failures {[hex(x) for x in reasons]}")


def run(argv):
    print(f"== {argv[0]}")
    check, rroot, auth, oroot = argv[:4]
    rest = argv[4:]
    if check == "qido":
        qido(rroot, auth, oroot, rest)
    elif check == "wado":
        wado_instances(rroot, auth, oroot, rest)
    elif check == "metadata":
        metadata(rroot, auth, oroot, rest[0])
    elif check == "stow":
        stow(rroot, auth, rest[0], rest[1], rest[2:])  # stow URL AUTH - STATUS REASONS FILES...
    elif check == "frames":
        frames(rroot, auth, oroot, *rest)
    else:
        fail("unknown check " + check)


if __name__ == "__main__":
    if sys.argv[1] == "batch":
        group = []
        for a in sys.argv[2:] + ["--"]:
            if a == "--":
                run(group)
                group = []
            else:
                group.append(a)
    else:
        run(sys.argv[1:])
