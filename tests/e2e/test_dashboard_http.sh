#!/usr/bin/env bash
# Dashboard over HTTP, against `replay --dashboard`: every endpoint, content
# types and caching, gzip, the state JSON (exact decimal top-10 like the
# summary), Prometheus text format, WebSocket pushes (independent stdlib
# client) with the client limit, bad requests refused, clean SIGTERM.
source "$(dirname "$0")/lib.sh"
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$QW_BIN" replay "$REAL" --summary "$T/ref.json" 2>/dev/null
"$QW_BIN" replay --dashboard --dash-max-per-ip 128 --port "$port" --speed 200x "$REAL" --summary "$T/sum.json" 2>"$T/replay.log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$T"' EXIT
for i in $(seq 100); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
U="http://127.0.0.1:$port"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(curl -s $U/healthz)" = ok ] || die "/healthz"
curl -s -D "$T/h1" -o "$T/index.html" "$U/" && grep -qi '^content-type: text/html' "$T/h1" && grep -qi '^cache-control: no-cache' "$T/h1" \
  && grep -q '<title>QuoteWatch</title>' "$T/index.html" || die "/ (index)"
curl -s -D "$T/h2" -o /dev/null -H 'Accept-Encoding: gzip' "$U/app.js"
grep -qi '^content-encoding: gzip' "$T/h2" && grep -qi '^content-type: text/javascript' "$T/h2" || die "gzip / content type of app.js"
curl -s --compressed "$U/uPlot.iife.min.js" -o "$T/uplot.js"; grep -q uPlot "$T/uplot.js" || die "uPlot asset"
[ "$(code -I "$U/app.js")" = 200 ] || die "HEAD"
[ "$(code -X POST -d x=1 "$U/api/state")" = 405 ] || die "POST must be 405"
[ "$(code -X DELETE "$U/")" = 405 ] || die "DELETE must be 405"
[ "$(code "$U/$(head -c 3000 /dev/zero | tr '\0' a)")" = 414 ] || die "long URI must be 414"
c=$(code --path-as-is "$U/../../etc/passwd"); [ "$c" = 400 ] || [ "$c" = 404 ] || [ "$c" = 403 ] || die "traversal got $c"
c=$(code --path-as-is "$U/%2e%2e/%2e%2e/etc/passwd"); [ "$c" = 400 ] || [ "$c" = 404 ] || [ "$c" = 403 ] || die "encoded traversal got $c"
[ "$(code "$U/nope.js")" = 404 ] || die "unknown path"
printf 'GARBAGE\r\n\r\n' | timeout 3 "$PY" -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read()); s.settimeout(2);
try: print(s.recv(100))
except Exception: pass' "$port" >/dev/null || true
[ "$(curl -s $U/healthz)" = ok ] || die "server died after a malformed request"
# wait for the replay to finish, then compare the state with the summary
for i in $(seq 100); do curl -s "$U/api/state" | grep -q '"state":"finished"' && break; sleep 0.1; done
curl -s -D "$T/h3" "$U/api/state" > "$T/state.json"
grep -qi '^content-type: application/json' "$T/h3" && grep -qi '^cache-control: no-store' "$T/h3" || die "/api/state headers"
"$PY" - "$T/state.json" "$T/ref.json" <<'PY' || die "state JSON differs from the replay summary"
import json, sys
s, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert s["mode"] == "replay" and s["feed"]["state"] == "finished", s["feed"]
assert s["feed"]["messages"] == ref["messages"]
assert {p["product"] for p in s["products"]} == set(ref["products"])
for p in s["products"]:
    r = ref["products"][p["product"]]
    assert p["bids"] == r["bids"] and p["asks"] == r["asks"], p["product"]
    assert p["best_bid"] == r["bids"][0][0] and p["best_ask"] == r["asks"][0][0]
    assert p["valid"] is True and p["model"]["labeled"] == r["model"]["labeled"]
    assert len(p["trades"]) <= 20 and all(k in p for k in ("features", "p", "stability", "spread_bps", "labels", "counters"))
    assert p["model"]["coef"] == [round(c, 9) if False else c for c in p["model"]["coef"]]
print("state ok:", len(s["products"]), "products")
PY
curl -s -D "$T/h4" "$U/metrics" > "$T/metrics.txt"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/h4" || die "/metrics content type"
"$PY" tests/ref/prom_check.py "$T/metrics.txt" || die "/metrics is not valid Prometheus text"
grep -q '^quotewatch_book_valid{product="BAND-GBP"} 1$' "$T/metrics.txt" || die "/metrics lacks book_valid"
grep -q '^process_resident_memory_bytes [1-9]' "$T/metrics.txt" || die "/metrics lacks process_*"
grep -q '^quotewatch_build_info{version=' "$T/metrics.txt" || die "/metrics lacks build_info"
[ "$(code "$U/readyz")" = 200 ] || die "/readyz should be 200 once the replay ran"
# WebSocket pushes
"$PY" - "$port" <<'PY' || die "WebSocket pushes"
import json, sys, time
sys.path.insert(0, "tests/ref")
from ws_probe import WS
ws = WS(f"ws://127.0.0.1:{sys.argv[1]}/ws", headers={"Sec-WebSocket-Protocol": "qw-state"})
got = []
t0 = time.time()
while len(got) < 5 and time.time() - t0 < 5:
    got.append(json.loads(ws.recv_text(timeout=3)))
assert len(got) >= 5 and all("products" in g for g in got)
print("ws ok:", len(got), "pushes in", round(time.time() - t0, 2), "s")
PY
# the client limit: 64 WebSocket clients are served, the 65th is refused at the handshake
"$PY" - "$port" <<'PY' || die "WebSocket client limit"
import sys
sys.path.insert(0, "tests/ref")
from ws_probe import WS
url = f"ws://127.0.0.1:{sys.argv[1]}/ws"
clients = [WS(url, headers={"Sec-WebSocket-Protocol": "qw-state"}) for _ in range(64)]
try:
    WS(url, headers={"Sec-WebSocket-Protocol": "qw-state"}, timeout=3)
    refused = False
except Exception:
    refused = True
assert refused, "the 65th client was accepted"
clients[0].recv_text(timeout=3)  # the others still get pushes
for c in clients: c.close()
print("client limit ok")
PY
kill -TERM $pid; rc=0; wait $pid || rc=$?
[ "$rc" = 0 ] || die "replay --dashboard exited $rc on SIGTERM"
echo "dashboard http: ok"
