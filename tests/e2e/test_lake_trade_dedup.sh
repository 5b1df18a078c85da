#!/usr/bin/env bash
# raw_trades does not double-count volume: the trades a (re)subscribe sends
# first (Exchange last_match, an Advanced market_trades snapshot) repeat
# trades already written in this run and are not written again; trades
# listed newest first in one message all count; sum(size) over the table
# is the traded volume (checked with DuckDB-independent Python on the scan).
source "$(dirname "$0")/lib.sh"
export ICEBERG_WAREHOUSE="file://$T/wh"
"$PY" - "$T/feed.ndjson" <<'PY'
import json, sys
out = open(sys.argv[1], "w")
def w(recv, msg): out.write(json.dumps({"recv_ns": recv, "msg": msg}, separators=(",", ":")) + "\n")
def conn(recv, n): out.write(json.dumps({"recv_ns": recv, "event": "connect", "conn": n, "url": "ws://x"}, separators=(",", ":")) + "\n")
t = lambda s: f"2026-01-01T00:00:{s:02d}.000000Z"
def ex(kind, tid, sec, size="1"):
    return {"type": kind, "trade_id": tid, "maker_order_id": "a", "taker_order_id": "b", "side": "sell",
            "size": size, "price": "100", "product_id": "BTC-USD", "sequence": 1000 + tid, "time": t(sec)}
def adv(kind, ids, sec):
    return {"channel": "market_trades", "timestamp": t(sec), "sequence_num": sec,
            "events": [{"type": kind, "trades": [{"product_id": "ETH-USD", "trade_id": str(i), "price": "3",
                        "size": "2", "side": "BUY", "time": t(sec)} for i in ids]}]}
conn(1, 1)
w(2, ex("last_match", 10, 1))
w(3, ex("match", 11, 2)); w(4, ex("match", 12, 3))
w(5, adv("snapshot", [7, 6, 5], 3))          # newest first: all three count
w(6, adv("update", [9, 8], 4))
conn(7, 2)                                     # a reconnect: snapshots repeat
w(8, ex("last_match", 12, 5))                  # repeat of 12
w(9, adv("snapshot", [9, 8, 7, 6, 5], 5))      # all repeats
w(10, ex("match", 13, 6)); w(11, adv("update", [10], 6))
PY
"$QW_BIN" replay "$T/feed.ndjson" --persist --summary "$T/s.json" 2>"$T/r.log" || { tail "$T/r.log"; die "replay --persist"; }
"$QW_BIN" lake scan raw_trades --limit 0 > "$T/scan.ndjson" 2>/dev/null || die "lake scan"
"$PY" - "$T/s.json" "$T/scan.ndjson" <<'PY' || die "trades double-counted"
import json, sys
from decimal import Decimal
p = json.load(open(sys.argv[1]))["persistence"]
rows = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
ids = sorted((r["product_id"], int(r["trade_id"])) for r in rows)
want = sorted([("BTC-USD", i) for i in (10, 11, 12, 13)] + [("ETH-USD", i) for i in (5, 6, 7, 8, 9, 10)])
assert ids == want, ids
assert p["rows_written"]["raw_trades"] == 10 and p["trades_deduplicated"] == 6, p
vol = {k: sum(Decimal(r["size"]) for r in rows if r["product_id"] == k) for k in ("BTC-USD", "ETH-USD")}
assert vol == {"BTC-USD": Decimal(4), "ETH-USD": Decimal(12)}, vol
print("trades written once each:", len(rows), "; repeats not written:", p["trades_deduplicated"])
PY
