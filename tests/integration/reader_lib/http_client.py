#!/usr/bin/python3
"""The one HTTP client of a reader test (sourced helpers in server.sh talk to it; not a test itself).

A test used to start a curl (and a jq for every 4xx) per request: hundreds of processes, each costing
tens of milliseconds of CPU on a loaded machine, most of the test's CPU. This process stays up for the
whole test, keeps one keep-alive connection to the server, and answers the helpers' requests over two
FIFOs. It behaves as the curl command lines it replaces did: the path goes out as written (--path-as-is),
the session cookie and the CSRF token saved at login are sent (and never updated from a later response,
as `curl -b JAR` never writes the jar), a body goes with Content-Type: application/json, the response
body lands in $T/out. jq expressions on a response are evaluated by libjq itself (ctypes), so the tests'
jq programs mean exactly what they meant to the jq command.

Protocol: requests are NUL-terminated fields on stdin, the verb first; each answer is one line on
stdout, "<status> <text>", the text's backslashes doubled and its newlines written \\n.
  url URL                                   the server's base URL (again after a restart)
  login NAME                                POST /api/login with $T/NAME.pw; status = HTTP code; writes
                                            $T/NAME.jar (curl's cookie file format) and $T/NAME.csrf
  call WHO METHOD PATH BODY CTYPE HDRFILE   status = HTTP code; CTYPE "" = JSON when there is a body;
                                            HDRFILE "" = none, else the status line and headers go there
  expect WANT WHO METHOD PATH BODY          status = HTTP code; text "ok", "code" or "noerror" (a 4xx
                                            without {"error": "<message>"})
  jq MODE PROGRAM FILE N [KIND NAME VALUE]*N  MODE e (jq -e), r (jq -r), c (jq -c), j (jq); KIND arg,
                                            argjson or slurpfile (jq's --KIND NAME VALUE); status is zero
                                            when jq's exit status would be, text its output
"""
import ctypes, http.client, json, os, sys, time, urllib.parse

T = sys.argv[1]


# ---- libjq (the jq command's own library)
class Jv(ctypes.Structure):
    _fields_ = [("kind_flags", ctypes.c_ubyte), ("pad_", ctypes.c_ubyte), ("offset", ctypes.c_ushort),
                ("size", ctypes.c_int), ("u", ctypes.c_void_p)]


jq = ctypes.CDLL("libjq.so.1")
for name, res, args in [
        ("jq_init", ctypes.c_void_p, []), ("jq_compile_args", ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, Jv]),
        ("jq_start", None, [ctypes.c_void_p, Jv, ctypes.c_int]), ("jq_next", Jv, [ctypes.c_void_p]),
        ("jq_teardown", None, [ctypes.POINTER(ctypes.c_void_p)]),
        ("jq_set_error_cb", None, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]),
        ("jv_parser_new", ctypes.c_void_p, [ctypes.c_int]), ("jv_parser_free", None, [ctypes.c_void_p]),
        ("jv_parser_set_buf", None, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]),
        ("jv_parser_next", Jv, [ctypes.c_void_p]), ("jv_get_kind", ctypes.c_int, [Jv]),
        ("jv_copy", Jv, [Jv]), ("jv_free", None, [Jv]), ("jv_object", Jv, []), ("jv_array", Jv, []),
        ("jv_object_set", Jv, [Jv, Jv, Jv]), ("jv_array_append", Jv, [Jv, Jv]),
        ("jv_array_length", ctypes.c_int, [Jv]), ("jv_array_get", Jv, [Jv, ctypes.c_int]),
        ("jv_string_sized", Jv, [ctypes.c_char_p, ctypes.c_int]),
        ("jv_invalid_has_msg", ctypes.c_int, [Jv]), ("jv_invalid_get_msg", Jv, [Jv]),
        ("jv_dump_string", Jv, [Jv, ctypes.c_int]), ("jv_string_value", ctypes.c_void_p, [Jv]),
        ("jv_string_length_bytes", ctypes.c_int, [Jv])]:
    f = getattr(jq, name)
    f.restype, f.argtypes = res, args
JV_KIND_INVALID, JV_KIND_NULL, JV_KIND_FALSE, JV_KIND_STRING = 0, 1, 2, 5
JV_PRINT_PRETTY, JV_PRINT_SPACE1 = 1, 512  # jq's default output: pretty, indent 2 (JV_PRINT_INDENT_FLAGS(2))
JV_PRINT_INDENT_2 = 2 << 8
ERR_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, Jv)


def _on_error(_data, msg):
    jq.jv_free(msg)  # the message is ours to free; jq's own exit status says enough


_err_cb = ERR_CB(_on_error)
_programs = {}


