#!/usr/bin/env bash
# Dashboard protocol edges on the wire, against `replay --dashboard`, with a
# raw-socket stdlib client (shares no code with QuoteWatch or lws):
#  - methods other than GET/HEAD (TRACE, PROPFIND, CONNECT, DELETE) -> 405
#    with "Allow: GET, HEAD" (RFC 9110 15.5.6)
#  - a URI over 2 KiB -> 414 (RFC 9110 15.5.15); known headers plus URI
#    over 4 KiB -> 431 (RFC 6585 5), on plain requests and upgrades
#  - WebSocket upgrades refused unless GET /ws, version 13, subprotocol
#    qw-state (RFC 6455 4.2.1/4.2.2): POST -> 405, /healthz -> 400, version
#    7 -> 426 with Sec-WebSocket-Version: 13, no subprotocol -> 400; the
#    proper upgrade -> 101 with Sec-WebSocket-Protocol: qw-state
#  - after the upgrade (our framing, src/dashboard/wsconn.c): an unmasked
#    client frame, RSV1 without an extension and a continuation with nothing
#    to continue -> close 1002; invalid UTF-8 in a text frame -> close 1007;
#    a 5000-byte message -> close 1009 (RFC 6455 5.1, 5.2, 5.4, 8.1, 7.4.1);
#    another client keeps receiving pushes meanwhile; masked frames work: a
#    subscription to an unknown product gets its error, a ping its pong, a
#    close 1000 is echoed; permessage-deflate is agreed when offered and the
#    pushes inflate to JSON
#  - slowloris: a client sending one header byte a second is dropped within
#    15 s while another client still gets /healthz in under 1 s
# Heads are read first by QuoteWatch's front (src/dashboard/front.c), which
# answers those lws 4.1.6 would close without a reply: a 17000-byte URI ->
# 414, a 17000-byte header and a 1 MiB header stream -> 431 (the server
# keeps serving), 1026 small unknown headers -> 431, 92 repeats of a known
# header -> 431 (never a silent close), the same on upgrades; bare LF, NUL,
# a request line without a version -> 400; keep-alive: 2 and 10 requests on
# one connection answered, an oversized second head -> 414, a second request
# upgrading -> 101; pipelining: 3 and 20 requests sent in one write all
# answered in order, an over-long second URI -> 414, a POST with a body
# after a GET leaves the server serving. Marked "limit": lws 4.1.6 cannot list headers it does not
# know, so a 5000-byte unknown header is served (the front's 8 KiB applies).
# At the end /metrics must count exactly its own connection.
# Every case is checked and reported; the test fails if any case failed.
source "$(dirname "$0")/lib.sh"
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$QW_BIN" replay --dashboard --port "$port" --bind 127.0.0.1 --speed 1x "$REAL" --log-level debug \
  2>"$T/replay.log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$T"' EXIT
