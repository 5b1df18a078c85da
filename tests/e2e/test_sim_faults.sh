#!/usr/bin/env bash
# quotewatch sim --fault: every fault is visible on the wire to the
# independent probe (tests/ref/ws_probe.py): skip (a sequence_num gap on
# Advanced Trade; a trade_id gap on Exchange), malformed frames of every
# kind, an oversize message of the exact size, a stall of the given length,
# refused connections (at start and after a drop), abrupt drops (each
# connection, and /once), slowread; bad specs exit 2 naming the item.
# A client that never reads is disconnected at the queue bound (ErrSlowConsume).
. "$(dirname "$0")/lib.sh"
set +e
"$QW_BIN" sim --synthetic --fault teleport=3 2>"$T/e"; rc=$?
[ $rc = 2 ] || die "bad --fault must exit 2 (got $rc)"
grep -q "teleport=3" "$T/e" || die "error must name the bad spec: $(cat "$T/e")"
"$QW_BIN" sim --synthetic --fault drop=5,skip=1 2>"$T/e"; [ $? = 2 ] || die "skip=1 must exit 2"
grep -q "skip=1" "$T/e" || die "error must name skip=1"
set -e
PYTHONPATH="$QW_ROOT/tests/ref" "$PY" - "$QW_BIN" "$REAL" "$T" <<'PYEOF' || die "fault checks failed"
import json, sys, threading, time
from ws_probe import WS, Books, Sim, Closed
binary, real, tdir = sys.argv[1:4]
fails = []
def check(c, what):
    if not c:
        fails.append(what)
        print("FAIL:", what, flush=True)
