#!/usr/bin/python3
"""analyst_check.py DUCKDB.json TRADES.jsonl FEATURES.jsonl CAPTURE...: the
analyst queries of tests/js/lake_analyst.mjs recomputed here with Python's
decimal module -- VWAP and notional from the captures' match messages
(independent of QuoteWatch), spread percentiles and the as-of join from
the rows `quotewatch lake scan` returns (our reader; DuckDB is the other)
-- and compared. Exits 1 on any difference."""
import bisect, json, sys
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal, getcontext

getcontext().prec = 80
duck = json.load(open(sys.argv[1]))
scan_trades = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
scan_feats = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
bad = 0

def fail(msg):
    global bad
    bad += 1
    if bad <= 20:
        print("FAIL", msg)

def fmt(d, scale):
    return format(d.quantize(Decimal(1).scaleb(-scale)), "f")

def ns(t):
    base, frac = t.rstrip("Z").split(".") if "." in t else (t.rstrip("Z"), "0")
    secs = int(datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return secs * 10**9 + int((frac + "000000000")[:9])

# 1. VWAP per product and minute, from the captures (each trade id once)
agg, seen = defaultdict(lambda: [0, Decimal(0), Decimal(0)]), set()
for cap in sys.argv[4:]:
    for line in open(cap):
        if not line.strip():
            continue
        m = json.loads(line)
        if m.get("type") not in ("match", "last_match"):
            continue
        key = (m["product_id"], str(m["trade_id"]))
        if key in seen:
            continue
        seen.add(key)
        minute = datetime.fromtimestamp(ns(m["time"]) // 10**9, timezone.utc).strftime("%Y-%m-%dT%H:%M")
        a = agg[(m["product_id"], minute)]
        p, s = Decimal(m["price"]), Decimal(m["size"])
        a[0] += 1; a[1] += s; a[2] += p * s
want = [[k[0], k[1], str(v[0]), fmt(v[1], 8), fmt(v[2], 16)] for k, v in sorted(agg.items())]
got = [r[:5] for r in duck["vwap"]]
if got != want:
    fail(f"vwap rows: got {got[:3]}... want {want[:3]}... ({len(got)} vs {len(want)})")
for r in duck["vwap"]:
    v = agg[(r[0], r[1])]
    exact = v[2] / v[1]
    if abs(Decimal(repr(r[5])) - exact) > abs(exact) * Decimal("1e-12"):
        fail(f"vwap {r[0]} {r[1]}: {r[5]} vs {exact}")

# 2. spread percentiles (quantile_disc: the value at index ceil(q*n)-1 of the sorted list)
by = defaultdict(list)
for f in scan_feats:
    by[f["product_id"]].append(Decimal(f["best_ask"]) - Decimal(f["best_bid"]))
want = []
for p in sorted(by):
    xs = sorted(by[p]); n = len(xs)
    def qd(q):
        import math
        return xs[max(0, math.ceil(q * n) - 1)]
    want.append([p, str(n)] + [fmt(qd(q), 8) for q in (0.5, 0.9, 0.99)] + [fmt(xs[-1], 8)])
if duck["spread"] != want:
    fail(f"spread: got {duck['spread'][:2]} want {want[:2]}")

# 3. as-of join: the last features row at or before each trade
fe = defaultdict(list)
for f in scan_feats:
    fe[f["product_id"]].append((int(f["exchange_ns"]), f["best_bid"], f["best_ask"]))
for v in fe.values():
    v.sort(key=lambda x: x[0])
want = []
for t in scan_trades:
    lst = fe.get(t["product_id"], [])
    i = bisect.bisect_right([x[0] for x in lst], int(t["exchange_ns"])) - 1
    if i >= 0:
        # several features rows may share that time: DuckDB may take any; compare the time only
        want.append([t["product_id"], t["trade_id"], str(t["exchange_ns"]), str(lst[i][0])])
    else:
        want.append([t["product_id"], t["trade_id"], str(t["exchange_ns"]), None])
want.sort(key=lambda r: [(1, "") if x is None else (0, x) for x in r])
got = sorted([r[:4] for r in duck["asof"]], key=lambda r: [(1, "") if x is None else (0, x) for x in r])
if got != want:
    fail(f"asof: {sum(1 for a, b in zip(got, want) if a != b)} rows differ; first got "
         f"{next((a for a, b in zip(got, want) if a != b), None)}")
matched = sum(1 for r in duck["asof"] if r[3] is not None)
print(f"analyst queries: {len(duck['vwap'])} product-minutes, {len(duck['spread'])} products, "
      f"{matched}/{len(duck['asof'])} trades matched as of their time: {'ok' if not bad else 'FAIL'}")
sys.exit(1 if bad else 0)
