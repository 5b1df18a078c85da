#!/usr/bin/env bash
# live against a hostile WebSocket server (issue 17): a scripted Python
# server breaks the handshake or RFC 6455/7692 in one way per mode, on
# every connection. For each mode: live (ASan+UBSan build when there is
# one) neither crashes nor reports a sanitizer error, counts the failure
# (handshake_failures, protocol_errors, oversized, watchdog_trips or
# disconnects in the --summary JSON), fails a broken session with the
# right close code (1002, or 1007 for bad UTF-8) and tries again with
# backoff (several attempts, a backoff delay chosen, no hot loop). A ping
# flood is answered without a reconnect. Six modes run again inside TLS
# (wss://, our own TLS: the close frame goes out encrypted), and one with a
# certificate that does not name the address. One run with the dashboard
# shows the two new counters in /metrics. Modes run a few at a time in
# parallel.
# The table of modes and outcomes is in docs/LIVE.md ("Hostile servers").
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
BIN="$QW_ASAN_BIN"; [ -x "$BIN" ] || BIN="$QW_BIN"

cd "$T"  # a CA and a localhost certificate for the wss-* modes
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 2 -subj "/CN=qw-hostile-ca" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr \
  -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' > ext.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 \
  -extfile ext.cnf 2>/dev/null || die "cannot make the test certificates"
cd - >/dev/null

cat > "$T/srv.py" <<'EOF'
import base64, hashlib, json, socket, ssl, struct, sys, threading, time
mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tls = None
if len(sys.argv) > 4:  # wss://: the same modes inside TLS
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[4] + "/srv.pem", sys.argv[4] + "/srv.key")
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(16)
lock = threading.Lock()
res = {"conns": [], "pings_sent": 0}
def save():
    with lock:
        json.dump(res, open(out + ".tmp", "w")); import os; os.replace(out + ".tmp", out)
def frame(op, p, fin=True, rsv=0, mask=None, length=None):
    n = len(p) if length is None else length
    h = bytes([(0x80 if fin else 0) | rsv | op])
    m = 0x80 if mask else 0
    if n < 126: h += bytes([m | n])
    elif n < 65536: h += bytes([m | 126]) + struct.pack(">H", n)
    else: h += bytes([m | 127]) + struct.pack(">Q", n)
    if mask:
        h += mask; p = bytes(b ^ mask[i % 4] for i, b in enumerate(p))
    return h + p
def read_frames(c, rec, secs):
    """the client's frames until its close frame or EOF: records close codes, pongs"""
    buf = b""; end = time.time() + secs
    c.settimeout(0.2)
    while time.time() < end:
        while len(buf) >= 2:
            n = buf[1] & 0x7f; o = 2
            if n == 126:
                if len(buf) < 4: break
                n = struct.unpack(">H", buf[2:4])[0]; o = 4
            elif n == 127:
                if len(buf) < 10: break
                n = struct.unpack(">Q", buf[2:10])[0]; o = 10
            if len(buf) < o + 4 + n: break
            mk = buf[o:o + 4]; p = bytes(b ^ mk[i % 4] for i, b in enumerate(buf[o + 4:o + 4 + n]))
            op = buf[0] & 0x0f; buf = buf[o + 4 + n:]
            if op == 0x8:
                rec["close"] = struct.unpack(">H", p[:2])[0] if len(p) >= 2 else -1; return
            if op == 0xA:
                rec["pongs"] = rec.get("pongs", 0) + 1; rec["last_pong"] = p.decode(errors="replace")
        try:
            d = c.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return
        if not d:
            rec["eof"] = True; return
        buf += d
HB = json.dumps({"type": "heartbeat", "last_trade_id": 1, "product_id": "BTC-USD",
                 "sequence": 1, "time": "2026-01-02T00:00:00.000000Z"}).encode()