for i in $(seq 100); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
[ "$(curl -s "http://127.0.0.1:$port/healthz")" = ok ] || die "dashboard did not come up"
"$PY" - "$port" "$T/replay.log" <<'PY' || die "protocol edges (see above)"
import base64, os, socket, struct, sys, threading, time

PORT = int(sys.argv[1])
failed = []


def check(name, ok, got, limit=False):
    print(("ok    " if ok else "FAIL  ") + ("limit " if limit else "") + name + ": " + got)
    if not ok:
        failed.append(name)


def conn(timeout=5.0):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_head(s, timeout=5.0):
    """(status, {header: value}, rest) or (None, {}, why)."""
    s.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                return None, {}, "closed without a reply" if not buf else "truncated reply"
            buf += d
    except socket.timeout:
        return None, {}, "no reply in %.0f s" % timeout
    except ConnectionResetError:
        return None, {}, "connection reset"
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin1").split("\r\n")
    parts = lines[0].split(" ", 2)
    hdr = {}
    for l in lines[1:]:
        if ":" in l:
            k, v = l.split(":", 1)
            hdr[k.strip().lower()] = v.strip()
    return int(parts[1]), hdr, rest


def http(raw):
    s = conn()
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass
    st, hdr, rest = read_head(s)
    s.close()
    return st, hdr, rest


def desc(st, hdr, rest):
    if st is None:
        return rest
    return "%d%s" % (st, "".join(" [%s: %s]" % (k, hdr[k]) for k in
                                 ("allow", "sec-websocket-version", "sec-websocket-protocol")
                                 if k in hdr))


# ---- methods ----
host = "Host: 127.0.0.1:%d\r\n" % PORT
for m, target in (("TRACE", "/"), ("PROPFIND", "/"), ("CONNECT", "127.0.0.1:%d" % PORT),
                  ("DELETE", "/")):
    st, hdr, rest = http(("%s %s HTTP/1.1\r\n%s\r\n" % (m, target, host)).encode())
    allow = hdr.get("allow", "").replace(" ", "").upper()
    check("%s -> 405 Allow: GET, HEAD" % m, st == 405 and allow == "GET,HEAD", desc(st, hdr, rest))


def upgrade(method="GET", path="/ws", version="13", proto="qw-state", extra=""):
    s = conn()
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("%s %s HTTP/1.1\r\n%sUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: %s\r\n" % (method, path, host, key, version))
    if proto:
        req += "Sec-WebSocket-Protocol: %s\r\n" % proto
    s.sendall((req + extra + "\r\n").encode())
    st, hdr, rest = read_head(s)
    return s, st, hdr, rest


# ---- sizes ----
st, hdr, rest = http(("GET /%s HTTP/1.1\r\n%s\r\n" % ("a" * 3000, host)).encode())
check("URI of 3000 bytes -> 414", st == 414, desc(st, hdr, rest))
for n in (5000, 15000):
    st, hdr, rest = http(("GET /%s HTTP/1.1\r\n%s\r\n" % ("a" * n, host)).encode())
    check("URI of %d bytes -> 414" % n, st == 414, desc(st, hdr, rest))
st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%sUser-Agent: %s\r\n\r\n" % (host, "b" * 5000)).encode())
check("User-Agent of 5000 bytes -> 431", st == 431, desc(st, hdr, rest))
st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%sUser-Agent: %s\r\nReferer: %s\r\nCookie: %s\r\n\r\n"
                      % (host, "u" * 1500, "r" * 1500, "c" * 1500)).encode())
check("three known headers of 1500 bytes -> 431", st == 431, desc(st, hdr, rest))
s, st, hdr, rest = upgrade(extra="User-Agent: %s\r\n" % ("w" * 5000)); s.close()
check("WebSocket upgrade with a 5000-byte User-Agent -> 431", st == 431, desc(st, hdr, rest))
st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%sX-Big: %s\r\n\r\n" % (host, "b" * 5000)).encode())
check("unknown header of 5000 bytes -> 200 (lws 4.1.6 cannot list unknown headers)", st == 200,
      desc(st, hdr, rest), limit=True)
st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%sX-Big: %s\r\n\r\n" % (host, "b" * 1000)).encode())
check("header of 1000 bytes -> 200", st == 200, desc(st, hdr, rest))
# heads lws 4.1.6 would close without a reply: front.c answers them
st, hdr, rest = http(("GET /%s HTTP/1.1\r\n%s\r\n" % ("a" * 17000, host)).encode())
check("URI of 17000 bytes -> 414", st == 414, desc(st, hdr, rest))
st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%sX-Big: %s\r\n\r\n" % (host, "b" * 17000)).encode())
check("header of 17000 bytes -> 431", st == 431, desc(st, hdr, rest))
st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%sX-Big: %s\r\n\r\n" % (host, "b" * (1 << 20))).encode())
check("header stream of 1 MiB -> 431", st == 431, desc(st, hdr, rest))
st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%s\r\n" % host).encode())
check("/healthz after the 1 MiB header -> 200", st == 200, desc(st, hdr, rest))
s, st, hdr, rest = upgrade(extra="X-Big: %s\r\n" % ("w" * 17000)); s.close()
check("WebSocket upgrade with a 17000-byte header -> 431", st == 431, desc(st, hdr, rest))
unknown = "".join("X-H%d: v\r\n" % i for i in range(1026))
st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%s%s\r\n" % (host, unknown)).encode())
check("1026 unknown headers -> 431", st == 431, desc(st, hdr, rest))
s, st, hdr, rest = upgrade(extra=unknown); s.close()
check("WebSocket upgrade with 1026 unknown headers -> 431", st == 431, desc(st, hdr, rest))
st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%s%s\r\n" % (host, "Accept: a\r\n" * 92)).encode())
check("92 repeats of a known header -> 431 or 200, never a silent close", st in (200, 431),
      desc(st, hdr, rest))
