#!/usr/bin/env python3
"""Mutational fuzzer for the reader workstation's HTTP API (run by scripts/fuzz-http.sh, not in CI).

Sends raw requests over TCP to a running `recistry serve` (the ASan+UBSan build): request lines, headers and
JSON bodies from seed files (tests/fuzz/http_corpus/*.http), mutated byte-wise, token-wise and JSON-aware.
A finding is: any 5xx reply (but 505 for an unsupported HTTP version), or the server no longer answering. Sanitizer reports
are in the server's stderr, which the script checks. Python's standard library only.

Seeds are raw HTTP/1.1 requests with placeholders {COOKIE} {CSRF} {SUBJECT} {SOP} {FUSOP} {STUDY} {SERIES} {KEY},
filled from a real session so that mutations reach the handlers behind authentication.
"""
import argparse
import json
import os
import random
import socket
import sqlite3
import sys
import time

INTERESTING = [
    b"", b"%00", b"%", b"%0", b"%zz", b"%2e%2e", b"..", b"/", b"//", b"\\", b"\x00", b"\r\n", b"\n", b"\t",
    b"\xff\xfe", b"\xc3\x28", b"\xf0\x9f\x92\xa9", b"A" * 300, b"A" * 5000, b"9" * 40, b"-1", b"0", b"1e309",
    b"NaN", b"Infinity", b"-0", b"null", b"true", b"[]", b"{}", b"\"", b"'", b"%s%n%x", b"*", b"?", b"#",
    b"&", b"=", b";", b",", b"18446744073709551616", b"4294967296", b"-2147483649",
]
JSON_VALUES = [None, True, False, 0, -1, 1.5, 1e308, -1e308, 2**63, -(2**63) - 1, "", " ", "\u0000x",
               "a" * 2000, "\ud800" if False else "\u00e9", [], {}, [1, 2], [[]], {"a": {}}, "BL", "FU1",
               "target", "non_target", "new", "present", "absent", "disappeared", [0, 0], [1e9, -1e9],
               [511.5, 511.5], [-0.5, -0.5]]
METHODS = [b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"PATCH", b"TRACE", b"CONNECT", b"get",
           b"G\x00ET", b"POST " * 3]
HEADERS = [b"Content-Type: text/plain", b"Content-Type: application/json; charset=utf-8",
           b"Content-Type: application/jsonx", b"Content-Length: -1", b"Content-Length: 99999999999999999999",
           b"Content-Length: 0", b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip, chunked",
           b"Expect: 100-continue", b"Cookie: rcy_session=" + b"a" * 64, b"Cookie: rcy_session=;;;",
           b"X-CSRF-Token: " + b"0" * 64, b"X-CSRF-Token:", b"Host:", b"Connection: close",
           b"Range: bytes=0-1", b"X-" + b"a" * 8000 + b": b", b": novalue", b"NoColon"]


def fill(seed, ctx):
    for k, v in ctx.items():
        seed = seed.replace(b"{" + k.encode() + b"}", v.encode())
    return seed


def split_request(raw):
    head, sep, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body


def join_request(lines, body, fix_length):
    if fix_length:
        lines = [l for l in lines if not l.lower().startswith(b"content-length:")]
        if body or lines[0].split(b" ")[0] in (b"POST", b"PUT", b"DELETE"):
            lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def mutate_json(body, rnd):
    try:
        doc = json.loads(body)
    except Exception:
        return body
    def walk(node, depth):
        if isinstance(node, dict) and node:
            k = rnd.choice(list(node))
            r = rnd.random()
            if r < 0.15:
                del node[k]
            elif r < 0.3:
                node[rnd.choice(["reason", "state", "measurement", "fragments", "merged_into", "kind", "lesion_id",
                                 "x" * rnd.randint(1, 70), "name", "password"])] = rnd.choice(JSON_VALUES)
            elif r < 0.6 and depth < 4:
                node[k] = walk(node[k], depth + 1)
            else:
                node[k] = rnd.choice(JSON_VALUES)
            return node
        if isinstance(node, list) and node:
            i = rnd.randrange(len(node))
            r = rnd.random()
            if r < 0.2:
                node.append(rnd.choice(JSON_VALUES))
            elif r < 0.4:
                del node[i]
            elif depth < 4:
                node[i] = walk(node[i], depth + 1)
            else:
                node[i] = rnd.choice(JSON_VALUES)
            return node
        return rnd.choice(JSON_VALUES)
    doc = walk(doc, 0)
    if rnd.random() < 0.05:
        for _ in range(rnd.randint(10, 5000)):
            doc = [doc]
    try:
        return json.dumps(doc, ensure_ascii=rnd.random() < 0.5).encode("utf-8", "surrogatepass")
    except (RecursionError, ValueError):
        return body


