"""A raw DICOM Upper Layer client for tests: builds PDUs by hand, so a test can send what no well-behaved
toolkit would (a data set or a command set nested 20 000 sequences deep, an idle connection, a second source
address). Not a DICOM library: just enough of PS3.8 (A-ASSOCIATE, P-DATA-TF, A-RELEASE) and PS3.7 (C-ECHO,
C-STORE command sets) to drive the daemon. Also used by the network fuzzer (tests/fuzz/net_fuzz.py).

Command line (used by the integration tests):
  rawdicom.py echo HOST PORT CALLING CALLED [--bind ADDR]             exit 0 when the C-ECHO succeeds
  rawdicom.py store HOST PORT CALLING CALLED FILE [--bind ADDR]       prints the C-STORE status as 0xNNNN
  rawdicom.py nest-store HOST PORT CALLING CALLED FILE DEPTH [--ts deflated]
        sends FILE's data set with DEPTH nested undefined-length sequences inserted before Patient's Name
  rawdicom.py nest-command HOST PORT CALLING CALLED DEPTH
        sends a C-ECHO whose command set carries DEPTH nested sequences
  rawdicom.py big-command HOST PORT CALLING CALLED SIZE
        sends a C-ECHO whose command set carries a SIZE-byte private element
"""
import socket
import struct
import sys

APP_CONTEXT = b"1.2.840.10008.3.1.1.1"
VERIFICATION = "1.2.840.10008.1.1"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"


def _ae(s):
    return s.encode().ljust(16)[:16]


def _uid(s):
    b = s.encode() if isinstance(s, str) else s
    return b + b"\0" if len(b) % 2 else b


def _item(t, body):
    return struct.pack(">BBH", t, 0, len(body)) + body


def associate_rq(calling, called, contexts, max_pdu=16384):
    """contexts: list of (pcid, abstract syntax, [transfer syntaxes])."""
    body = struct.pack(">HH", 1, 0) + _ae(called) + _ae(calling) + b"\0" * 32
    body += _item(0x10, APP_CONTEXT)
    for pcid, abstract, tss in contexts:
        sub = _item(0x30, abstract.encode())
        for ts in tss:
            sub += _item(0x40, ts.encode())
        body += _item(0x20, struct.pack(">BBBB", pcid, 0, 0, 0) + sub)
    user = _item(0x51, struct.pack(">I", max_pdu)) + _item(0x52, b"1.2.826.0.1.3680043.10.99")
    body += _item(0x50, user)
    return struct.pack(">BBI", 1, 0, len(body)) + body


def pdata(pcid, data, command, last=True):
    ctl = (1 if command else 0) | (2 if last else 0)
    pdv = struct.pack(">IBB", len(data) + 2, pcid, ctl) + data
    return struct.pack(">BBI", 4, 0, len(pdv)) + pdv


RELEASE_RQ = struct.pack(">BBI", 5, 0, 4) + b"\0" * 4
ABORT = struct.pack(">BBI", 7, 0, 4) + b"\0" * 4


def elem_implicit(group, element, value):
    if len(value) % 2:
        value += b"\0"
    return struct.pack("<HHI", group, element, len(value)) + value


def command_set(fields):
    """fields: list of (element, bytes) in group 0000; adds the group length."""
    body = b"".join(elem_implicit(0, e, v) for e, v in sorted(fields))
    return elem_implicit(0, 0, struct.pack("<I", len(body))) + body


def echo_rq(msg_id=1, extra=b""):
    return command_set([(0x0002, _uid(VERIFICATION)), (0x0100, struct.pack("<H", 0x30)),
                        (0x0110, struct.pack("<H", msg_id)), (0x0800, struct.pack("<H", 0x0101))]) + extra


def store_rq(sop_class, sop_instance, msg_id=1):
    return command_set([(0x0002, _uid(sop_class)), (0x0100, struct.pack("<H", 1)), (0x0110, struct.pack("<H", msg_id)),
                        (0x0700, struct.pack("<H", 0)), (0x0800, struct.pack("<H", 0)),
                        (0x1000, _uid(sop_instance))])


