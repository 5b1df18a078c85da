#!/usr/bin/env python3
"""dash_flood.py PORT SECONDS [MAX_OPEN] [SRC]: a hostile dashboard client mix
on loopback, bounded in connections and time. From SRC (default 127.0.0.2,
so a client on 127.0.0.1 is a different source address) it keeps up to
MAX_OPEN (default 3000) connections open to 127.0.0.1:PORT, reopening what
the server closes, for SECONDS:
  kind 0: GET /api/state over and over on a keep-alive connection
  kind 1: GET /metrics over and over
  kind 2: slowloris: one header byte every 0.5 s
  kind 3: WebSocket /ws upgrade, then never read (a slow reader)
  kind 4: connect and stay silent
Prints one JSON line: opened, refused (connect failed), closed_by_server,
responses, max_open."""
import errno, json, selectors, socket, sys, time

port, secs = int(sys.argv[1]), float(sys.argv[2])
max_open = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
src = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.2"
REQ = {0: b"GET /api/state HTTP/1.1\r\nHost: x\r\n\r\n", 1: b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"}
WS = (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      b"Sec-WebSocket-Protocol: qw-state\r\n\r\n")
SLOW = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000
sel = selectors.DefaultSelector()
st = {"opened": 0, "refused": 0, "closed_by_server": 0, "responses": 0, "max_open": 0}
conns = {}  # sock -> [kind, state, pos]
end = time.time() + secs
n = 0

def close(s):
    try:
        sel.unregister(s)
    except (KeyError, ValueError):
        pass
    conns.pop(s, None)
    s.close()

def open_one():
    global n
    kind = n % 5; n += 1
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        s.bind((src, 0))
    except OSError:
        s.close(); return
    s.setblocking(False)
    e = s.connect_ex(("127.0.0.1", port))
    if e not in (0, errno.EINPROGRESS):
        st["refused"] += 1; s.close(); return
    st["opened"] += 1
    conns[s] = [kind, "connecting", 0]
    sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ)

last_slow = 0.0
while time.time() < end:
    while len(conns) < max_open and time.time() < end:
        open_one()
        if n % 200 == 0:
            break  # serve events between batches
    st["max_open"] = max(st["max_open"], len(conns))
    for key, ev in sel.select(timeout=0.02):
        s = key.fileobj
        c = conns.get(s)
        if c is None:
            continue
        kind = c[0]
        if c[1] == "connecting" and ev & selectors.EVENT_WRITE:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                st["refused"] += 1; close(s); continue
            c[1] = "up"
            try:
                if kind in REQ:
                    s.send(REQ[kind])
                elif kind == 3:
                    s.send(WS)
            except OSError:
                st["closed_by_server"] += 1; close(s); continue
            sel.modify(s, selectors.EVENT_READ)
            continue
        if ev & selectors.EVENT_READ:
            try:
                b = s.recv(65536)
            except OSError:
                b = b""
            if not b:
                st["closed_by_server"] += 1; close(s); continue
            if kind == 3:
                c[2] = 1
                sel.unregister(s)  # stays open, never read again
                continue
            if kind in REQ and b.startswith(b"HTTP/1.1"):
                st["responses"] += 1
                try:
                    s.send(REQ[kind])
                except OSError:
                    st["closed_by_server"] += 1; close(s)
    now = time.time()
    if now - last_slow >= 0.5:  # slowloris: a byte each 0.5 s
        last_slow = now
        for s, c in list(conns.items()):
            if c[0] == 2 and c[1] == "up" and c[2] < len(SLOW):
                try:
                    s.send(SLOW[c[2]:c[2] + 1]); c[2] += 1
                except OSError:
                    st["closed_by_server"] += 1; close(s)
for s in list(conns):
    close(s)
print(json.dumps(st))