def mutate(raw, rnd):
    lines, body = split_request(raw)
    fix_length = rnd.random() < 0.85
    for _ in range(rnd.choice([1, 1, 1, 2, 3, 5])):
        op = rnd.randrange(10)
        if op == 0:  # request line: method
            parts = lines[0].split(b" ")
            parts[0] = rnd.choice(METHODS)
            lines[0] = b" ".join(parts)
        elif op == 1:  # request line: path bytes
            parts = lines[0].split(b" ")
            if len(parts) >= 2:
                path = bytearray(parts[1])
                pos = rnd.randint(0, len(path))
                path[pos:pos + rnd.randint(0, 3)] = rnd.choice(INTERESTING)
                parts[1] = bytes(path)
            lines[0] = b" ".join(parts)
        elif op == 2:  # request line: version / shape
            lines[0] = rnd.choice([lines[0].replace(b"HTTP/1.1", rnd.choice([b"HTTP/1.0", b"HTTP/2.0", b"HTTP/9",
                                                                             b"", b"HTTP/1.1 x"])),
                                   lines[0] + b" " + rnd.choice(INTERESTING), lines[0].replace(b" ", b"  ")])
        elif op == 3:  # add or replace a header
            if rnd.random() < 0.5 and len(lines) > 1:
                lines[rnd.randrange(1, len(lines))] = rnd.choice(HEADERS)
            else:
                lines.insert(rnd.randint(1, len(lines)), rnd.choice(HEADERS))
        elif op == 4 and len(lines) > 1:  # drop a header
            del lines[rnd.randrange(1, len(lines))]
        elif op in (5, 6, 7):  # JSON-aware body
            body = mutate_json(body, rnd) if body else body
        elif op == 8:  # raw bytes of the body
            b = bytearray(body)
            for _ in range(rnd.randint(1, 8)):
                if b and rnd.random() < 0.5:
                    b[rnd.randrange(len(b))] = rnd.randrange(256)
                else:
                    pos = rnd.randint(0, len(b))
                    b[pos:pos] = rnd.choice(INTERESTING)
            body = bytes(b)
        else:  # query string
            parts = lines[0].split(b" ")
            if len(parts) >= 2:
                q = rnd.choice([b"reason=", b"role=", b"reader=", b"wc=", b"ww=", b"x="]) + rnd.choice(INTERESTING)
                parts[1] += (b"&" if b"?" in parts[1] else b"?") + q
            lines[0] = b" ".join(parts)
    if rnd.random() < 0.03:  # chunked framing by hand
        lines = [l for l in lines if not l.lower().startswith(b"content-length:")]
        lines.append(b"Transfer-Encoding: chunked")
        chunks = rnd.choice([b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n", b"ffffffffffffffff\r\n" + body,
                             b"-5\r\nab\r\n0\r\n\r\n", b"0\r\n\r\n"])
        return b"\r\n".join(lines) + b"\r\n\r\n" + chunks
    return join_request(lines, body, fix_length)


def send(host, port, data, timeout):
    """The first reply to data (complete by Content-Length, or up to the close / timeout); b"" when none."""
    s = socket.create_connection((host, port), timeout=timeout)
    buf = b""
    try:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may answer (413, 400) and close before reading everything
        while True:
            try:
                c = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not c:
                break
            buf += c
            head, sep, body = buf.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        try:
                            length = int(v.strip())
                        except ValueError:
                            length = 0
                if data.startswith(b"HEAD") or len(body) >= length:
                    break
            if len(buf) > 8 << 20:
                break
        return buf
    finally:
        s.close()


def status_of(reply):
    if not reply.startswith(b"HTTP/1."):
        return None
    try:
        return int(reply[9:12])
    except ValueError:
        return None