s, st, hdr, rest = upgrade(extra="Accept: a\r\n" * 92); s.close()
check("WebSocket upgrade with 92 repeats of a known header -> 431 or 101", st in (101, 431),
      desc(st, hdr, rest))
st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%s%s\r\n" % (host, "X-H: v\r\n" * 60)).encode())
check("60 unknown headers -> 200", st == 200, desc(st, hdr, rest))
for raw, name in ((b"GET /healthz HTTP/1.1\nHost: x\n\n", "bare LF"),
                  (b"GET /healthz HTTP/1.1\r\nHost: x\x00\r\n\r\n", "NUL in a header"),
                  (b"GET /healthz\r\n\r\n", "request line without a version")):
    st, hdr, rest = http(raw)
    check("%s -> 400" % name, st == 400, desc(st, hdr, rest))


# ---- keep-alive: every head on a connection is checked before lws sees it ----
def response(s, timeout=5.0):
    """one whole response (head and content-length body) from s, or None"""
    st, hdr, rest = read_head(s, timeout)
    if st is None:
        return None, rest
    n = int(hdr.get("content-length", "0"))
    s.settimeout(timeout)
    try:
        while len(rest) < n:
            d = s.recv(65536)
            if not d:
                return None, "body cut short"
            rest += d
    except socket.timeout:
        return None, "body incomplete"
    if len(rest) != n:
        return None, "%d bytes after the body" % (len(rest) - n)
    return st, "ok"


def keepalive(paths):
    s, got = conn(), []
    for p in paths:
        s.sendall(("GET %s HTTP/1.1\r\n%s\r\n" % (p, host)).encode())
        st, why = response(s)
        got.append(st if st is not None else why)
        if st is None:
            break
    s.close()
    return got


got = keepalive(["/healthz", "/api/state"])
check("keep-alive: two requests on one connection -> 200 200", got == [200, 200], str(got))
paths = ["/healthz", "/readyz", "/metrics", "/api/state", "/", "/nope"] * 2
got = keepalive(paths[:10])
check("keep-alive: ten requests on one connection all answered",
      len(got) == 10 and all(isinstance(g, int) for g in got), str(got))
got = keepalive(["/healthz", "/" + "a" * 17000])
check("keep-alive: a 17000-byte URI as the second request -> 414", got == [200, 414], str(got))
s = conn()
s.sendall(("GET /healthz HTTP/1.1\r\n%s\r\n" % host).encode())
st1, _ = response(s)
s2, st, hdr, rest = None, None, {}, ""
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /ws HTTP/1.1\r\n%sUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Protocol: qw-state\r\n\r\n" % (host, key)).encode())
st, hdr, rest = read_head(s)
s.close()
check("keep-alive: /healthz then a WebSocket upgrade on one connection -> 200 101",
      st1 == 200 and st == 101, "%s %s" % (st1, desc(st, hdr, rest)))




def pipelined(paths, timeout=5.0):
    """sends every request in one write (RFC 9112 9.3.2 pipelining); the
    statuses of the responses, in order, until all came or timeout"""
    s = conn()
    s.sendall("".join("GET %s HTTP/1.1\r\n%s\r\n" % (p, host) for p in paths).encode())
    s.settimeout(timeout)
    buf, got = b"", []
    try:
        while len(got) < len(paths):
            while b"\r\n\r\n" in buf:
                head, rest = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin1").split("\r\n")
                n = 0
                for l in lines[1:]:
                    if l.lower().startswith("content-length:"):
                        n = int(l.split(":", 1)[1])
                if len(rest) < n:
                    break
                got.append(int(lines[0].split(" ")[1]))
                buf = rest[n:]
            if len(got) == len(paths):
                break
            d = s.recv(65536)
            if not d:
                got.append("closed")
                break
            buf += d
    except socket.timeout:
        got.append("no reply in %.0f s" % timeout)
    s.close()
    return got


