#!/usr/bin/env bash
# Two quotewatch sim processes (ASan build) serve the real Exchange capture
# over real loopback sockets to independent probes (tests/ref/ws_probe.py).
# On each sim one probe subscribes first (so it sees every update: sim 1 an
# Advanced Trade probe, sim 2 an Exchange probe) and a probe of the other
# protocol joins 0.6 s later (snapshot of the sim's current book, then the
# rest). Every probe's books, built only from the sim's messages, must
# equal the final books of `quotewatch replay --summary` (top 10 per side
# and level counts); acks, snapshots, trades, contiguous sequence_num are
# checked.
# SIGINT stops the sim cleanly (exit 0, summary line, ASan clean).
. "$(dirname "$0")/lib.sh"
BIN="${QW_ASAN_BIN:-$QW_BIN}"; [ -x "$BIN" ] || BIN="$QW_BIN"
"$QW_BIN" replay --log-level warn --summary "$T/replay.json" "$REAL"
PYTHONPATH="$QW_ROOT/tests/ref" "$PY" - "$BIN" "$REAL" "$T" <<'PYEOF' || die "probe checks failed"
import json, sys, threading, time
from ws_probe import WS, Books, Sim
binary, real, tdir = sys.argv[1:4]
replay = json.load(open(tdir + "/replay.json"))["products"]
prods = sorted(replay)
sims = [Sim(binary, [real], tdir + "/sim1.log"), Sim(binary, [real], tdir + "/sim2.log")]
res = {}

def probe(kind, sim, key):
    ws = WS(sim.url())
    if kind == "ex":
        ws.send_json({"type": "subscribe", "product_ids": prods,
                      "channels": ["level2_batch", "matches", {"name": "heartbeat", "product_ids": prods[:2]}]})
    else:
        for ch in ("level2", "market_trades", "heartbeats"):
            ws.send_json({"type": "subscribe", "product_ids": prods, "channel": ch})
    B, last, t0 = Books(), time.monotonic(), time.monotonic()
    while time.monotonic() - last < 2.0 and time.monotonic() - t0 < 40:
        try:
            m = json.loads(ws.recv_text(0.5))
        except TimeoutError:
            continue
        B.apply(m)
        if (m.get("type") or m.get("channel")) not in ("heartbeat", "heartbeats"):
            last = time.monotonic()
    ws.close()
    res[key] = B

def pair(sim, first, second):
    a = threading.Thread(target=probe, args=(first, sim, first + "1"))
    a.start(); time.sleep(0.6)
    probe(second, sim, second + "2")
    a.join()

th = [threading.Thread(target=pair, args=(sims[0], "adv", "ex")),
      threading.Thread(target=pair, args=(sims[1], "ex", "adv"))]
for t in th: t.start()
for t in th: t.join()
stops = [s.stop() for s in sims]
fails = []
def check(c, what):
    if not c: fails.append(what)
for key, B in sorted(res.items()):
    kind = key
    for p in prods:
        v = replay[p]
        b, a = B.top(p)
        check(b == v["bids"] and a == v["asks"], f"{kind} {p}: top-10 differs: {b[:2]} {a[:2]} vs {v['bids'][:2]} {v['asks'][:2]}")
        check(len(B.bids.get(p, {})) == v["bid_levels"] and len(B.asks.get(p, {})) == v["ask_levels"],
              f"{kind} {p}: level counts")
        check(B.snapshots.get(p) == 1, f"{kind} {p}: snapshots {B.snapshots.get(p)}")
    check(not B.errors, f"{kind}: errors {B.errors}")
    print(kind, B.counts, "trades", sum(len(x) for x in B.trade_ids.values()))
ex, adv = res["ex1"], res["adv1"]
check(ex.counts.get("subscriptions") == 1, "ex: one ack")
ack = ex.acks[0]["channels"]
check([c["name"] for c in ack] == ["level2_50", "matches", "heartbeat"], f"ex ack names {ack}")
check(sorted(ack[0]["product_ids"]) == prods and sorted(ack[2]["product_ids"]) == prods[:2], "ex ack ids")
check(all("account_ids" in c for c in ack), "ex ack account_ids")
check(adv.counts.get("l2_data") == 9719 + 10, f"adv l2_data count {adv.counts.get('l2_data')}")
check(adv.counts.get("market_trades") == 97 + 10, f"adv market_trades count {adv.counts.get('market_trades')}")
check(not res["adv2"].gaps, "late joiner gaps")
check(ex.counts.get("l2update") == 9719, f"ex l2update count {ex.counts.get('l2update')}")
check(ex.counts.get("match") == 97, f"ex match count {ex.counts.get('match')}")
check(ex.counts.get("heartbeat", 0) >= 2 and all(h["product_id"] in prods[:2] for h in ex.hb), "ex heartbeats")
check(all(isinstance(h["sequence"], int) and isinstance(h["last_trade_id"], int) for h in ex.hb), "hb types")
check(adv.seq is not None and adv.seq > 100 and not adv.gaps, f"adv sequence_num gaps {adv.gaps}")
check(adv.counts.get("subscriptions") == 3, "adv: 3 cumulative acks")
last_ack = adv.acks[-1]["events"][0]["subscriptions"]
check(sorted(last_ack.get("level2", [])) == prods and last_ack.get("heartbeats") == ["heartbeats"]
      and sorted(last_ack.get("market_trades", [])) == prods, f"adv ack {last_ack}")
# each side got every match as a trade (Advanced trades: snapshot + updates)
check(sum(len(x) for x in ex.trade_ids.values()) == 97, "ex trades")
for rc, err, summ in stops:
    check(rc == 0, f"sim exit {rc}")
    check(summ and summ["connections"] == 2 and summ["source_messages"] == 9946, f"summary {summ}")
    check("ERROR" not in err and "AddressSanitizer" not in err and "runtime error" not in err,
          "sim stderr has errors: " + err[-1500:])
for f in fails: print("FAIL:", f)
sys.exit(1 if fails else 0)
PYEOF