def _text(v):  # a jv string's bytes (v is not freed; jv_string_length_bytes frees its argument)
    return ctypes.string_at(jq.jv_string_value(v), jq.jv_string_length_bytes(jq.jv_copy(v)))


def _parse_all(data):
    """Every JSON text in data, as jq reads a file: a jv array, or None when one does not parse."""
    parser = jq.jv_parser_new(0)
    jq.jv_parser_set_buf(parser, data, len(data), 0)
    arr = jq.jv_array()
    while True:
        v = jq.jv_parser_next(parser)
        if jq.jv_get_kind(v) == JV_KIND_INVALID:
            bad = jq.jv_invalid_has_msg(v)
            break
        arr = jq.jv_array_append(arr, v)
    jq.jv_parser_free(parser)
    if bad:
        jq.jv_free(arr)
        return None
    return arr


def _named_args(opts):
    """--arg/--argjson/--slurpfile triples → a jv object for jq_compile_args, or None when one is invalid."""
    obj = jq.jv_object()
    for kind, name, value in opts:
        if kind == "arg":
            b = value.encode("utf-8", "surrogateescape")
            v = jq.jv_string_sized(b, len(b))
        elif kind in ("argjson", "slurpfile"):
            try:
                data = value.encode() if kind == "argjson" else open(value, "rb").read()
            except OSError:
                data = None
            v = _parse_all(data) if data is not None else None
            if v is not None and kind == "argjson":  # exactly one text
                if jq.jv_array_length(jq.jv_copy(v)) != 1:
                    jq.jv_free(v)
                    v = None
                else:
                    v = jq.jv_array_get(v, 0)
        else:
            v = None
        if v is None:
            jq.jv_free(obj)
            return None
        n = name.encode()
        obj = jq.jv_object_set(obj, jq.jv_string_sized(n, len(n)), v)
    return obj


def run_jq(mode, program, path, opts=()):
    """jq [-e|-r|-c] PROGRAM FILE: (exit status, output bytes). Zero when and only when the jq command's
    is: 2 unreadable or invalid input, 3 a program that does not compile, 5 an error on the last input;
    with -e, 1 if the last output is false or null and 4 if there were inputs and no output."""
    try:
        data = open(path, "rb").read()
    except OSError:
        return 2, b""
    key = (program, tuple(opts))
    state = _programs.get(key)
    if state is None:
        args = _named_args(opts)
        if args is None:
            return 2, b""
        state = jq.jq_init()
        jq.jq_set_error_cb(state, ctypes.cast(_err_cb, ctypes.c_void_p), None)
        if not jq.jq_compile_args(state, program.encode(), args):
            return 3, b""
        _programs[key] = state
    # every JSON text of the file is an input, as for the jq command
    parser = jq.jv_parser_new(0)
    jq.jv_parser_set_buf(parser, data, len(data), 0)
    out, last, status, inputs = [], None, 0, 0
    while True:
        doc = jq.jv_parser_next(parser)
        if jq.jv_get_kind(doc) == JV_KIND_INVALID:
            if jq.jv_invalid_has_msg(jq.jv_copy(doc)):
                status = 2
            jq.jv_free(doc)
            break
        inputs += 1
        status = 0  # the exit status is the last input's
        jq.jq_start(state, doc, 0)
        while True:
            v = jq.jq_next(state)
            if jq.jv_get_kind(v) == JV_KIND_INVALID:
                if jq.jv_invalid_has_msg(jq.jv_copy(v)):
                    status = 5
                jq.jv_free(v)
                break
            kind = jq.jv_get_kind(v)
            last = kind
            if mode == "r" and kind == JV_KIND_STRING:
                out.append(_text(v) + b"\n")
            elif mode != "e":
                s = jq.jv_dump_string(jq.jv_copy(v), 0 if mode == "c" else JV_PRINT_PRETTY | JV_PRINT_INDENT_2)
                out.append(_text(s) + b"\n")
                jq.jv_free(s)
            jq.jv_free(v)
    jq.jv_parser_free(parser)
    if status == 0 and mode == "e" and inputs:  # (no input at all: 0, as jq says)
        status = 4 if last is None else 1 if last in (JV_KIND_NULL, JV_KIND_FALSE) else 0
    return status, b"".join(out)


# ---- HTTP
url = None
conn = None
sessions = {}  # name → (cookie header value, csrf token)


def connection():
    global conn
    if conn is None:
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    return conn