# a keep-alive response the client is slow to read (2 KiB receive buffer,
# 1 s before reading): lws cannot flush it at once, the handback waits for
# the flush (front.c, "handback deferred" in the debug log), and the next
# request on the connection is answered
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.connect(("127.0.0.1", PORT))
s.sendall(("GET /api/state HTTP/1.1\r\n%s\r\n" % host).encode())
time.sleep(1.0)
st1, why = response(s, 10.0)
s.sendall(("GET /healthz HTTP/1.1\r\n%s\r\n" % host).encode())
st2, why2 = response(s)
s.close()
deferred = "handback deferred" in open(sys.argv[2]).read()
check("keep-alive: a response read slowly, then a second request -> 200 200, handback deferred",
      st1 == 200 and st2 == 200 and deferred, "%s %s %s %s deferred=%s" % (st1, why, st2, why2, deferred))

got = pipelined(["/healthz", "/readyz", "/nope"])
check("pipelining: three requests in one write -> 200 200 404, in order", got == [200, 200, 404],
      str(got))
got = pipelined(["/healthz"] * 20)
check("pipelining: twenty requests in one write all answered", got == [200] * 20, str(got))
got = pipelined(["/healthz", "/" + "a" * 3000])
check("pipelining: an over-long URI as the second request -> 200 414 (the front checks it)",
      got == [200, 414], str(got))
s = conn()
s.sendall(("GET /healthz HTTP/1.1\r\n%s\r\nPOST /api/state HTTP/1.1\r\n%sContent-Length: 3"
           "\r\n\r\nx=1GET /readyz HTTP/1.1\r\n%s\r\n" % (host, host, host)).encode())
st1, _ = read_head(s)[0], None
s.close()
check("pipelining: GET then a POST with a body -> 200 first, the server stays up",
      st1 == 200 and http(("GET /healthz HTTP/1.1\r\n%s\r\n" % host).encode())[0] == 200,
      str(st1))


# ---- WebSocket handshake ----


s, st, hdr, rest = upgrade(method="POST"); s.close()
check("upgrade with POST -> 405", st == 405, desc(st, hdr, rest))
s, st, hdr, rest = upgrade(path="/healthz"); s.close()
check("upgrade on /healthz -> 400", st == 400, desc(st, hdr, rest))
s, st, hdr, rest = upgrade(version="7"); s.close()
check("upgrade with version 7 -> 426 + Sec-WebSocket-Version: 13",
      st == 426 and hdr.get("sec-websocket-version") == "13", desc(st, hdr, rest))
s, st, hdr, rest = upgrade(proto=None); s.close()
check("upgrade without the subprotocol -> 400", st == 400, desc(st, hdr, rest))
s, st, hdr, rest = upgrade(); s.close()
check("GET /ws version 13 qw-state -> 101 qw-state",
      st == 101 and hdr.get("sec-websocket-protocol") == "qw-state", desc(st, hdr, rest))


# ---- frames after a proper upgrade ----
def frame(op, payload, fin=True, rsv=0, mask=True):
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload)
    if n < 126:
        h = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    else:
        h = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    if not mask:
        return h + payload
    k = os.urandom(4)
    return h + k + bytes(c ^ k[i % 4] for i, c in enumerate(payload))


def close_code(send, wait=5):
    """Upgrade, send the bytes, return the close code the server sends."""
    frames, end = exchange(send, wait)
    if end == "close":
        pl = frames[-1][2]
        return struct.unpack("!H", pl[:2])[0] if len(pl) >= 2 else "close without a code"
    return end


