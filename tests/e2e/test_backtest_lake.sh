#!/usr/bin/env bash
# backtest --lake (docs/BACKTEST.md): the real capture persisted with
# `replay --persist` into a file:// lake with its SQLite catalog; `backtest
# --lake` over it gives the same metrics JSON (every configuration of a
# 2x2 grid: pooled, per product, per window, ROC) as `backtest` on the
# capture file, also with --products; --since/--until select a window;
# --save-model from the lake is byte-identical to --save-model from the file.
source "$(dirname "$0")/lib.sh"
[ -f "$REAL" ] || skip_test "no real capture at $REAL"
WH="file://$T/wh"
"$QW_BIN" replay --persist --warehouse "$WH" --flush-rows 4000 "$REAL" 2>"$T/p.log" \
  || { cat "$T/p.log"; die "replay --persist failed"; }
[ -f "$T/wh/catalog.db" ] || ls "$T/wh" | grep -q . || die "no lake written"
grid=(--horizon 500ms,1s --alpha 1e-4,1e-3 --no-progress)
"$QW_BIN" backtest "${grid[@]}" "$REAL" --report-json "$T/file.json" --save-model "$T/file.qwm" \
  --save-config 3 2>"$T/bf.log" || { cat "$T/bf.log"; die "backtest FILE failed"; }
"$QW_BIN" backtest "${grid[@]}" --lake --warehouse "$WH" --report-json "$T/lake.json" \
  --save-model "$T/lake.qwm" --save-config 3 2>"$T/bl.log" || { cat "$T/bl.log"; die "backtest --lake failed"; }
grep -q '"module":"lake"' "$T/bl.log" || die "backtest --lake did not read the lake"
same() { # A.json B.json : every configuration's metrics equal
  "$PY" - "$1" "$2" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert len(a["configs"]) == len(b["configs"]) >= 1, (len(a["configs"]), len(b["configs"]))
assert a["configs"] == b["configs"], "metrics differ"
print("configs:", len(a["configs"]), "messages:", a["input"]["messages"], b["input"]["messages"])
PY
}
same "$T/file.json" "$T/lake.json" || die "backtest --lake metrics differ from backtest FILE"
"$PY" -c 'import json,sys; c=json.load(open(sys.argv[1]))["configs"]; assert len(c)==4 and c[0]["scored"]>1000, c[0].get("scored")' "$T/lake.json" \
  || die "too few scored predictions"
cmp -s "$T/file.qwm" "$T/lake.qwm" || die "--save-model differs between file and lake"

# a product subset and a time window
P=SKL-USD,CRV-EUR
S=2021-04-17T16:43:40Z; U=2021-04-17T16:44:00Z
"$QW_BIN" backtest --no-progress --products "$P" --lake --warehouse "$WH" --since "$S" --until "$U" \
  --report-json "$T/lw.json" 2>"$T/blw.log" || { cat "$T/blw.log"; die "backtest --lake --since --until"; }
"$QW_BIN" backtest --no-progress --products "$P" --lake --warehouse "$WH" \
  --report-json "$T/lp.json" 2>/dev/null || die "backtest --lake --products"
"$QW_BIN" backtest --no-progress --products "$P" "$REAL" --report-json "$T/fp.json" 2>/dev/null
same "$T/fp.json" "$T/lp.json" || die "--products: lake and file differ"
"$PY" -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert a["input"]["messages"] < b["input"]["messages"], "window did not cut"' \
  "$T/lw.json" "$T/lp.json" || die "--since/--until did not select a window"
echo "ok"