def nested(depth, explicit, tag=(0x0008, 0x1115)):
    """DEPTH nested undefined-length sequences, each holding one undefined-length item."""
    g, e = tag
    if explicit:
        sq = struct.pack("<HH2sHI", g, e, b"SQ", 0, 0xFFFFFFFF)
    else:
        sq = struct.pack("<HHI", g, e, 0xFFFFFFFF)
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    item_end = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
    seq_end = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    return (sq + item) * depth + (item_end + seq_end) * depth


class Assoc:
    def __init__(self, host, port, calling, called, contexts, bind=None, timeout=30):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if bind:
            self.s.bind((bind, 0))
        self.s.connect((host, port))
        self.s.sendall(associate_rq(calling, called, contexts))
        t, body = self.read_pdu()
        if t != 2:
            raise ConnectionError("association not accepted: PDU type %d %s" % (t, body.hex()))
        self.accepted = {}
        self.max_pdu = 16384
        off = 68
        while off + 4 <= len(body):
            it, _, ln = struct.unpack(">BBH", body[off:off + 4])
            v = body[off + 4:off + 4 + ln]
            if it == 0x21 and v[2] == 0:
                self.accepted[v[0]] = v[8:].decode().rstrip("\0")
            if it == 0x50:
                o = 0
                while o + 4 <= len(v):
                    st, _, sl = struct.unpack(">BBH", v[o:o + 4])
                    if st == 0x51:
                        self.max_pdu = struct.unpack(">I", v[o + 4:o + 8])[0] or 1 << 20
                    o += 4 + sl
            off += 4 + ln

    def recv_exact(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise ConnectionError("connection closed")
            b += c
        return b

    def read_pdu(self):
        t, _, ln = struct.unpack(">BBI", self.recv_exact(6))
        return t, self.recv_exact(ln)

    def send_message(self, pcid, data, command):
        room = max(self.max_pdu - 6, 64)
        off = 0
        while True:
            chunk = data[off:off + room]
            off += len(chunk)
            self.s.sendall(pdata(pcid, chunk, command, off >= len(data)))
            if off >= len(data):
                break

    def read_response(self):
        """The next command set (defragmented) as {element: bytes}."""
        buf = b""
        while True:
            t, body = self.read_pdu()
            if t != 4:
                raise ConnectionError("PDU type %d instead of P-DATA" % t)
            off, last = 0, False
            while off < len(body):
                ln, _pc, ctl = struct.unpack(">IBB", body[off:off + 6])
                buf += body[off + 6:off + 4 + ln]
                off += 4 + ln
                last = bool(ctl & 2) and bool(ctl & 1)
            if last:
                break
        fields, off = {}, 0
        while off + 8 <= len(buf):
            g, e, ln = struct.unpack("<HHI", buf[off:off + 8])
            fields[e] = buf[off + 8:off + 8 + ln]
            off += 8 + ln
        return fields

    def status(self, fields):
        return struct.unpack("<H", fields[0x0900])[0]

    def release(self):
        self.s.sendall(RELEASE_RQ)
        try:
            self.read_pdu()
        finally:
            self.s.close()


def dataset_of(path):
    """The data set of a Part 10 file (explicit VR little endian meta header skipped) and its transfer syntax."""
    b = open(path, "rb").read()
    assert b[128:132] == b"DICM"
    off, ts = 132, EXPLICIT_LE
    while True:
        g, e = struct.unpack("<HH", b[off:off + 4])
        if g != 2:
            break
        vr = b[off + 4:off + 6]
        if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT", b"UC", b"UR"):
            ln = struct.unpack("<I", b[off + 8:off + 12])[0]
            hdr = 12
        else:
            ln = struct.unpack("<H", b[off + 6:off + 8])[0]
            hdr = 8
        if e == 0x0010:
            ts = b[off + hdr:off + hdr + ln].decode().rstrip("\0 ")
        off += hdr + ln
    return b[off:], ts


def insert_before(ds, explicit, tag, blob):
    """Inserts blob before the first top-level element whose tag is >= tag (explicit or implicit VR LE)."""
    off = 0
    while off + 8 <= len(ds):
        g, e = struct.unpack("<HH", ds[off:off + 4])
        if (g, e) >= tag:
            break
        if explicit:
            vr = ds[off + 4:off + 6]
            if vr in (b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"UN", b"SQ", b"UT", b"UC", b"UR", b"SV", b"UV"):
                off += 12 + struct.unpack("<I", ds[off + 8:off + 12])[0]
            else:
                off += 8 + struct.unpack("<H", ds[off + 6:off + 8])[0]
        else:
            off += 8 + struct.unpack("<I", ds[off + 4:off + 8])[0]
    return ds[:off] + blob + ds[off:]


def _sop_uids(ds, explicit):
    out, off = {}, 0
    while off + 8 <= len(ds) and len(out) < 2:
        g, e = struct.unpack("<HH", ds[off:off + 4])
        if explicit:
            ln, hdr = struct.unpack("<H", ds[off + 6:off + 8])[0], 8
        else:
            ln, hdr = struct.unpack("<I", ds[off + 4:off + 8])[0], 8
        if (g, e) in ((8, 0x16), (8, 0x18)):
            out[e] = ds[off + hdr:off + hdr + ln].decode().rstrip("\0 ")
        off += hdr + ln
    return out[0x16], out[0x18]


def main(argv):
    args = [a for a in argv[1:]]
    bind = None
    if "--bind" in args:
        i = args.index("--bind")
        bind = args[i + 1]
        del args[i:i + 2]
    ts_opt = None
    if "--ts" in args:
        i = args.index("--ts")
        ts_opt = args[i + 1]
        del args[i:i + 2]
    cmd, host, port, calling, called = args[0], args[1], int(args[2]), args[3], args[4]
    if cmd == "echo":
        a = Assoc(host, port, calling, called, [(1, VERIFICATION, [IMPLICIT_LE])], bind=bind)
        a.send_message(1, echo_rq(), True)
        st = a.status(a.read_response())
        a.release()
        print("0x%04x" % st)
        return 0 if st == 0 else 1
    if cmd == "nest-command":
        depth = int(args[5])
        a = Assoc(host, port, calling, called, [(1, VERIFICATION, [IMPLICIT_LE])], bind=bind)
        a.send_message(1, echo_rq(extra=nested(depth, False)), True)
        try:
            st = a.status(a.read_response())
            print("0x%04x" % st)
        except (ConnectionError, OSError) as e:
            print("closed: %s" % e)
        return 0
    if cmd == "big-command":
        size = int(args[5])
        a = Assoc(host, port, calling, called, [(1, VERIFICATION, [IMPLICIT_LE])], bind=bind)
        a.send_message(1, echo_rq(extra=elem_implicit(0x0009, 0x1000, b"x" * size)), True)
        try:
            print("0x%04x" % a.status(a.read_response()))
        except (ConnectionError, OSError) as e:
            print("closed: %s" % e)
        return 0
    if cmd in ("store", "nest-store"):
        ds, ts = dataset_of(args[5])
        explicit = ts != IMPLICIT_LE
        if cmd == "nest-store":
            depth = int(args[6])
            ds = insert_before(ds, explicit, (0x0010, 0x0010), nested(depth, explicit))
        sop_class, sop_instance = _sop_uids(ds, explicit)
        if ts_opt == "deflated":
            import zlib
            z = zlib.compressobj(6, zlib.DEFLATED, -15)
            ds, ts = z.compress(ds) + z.flush(), DEFLATED_LE
        a = Assoc(host, port, calling, called, [(1, sop_class, [ts])], bind=bind)
        if 1 not in a.accepted:
            raise SystemExit("presentation context refused")
        a.send_message(1, store_rq(sop_class, sop_instance), True)
        a.send_message(1, ds, False)
        fields = a.read_response()
        st = a.status(fields)
        comment = fields.get(0x0902, b"").decode(errors="replace").rstrip("\0 ")
        a.release()
        print("0x%04x %s" % (st, comment))
        return 0
    raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
