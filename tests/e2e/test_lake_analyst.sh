#!/usr/bin/env bash
# Every value the parser accepts is stored exactly, and an analyst's first
# queries work in DuckDB. A capture of extreme values (sizes beyond int64
# e8, 1e12 and the largest the parser accepts, 9999999999999999999999.99999999;
# prices with 8 decimals above 1e10; sizes above decimal(18,8)'s 1e10 limit,
# which once made every pending row of the flush fail) is persisted with
# the real capture:
# every row commits, `lake scan` and DuckDB return the exact decimals, and
# DuckDB's notional/VWAP per minute (no overflow: DECIMAL(38,16) products),
# spread percentiles and an ASOF join of trades to features equal a Python
# reference (tests/ref/analyst_check.py).
source "$(dirname "$0")/lib.sh"
JS="$QW_ROOT/tests/js"
[ -d "$JS/node_modules/@duckdb/node-api" ] || "$QW_ROOT/scripts/install-npm.sh" tests/js >/dev/null
WH="$T/wh"
cat > "$T/big.ndjson" <<'CAP'
{"type":"snapshot","product_id":"PEPE-USD","bids":[["0.00000871","92233720368.54775807"],["0.0000087","15000000000.5"]],"asks":[["0.00000872","20000000000"],["0.00000873","1"]]}
{"type":"l2update","product_id":"PEPE-USD","changes":[["buy","0.0000087","90000000000"],["sell","0.00000872","10000000000.00000001"]],"time":"2021-04-17T16:43:30.100000Z"}
{"type":"match","trade_id":1,"product_id":"PEPE-USD","price":"0.00000872","size":"50000000000.12345678","side":"sell","time":"2021-04-17T16:43:30.200000Z","sequence":3}
{"type":"match","trade_id":2,"product_id":"PEPE-USD","price":"0.00000871","size":"92233720368.54775807","side":"buy","time":"2021-04-17T16:44:01.000000Z","sequence":4}
{"type":"l2update","product_id":"PEPE-USD","changes":[["buy","0.00000869","1000000000000"],["sell","0.00000874","9999999999999999999999.99999999"]],"time":"2021-04-17T16:44:02.000000Z"}
{"type":"match","trade_id":3,"product_id":"PEPE-USD","price":"0.00000869","size":"1000000000000.5","side":"sell","time":"2021-04-17T16:44:03.000000Z","sequence":6}
{"type":"snapshot","product_id":"XBIG-USD","bids":[["12345678901.12345678","0.00000001"]],"asks":[["92233720368.54775807","0.5"]]}
{"type":"l2update","product_id":"XBIG-USD","changes":[["buy","12345678901.12345679","1.5"]],"time":"2021-04-17T16:43:31.000000Z"}
{"type":"match","trade_id":7,"product_id":"XBIG-USD","price":"12345678901.12345679","size":"1.5","side":"sell","time":"2021-04-17T16:43:31.500000Z","sequence":9}
CAP
"$QW_BIN" replay --persist --warehouse "$WH" "$REAL" "$T/big.ndjson" --summary "$T/p.json" 2>"$T/p.log" \
  || { tail -5 "$T/p.log"; die "replay --persist failed"; }
for k in errors rows_given_up; do
  [ "$(jq_py "$T/p.json" "d['persistence']['$k']")" = 0 ] || { grep -v '"INFO"' "$T/p.log" | tail; die "persistence $k"; }
done
# the extreme values, exactly, through our reader
"$QW_BIN" lake scan raw_orderbook --limit 0 --warehouse "$WH" --products PEPE-USD,XBIG-USD > "$T/ob.jsonl"
"$QW_BIN" lake scan raw_trades --limit 0 --warehouse "$WH" > "$T/tr.jsonl"
"$QW_BIN" lake scan features --limit 0 --warehouse "$WH" > "$T/fe.jsonl"
"$PY" - "$T/ob.jsonl" "$T/tr.jsonl" "$T/big.ndjson" <<'PY' || die "extreme values not exact in lake scan"
import json, sys
from decimal import Decimal, getcontext
getcontext().prec = 60
ob = {(r["product_id"], r["price"], r["size"]) for r in map(json.loads, open(sys.argv[1]))}
tr = {(r["product_id"], r["price"], r["size"]) for r in map(json.loads, open(sys.argv[2]))}
n = 0
for m in map(json.loads, open(sys.argv[3])):
    norm = lambda s: format(Decimal(s).normalize(), "f")
    if m["type"] == "snapshot":
        want = [(m["product_id"], px, sz) for px, sz in m["bids"] + m["asks"]]
    elif m["type"] == "l2update":
        want = [(m["product_id"], px, sz) for _, px, sz in m["changes"]]
    else:
        want = [(m["product_id"], m["price"], m["size"])]
    for p, px, sz in want:
        n += 1
        key = (p, norm(px), norm(sz))
        if key not in (ob if m["type"] != "match" else tr):
            print("missing", key); sys.exit(1)
print(f"{n} extreme values exact")
PY
(cd "$JS" && node lake_analyst.mjs "$WH" "$T/duck.json") || die "DuckDB queries failed"
"$PY" "$QW_ROOT/tests/ref/analyst_check.py" "$T/duck.json" "$T/tr.jsonl" "$T/fe.jsonl" "$REAL" "$T/big.ndjson" \
  || die "analyst queries disagree"
grep -q '"PEPE-USD","2021-04-17T16:44","2","1092233720369.04775807"' "$T/duck.json" || die "sizes beyond int64 not summed exactly"
echo "lake analyst: ok"