def exchange(send, wait=5, extra=""):
    """Upgrade, send the bytes after the first push, return the frames
    (opcode, rsv1, payload) the server sends after that until its close
    frame or wait seconds, and how it ended: "close" or why not."""
    s, st, hdr, rest = upgrade(extra=extra)
    if st != 101:
        return [], "handshake got %s" % desc(st, hdr, rest)
    buf, deadline, sent, got = rest, time.monotonic() + wait, False, []
    while True:
        while True:  # parse whole frames out of buf (server frames are unmasked)
            if len(buf) < 2:
                break
            op, n, off = buf[0] & 15, buf[1] & 127, 2
            if n == 126:
                if len(buf) < 4: break
                n, off = struct.unpack("!H", buf[2:4])[0], 4
            elif n == 127:
                if len(buf) < 10: break
                n, off = struct.unpack("!Q", buf[2:10])[0], 10
            if len(buf) < off + n:
                break
            rsv1, pl, buf = (buf[0] >> 6) & 1, buf[off:off + n], buf[off + n:]
            if sent:
                got.append((op, rsv1, pl))
            if op == 1 and not sent:  # the first push is in: now misbehave
                s.sendall(send)
                sent = True
            if op == 8:
                s.close()
                return got, "close"
        left = deadline - time.monotonic()
        if left <= 0:
            s.close()
            return got, "still open after %d s" % wait
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return got, "reset without a close frame"
        if not d:
            return got, "closed without a close frame"
        buf += d


def pushes(s, buf, secs):
    """how many text frames (pushes) s receives in secs"""
    n, end = 0, time.monotonic() + secs
    while time.monotonic() < end:
        while len(buf) >= 2:
            ln, off = buf[1] & 127, 2
            if ln == 126:
                if len(buf) < 4: break
                ln, off = struct.unpack("!H", buf[2:4])[0], 4
            elif ln == 127:
                if len(buf) < 10: break
                ln, off = struct.unpack("!Q", buf[2:10])[0], 10
            if len(buf) < off + ln:
                break
            n += (buf[0] & 15) == 1
            buf = buf[off + ln:]
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        if not d:
            break
        buf += d
    return n


# RFC 6455 5.1: a server must close on an unmasked frame
other, st, hdr, rest = upgrade()
c = close_code(frame(1, b"hello", mask=False) * 50, wait=2)
check("unmasked client frames -> close 1002", c == 1002, str(c))
n = pushes(other, rest, 2.5)
check("another client keeps receiving pushes meanwhile", n >= 5, "%d pushes in 2.5 s" % n)
other.close()
st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%s\r\n" % host).encode())
check("/healthz after the unmasked frames -> 200", st == 200, desc(st, hdr, rest))
c = close_code(frame(1, b"hello", rsv=4))
check("RSV1 without an extension -> close 1002", c == 1002, str(c))
c = close_code(frame(1, b"\xc3\x28 bad"))
check("text with invalid UTF-8 -> close 1007", c == 1007, str(c))
c = close_code(frame(0, b"orphan"))
check("continuation with nothing to continue -> close 1002", c == 1002, str(c))
c = close_code(frame(1, b"x" * 5000))
check("a 5000-byte message -> close 1009", c == 1009, str(c))

# masked frames work
got, end = exchange(frame(1, b'{"subscribe":"NOPE-XXX"}'), wait=2)
errs = [pl for op, _, pl in got if op == 1 and pl.startswith(b'{"error"')]
check("masked subscription to an unknown product -> its error, connection kept",
      len(errs) == 1 and end.startswith("still open"), "%s, %s" % (errs[:1], end))
got, end = exchange(frame(9, b"hb-7") + frame(8, struct.pack("!H", 1000) + b"done"), wait=3)
pongs = [pl for op, _, pl in got if op == 10]
closes = [pl for op, _, pl in got if op == 8]
check("masked ping -> pong with its payload; close 1000 -> close 1000 echoed",
      pongs == [b"hb-7"] and end == "close" and closes[0][:2] == struct.pack("!H", 1000),
      "pongs %s, %s %s" % (pongs, end, closes[:1]))