SYN = ["--synthetic", "--feed", "advanced", "--products", "BTC-USD", "--levels", "100", "--speed", "1x"]
ADV_SUB = [{"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "level2"},
           {"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "market_trades"},
           {"type": "subscribe", "channel": "heartbeats"}]

def adv(sim):
    ws = WS(sim.url())
    for s in ADV_SUB:
        ws.send_json(s)
    return ws

def run(name, fault, body, args=SYN):
    sim = Sim(binary, args + ["--fault", fault], f"{tdir}/sim_{name}.log")
    try:
        body(sim)
    except Exception as e:
        check(False, f"{name}: {type(e).__name__}: {e}")
    finally:
        rc, err, summ = sim.stop()
    check(rc == 0, f"{name}: exit {rc}")
    print(name, summ["faults"] if summ else None, flush=True)
    return summ

def t_skip():
    def body(sim):
        ws = adv(sim)
        B = Books()
        while B.seq is None or B.seq < 160:
            B.apply(json.loads(ws.recv_text(10)))
        ws.close()
        check(len(B.gaps) >= 2 and all(got == exp + 1 for exp, got in B.gaps), f"skip: gaps {B.gaps}")
    s = run("skip", "skip=40", body)
    check(s and s["faults"]["skip"] >= 2, "skip counted")
    def body_ex(sim):
        ws = WS(sim.url())
        ws.send_json({"type": "subscribe", "product_ids": ["SKL-USD", "DASH-BTC"], "channels": ["matches"]})
        B = Books()
        try:
            while True:
                B.apply(json.loads(ws.recv_text(2.5)))
        except TimeoutError:
            pass
        ids = B.trade_ids.get("SKL-USD", []) + B.trade_ids.get("DASH-BTC", [])
        n = 53 + 16 - 1 - 1  # matches (last_match excluded)
        check(B.counts.get("match") == n - n // 5, f"exchange skip: {B.counts}")
        holes = [b - a for l in B.trade_ids.values() for a, b in zip(l, l[1:]) if b - a != 1]
        check(holes and all(h == 2 for h in holes), f"exchange skip: trade_id holes {holes}")
    run("skip_ex", "skip=5", body_ex, ["--speed", "max", real])

def t_malformed():
    def body(sim):
        ws = adv(sim)
        B, bad_json, bad_shape, n = Books(), 0, 0, 0
        while n < 200:
            t = ws.recv_text(10)
            n += 1
            try:
                m = json.loads(t)
            except ValueError:
                bad_json += 1
                continue
            if not isinstance(m.get("sequence_num"), int) or not isinstance(m.get("events"), list):
                bad_shape += 1
                continue
            B.apply(m)
        ws.close()
        check(bad_json >= 2 and bad_shape >= 2, f"malformed: {bad_json} unparsable, {bad_shape} wrong types")
        check(not B.gaps, f"malformed frames must not consume sequence_num: {B.gaps}")
    s = run("malformed", "malformed=20", body)
    check(s and s["faults"]["malformed"] >= 4, "malformed counted")

def t_oversize():
    def body(sim):
        ws = adv(sim)
        big = []
        B = Books()
        while B.seq is None or B.seq < 40:
            op, data = ws.recv(10)
            m = json.loads(data)
            if len(data) > 1000000:
                big.append((len(data), m.get("channel")))
            B.apply(m)
        ws.close()
        check(big == [(3 * 1048576, "padding")], f"oversize: {big}")
        check(not B.gaps, "oversize: no gap")
    run("oversize", "oversize=3m@10", body)

def t_stall():
    def body(sim):
        ws = adv(sim)
        last, worst, t0 = time.monotonic(), 0, time.monotonic()
        while time.monotonic() - t0 < 5:
            ws.recv_text(10)
            now = time.monotonic()
            worst, last = max(worst, now - last), now
        ws.close()
        check(1.8 <= worst <= 3.5, f"stall=2: longest silence {worst:.2f}s")
    s = run("stall", "stall=2@30", body)
    check(s and s["faults"]["stall"] == 1, "stall counted")

def connect_ok(sim):
    try:
        ws = WS(sim.url(), timeout=3)
        return ws
    except (Closed, OSError):
        return None

def read_to_drop(ws, limit=10, total=20):
    n, end = 0, time.monotonic() + total
    try:
        while time.monotonic() < end:
            op, _ = ws.recv(limit)
            if op == 8:
                return n, "close_frame"
            n += 1
    except (Closed, ConnectionResetError, OSError) as e:
        return n, "abrupt"
    except TimeoutError:
        return n, "timeout"
    return n, "timeout"

def t_refuse_drop():
    def body(sim):
        t0 = time.monotonic()
        check(connect_ok(sim) is None, "refuse: connection at start not refused")
        ws = None
        while ws is None and time.monotonic() - t0 < 5:
            time.sleep(0.2)
            ws = connect_ok(sim)
        waited = time.monotonic() - t0
        check(ws is not None and 1.3 <= waited <= 3.0, f"refuse=1.5: accepted after {waited:.2f}s")
        for s in ADV_SUB:
            ws.send_json(s)
        n, how = read_to_drop(ws)
        check(how == "abrupt" and n >= 40, f"drop=40: {n} messages then {how}")
        check(connect_ok(sim) is None, "refuse after a drop")
        time.sleep(1.8)
        ws = connect_ok(sim)
        check(ws is not None, "accepted again after refuse")
        if ws:
            for s in ADV_SUB:
                ws.send_json(s)
            n, how = read_to_drop(ws)
            check(how == "abrupt", f"second connection dropped too: {how}")
    s = run("refuse_drop", "drop=40,refuse=1.5", body)
    check(s and s["faults"]["drop"] == 2 and s["faults"]["refuse"] >= 2, f"refuse/drop counted {s}")

def t_drop_once():
    def body(sim):
        ws = adv(sim)
        n, how = read_to_drop(ws)
        check(how == "abrupt" and n >= 30, f"drop once: first {n} {how}")
        ws = adv(sim)
        n, how = read_to_drop(ws, 3, 3)
        check(how == "timeout" and n > 60, f"drop once: second connection {n} {how}")
    run("drop_once", "drop=30/once", body)

def t_slowread():
    def body(sim):
        ws = WS(sim.url())
        t0 = time.monotonic()
        ws.send_json(ADV_SUB[0])
        m = json.loads(ws.recv_text(10))
        dt = time.monotonic() - t0
        check(m.get("channel") == "subscriptions" and 1.8 <= dt <= 4, f"slowread=2: ack after {dt:.2f}s")
        ws.close()
    s = run("slowread", "slowread=2", body)
    check(s and s["faults"]["slowread"] == 1, "slowread counted")

def t_slow_consumer():
    # not a --fault: a client that never reads is cut off at the 64 MiB queue bound
    sim = Sim(binary, ["--synthetic", "--feed", "advanced", "--speed", "100000x"], f"{tdir}/sim_slow.log")
    ws = WS(sim.url())
    ws.send_json(ADV_SUB[0])
    t0 = time.monotonic()
    while time.monotonic() - t0 < 25 and "ErrSlowConsume" not in open(f"{tdir}/sim_slow.log").read():
        time.sleep(0.5)
    rc, err, summ = sim.stop()
    check(rc == 0 and summ["slow_disconnects"] == 1 and "queued=" in err, f"slow consumer: {summ}")

th = [threading.Thread(target=f) for f in (t_slow_consumer, t_skip, t_malformed, t_oversize, t_stall, t_refuse_drop, t_drop_once, t_slowread)]
for t in th: t.start()
for t in th: t.join()
print("failures:", len(fails))
sys.exit(1 if fails else 0)
PYEOF
