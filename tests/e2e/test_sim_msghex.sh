#!/usr/bin/env bash
# A recorder capture in which every third message is stored as msg_hex
# (with a newline inside the JSON, as the recorder does for such messages)
# plus a leading connect event: `quotewatch replay` and `quotewatch sim`
# read it through the same source (ingest/msgsrc.c), so the sim serves
# every message (source_messages = the raw capture's 9946) and an Exchange
# probe's books equal replay's final books; replay of the recording equals
# replay of the raw capture.
. "$(dirname "$0")/lib.sh"
BIN="${QW_ASAN_BIN:-$QW_BIN}"; [ -x "$BIN" ] || BIN="$QW_BIN"
"$PY" - "$REAL" "$T/rec.ndjson" <<'PYEOF'
import sys
src, dst = sys.argv[1:3]
t = 1618677816000000000
with open(src, "rb") as f, open(dst, "wb") as o:
    o.write(b'{"recv_ns":%d,"event":"connect","url":"wss://ws-feed.pro.coinbase.com"}\n' % t)
    for i, line in enumerate(f):
        line = line.rstrip(b"\n")
        t += 1000
        if i % 3 == 2:
            msg = line[:1] + b"\n" + line[1:]
            o.write(b'{"recv_ns":%d,"msg_hex":"%s"}\n' % (t, msg.hex().encode()))
        else:
            o.write(b'{"recv_ns":%d,"msg":%s}\n' % (t, line))
PYEOF
grep -c msg_hex "$T/rec.ndjson" | grep -qv '^0$' || die "no msg_hex lines"
"$QW_BIN" replay --log-level warn --no-progress --summary "$T/raw.json" "$REAL"
"$QW_BIN" replay --log-level warn --no-progress --summary "$T/rec.json" "$T/rec.ndjson"
"$PY" - "$T/raw.json" "$T/rec.json" <<'PYEOF' || die "replay of the recording differs from the raw capture"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["products"] == b["products"], "books differ"
assert a["messages"] == b["messages"] and b["rejected"] == a["rejected"], (a["messages"], b["messages"])
assert b["connects"] == 1, b["connects"]
PYEOF
PYTHONPATH="$QW_ROOT/tests/ref" "$PY" - "$BIN" "$T/rec.ndjson" "$T" <<'PYEOF' || die "sim of the msg_hex recording differs from replay"
import json, sys, time
from ws_probe import WS, Books, Sim
binary, rec, tdir = sys.argv[1:4]
replay = json.load(open(tdir + "/rec.json"))["products"]
prods = sorted(replay)
sim = Sim(binary, [rec], tdir + "/sim.log")
ws = WS(sim.url())
ws.send_json({"type": "subscribe", "product_ids": prods, "channels": ["level2_batch", "matches"]})
B, last, t0 = Books(), time.monotonic(), time.monotonic()
while time.monotonic() - last < 2.0 and time.monotonic() - t0 < 40:
    try:
        m = json.loads(ws.recv_text(0.5))
    except TimeoutError:
        continue
    B.apply(m)
    last = time.monotonic()
ws.close()
rc, err, summ = sim.stop()
fails = []
for p in prods:
    v = replay[p]
    b, a = B.top(p)
    if b != v["bids"] or a != v["asks"]:
        fails.append(f"{p}: top-10 differs")
    if len(B.bids.get(p, {})) != v["bid_levels"] or len(B.asks.get(p, {})) != v["ask_levels"]:
        fails.append(f"{p}: level counts")
if B.errors:
    fails.append(f"errors {B.errors}")
if B.counts.get("l2update") != 9719 or B.counts.get("match") != 97:
    fails.append(f"counts {B.counts}")
if rc != 0 or not summ or summ["source_messages"] != 9946:
    fails.append(f"sim exit {rc} summary {summ}")
if "ERROR" in err or "AddressSanitizer" in err or "runtime error" in err:
    fails.append("sim stderr: " + err[-1500:])
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PYEOF
