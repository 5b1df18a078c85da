#!/usr/bin/env bash
# Dashboard bandwidth budget (docs/DASHBOARD.md "Bandwidth"): the real
# capture replayed at 1x with the dashboard; one WebSocket client (the
# independent stdlib client tests/ref/ws_probe.py) offers permessage-deflate
# and subscribes to the product with the largest state. Over ~20 s the bytes
# it receives on the wire must stay <= 50 KB/s, and every push must carry
# only that product's full state (plus the summary of every product), with
# labels as deltas (each push has exactly the labels since the previous one). Also: an unknown product gets an
# error and the connection keeps its pushes; /api/state is gzipped when
# accepted and ?product=P filters it.
source "$(dirname "$0")/lib.sh"
[ -f "$REAL" ] || skip_test "real capture missing: $REAL"
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$QW_BIN" replay --dashboard --port "$port" --speed 1x "$REAL" --log-level warn 2>"$T/replay.log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$T"' EXIT
for i in $(seq 100); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
U="http://127.0.0.1:$port"
# wait until every book has its snapshot (the first seconds of the capture)
for i in $(seq 100); do
  curl -s "$U/api/state" | "$PY" -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if s["products"] and all(p["valid"] for p in s["products"]) else 1)' && break
  sleep 0.1
done
"$PY" - "$port" <<'PY' || die "bandwidth budget / subscription content"
import gzip, json, sys, time, urllib.request
sys.path.insert(0, "tests/ref")
from ws_probe import WS
port = sys.argv[1]
url = f"ws://127.0.0.1:{port}/ws"
H = {"Sec-WebSocket-Protocol": "qw-state"}
full = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state").read())
names = [p["product"] for p in full["products"]]
prod = max(full["products"], key=lambda p: len(json.dumps(p)))["product"]
# unknown product: an error message, the connection stays and keeps pushing
ws = WS(url, headers=H)
ws.send_json({"subscribe": "NOPE-USD"})
err = None
for _ in range(20):
    m = json.loads(ws.recv_text(timeout=3))
    if "error" in m:
        err = m["error"]; break
assert err and "unknown product" in err, err
m = json.loads(ws.recv_text(timeout=3))
assert "products" in m and "subscribed" not in m, "pushes after the error"
def until(pred, what):
    for _ in range(30):
        m = json.loads(ws.recv_text(timeout=3))
        if pred(m):
            return m
    raise AssertionError(what)
# a subscription in two fragments (RFC 6455 5.4), then a message over 256 bytes, then back to all
import os, struct
def frame(op, fin, data):
    mask = os.urandom(4)
    return bytes([(0x80 if fin else 0) | op, 0x80 | len(data)]) + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(data))
msg = json.dumps({"subscribe": names[0]}).encode()
ws.s.sendall(frame(1, 0, msg[:7]) + frame(0, 1, msg[7:]))
until(lambda m: m.get("subscribed") == names[0] and len(m["products"]) == 1, "fragmented subscription")
ws.send(json.dumps({"subscribe": "X" * 300}))
until(lambda m: m.get("error") == "message too long", "over-long message error")
until(lambda m: m.get("subscribed") == names[0], "subscription kept after an error")
ws.send_json({"subscribe": None})
until(lambda m: "subscribed" not in m and len(m["products"]) == len(names), "back to every product")
ws.close()
# the budget
ws = WS(url, deflate=True, headers=H)
assert ws.deflate, "permessage-deflate not negotiated"
ws.send_json({"subscribe": prod})
while True:  # pushes already on their way were for every product
    m = json.loads(ws.recv_text(timeout=3))
    if m.get("subscribed") == prod:
        break
w0, t0, n, raw, nlab, last_total = ws.wire, time.monotonic(), 0, 0, 0, None
while time.monotonic() - t0 < 20:
    txt = ws.recv_text(timeout=3)
    m = json.loads(txt)
    n += 1; raw += len(txt)
    assert m["subscribed"] == prod, m.get("subscribed")
    assert [p["product"] for p in m["products"]] == [prod], [p["product"] for p in m["products"]]
    p = m["products"][0]
    assert all(k in p for k in ("bids", "asks", "trades", "features", "model", "labels", "counters"))
    assert set(names) <= {s["product"] for s in m["summary"]}  # products appear as the capture names them
    assert all(set(s) >= {"product", "mid", "spread", "last_t_ns", "valid"} for s in m["summary"])
    assert m["labels_delta"] is True
    nlab += len(p["labels"])
    # deltas: exactly the labels since the previous push (labels_total counts them)
    if last_total is not None:
        assert len(p["labels"]) == min(64, p["labels_total"] - last_total), (len(p["labels"]), p["labels_total"], last_total)
    last_total = p["labels_total"]
dt = time.monotonic() - t0
rate = (ws.wire - w0) / dt
print(f"subscribed to {prod}: {n} pushes in {dt:.1f} s, {rate/1024:.1f} KB/s on the wire "
      f"({raw/dt/1024:.1f} KB/s before deflate, {ws.compressed} compressed messages, {nlab} labels)")
assert n >= 20, f"only {n} pushes in {dt:.0f} s"
assert ws.compressed >= n // 2, "pushes not compressed"
assert rate <= 50 * 1024, f"{rate/1024:.1f} KB/s > 50 KB/s"
ws.close()
# /api/state: gzip when accepted, ?product= filters
r = urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/state", headers={"Accept-Encoding": "gzip"}))
body = r.read()
assert r.headers.get("Content-Encoding") == "gzip", r.headers
s = json.loads(gzip.decompress(body))
names = [p["product"] for p in s["products"]]
assert len(names) == 10, names  # the capture's products
print(f"/api/state gzip: {len(body)} bytes for {len(gzip.decompress(body))}")
r = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state?product={prod}")
s = json.loads(r.read())
assert r.headers.get("Content-Encoding") is None
assert s["subscribed"] == prod and [p["product"] for p in s["products"]] == [prod] and len(s["summary"]) == len(names)
assert s["labels_delta"] is False
try:
    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state?product=NOPE")
    assert False, "unknown product accepted"
except urllib.error.HTTPError as e:
    assert e.code == 404, e.code
import re
metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
pb = re.search(r"^quotewatch_dashboard_push_bytes_total (\d+)$", metrics, re.M)
assert pb and int(pb.group(1)) >= raw, "push bytes metric"
PY
kill -TERM $pid; rc=0; wait $pid || rc=$?
[ "$rc" = 0 ] || die "replay --dashboard exited $rc on SIGTERM"
echo "dashboard bandwidth: ok"
