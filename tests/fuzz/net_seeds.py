"""Writes the seed corpus of the network fuzzer (tests/fuzz/net-seeds/): whole client byte streams built with
the integration tests' raw client (tests/integration/lib/rawdicom.py).

  net_seeds.py CT_8x8.dcm OUT_DIR
"""
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "lib"))
import rawdicom as r  # noqa: E402

ct, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
ds, ts = r.dataset_of(ct)
sop_class, sop = r._sop_uids(ds, True)


def stream(contexts, messages):
    b = r.associate_rq("SITE014", "FUZZ", contexts)
    for pcid, data, command in messages:
        b += r.pdata(pcid, data, command)
    return b + r.RELEASE_RQ


def w(name, b):
    with open(os.path.join(out, name), "wb") as f:
        f.write(b)


w("echo", stream([(1, r.VERIFICATION, [r.IMPLICIT_LE])], [(1, r.echo_rq(), True)]))
w("release_only", stream([(1, r.VERIFICATION, [r.IMPLICIT_LE])], []))
w("store_ct8x8", stream([(1, sop_class, [r.EXPLICIT_LE])], [(1, r.store_rq(sop_class, sop), True), (1, ds, False)]))
z = zlib.compressobj(6, zlib.DEFLATED, -15)
w("store_ct8x8_deflated", stream([(1, sop_class, [r.DEFLATED_LE])],
                                 [(1, r.store_rq(sop_class, sop), True), (1, z.compress(ds) + z.flush(), False)]))
deep = r.insert_before(ds, True, (0x0010, 0x0010), r.nested(70, True))
w("store_nested70", stream([(1, sop_class, [r.EXPLICIT_LE])], [(1, r.store_rq(sop_class, sop), True), (1, deep, False)]))
w("echo_nested70", stream([(1, r.VERIFICATION, [r.IMPLICIT_LE])], [(1, r.echo_rq(extra=r.nested(70, False)), True)]))
# a data set in two P-DATA-TF PDUs, then an echo on a second context
half = len(ds) // 2 & ~1
w("store_fragmented_then_echo",
  r.associate_rq("SITE014", "FUZZ", [(1, sop_class, [r.EXPLICIT_LE]), (3, r.VERIFICATION, [r.IMPLICIT_LE])])
  + r.pdata(1, r.store_rq(sop_class, sop), True) + r.pdata(1, ds[:half], False, last=False)
  + r.pdata(1, ds[half:], False) + r.pdata(3, r.echo_rq(2), True) + r.RELEASE_RQ)
w("abort", r.associate_rq("SITE014", "FUZZ", [(1, r.VERIFICATION, [r.IMPLICIT_LE])]) + r.ABORT)
