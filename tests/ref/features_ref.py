#!/usr/bin/python3
"""Independent reference for the features (docs/FEATURES.md), all twelve.

Reads an Exchange-feed capture (NDJSON lines: snapshot, l2update, match,
last_match; recorder-wrapped lines too), keeps its own books (Decimal ->
e8 integers), computes every feature after each l2update of a valid,
uncrossed book, straight from the definitions (fresh sums over each
window, no incremental state), and compares them with the rows of
`quotewatch replay --features rich --samples FILE` for the same capture:
per product, the CSV's rows are the labeled observations in order (a few
dropped before labelling are skipped by time).

usage: features_ref.py CAPTURE SAMPLES.csv
"""
import bisect
import csv
import json
import math
import sys
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal

NAMES = ["spread_bps", "imbalance", "depth", "volatility", "microprice_bps", "ofi", "depth_imb_1",
         "depth_imb_5", "trade_imb", "ret_1s_bps", "since_trade_s", "spread_ticks"]
VOL_W, FLOW_W = 5_000_000_000, 1_000_000_000


def e8(s):
    return int(Decimal(s) * 100_000_000)


def tns(s):
    # 2021-04-17T16:43:37.123456Z: whole seconds by datetime, fraction exactly
    base, _, frac = s.rstrip("Z").partition(".")
    dt = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1_000_000_000 + int((frac + "000000000")[:9] or 0)


def ratio(a, b):
    return (a - b) / (a + b) if a + b > 0 else 0.0


class Prod:
    def __init__(self):
        self.bids, self.asks = {}, {}
        self.valid = False
        self.rets = []        # (t, log-return) of every observation
        self.last_mid = 0.0
        self.ofi = []         # (t, e_n)
        self.prev = None      # (best bid px, qb, best ask px, qa)
        self.mids = []        # (t, mid)
        self.trades = []      # (t, signed volume, volume)
        self.last_trade = 0
        self.tick = 100_000_000
        self.obs = []

    def observe(self, t):
        if not self.valid or not self.bids or not self.asks:
            return
        bids = sorted(self.bids.items(), reverse=True)[:10]
        asks = sorted(self.asks.items())[:10]
        if bids[0][0] >= asks[0][0]:
            return
        bv = sum(s for _, s in bids) / 1e8
        av = sum(s for _, s in asks) / 1e8
        bb, ba = bids[0][0] / 1e8, asks[0][0] / 1e8
        mid = (bb + ba) / 2
        if self.last_mid > 0:
            self.rets.append((t, math.log(mid / self.last_mid)))
        self.last_mid = mid
        rs = [r for (tt, r) in self.rets if tt >= t - VOL_W]
        vol = 0.0
        if len(rs) >= 2:
            m = sum(rs) / len(rs)
            v = sum(r * r for r in rs) / len(rs) - m * m
            vol = math.sqrt(v) if v > 0 else 0.0
        qb, qa = bids[0][1] / 1e8, asks[0][1] / 1e8
        micro = ((bb * qa + ba * qb) / (qb + qa) - mid) / mid * 1e4
        if self.prev:
            pbb, pqb, pba, pqa = self.prev
            e = 0.0
            if bids[0][0] >= pbb:
                e += qb
            if bids[0][0] <= pbb:
                e -= pqb
            if asks[0][0] <= pba:
                e -= qa
            if asks[0][0] >= pba:
                e += pqa
            self.ofi.append((t, e))
        self.prev = (bids[0][0], qb, asks[0][0], qa)
        ofi = sum(e for (tt, e) in self.ofi if tt > t - FLOW_W) / (qb + qa)
        b5 = sum(s for _, s in bids[:5]) / 1e8
        a5 = sum(s for _, s in asks[:5]) / 1e8
        win = [(s, v) for (tt, s, v) in self.trades if tt > t - FLOW_W]
        tv = sum(v for _, v in win)
        timb = sum(s for s, _ in win) / tv if tv > 0 else 0.0
        self.mids.append((t, mid))
        # the mid in force at t - 1 s: the last observation at or before it,
        # else the oldest one kept since the last reset
        times = [tt for tt, _ in self.mids]
        k = bisect.bisect_right(times, t - FLOW_W) - 1
        ret = math.log(mid / self.mids[max(k, 0)][1]) * 1e4
        since = (t - self.last_trade) / 1e9 if self.last_trade else 3600.0
        since = min(max(since, 0.0), 3600.0)
        for px in (bids[0][0], asks[0][0]):
            while self.tick > 1 and px % self.tick:
                self.tick //= 10
        ticks = (asks[0][0] - bids[0][0]) / self.tick
        self.obs.append((t, [(ba - bb) / mid * 1e4, ratio(bv, av), bv + av, vol, micro, ofi,
                             ratio(qb, qa), ratio(b5, a5), timb, ret, since, ticks]))


