#!/usr/bin/env bash
# The lake end to end (SQLite catalog): replay --persist writes the four
# tables; independent readers (DuckDB reads every data file, icebird reads
# the tables through their Iceberg metadata) see exactly the rows a Python
# reference derives from the capture; replay --lake reproduces the capture
# replay's books and models exactly, whole and filtered (--products,
# --until); a second run appends a snapshot; `lake` commands describe it.
source "$(dirname "$0")/lib.sh"
JS="$QW_ROOT/tests/js"
[ -d "$JS/node_modules/icebird" ] || "$QW_ROOT/scripts/install-npm.sh" tests/js >/dev/null
WH="$T/wh"
compare() { # A.json B.json [products]: books (digest) and models equal
  "$PY" - "$@" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
prods = sys.argv[3].split(",") if len(sys.argv) > 3 and sys.argv[3] else sorted(a["products"])
bad = 0
for p in prods:
    pa, pb = a["products"][p], b["products"].get(p)
    if pb is None:
        print("missing", p); bad += 1; continue
    for k in ("book_digest", "bid_levels", "ask_levels", "book_updates", "snapshots"):
        if pa[k] != pb[k]: print(p, k, pa[k], pb[k]); bad += 1
    for k in ("labeled", "positives", "predictions", "coef", "intercept", "scaler_mean", "scaler_var"):
        if pa["model"][k] != pb["model"][k]: print(p, "model", k); bad += 1
sys.exit(1 if bad else 0)
PY
}

"$QW_BIN" replay "$REAL" --summary "$T/ref.json" 2>/dev/null
"$QW_BIN" replay --persist --warehouse "$WH" --flush-rows 4000 "$REAL" --summary "$T/p1.json" 2>"$T/p1.log" \
  || { cat "$T/p1.log"; die "replay --persist failed"; }
jq_py "$T/p1.json" 'd["persistence"]["rows_written"]["raw_orderbook"]' | grep -qx 18081 || die "raw_orderbook rows"
[ "$(jq_py "$T/p1.json" 'd["persistence"]["errors"]')" = 0 ] || die "persistence errors"

# independent readers
"$PY" "$QW_ROOT/tests/ref/lake_expect.py" "$REAL" raw_orderbook > "$T/ob.json"
"$PY" "$QW_ROOT/tests/ref/lake_expect.py" "$REAL" raw_trades > "$T/tr.json"
(cd "$JS" && node lake_check.mjs "$WH" raw_orderbook "$T/ob.json" && node lake_check.mjs "$WH" raw_trades "$T/tr.json") \
  || die "independent readers disagree"

# the lake replays to the same books and models
"$QW_BIN" replay --lake --warehouse "$WH" --summary "$T/lake.json" 2>/dev/null
compare "$T/ref.json" "$T/lake.json" || die "replay --lake differs from the capture replay"

# --products prunes to one product, same book and model
"$QW_BIN" replay --lake --warehouse "$WH" --products BAND-GBP --summary "$T/one.json" 2>"$T/one.log"
[ "$(jq_py "$T/one.json" 'len(d["products"])')" = 1 ] || die "--products did not filter"
compare "$T/ref.json" "$T/one.json" BAND-GBP || die "--products replay differs"
"$PY" -c 'import re,sys; m=re.search(r"in (\d+) of (\d+) files", open(sys.argv[1]).read()); sys.exit(0 if m and 0 < int(m[1]) < int(m[2]) / 5 else 1)' "$T/one.log" \
  || { cat "$T/one.log"; die "no file pruning by product"; }

# --until: equals a replay of the capture cut at that time
"$PY" - "$REAL" "$T/cut.ndjson" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
times = [json.loads(l).get("time") for l in lines]
mid = sorted(t for t in times if t)[len([t for t in times if t]) // 2]
open(sys.argv[2] + ".until", "w").write(mid)
with open(sys.argv[2], "w") as f:
    for l, t in zip(lines, times):
        if json.loads(l).get("type") in ("snapshot", "l2update", "match", "last_match") and (t is None or t < mid):
            f.write(l)
PY
"$QW_BIN" replay "$T/cut.ndjson" --summary "$T/cutref.json" 2>/dev/null
"$QW_BIN" replay --lake --warehouse "$WH" --until "$(cat "$T/cut.ndjson.until")" --summary "$T/cut.json" 2>/dev/null
compare "$T/cutref.json" "$T/cut.json" || die "--until replay differs from the cut capture"

# lake scan prints the rows (exact decimals, RFC 3339 times)
"$QW_BIN" lake scan raw_trades --warehouse "$WH" --limit 0 > "$T/scan.ndjson"
[ "$(wc -l < "$T/scan.ndjson")" = 107 ] || die "lake scan: $(wc -l < "$T/scan.ndjson") trade rows, expected 107"
"$PY" - "$T/scan.ndjson" "$T/tr.json" <<'PY' || die "lake scan values differ from the reference"
import json, sys
rows = sorted([r["product_id"], r["trade_id"], r["price"], r["size"], r["aggressor_side"], str(r["exchange_ns"]), r["is_snapshot"]]
              for r in map(json.loads, open(sys.argv[1])))
ref = json.load(open(sys.argv[2]))["rows"]
norm = lambda v: v.rstrip("0").rstrip(".") if isinstance(v, str) and "." in v else v
sys.exit(0 if [[norm(x) for x in r] for r in rows] == [[norm(x) for x in r] for r in ref] else 1)
PY
"$QW_BIN" lake scan raw_orderbook --warehouse "$WH" --products NU-GBP --limit 5 | grep -c '"product_id":"NU-GBP"' | grep -qx 5 || die "lake scan --products"

# a second run appends; the lake now holds two runs, final books unchanged
"$QW_BIN" replay --persist --warehouse "$WH" "$REAL" --summary "$T/p2.json" 2>/dev/null
"$QW_BIN" lake tables --warehouse "$WH" > "$T/tables.txt"
grep -E '^raw_orderbook +snapshots [0-9]+ +records 36162 ' "$T/tables.txt" && grep -E '^raw_trades +snapshots 2 +records 214 ' "$T/tables.txt" \
  || { cat "$T/tables.txt"; die "second append not visible"; }
"$QW_BIN" lake describe raw_trades --warehouse "$WH" > "$T/describe.txt"
grep -q 'decimal(38, 8)' "$T/describe.txt" && grep -q '1001  exchange_ts_day' "$T/describe.txt" \
  && grep -q '(current)' "$T/describe.txt" || { cat "$T/describe.txt"; die "describe output"; }
"$QW_BIN" replay --lake --warehouse "$WH" --summary "$T/lake2.json" 2>"$T/lake2.log"
grep -q '2 run(s)' "$T/lake2.log" || die "two runs expected"
"$PY" - "$T/ref.json" "$T/lake2.json" <<'PY' || die "books after two runs differ"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sys.exit(0 if all(a["products"][p]["book_digest"] == b["products"][p]["book_digest"] for p in a["products"]) else 1)
PY
echo "lake round trip: ok"
