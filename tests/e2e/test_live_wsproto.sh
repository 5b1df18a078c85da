#!/usr/bin/env bash
# The ws:// client's own WebSocket protocol (src/ingest/wsproto.c, wsraw.c)
# against a scripted Python server: a 404 and a wrong Sec-WebSocket-Accept
# fail the upgrade with clear errors; on a good upgrade the request has the
# required headers, a ping is answered by a masked pong with its payload,
# subscribes come masked, a fragmented message with a ping inside arrives
# whole, and the server's close (1008) is echoed and reported; a server that
# never answers the upgrade trips the handshake watchdog. Live side: ASan.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
BIN="$QW_ASAN_BIN"; [ -x "$BIN" ] || BIN="$QW_BIN"

cat > "$T/srv.py" <<'EOF'
import base64, hashlib, json, socket, struct, sys, threading
mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(8)
res = {"sessions": 0}
def frame(op, p, fin=True):
    h = bytes([(0x80 if fin else 0) | op])
    return h + (bytes([len(p)]) if len(p) < 126 else bytes([126]) + struct.pack(">H", len(p))) + p
def read_frame(c, buf):
    while True:
        if len(buf) >= 2:
            n = buf[1] & 0x7f; o = 2
            if n == 126: n = struct.unpack(">H", buf[2:4])[0]; o = 4
            masked = buf[1] & 0x80
            if len(buf) >= o + 4 + n:
                m = buf[o:o + 4]; p = bytes(b ^ m[i % 4] for i, b in enumerate(buf[o + 4:o + 4 + n]))
                return (buf[0], bool(masked), p), buf[o + 4 + n:]
        d = c.recv(65536)
        if not d: return None, buf
        buf += d
while True:
    c, _ = s.accept(); c.settimeout(10)
    req = b""
    while b"\r\n\r\n" not in req:
        d = c.recv(4096)
        if not d: break  # a port probe
        req += d
    if b"\r\n\r\n" not in req:
        c.close(); continue
    if mode == "404":
        c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"); c.close(); continue
    if mode == "badaccept":
        c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"); c.close(); continue
    if mode == "silent":
        threading.Timer(30, c.close).start(); continue
    if res["sessions"]:  # later attempts: left hanging (last_error stays the close's)
        threading.Timer(30, c.close).start(); continue
    res["sessions"] += 1
    lines = req.decode().split("\r\n")
    hdr = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    res["request_line"] = lines[0]; res["headers"] = hdr
    key = hdr.get("sec-websocket-key", "")
    acc = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + acc + b"\r\n\r\n" + frame(0x9, b"hb-1"))
    buf = b""; frames = []
    while len(frames) < 4:  # the pong and the three subscribes, in any order
        f, buf = read_frame(c, buf)
        if f is None: break
        frames.append(f)
    res["frames"] = [[op, masked, p.decode(errors="replace")] for op, masked, p in frames]
    hb = json.dumps({"type": "heartbeat", "last_trade_id": 1, "product_id": "BTC-USD",
                     "sequence": 1, "time": "2026-01-02T00:00:00.000000Z"}).encode()
    c.sendall(frame(0x1, hb[:10], False) + frame(0x9, b"hb-2") + frame(0x0, hb[10:]) +
              frame(0x1, hb) + frame(0x8, struct.pack(">H", 1008) + b"going away"))
    while True:
        f, buf = read_frame(c, buf)
        if f is None: break
        res.setdefault("after", []).append([f[0], f[1], f[2].hex()])
        if f[0] & 0x0f == 0x8: break
    json.dump(res, open(out, "w")); c.close()
EOF

run() { # mode seconds -> summary in $T/mode.json
  local port; port=$(free_port)
  "$PY" "$T/srv.py" "$1" "$port" "$T/$1.srv.json" >"$T/$1.srv.log" 2>&1 &
  local sp=$!; PIDS+=("$sp")
  wait_port "$port"
  LIVE_BIN="$BIN" start_live "$1" --feed exchange --products BTC-USD --url "ws://127.0.0.1:$port" \
    --watchdog 1 --duration "$2" --summary "$T/$1.json" --log-level info
  local rc=0; wait "$LIVE_PID" || rc=$?
  kill "$sp" 2>/dev/null || true
  [ "$rc" = 0 ] || { tail -20 "$T/$1.log"; die "$1: live exited $rc"; }
  grep -q "ERROR: AddressSanitizer\|runtime error" "$T/$1.log" && die "$1: sanitizer report"
  return 0
}
err() { jq_py "$T/$1.json" 'd["live"]["last_error"]'; }

run 404 3
[[ "$(err 404)" == *"HTTP 404 Not Found"* ]] || die "404: last_error '$(err 404)'"
[ "$(jq_py "$T/404.json" 'd["live"]["connects"]')" = 0 ] || die "404: counted a connect"
run badaccept 3
[[ "$(err badaccept)" == *"Sec-WebSocket-Accept"* ]] || die "badaccept: last_error '$(err badaccept)'"

run session 4
s="$T/session.srv.json"
[ -s "$s" ] || { cat "$T/session.srv.log"; die "the scripted server saw no session"; }
jq_py "$s" 'd["request_line"]' | grep -q '^GET / HTTP/1.1$' || die "request line"
jq_py "$s" 'd["headers"]["upgrade"].lower() == "websocket" and "upgrade" in d["headers"]["connection"].lower() and d["headers"]["sec-websocket-version"] == "13" and len(d["headers"]["sec-websocket-key"]) == 24 and "permessage-deflate" in d["headers"]["sec-websocket-extensions"]' | grep -q True || die "upgrade headers: $(jq_py "$s" 'd["headers"]')"
jq_py "$s" '[f for f in d["frames"] if f[0] == 0x8a and f[1] and f[2] == "hb-1"] != []' | grep -q True \
  || die "no masked pong 'hb-1': $(jq_py "$s" 'd["frames"]')"
jq_py "$s" 'len([f for f in d["frames"] if f[0] == 0x81 and f[1] and "\"subscribe\"" in f[2]]) == 3' | grep -q True \
  || die "subscribes: $(jq_py "$s" 'd["frames"]')"
jq_py "$s" '[f for f in d["after"] if f[0] == 0x88 and f[1] and f[2].startswith("03f0")] != []' | grep -q True \
  || die "close 1008 not echoed: $(jq_py "$s" 'd.get("after")')"
[ "$(jq_py "$T/session.json" 'd["live"]["messages"]')" = 2 ] || die "messages: $(jq_py "$T/session.json" 'd["live"]["messages"]') (want the fragmented one and the whole one)"
[ "$(err session)" = "server closed (code 1008: going away)" ] || die "session: last_error '$(err session)'"

run silent 12
[ "$(err silent)" = "watchdog: handshake took too long" ] || die "silent: last_error '$(err silent)'"
[ "$(jq_py "$T/silent.json" 'd["live"]["watchdog_trips"]')" -ge 1 ] || die "silent: no watchdog trip"
echo "wsproto e2e: ok"