def unwrap(line):
    o = json.loads(line)
    if "msg" in o and "recv_ns" in o:
        o = o["msg"] if isinstance(o["msg"], dict) else json.loads(o["msg"])
    return o


def main():
    cap, samples = sys.argv[1], sys.argv[2]
    prods = defaultdict(Prod)
    clock = 0  # feed time of the last timed message: an Exchange snapshot has none and takes it
    with open(cap, "rb") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                o = unwrap(line)
            except ValueError:
                continue
            if not isinstance(o, dict):
                continue
            ty, pid = o.get("type"), o.get("product_id")
            if ty == "snapshot":
                p = prods[pid]
                p.bids = {e8(a): e8(b) for a, b in o["bids"] if e8(b)}
                p.asks = {e8(a): e8(b) for a, b in o["asks"] if e8(b)}
                p.valid = True
                # a snapshot's time is unknown on this feed: features, no sample
                p.last_mid, p.rets, p.ofi, p.mids, p.prev = 0.0, [], [], [], None
                p.observe(clock)
                p.obs = [x for x in p.obs if x[0] > 0]
            elif ty == "l2update":
                p = prods[pid]
                for side, px, sz in o["changes"]:
                    book = p.bids if side == "buy" else p.asks
                    if e8(sz) == 0:
                        book.pop(e8(px), None)
                    else:
                        book[e8(px)] = e8(sz)
                clock = tns(o["time"])
                p.observe(clock)
            elif ty == "match":
                p = prods[pid]
                t, v = tns(o["time"]), e8(o["size"]) / 1e8
                clock = t
                p.trades.append((t, v if o["side"] == "sell" else -v, v))  # maker sell: buyer took
                p.last_trade = max(p.last_trade, t)
    rows = defaultdict(list)
    with open(samples, newline="") as f:
        r = csv.DictReader(f)
        if r.fieldnames[2:14] != NAMES:
            print("samples header has not the rich set:", r.fieldnames)
            return 1
        for row in r:
            rows[row["product"]].append(row)
    bad = checked = 0
    skipped = 0
    for pid, rs in rows.items():
        obs, j = prods[pid].obs, 0
        for k, row in enumerate(rs):
            t = int(row["t_ns"])
            # samples dropped before labelling (a resync, a gap) are not in
            # the CSV: skip reference observations up to this row's time
            ahead = next((d for d in range(64) if j + d < len(obs) and obs[j + d][0] == t), None)
            if ahead is not None:
                j += ahead
                skipped += ahead
            if j >= len(obs) or obs[j][0] != t:
                print(f"{pid} row {k}: t_ns {t} has no reference observation")
                bad += 1
                break
            for i, name in enumerate(NAMES):
                got, want = float(row[name]), obs[j][1][i]
                if abs(got - want) > 1e-7 * max(1.0, abs(got), abs(want)):
                    if bad < 20:
                        print(f"{pid} row {k} t {t}: {name} {got!r} != reference {want!r}")
                    bad += 1
                checked += 1
            j += 1
    if skipped > 100:
        print(f"{skipped} reference observations have no sample: too many to be drops")
        bad += 1
    print(f"features_ref: {sum(len(r) for r in rows.values())} samples of {len(rows)} products, "
          f"{checked} values checked, {bad} differ")
    return 1 if bad or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
