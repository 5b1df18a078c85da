#!/usr/bin/env bash
# The simulator compresses permessage-deflate messages itself with what the
# handshake agreed (src/sim/outq.c zmsg): a probe offering
# server_no_context_takeover decodes every message with a fresh inflater
# (any reference into an earlier message fails to decode); one that keeps
# the context decodes with one inflater. lws 4.1.6 applies only arg-less
# parameters on the server side, so server_max_window_bits is neither
# agreed nor echoed: the window stays 15 (RFC 7692's default), which the
# probes use. Each probe's books, built only from those messages, equal
# `quotewatch replay --summary` (top 10 per side and level counts).
. "$(dirname "$0")/lib.sh"
BIN="${QW_ASAN_BIN:-$QW_BIN}"; [ -x "$BIN" ] || BIN="$QW_BIN"
"$QW_BIN" replay --log-level warn --summary "$T/replay.json" "$REAL"
PYTHONPATH="$QW_ROOT/tests/ref" "$PY" - "$BIN" "$REAL" "$T" <<'PYEOF' || die "probe checks failed"
import json, sys, time, zlib
from ws_probe import WS, Books, Sim
binary, real, tdir = sys.argv[1:4]
replay = json.load(open(tdir + "/replay.json"))["products"]
prods = sorted(replay)
fails = []
cases = [("nct", "permessage-deflate; server_no_context_takeover; server_max_window_bits=10", 15, True),
         ("ctx", "permessage-deflate; client_max_window_bits", 15, False)]
for name, offer, wbits, nct in cases:
    sim = Sim(binary, [real], f"{tdir}/{name}.log")
    ws = WS(sim.url(), headers={"Sec-WebSocket-Extensions": offer})
    if not ws.deflate:
        fails.append(f"{name}: permessage-deflate not agreed")
    ws.inflater = zlib.decompressobj(-wbits)
    ws.send_json({"type": "subscribe", "product_ids": prods, "channels": ["level2_batch", "matches"]})
    B, n, last, t0 = Books(), 0, time.monotonic(), time.monotonic()
    try:
        while time.monotonic() - last < 2.0 and time.monotonic() - t0 < 40:
            try:
                m = json.loads(ws.recv_text(0.5))
            except TimeoutError:
                continue
            if nct:
                ws.inflater = zlib.decompressobj(-wbits)
            n += 1
            B.apply(m)
            last = time.monotonic()
    except zlib.error as e:
        fails.append(f"{name}: message {n + 1} does not decode"
                     f"{' without the context of earlier ones' if nct else ''}: {e}")
    ws.close()
    rc, err, summ = sim.stop()
    if rc != 0:
        fails.append(f"{name}: sim exit {rc}")
    if "deflate=1" not in err or "deflate=1 (lws)" in err:
        fails.append(f"{name}: the sim did not compress itself")
    if ws.compressed < 100 or ws.compressed != n:
        fails.append(f"{name}: {ws.compressed} compressed of {n} messages")
    for p in prods:
        v = replay[p]
        b, a = B.top(p)
        if b != v["bids"] or a != v["asks"] or len(B.bids.get(p, {})) != v["bid_levels"] \
                or len(B.asks.get(p, {})) != v["ask_levels"]:
            fails.append(f"{name}: {p} book differs from replay")
    if B.errors:
        fails.append(f"{name}: probe errors {B.errors[:3]}")
    print(f"{name}: {n} messages, {ws.compressed} compressed")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PYEOF
echo "sim deflate params: ok"
