#!/usr/bin/env bash
# quotewatch sim protocol behaviour on the wire (ASan build, independent
# probe tests/ref/ws_probe.py): Coinbase error messages (unknown product,
# unauthenticated level2, both feeds), authenticated level2 accepted, the
# 5 s subscribe timeout, unsubscribe in both feeds, heartbeats after the
# source ends, --loop (a new snapshot at restart), and a synthetic
# 50,000-level book served as one fragmented, permessage-deflate message.
. "$(dirname "$0")/lib.sh"
BIN="${QW_ASAN_BIN:-$QW_BIN}"; [ -x "$BIN" ] || BIN="$QW_BIN"
PYTHONPATH="$QW_ROOT/tests/ref" "$PY" - "$BIN" "$REAL" "$T" <<'PYEOF' || die "protocol checks failed"
import json, re, sys, threading, time
from ws_probe import WS, Books, Sim, Closed
binary, real, tdir = sys.argv[1:4]
fails = []
def check(c, what):
    if not c:
        fails.append(what)
        print("FAIL:", what, flush=True)

L2_AUTH = {"type": "error", "message": "Failed to subscribe", "reason":
           "level2, level3, and full channels now require authentication. "
           "https://docs.cloud.coinbase.com/exchange/docs/websocket-auth"}

def read_until(ws, pred, timeout):
    end = time.monotonic() + timeout
    out = []
    while time.monotonic() < end:
        try:
            m = json.loads(ws.recv_text(max(0.01, end - time.monotonic())))
        except TimeoutError:
            break
        out.append(m)
        if pred(m):
            break
    return out

def errors_and_timeout():
    sim = Sim(binary, ["--speed", "5x", real], tdir + "/sim_a.log")
    try:
        ws = WS(sim.url())
        ws.send_json({"type": "subscribe", "product_ids": ["FOO-BAR"], "channels": ["level2_batch"]})
        m = json.loads(ws.recv_text(5))
        check(m == {"type": "error", "message": "Failed to subscribe", "reason": "FOO-BAR is not a valid product"}, f"ex unknown product {m}")
        ws.send_json({"type": "subscribe", "product_ids": ["SKL-USD"], "channels": ["level2"]})
        m = json.loads(ws.recv_text(5))
        check(m == L2_AUTH, f"ex level2 unauthenticated: {m}")
        ws.send_json({"type": "subscribe", "product_ids": ["SKL-USD"], "channels": ["level2"],
                      "signature": "x", "key": "k", "passphrase": "p", "timestamp": "1"})
        ms = read_until(ws, lambda m: m.get("type") == "snapshot", 5)
        check(ms and ms[0].get("type") == "subscriptions" and ms[0]["channels"][0]["name"] == "level2", f"auth level2 ack {ms[:1]}")
        check(ms and ms[-1].get("type") == "snapshot" and ms[-1]["product_id"] == "SKL-USD", "auth level2 snapshot")
        # Exchange unsubscribe: the ack drops the channel; no more l2update
        ws.send_json({"type": "subscribe", "product_ids": ["BAND-GBP"], "channels": ["matches"]})
        ws.send_json({"type": "unsubscribe", "channels": ["level2"]})
        ms = read_until(ws, lambda m: m.get("type") == "subscriptions" and
                        [c["name"] for c in m["channels"]] == ["matches"], 5)
        check(ms and ms[-1].get("type") == "subscriptions", "ex unsubscribe ack")
        later = read_until(ws, lambda m: False, 1.5)
        check(not any(m.get("type") in ("l2update", "snapshot") for m in later), "ex book after unsubscribe")
        ws.close()
        # Advanced: unknown product, then unsubscribe one product
        ws = WS(sim.url())
        ws.send_json({"type": "subscribe", "product_ids": ["FOO-BAR"], "channel": "level2"})
        m = json.loads(ws.recv_text(5))
        check(m == {"type": "error", "message": "Failed to subscribe: FOO-BAR is not a valid product"}, f"adv unknown product {m}")
        ws.send_json({"type": "subscribe", "product_ids": ["SKL-USD", "SKL-GBP"], "channel": "level2"})
        B = Books()
        for m in read_until(ws, lambda m: False, 2.0):
            B.apply(m)
        check(B.acks and B.acks[0]["sequence_num"] == 0, "adv first message is the ack with sequence_num 0")
        check(B.snapshots == {"SKL-USD": 1, "SKL-GBP": 1}, f"adv snapshots {B.snapshots}")
        ws.send_json({"type": "unsubscribe", "product_ids": ["SKL-USD"], "channel": "level2"})
        seen_ack, after = False, []
        for m in read_until(ws, lambda m: False, 2.5):
            B.apply(m)
            if m.get("channel") == "subscriptions":
                seen_ack = True
                check(m["events"][0]["subscriptions"] == {"level2": ["SKL-GBP"]}, f"adv unsub ack {m}")
            elif seen_ack and m.get("channel") == "l2_data":
                after += [e["product_id"] for e in m["events"]]
        check(seen_ack and "SKL-USD" not in after, f"adv unsubscribe: {after[:5]}")
        check(not B.gaps, f"adv gaps {B.gaps}")
        ws.close()
        # no subscribe within 5 s: the server closes the connection
        ws = WS(sim.url())
        t0 = time.monotonic()
        closed = None
        try:
            while time.monotonic() - t0 < 9:
                op, _ = ws.recv(9)
                if op == 8:
                    closed = time.monotonic() - t0
                    break
        except (Closed, TimeoutError, OSError):
            closed = time.monotonic() - t0
        check(closed is not None and 4.5 <= closed <= 7.5, f"subscribe timeout closed after {closed}")
    finally:
        rc, err, summ = sim.stop()
    check(rc == 0 and summ["timeouts"] == 1 and summ["errors_sent"] == 3, f"sim a: rc {rc} summary {summ}")
    check("AddressSanitizer" not in err and "runtime error" not in err, "sim a sanitizer")