# permessage-deflate as a browser offers it
import zlib
s, st, hdr, rest = upgrade(extra="Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")
ext = hdr.get("sec-websocket-extensions", "")
inflater, texts, buf, end_t = zlib.decompressobj(-15), [], rest, time.monotonic() + 3
while len(texts) < 3 and time.monotonic() < end_t:
    while len(buf) >= 2:
        ln, off = buf[1] & 127, 2
        if ln == 126:
            if len(buf) < 4: break
            ln, off = struct.unpack("!H", buf[2:4])[0], 4
        elif ln == 127:
            if len(buf) < 10: break
            ln, off = struct.unpack("!Q", buf[2:10])[0], 10
        if len(buf) < off + ln:
            break
        b0, pl, buf = buf[0], buf[off:off + ln], buf[off + ln:]
        if b0 & 0x40:
            pl = inflater.decompress(pl + b"\x00\x00\xff\xff")
        texts.append((b0, pl))
    s.settimeout(0.5)
    try:
        d = s.recv(65536)
    except socket.timeout:
        continue
    if not d:
        break
    buf += d
s.close()
ok = ext == "permessage-deflate" and len(texts) >= 3 and all(b0 == 0xc1 for b0, _ in texts)
try:
    import json
    ok = ok and all("products" in json.loads(t) for _, t in texts)
except ValueError:
    ok = False
check("permessage-deflate offered -> agreed, pushes compressed (RSV1) and inflate to JSON", ok,
      "extension '%s', %d pushes, first bytes %s" % (ext, len(texts), [b0 for b0, _ in texts][:3]))

# ---- slowloris ----
slow = conn(timeout=20)
req = ("GET /healthz HTTP/1.1\r\n%sX-Slow: %s\r\n\r\n" % (host, "z" * 40)).encode()
t0, dropped_after, worst = time.monotonic(), None, 0.0
for i in range(len(req)):
    try:
        slow.sendall(req[i:i + 1])
    except (BrokenPipeError, ConnectionResetError):
        dropped_after = time.monotonic() - t0
        break
    slow.settimeout(0.01)
    try:
        if slow.recv(1024) == b"":
            dropped_after = time.monotonic() - t0
            break
    except socket.timeout:
        pass
    except ConnectionResetError:
        dropped_after = time.monotonic() - t0
        break
    t1 = time.monotonic()
    st, hdr, rest = http(("GET /healthz HTTP/1.1\r\n%sConnection: close\r\n\r\n" % host).encode())
    worst = max(worst, time.monotonic() - t1)
    if st != 200:
        worst = 99
    if time.monotonic() - t0 > 20:
        break
    time.sleep(max(0, 1 - (time.monotonic() - t1)))
slow.close()
check("slowloris (1 byte/s) dropped within 15 s",
      dropped_after is not None and dropped_after <= 15,
      "dropped after %.1f s" % dropped_after if dropped_after is not None else "not dropped in 20 s")
check("/healthz under 1 s during the slowloris", worst < 1, "slowest %.3f s" % worst)

if failed:
    print("%d case(s) failed" % len(failed))
    sys.exit(1)
print("all cases ok")
PY
[ "$(curl -s "http://127.0.0.1:$port/healthz")" = ok ] || die "server died during the protocol cases"
# connection accounting (limits.c) stays exact through front -> http -> front
# -> ws handoffs and refusals: once every case's socket is gone, /metrics
# counts one open connection, its own (refusals linger up to 3 s)
open_conns=
for i in $(seq 80); do
  open_conns=$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "quotewatch_dashboard_connections" {print $2}')
  [ "$open_conns" = 1 ] && break
  sleep 0.1
done
[ "$open_conns" = 1 ] || die "quotewatch_dashboard_connections is $open_conns after every case, expected 1"
echo "ok    connections counted exactly: 1 open (this request) after every case"
# lws 4.1.6 logs each lws_adopt_socket_vhost_readbuf as an error: host.c filters it
! grep -q "adopt_socket_readbuf" "$T/replay.log" || die "lws's adoption log reached stderr"
kill -TERM $pid; rc=0; wait $pid || rc=$?
[ "$rc" = 0 ] || die "replay --dashboard exited $rc on SIGTERM"
echo "dashboard protocol: ok"
