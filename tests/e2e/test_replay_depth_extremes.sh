#!/usr/bin/env bash
# Depth sums at the extremes the decimal parser accepts (issue: top-10
# depth above ~9.2e10 units overflowed int64 e8): SHIB-like books with
# 1e10 units a level, and books at the largest accepted size
# (92233720368.54775807). Replayed under the ASan+UBSan binary (UBSan halts
# on signed overflow) and the release binary; every labeled sample's
# imbalance lies in [-1, 1] and its depth equals the exact top-10 sum.
. "$(dirname "$0")/lib.sh"
"$PY" - "$T/feed.ndjson" <<'PY'
import json, sys
out = open(sys.argv[1], "w")
def w(o): out.write(json.dumps(o, separators=(",", ":")) + "\n")
w({"type": "subscriptions", "channels": [{"name": "level2", "product_ids": ["SHIB-USD", "MAX-USD"]}]})
books = {
    # product: (bid prices, ask prices, bid size, ask size)
    "SHIB-USD": (["0.0000%02d" % (50 - i) for i in range(10)],
                 ["0.0000%02d" % (51 + i) for i in range(10)], "10000000000", "10000000000"),
    "MAX-USD": (["%d.%08d" % divmod(9223372036854775807 - 10 - i, 10**8) for i in range(10)],
                ["%d.%08d" % divmod(9223372036854775807 - i, 10**8) for i in range(10)],
                "92233720368.54775807", "92233720368.54775807"),
}
for p, (bp, ap, bs, as_) in books.items():
    w({"type": "snapshot", "product_id": p, "bids": [[x, bs] for x in bp], "asks": [[x, as_] for x in ap]})
for k in range(400):
    t = "2021-04-17T16:%02d:%02d.%06dZ" % (k * 300 // 60000, (k * 300 // 1000) % 60, (k * 300 % 1000) * 1000)
    for p, (bp, ap, bs, as_) in books.items():
        # alternate the best levels between full and tiny so the mid moves
        side, px, sz = ("buy", bp[0], bs) if k % 2 else ("sell", ap[0], as_)
        if k % 4 >= 2:
            sz = "1"
        w({"type": "l2update", "product_id": p, "time": t, "changes": [[side, px, sz]]})
PY
"$PY" - "$T/feed.ndjson" > "$T/expect.json" <<'PY'
# exact top-10 depth per l2update, from the feed (Python ints, no overflow)
import json, sys
from decimal import Decimal
books = {}
exp = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["type"] == "snapshot":
        books[m["product_id"]] = ({Decimal(p): Decimal(s) for p, s in m["bids"]},
                                  {Decimal(p): Decimal(s) for p, s in m["asks"]})
    elif m["type"] == "l2update":
        b, a = books[m["product_id"]]
        for side, p, s in m["changes"]:
            d = b if side == "buy" else a
            d[Decimal(p)] = Decimal(s)
        bv = sum(s for _, s in sorted(b.items(), reverse=True)[:10])
        av = sum(s for _, s in sorted(a.items())[:10])
        exp.setdefault(m["product_id"], set()).add(str(float(bv + av)))
print(json.dumps({k: sorted(v) for k, v in exp.items()}))
PY
for bin in "$QW_ASAN_BIN" "$QW_BIN"; do
  rc=0
  "$bin" replay --summary "$T/s.json" --samples "$T/samples.csv" "$T/feed.ndjson" 2>"$T/log" || rc=$?
  [ "$rc" = 0 ] || die "$bin exit $rc ($(grep -m3 'runtime error\|ERROR' "$T/log" || tail -3 "$T/log"))"
  grep -q "runtime error" "$T/log" && die "UBSan: $(grep -m1 'runtime error' "$T/log")"
  "$PY" - "$T/samples.csv" "$T/expect.json" "$T/s.json" <<'PY' || die "$(basename "$bin"): bad features"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
exp = json.load(open(sys.argv[2]))
s = json.load(open(sys.argv[3]))
for p in ("SHIB-USD", "MAX-USD"):
    pr = s["products"][p]
    assert pr["valid"] and pr["rejected"] == 0, (p, pr["rejected"])
    mine = [r for r in rows if r["product"] == p]
    assert len(mine) > 100, (p, len(mine))
    depths = {float(d) for d in exp[p]}
    for r in mine:
        imb, dep = float(r["imbalance"]), float(r["depth"])
        assert -1 <= imb <= 1, (p, "imbalance", imb)
        assert any(abs(dep - d) <= 1e-12 * d for d in depths), (p, "depth", dep, sorted(depths)[:4])
        assert dep > 0
print("ok", len(rows))
PY
done
echo "ok"
