#!/usr/bin/env bash
# The wss:// client's own TLS (src/ingest/wstls.c) against a scripted
# Python TLS server: a ping inside TLS is answered by a masked pong, the
# subscribes arrive masked, a message is delivered, and a clean stop sends
# the close frame and, after the server's answer, a TLS close_notify (a bare
# TCP close would be a ragged EOF); a server that answers plaintext fails
# the attempt with "tls: handshake failed: ..."; a server that never
# answers the TLS handshake trips the handshake watchdog. Live side: ASan.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
BIN="$QW_ASAN_BIN"; [ -x "$BIN" ] || BIN="$QW_BIN"

cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=qw-wssp-ca" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf 2>/dev/null
cd - >/dev/null

cat > "$T/srv.py" <<'EOF'
import base64, hashlib, json, socket, ssl, struct, sys, threading
mode, port, out, tdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(8)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(tdir + "/srv.pem", tdir + "/srv.key")
res = {"sessions": 0}
def frame(op, p):
    return bytes([0x80 | op]) + (bytes([len(p)]) if len(p) < 126 else bytes([126]) + struct.pack(">H", len(p))) + p
def read_frame(c, buf):
    while True:
        if len(buf) >= 2:
            n = buf[1] & 0x7f; o = 2
            if n == 126: n = struct.unpack(">H", buf[2:4])[0]; o = 4
            if len(buf) >= o + 4 + n:
                m = buf[o:o + 4]; p = bytes(b ^ m[i % 4] for i, b in enumerate(buf[o + 4:o + 4 + n]))
                return (buf[0], bool(buf[1] & 0x80), p), buf[o + 4 + n:]
        d = c.recv(65536)
        if not d: return None, buf
        buf += d
while True:
    raw, _ = s.accept(); raw.settimeout(10)
    if mode == "plain":
        raw.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"); raw.close(); continue
    if mode == "silent":
        threading.Timer(30, raw.close).start(); continue
    if res["sessions"]:
        threading.Timer(30, raw.close).start(); continue
    try:
        c = ctx.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)
    except (ssl.SSLError, OSError):
        raw.close(); continue  # a port probe
    res["sessions"] += 1; res["tls"] = c.version()
    req = b""
    while b"\r\n\r\n" not in req:
        req += c.recv(4096)
    lines = req.decode().split("\r\n")
    hdr = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    res["request_line"] = lines[0]; res["host"] = hdr.get("host")
    acc = base64.b64encode(hashlib.sha1((hdr["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    hb = json.dumps({"type": "heartbeat", "last_trade_id": 1, "product_id": "BTC-USD",
                     "sequence": 1, "time": "2026-01-02T00:00:00.000000Z"}).encode()
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + acc + b"\r\n\r\n" + frame(0x9, b"tls-1") + frame(0x1, hb))
    buf = b""; frames = []
    while True:  # pong, subscribes, then (on SIGTERM) the close frame
        f, buf = read_frame(c, buf)
        if f is None: break
        frames.append([f[0], f[1], f[2].decode(errors="replace")])
        if f[0] == 0x88:
            c.sendall(frame(0x8, f[2])); break
    res["frames"] = frames
    try:
        res["after_close"] = "close_notify" if c.recv(4096) == b"" else "data"
    except ssl.SSLEOFError:
        res["after_close"] = "ragged EOF"
    except (ssl.SSLError, OSError) as e:
        res["after_close"] = "error: %s" % e
    json.dump(res, open(out, "w")); c.close()
EOF

start_srv() { # mode -> port in $port
  port=$(free_port)
  "$PY" "$T/srv.py" "$1" "$port" "$T/$1.srv.json" "$T" >"$T/$1.srv.log" 2>&1 &
  PIDS+=("$!")
  wait_port "$port"
}
check_clean() {
  grep -q "ERROR: AddressSanitizer\|runtime error" "$T/$1.log" && die "$1: sanitizer report"
  return 0
}
err() { jq_py "$T/$1.json" 'd["live"]["last_error"]'; }

# a session, stopped cleanly
start_srv session
LIVE_BIN="$BIN" start_live session --feed exchange --products BTC-USD --url "wss://localhost:$port" \
  --ca-file "$T/ca.pem" --summary "$T/session.json"
wait_status "$T/session.status" 'd["live"]["messages"] >= 1' 20
sleep 1.5  # the three subscribes are paced at 5/s
rc=0; stop_and_wait "$LIVE_PID" TERM || rc=$?
[ "$rc" = 0 ] || { tail -20 "$T/session.log"; die "session: live exited $rc"; }
check_clean session
s="$T/session.srv.json"
for i in $(seq 50); do [ -s "$s" ] && break; sleep 0.1; done
[ -s "$s" ] || { cat "$T/session.srv.log"; die "the TLS server saw no session"; }
jq_py "$s" 'd["request_line"]' | grep -q '^GET / HTTP/1.1$' || die "request line: $(jq_py "$s" 'd')"
jq_py "$s" 'd["host"]' | grep -qx "localhost:$port" || die "Host header: $(jq_py "$s" 'd["host"]')"
jq_py "$s" '[f for f in d["frames"] if f[0] == 0x8a and f[1] and f[2] == "tls-1"] != []' | grep -q True \
  || die "no masked pong 'tls-1': $(jq_py "$s" 'd["frames"]')"
jq_py "$s" 'len([f for f in d["frames"] if f[0] == 0x81 and f[1] and "\"subscribe\"" in f[2]]) == 3' | grep -q True \
  || die "subscribes: $(jq_py "$s" 'd["frames"]')"
jq_py "$s" 'd["frames"][-1][0] == 0x88 and d["frames"][-1][1]' | grep -q True || die "no close frame: $(jq_py "$s" 'd["frames"]')"
[ "$(jq_py "$s" 'd["after_close"]')" = close_notify ] || die "after the close: $(jq_py "$s" 'd["after_close"]') (want close_notify)"
[ "$(jq_py "$T/session.json" 'd["live"]["messages"]')" -ge 1 ] || die "session: no message"
echo "session: $(jq_py "$s" 'd["tls"]'), pong + 3 subscribes + close, then close_notify"

# plaintext instead of TLS
start_srv plain
LIVE_BIN="$BIN" start_live plain --feed exchange --products BTC-USD --url "wss://127.0.0.1:$port" \
  --ca-file "$T/ca.pem" --summary "$T/plain.json" --duration 2
rc=0; wait "$LIVE_PID" || rc=$?
[ "$rc" = 0 ] || die "plain: live exited $rc"
check_clean plain
[[ "$(err plain)" == "tls: handshake failed: "* ]] || die "plain: last_error '$(err plain)'"
[ "$(jq_py "$T/plain.json" 'd["live"]["connects"]')" = 0 ] || die "plain: counted a connect"
echo "plain: $(err plain)"

# no TLS answer at all: the handshake watchdog
start_srv silent
LIVE_BIN="$BIN" start_live silent --feed exchange --products BTC-USD --url "wss://127.0.0.1:$port" \
  --ca-file "$T/ca.pem" --summary "$T/silent.json" --watchdog 1 --duration 12
rc=0; wait "$LIVE_PID" || rc=$?
[ "$rc" = 0 ] || die "silent: live exited $rc"
check_clean silent
[ "$(err silent)" = "watchdog: handshake took too long" ] || die "silent: last_error '$(err silent)'"
[ "$(jq_py "$T/silent.json" 'd["live"]["watchdog_trips"]')" -ge 1 ] || die "silent: no watchdog trip"
echo "wss proto: ok"