def session(c, n):
    rec = {"t": time.time()}
    with lock: res["conns"].append(rec)
    c.settimeout(10)
    if tls:
        try:
            c = tls.wrap_socket(c, server_side=True)
        except (ssl.SSLError, OSError):
            c.close(); return  # a port probe
    req = b""
    while b"\r\n\r\n" not in req:
        try: d = c.recv(4096)
        except OSError: d = b""
        if not d: break
        req += d
    if b"\r\n\r\n" not in req:
        c.close(); return
    hdr = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
           for l in req.decode(errors="replace").split("\r\n")[1:] if ":" in l}
    key = hdr.get("sec-websocket-key", "")
    acc = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    ok = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acc + b"\r\n"
    m = mode
    if m == "mixed":  # the /metrics run: handshake failures and protocol errors in turn
        m = "status200" if n % 2 else "masked"
    ext = {"deflate": b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n",
           "dupbits": b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; server_max_window_bits=12\r\n",
           "bits7": b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n",
           "bits16": b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=16\r\n"}
    try:
        if m == "slowloris":  # one byte of a never-ending header every half second
            for ch in b"HTTP/1.1 101 Switching Protocols\r\nX-Slow: " + b"a" * 200:
                c.sendall(bytes([ch])); time.sleep(0.5)
            c.close(); return
        if m == "status200":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"); c.close(); return
        if m == "badaccept":
            c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"); read_frames(c, rec, 2); c.close(); return
        if m == "bighead":  # 101 with 70 KiB of headers
            c.sendall(ok + b"".join(b"X-Pad-%05d: %s\r\n" % (i, b"p" * 100) for i in range(700)) + b"\r\n")
            read_frames(c, rec, 2); c.close(); return
        if m in ("dupbits", "bits7", "bits16"):
            c.sendall(ok + ext[m] + b"\r\n"); read_frames(c, rec, 2); c.close(); return
        head = ok + (ext["deflate"] if m == "baddeflate" else b"") + b"\r\n"
        bad = {
            "masked": frame(0x1, HB, mask=b"\x01\x02\x03\x04"),
            "rsv1": frame(0x1, HB, rsv=0x40),  # deflate not agreed
            "rsv23": frame(0x1, HB, rsv=0x30),
            "op3": frame(0x3, b"x"),
            "opB": frame(0xB, b"x"),
            "fragping": frame(0x9, b"p", fin=False),
            "bigping": frame(0x9, b"p" * 126),
            "cont": frame(0x0, b"orphan"),
            "newdata": frame(0x1, HB[:5], fin=False) + frame(0x1, HB),
            "len63": frame(0x2, b"", length=1 << 63),
            "oversize": frame(0x1, b" " * 9000),
            "badutf8": frame(0x1, b'{"type":"heartbeat","x":"\xc3\x28"}'),
            "close999": frame(0x8, struct.pack(">H", 999)),
            "close1005": frame(0x8, struct.pack(">H", 1005)),
            "close1006": frame(0x8, struct.pack(">H", 1006)),
            "close1015": frame(0x8, struct.pack(">H", 1015)),
            "close5000": frame(0x8, struct.pack(">H", 5000)),
            "closeutf8": frame(0x8, struct.pack(">H", 1000) + b"bye \xff"),
            "baddeflate": frame(0x1, b"\xff\xff\xff\xff\xff\xff", rsv=0x40),
            "midframe": frame(0x1, b"x" * 100)[:40],
        }
        if m == "pingflood":  # 20000 pings in one go, then real messages
            burst = b"".join(frame(0x9, b"p%d" % i) for i in range(20000))
            c.sendall(head + burst); res["pings_sent"] += 20000
            for _ in range(5):
                c.sendall(frame(0x1, HB)); time.sleep(0.2)
            read_frames(c, rec, 30); c.close(); return
        c.sendall(head + bad[m])  # one write: the bad frame comes with the 101
        if m == "midframe":
            time.sleep(0.2); c.close(); return
        read_frames(c, rec, 3); c.close()
    except OSError as e:
        rec["oserror"] = str(e)
    finally:
        save()
n = 0
while True:
    c, _ = s.accept(); n += 1
    threading.Thread(target=session, args=(c, n), daemon=True).start()
EOF

# run MODE SECONDS [live args...] : a server for MODE and a live run against
# it; MODE wss-X is mode X inside TLS (wss://localhost, our test CA)
run() {
  local mode=$1 secs=$2; shift 2
  local port rc=0 url tlsdir=(); port=$(free_port)
  url="ws://127.0.0.1:$port"
  if [[ "$mode" == wss-* ]]; then
    url="wss://localhost:$port"; tlsdir=("$T"); set -- --ca-file "$T/ca.pem" "$@"
    [ "$mode" = wss-ipmismatch ] && url="wss://127.0.0.1:$port"  # the certificate names localhost only
  fi
  "$PY" "$T/srv.py" "${mode#wss-}" "$port" "$T/$mode.srv.json" "${tlsdir[@]}" >"$T/$mode.srv.log" 2>&1 &
  local sp=$!
  wait_port "$port"
  "$BIN" live --port 0 --feed exchange --products BTC-USD --url "$url" \
    --watchdog "${WD:-1}" --backoff-max 0.5 --duration "$secs" --summary "$T/$mode.json" \
    --log-level info "$@" >"$T/$mode.out" 2>"$T/$mode.log" || rc=$?
  echo "$rc" >"$T/$mode.rc"
  kill "$sp" 2>/dev/null || true
}

# check MODE EXPR [EXPR2] : the summary's live object (l) and the server's record (s)
check() {
  local mode=$1 expr=$2
  [ "$(cat "$T/$mode.rc")" = 0 ] || { tail -20 "$T/$mode.log"; echo "FAIL: $mode: live exited $(cat "$T/$mode.rc")"; return 1; }
  ! grep -q "ERROR: AddressSanitizer\|runtime error\|LeakSanitizer" "$T/$mode.log" || { grep -m5 -A5 "Sanitizer\|runtime error" "$T/$mode.log"; echo "FAIL: $mode: sanitizer report"; return 1; }
  "$PY" - "$T/$mode.json" "$T/$mode.srv.json" "$expr" "$mode" <<'PYEOF' || { echo "FAIL: $mode: $expr"; tail -5 "$T/$mode.log"; return 1; }
import json, sys
d = json.load(open(sys.argv[1])); l = d["live"]
try: s = json.load(open(sys.argv[2]))
except (OSError, ValueError): s = {"conns": []}
closes = [c.get("close") for c in s["conns"] if "close" in c]
def fc(code):  # failed with code (a run stopped mid-session may have said 1000)
    return closes.count(code) >= 1 and set(closes) <= {code, 1000}
ok = eval(sys.argv[3])
print("%-11s attempts=%d connects=%d hs_fail=%d proto=%d oversized=%d wd=%d disc=%d backoff=%.3f closes=%s | %s" % (
    sys.argv[4], l["attempts"], l["connects"], l["handshake_failures"], l["protocol_errors"],
    l["oversized"], l["watchdog_trips"], l["disconnects"], l["backoff_s"], closes[:4], l["last_error"]))
sys.exit(0 if ok else 1)
PYEOF
}

# retried with backoff: several attempts, a delay chosen, not a hot loop
RETRY='l["attempts"] >= 2 and l["backoff_s"] > 0 and l["attempts"] <= 40'
HS="$RETRY"' and l["connects"] == 0 and l["handshake_failures"] >= 2'
PE="$RETRY"' and l["protocol_errors"] >= 2 and l["reconnects"] >= 1'
declare -A EXPECT=(
  [status200]="$HS and 'HTTP 200' in l['last_error']"
  [badaccept]="$HS and 'Sec-WebSocket-Accept' in l['last_error']"
  [bighead]="$HS and 'too long' in l['last_error']"
  [dupbits]="$HS and 'server_max_window_bits' in l['last_error']"
  [bits7]="$HS and 'server_max_window_bits' in l['last_error']"
  [bits16]="$HS and 'client_max_window_bits' in l['last_error']"
  [masked]="$PE and 'masked' in l['last_error'] and fc(1002)"
  [rsv1]="$PE and 'RSV1' in l['last_error'] and fc(1002)"
  [rsv23]="$PE and 'RSV2' in l['last_error'] and fc(1002)"
  [op3]="$PE and 'unknown data opcode' in l['last_error'] and fc(1002)"
  [opB]="$PE and 'unknown control opcode' in l['last_error'] and fc(1002)"
  [fragping]="$PE and 'fragmented control' in l['last_error'] and fc(1002)"
  [bigping]="$PE and 'over 125' in l['last_error'] and fc(1002)"
  [cont]="$PE and 'continuation' in l['last_error'] and fc(1002)"
  [newdata]="$PE and 'inside a fragmented' in l['last_error'] and fc(1002)"
  [len63]="$PE and '2^63' in l['last_error'] and fc(1002)"
  [badutf8]="$PE and 'UTF-8' in l['last_error'] and fc(1007) and l['messages'] == 0"
  [close999]="$PE and 'invalid code' in l['last_error'] and fc(1002)"
  [close1005]="$PE and 'invalid code' in l['last_error'] and fc(1002)"
  [close1006]="$PE and 'invalid code' in l['last_error'] and fc(1002)"
  [close1015]="$PE and 'invalid code' in l['last_error'] and fc(1002)"
  [close5000]="$PE and 'invalid code' in l['last_error'] and fc(1002)"
  [closeutf8]="$PE and 'UTF-8' in l['last_error'] and fc(1007)"
  [baddeflate]="$PE and 'deflate' in l['last_error'] and fc(1002)"
  [oversize]="$RETRY and l['oversized'] >= 2 and l['protocol_errors'] == 0 and 'max-message' in l['last_error'] and fc(1009)"
  [wss-ipmismatch]="$HS and 'IP address mismatch' in l['last_error']"
  [wss-status200]="$HS and 'HTTP 200' in l['last_error']"
  [wss-dupbits]="$HS and 'server_max_window_bits' in l['last_error']"
  [wss-masked]="$PE and 'masked' in l['last_error'] and fc(1002)"
  [wss-badutf8]="$PE and 'UTF-8' in l['last_error'] and fc(1007) and l['messages'] == 0"
  [wss-close1005]="$PE and 'invalid code' in l['last_error'] and fc(1002)"
  [wss-baddeflate]="$PE and 'deflate' in l['last_error'] and fc(1002)"
  [midframe]="$RETRY and l['disconnects'] >= 2 and l['protocol_errors'] == 0 and 'mid-frame' in l['last_error']"
)
modes=(${!EXPECT[@]})
t0=$SECONDS
# the slow ones first, in the background: the handshake watchdog (>= 10 s)
# and the ping flood (no reconnect, messages after the flood arrive)
run slowloris 14 &
WD=5 run pingflood 5 &
for m in "${modes[@]}"; do
  while (( $(jobs -rp | wc -l) >= 7 )); do wait -n || true; done
  extra=(); [ "$m" = oversize ] && extra=(--max-message 4096)
  run "$m" 3 "${extra[@]}" &
done
wait
fails=0
for m in "${modes[@]}"; do check "$m" "${EXPECT[$m]}" || fails=$((fails + 1)); done
check slowloris 'l["watchdog_trips"] >= 1 and l["handshake_failures"] >= 1 and l["connects"] == 0 and "handshake took too long" in l["last_error"]' || fails=$((fails + 1))
check pingflood 'l["connects"] == 1 and l["protocol_errors"] == 0 and l["messages"] >= 5 and any(c.get("pongs", 0) >= 1 and c.get("last_pong") == "p19999" for c in s["conns"])' || fails=$((fails + 1))
(( fails == 0 )) || die "$fails hostile-server mode(s) failed"
echo "modes: $(( ${#modes[@]} + 2 )) in $((SECONDS - t0)) s"

# the counters in /metrics and the status file (release build, dashboard on)
port=$(free_port); hport=$(free_port)
"$PY" "$T/srv.py" mixed "$port" "$T/mixed.srv.json" >"$T/mixed.srv.log" 2>&1 &
PIDS+=($!)
wait_port "$port"
start_live mixed --feed exchange --products BTC-USD --url "ws://127.0.0.1:$port" \
  --watchdog 1 --backoff-max 0.3 --port "$hport" --bind 127.0.0.1
wait_status "$T/mixed.status" 'd["live"]["handshake_failures"] >= 2 and d["live"]["protocol_errors"] >= 2' 30
curl -sf "http://127.0.0.1:$hport/metrics" > "$T/m.txt" || die "/metrics"
"$PY" tests/ref/prom_check.py "$T/m.txt" || die "/metrics is not strict Prometheus text"
for k in quotewatch_feed_handshake_failures_total quotewatch_feed_protocol_errors_total; do
  v=$(awk -v k="$k" '$1 == k {print $2}' "$T/m.txt")
  [ -n "$v" ] && [ "$v" -ge 1 ] || die "/metrics: $k is '${v}'"
done
stop_and_wait "$LIVE_PID" TERM || die "live (mixed) exited non-zero"
echo "hostile server: ok"
