#!/usr/bin/env bash
# The dashboard with more products than its first fixed tables held (64):
# a generated Exchange feed of 80 products replayed with --dashboard;
# every product, the 80th included, can be subscribed (/api/state?product=P)
# and carries its labels; the
# light summary lists all 80. Before, products past the 64th were in the
# state but could not be subscribed (404) and showed no labels.
source "$(dirname "$0")/lib.sh"
prods=$("$PY" -c "print(','.join(f'M{i:02d}-USD' for i in range(80)))")
"$QW_ROOT/build/gen_feed" --feed exchange --products "$prods" --levels 20 --messages 60000 \
  --seed 5 --gap-us 1000 --out "$T/feed.ndjson" >/dev/null || die "gen_feed"
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# 60 s of feed at 4x: the replay is still running while we look
"$QW_BIN" replay --dashboard --port "$port" --bind 127.0.0.1 --speed 4x "$T/feed.ndjson" \
  --log-level warn 2>"$T/replay.log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$T"' EXIT
for i in $(seq 100); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
"$PY" - "$port" <<'PY' || die "many products"
import json, sys, time, urllib.request, urllib.error
port = int(sys.argv[1])
def state(q=""):
    return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state{q}", timeout=10).read())
deadline = time.monotonic() + 40
want = ["M00-USD", "M63-USD", "M64-USD", "M79-USD"]
while True:
    s = state()
    names = [p["product"] for p in s["products"]]
    got = {}
    for p in want:
        try:
            got[p] = state(f"?product={p}")
        except urllib.error.HTTPError as e:
            got[p] = e.code
    ok = len(names) == 80 and all(isinstance(g, dict) and g["products"][0]["labels"] for g in got.values())
    if ok or time.monotonic() > deadline:
        break
    time.sleep(1)
assert len(names) == 80, f"{len(names)} products in the state"
for p, g in got.items():
    assert isinstance(g, dict), f"{p}: /api/state?product= answered {g}"
    assert g["subscribed"] == p and [q["product"] for q in g["products"]] == [p], (p, g.get("subscribed"))
    assert len(g["summary"]) == 80, (p, len(g["summary"]))
    prod = g["products"][0]
    assert prod["labels"], f"{p}: no labels"
print("every product subscribable, with labels:", ", ".join(
    f"{p} {len(g['products'][0]['labels'])} labels" for p, g in got.items()))
PY
kill -TERM $pid; rc=0; wait $pid || rc=$?
[ "$rc" = 0 ] || die "replay --dashboard exited $rc on SIGTERM"
echo "dashboard many products: ok"