def loop_and_heartbeats():
    sim = Sim(binary, ["--loop", "--speed", "max", real], tdir + "/sim_b.log")
    sim2 = Sim(binary, [real], tdir + "/sim_c.log")
    try:
        ws = WS(sim.url())
        ws.send_json({"type": "subscribe", "product_ids": ["NU-GBP"], "channels": ["level2_batch"]})
        snaps = [m for m in read_until(ws, lambda m: False, 3) if m.get("type") == "snapshot"]
        check(len(snaps) >= 2, f"--loop: snapshots at restart {len(snaps)}")
        ws.close()
        # heartbeats go on after the source ends (no loop)
        ws = WS(sim2.url())
        ws.send_json({"type": "subscribe", "channel": "heartbeats"})
        ws.send_json({"type": "subscribe", "product_ids": ["NU-GBP"], "channel": "level2"})
        hb = [m for m in read_until(ws, lambda m: False, 4.5) if m.get("channel") == "heartbeats"]
        check(len(hb) >= 3, f"heartbeats after the end: {len(hb)}")
        cnt = [m["events"][0]["heartbeat_counter"] for m in hb]
        check(all(b == a + 1 for a, b in zip(cnt, cnt[1:])), f"heartbeat_counter {cnt}")
        rx = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})? \+0000 UTC m=\+\d+\.\d{9}$")
        check(all(rx.match(m["events"][0]["current_time"]) for m in hb), f"current_time {hb[:1]}")
        ws.close()
    finally:
        rc, err, summ = sim.stop()
        rc2, err2, summ2 = sim2.stop()
    check(rc == 0 and summ["source_restarts"] >= 1, f"loop summary {summ}")
    check(rc2 == 0, "sim c exit")

def synthetic_big():
    sim = Sim(binary, ["--synthetic", "--feed", "exchange", "--products", "BTC-USD,ETH-USD",
                       "--levels", "50000", "--speed", "max", "--duration", "40"], tdir + "/sim_d.log")
    try:
        ws = WS(sim.url(), deflate=True, timeout=30)
        check(ws.deflate, "permessage-deflate negotiated")
        ws.send_json({"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "level2"})
        B, big, frames, t0 = Books(), 0, 0, time.monotonic()
        while time.monotonic() - t0 < 30 and B.counts.get("l2_data", 0) < 2000:
            op, data = ws.recv(20)
            if len(data) > big:
                big, frames = len(data), ws.frames
            B.apply(json.loads(data))
        b, a = B.bids["BTC-USD"], B.asks["BTC-USD"]
        check(big > 4_000_000 and frames > 1, f"snapshot message {big} bytes in {frames} frames")
        check(ws.compressed > 0, "messages were compressed")
        check(B.snapshots.get("BTC-USD") == 1 and not B.gaps, f"synthetic snapshots/gaps {B.snapshots} {B.gaps}")
        check(len(b) > 49000 and len(a) > 49000 and max(b) < min(a), f"book {len(b)}/{len(a)} uncrossed")
        ws.close()
    finally:
        rc, err, summ = sim.stop(60)
    check(rc == 0, f"synthetic sim exit {rc}")
    check("AddressSanitizer" not in err and "runtime error" not in err, "sim d sanitizer")

th = [threading.Thread(target=f) for f in (errors_and_timeout, loop_and_heartbeats, synthetic_big)]
for t in th: t.start()
for t in th: t.join()
print("failures:", len(fails))
sys.exit(1 if fails else 0)
PYEOF
