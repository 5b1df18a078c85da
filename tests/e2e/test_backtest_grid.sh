#!/usr/bin/env bash
# Shared books and model heads (docs/BACKTEST.md "The grid and what is
# shared"): a grid of 2 horizons x 2 thresholds x 2 alphas x 3 feature sets
# (24 configurations over one book per product, three extractor groups)
# on the real capture gives, for every configuration, exactly what a run of
# that configuration alone gives: the same predictions (product, t_ns, p
# with 17 digits, y, in learning order), the same JSON entry (metrics
# pooled, per product, per window, ROC; only "index" differs) and, for
# one configuration, the same --save-model file byte for byte. Also from
# the lake (`backtest --lake`) for a 2-configuration grid.
. "$(dirname "$0")/lib.sh"
[ -f "$REAL" ] || skip_test "real capture $REAL missing (set QW_SHARED)"
GRID=(--horizon 500ms,1s --threshold 0.0001,0.0002 --alpha 1e-4,1e-3 --features seed,rich,book --window 5s)
"$QW_BIN" backtest --log-level warn --no-progress "${GRID[@]}" --report-json "$T/g.json" \
  --predictions-csv "$T/g.csv" --save-model "$T/g.qwm" --save-config 13 "$REAL"
n=$(jq_py "$T/g.json" 'len(d["configs"])')
[ "$n" = 24 ] || die "grid must give 24 configurations, got $n"
for i in $(seq 0 $((n - 1))); do
  args=$(jq_py "$T/g.json" "(lambda c: f'--horizon {int(c[\"horizon_ms\"])}ms --threshold {c[\"threshold\"]!r} --alpha {c[\"alpha\"]!r} --features {c[\"features\"]}')(d['configs'][$i])")
  extra=()
  [ "$i" = 13 ] && extra=(--save-model "$T/one.qwm")
  # shellcheck disable=SC2086
  "$QW_BIN" backtest --log-level warn --no-progress $args --window 5s --report-json "$T/one$i.json" \
    --predictions-csv "$T/one$i.csv" "${extra[@]}" "$REAL"
  [ "$i" = 13 ] && { cmp -s "$T/g.qwm" "$T/one.qwm" || die "configuration 13: --save-model differs from its own run"; }
done
"$PY" - "$T" "$n" <<'PYEOF'
import csv, json, sys
d, n = sys.argv[1], int(sys.argv[2])
grid = json.load(open(f"{d}/g.json"))
rows = {}
for r in csv.reader(open(f"{d}/g.csv")):
    if r[0] != "config":
        rows.setdefault(r[0], []).append(r[1:])
total = 0
for i in range(n):
    one = json.load(open(f"{d}/one{i}.json"))
    assert len(one["configs"]) == 1, i
    a, b = dict(grid["configs"][i]), dict(one["configs"][0])
    a.pop("index"); b.pop("index")
    assert a == b, f"configuration {i} ({a['id']}): report differs from its own run"
    mine = [r[1:] for r in csv.reader(open(f"{d}/one{i}.csv")) if r[0] == "0"]
    assert mine == rows.get(str(i), []), f"configuration {i}: predictions differ"
    assert len(mine) > 1000, (i, len(mine))
    total += len(mine)
assert grid["input"] == one["input"], "input counters differ"
print(f"{n} configurations equal their own runs: {total} predictions compared")
PYEOF

# the lake: a grid of the seed and the rich set equals each alone
"$QW_BIN" replay --persist --warehouse "file://$T/wh" --log-level warn "$REAL"
"$QW_BIN" backtest --log-level warn --no-progress --lake --warehouse "file://$T/wh" --features seed,rich \
  --report-json "$T/lg.json" --predictions-csv "$T/lg.csv"
for f in seed rich; do
  "$QW_BIN" backtest --log-level warn --no-progress --lake --warehouse "file://$T/wh" --features $f \
    --report-json "$T/l$f.json" --predictions-csv "$T/l$f.csv"
done
"$PY" - "$T" <<'PYEOF'
import csv, json, sys
d = sys.argv[1]
g = json.load(open(f"{d}/lg.json"))["configs"]
rows = [r for r in csv.reader(open(f"{d}/lg.csv")) if r[0] != "config"]
for i, f in enumerate(["seed", "rich"]):
    one = json.load(open(f"{d}/l{f}.json"))["configs"][0]
    a, b = dict(g[i]), dict(one); a.pop("index"); b.pop("index")
    assert a == b, f"lake: {f} differs from its own run"
    mine = [r[1:] for r in csv.reader(open(f"{d}/l{f}.csv")) if r[0] == "0"]
    assert mine == [r[1:] for r in rows if r[0] == str(i)] and mine, f"lake: {f} predictions differ"
print("lake: seed and rich in one grid equal their own runs")
PYEOF
echo ok