def login(host, port, name, password, archive):
    body = json.dumps({"name": name, "password": password}).encode()
    req = (b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
           b"Connection: close\r\n\r\n" % len(body)) + body
    reply = send(host, port, req, 30)
    if status_of(reply) == 429 and archive:  # the fuzzer's own failures locked it out: clear and retry
        db = sqlite3.connect(os.path.join(archive, "recistry.db"), timeout=30)
        db.execute("DELETE FROM login_failures")
        db.commit()
        db.close()
        reply = send(host, port, req, 30)
    if status_of(reply) != 200:
        raise SystemExit("http_fuzz: cannot log in as %s: %r" % (name, reply[:200]))
    head, _, body = reply.partition(b"\r\n\r\n")
    cookie = [l for l in head.split(b"\r\n") if l.lower().startswith(b"set-cookie: rcy_session=")][0]
    token = cookie.split(b"=", 1)[1].split(b";", 1)[0].decode()
    return token, json.loads(body)["csrf_token"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--findings", required=True)
    ap.add_argument("--archive", help="to clear login_failures when the fuzzer locked itself out")
    ap.add_argument("--user", default="fuzzer")
    ap.add_argument("--password", required=True)
    ap.add_argument("--context", help="JSON object: SUBJECT, SOP, STUDY, SERIES, KEY")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    ctx = json.loads(a.context) if a.context else {}
    token, csrf = login(a.host, a.port, a.user, a.password, a.archive)
    ctx.update(COOKIE=token, CSRF=csrf)
    seeds = []
    for f in sorted(os.listdir(a.corpus)):
        with open(os.path.join(a.corpus, f), "rb") as fh:
            raw = fh.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if not raw.endswith(b"\r\n\r\n") and b"\r\n\r\n" not in raw:
            raw += b"\r\n\r\n"
        seeds.append((f, raw))
    os.makedirs(a.findings, exist_ok=True)
    stats = {"sent": 0, "no_reply": 0, "statuses": {}, "findings": 0}
    end = time.time() + a.seconds
    last_health = 0
    while time.time() < end:
        name, raw = rnd.choice(seeds)
        req = mutate(fill(raw, ctx), rnd) if rnd.random() < 0.95 else join_request(*split_request(fill(raw, ctx)), True)
        try:
            reply = send(a.host, a.port, req, 1)
        except (ConnectionRefusedError, socket.timeout) as e:
            reply = None
            err = e
        except OSError as e:
            reply, err = b"", e
        stats["sent"] += 1
        st = status_of(reply) if reply else None
        # 505 is libmicrohttpd's correct answer to "HTTP/2.0" or "HTTP/9" in the request line, not a failure.
        if reply is None or (st is not None and st >= 500 and st != 505):
            stats["findings"] += 1
            path = os.path.join(a.findings, "finding-%d-%s" % (stats["sent"], name))
            with open(path, "wb") as fh:
                fh.write(req)
            print("http_fuzz: finding (%s) from seed %s, saved %s" %
                  ("status %d" % st if st else "no answer: %s" % err, name, path), flush=True)
            if reply is None:
                time.sleep(1)
                try:
                    send(a.host, a.port, b"GET /api/me HTTP/1.1\r\nHost: x\r\n\r\n", 10)
                except OSError:
                    print("http_fuzz: the server is down", flush=True)
                    break
        if not reply:
            stats["no_reply"] += 1
        else:
            stats["statuses"][st] = stats["statuses"].get(st, 0) + 1
        if time.time() - last_health > 5:  # the session may have been logged out by a mutated request
            last_health = time.time()
            me = send(a.host, a.port, b"GET /api/me HTTP/1.1\r\nHost: x\r\nCookie: rcy_session=" +
                      ctx["COOKIE"].encode() + b"\r\nConnection: close\r\n\r\n", 20)
            if status_of(me) == 401:
                token, csrf = login(a.host, a.port, a.user, a.password, a.archive)
                ctx.update(COOKIE=token, CSRF=csrf)
    print("http_fuzz: %d requests, %d without reply, %d findings, statuses %s, seed %d" %
          (stats["sent"], stats["no_reply"], stats["findings"],
           json.dumps({str(k): v for k, v in sorted(stats["statuses"].items(), key=lambda x: str(x[0]))}), a.seed),
          flush=True)
    return 1 if stats["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
