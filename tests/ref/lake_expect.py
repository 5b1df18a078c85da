#!/usr/bin/python3
"""lake_expect.py CAPTURE TABLE: the rows QuoteWatch must write for TABLE
(raw_orderbook | raw_trades) from a raw Exchange capture, computed here
independently with Python's decimal module, as the JSON spec that
tests/js/lake_check.mjs compares DuckDB's reading of the lake against."""
import json, sys
from datetime import datetime, timezone
from decimal import Decimal

cap, table = sys.argv[1], sys.argv[2]
q8 = Decimal("0.00000001")

def dec(s):
    return format(Decimal(s).quantize(q8), "f")

def ns(t):
    # RFC 3339 with up to 9 fractional digits, UTC 'Z'
    base, frac = t.rstrip("Z").split(".") if "." in t else (t.rstrip("Z"), "0")
    secs = int(datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return secs * 10**9 + int((frac + "000000000")[:9])

rows = []
for line in open(cap):
    line = line.strip()
    if not line:
        continue
    m = json.loads(line)
    t = m.get("type")
    if table == "raw_orderbook":
        if t == "snapshot":
            for side, key in (("bid", "bids"), ("ask", "asks")):
                for px, sz in m[key]:
                    tn = str(ns(m["time"])) if "time" in m else None
                    rows.append([m["product_id"], side, dec(px), dec(sz), tn, True])
        elif t == "l2update":
            for s, px, sz in m["changes"]:
                rows.append([m["product_id"], "bid" if s == "buy" else "ask", dec(px), dec(sz),
                             str(ns(m["time"])), False])
    elif table == "raw_trades" and t in ("match", "last_match"):
        aggressor = "buy" if m["side"] == "sell" else "sell"
        rows.append([m["product_id"], str(m["trade_id"]), dec(m["price"]), dec(m["size"]), aggressor,
                     str(ns(m["time"])), t == "last_match"])
rows.sort(key=lambda r: [(1, "") if x is None else (0, x) for x in r])  # DuckDB: NULLS LAST
queries = {
    "raw_orderbook": "select product_id, side, price::varchar, size::varchar, exchange_ns::varchar, "
                     "is_snapshot from $FILES order by all",
    "raw_trades": "select product_id, trade_id, price::varchar, size::varchar, aggressor_side, "
                  "exchange_ns::varchar, is_snapshot from $FILES order by all",
}
print(json.dumps({"query": queries[table], "rows": rows, "codec": sys.argv[3] if len(sys.argv) > 3 else "ZSTD",
                  "ncols": 13 if table == "raw_orderbook" else 12}))