def request(method, path, body=None, headers=()):
    """One request on the kept connection (a fresh one when the server closed it): (status, headers, body)."""
    global conn
    data = body.encode() if isinstance(body, str) else body
    for attempt in (0, 1):
        c = connection()
        reused = c.sock is not None
        try:
            c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            c.putheader("Host", "%s:%s" % (c.host, c.port))
            c.putheader("Accept", "*/*")
            for k, v in headers:
                c.putheader(k, v)
            if data is not None:
                c.putheader("Content-Length", str(len(data)))
            c.endheaders(data)
            r = c.getresponse()
            payload = r.read()
            if r.will_close:
                c.close()
                conn = None
            return r.status, r, payload
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            c.close()
            conn = None
            if attempt or not reused:  # only a kept connection the server had closed is retried
                raise


def save_headers(path, r):
    with open(path, "w") as f:
        f.write("HTTP/1.1 %d %s\r\n" % (r.status, r.reason))
        for k, v in r.getheaders():
            f.write("%s: %s\r\n" % (k, v))
        f.write("\r\n")


def login(name):
    password = open("%s/%s.pw" % (T, name)).read().rstrip("\n")
    body = json.dumps({"name": name, "password": password}, separators=(",", ":"))
    status, r, payload = request("POST", "/api/login", body, [("Content-Type", "application/json")])
    open(T + "/out", "wb").write(payload)
    if status == 200:
        cookies = []
        jar = ["# Netscape HTTP Cookie File (written by http_client.py as curl -c would)"]
        host = urllib.parse.urlsplit(url).hostname
        for k, v in r.getheaders():
            if k.lower() != "set-cookie":
                continue
            pair, *attrs = [a.strip() for a in v.split(";")]
            cname, _, cvalue = pair.partition("=")
            cookies.append("%s=%s" % (cname, cvalue))
            age = [a.split("=", 1)[1] for a in attrs if a.lower().startswith("max-age=")]
            expires = int(time.time()) + int(age[0]) if age else 0
            http_only = any(a.lower() == "httponly" for a in attrs)
            jar.append("\t".join(["#HttpOnly_" + host if http_only else host, "FALSE", "/", "FALSE",
                                  str(expires), cname, cvalue]))
        csrf = json.loads(payload).get("csrf_token", "")
        sessions[name] = ("; ".join(cookies), csrf)
        open("%s/%s.jar" % (T, name), "w").write("\n".join(jar) + "\n")
        open("%s/%s.csrf" % (T, name), "w").write(str(csrf) + "\n")
    return status


def call(who, method, path, body, ctype="", hdrfile=""):
    headers = []
    if who != "-":
        cookie, csrf = sessions[who]
        headers.append(("Cookie", cookie))
        if method != "GET":
            headers.append(("X-CSRF-Token", csrf))
    if body:
        headers.append(("Content-Type", ctype or "application/json"))
    status, r, payload = request(method, path, body if body else None, headers)
    open(T + "/out", "wb").write(payload)
    if hdrfile:
        save_headers(hdrfile, r)
    return status, payload


def has_error_message(payload):
    try:
        e = json.loads(payload).get("error")
    except (ValueError, AttributeError):
        return False
    return isinstance(e, str) and len(e) > 0


# ---- the FIFO loop
buf = b""


def field():
    global buf
    while b"\0" not in buf:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            raise EOFError
        buf += chunk
    f, _, buf = buf.partition(b"\0")
    return f.decode("utf-8", "surrogateescape")


def answer(status, text=b""):
    if isinstance(text, str):
        text = text.encode()
    text = text.replace(b"\\", b"\\\\").replace(b"\n", b"\\n")  # one line; bash's printf %b undoes it
    sys.stdout.buffer.write(b"%d %s\n" % (status, text))
    sys.stdout.buffer.flush()


ARITY = {"url": 1, "login": 1, "call": 6, "expect": 5, "jq": 4}
while True:
    try:
        verb = field()
        args = [field() for _ in range(ARITY[verb])]
    except EOFError:
        break
    try:
        if verb == "url":
            url = args[0]
            if conn is not None:
                conn.close()
                conn = None
            answer(0)
        elif verb == "login":
            answer(login(args[0]))
        elif verb == "call":
            status, _ = call(*args)
            answer(status)
        elif verb == "expect":
            want, who, method, path, body = args
            status, payload = call(who, method, path, body)
            verdict = "ok"
            if str(status) != want:
                verdict = "code"
            elif 400 <= status < 500 and not has_error_message(payload):
                verdict = "noerror"
            answer(status, verdict)
        elif verb == "jq":
            mode, program, path, n = args
            opts = [(field(), field(), field()) for _ in range(int(n))]
            answer(*run_jq(mode, program, path, opts))
    except Exception as e:  # the test reports it; this process keeps serving
        answer(999, "%s: %s" % (type(e).__name__, e))
