#!/usr/bin/env bash
# The opt-in features (docs/FEATURES.md): `replay --features rich --samples`
# over the real capture and a generated Exchange feed equals an independent
# Python reference computed from the definitions (tests/ref/features_ref.py:
# its own books, fresh sums over every window); the model over the twelve
# features is still scikit-learn's (check_samples.py); `backtest --features
# seed,book,rich` evaluates the three sets in one pass, the seed one unchanged;
# a bad set is a usage error.
source "$(dirname "$0")/lib.sh"
"$QW_BIN" replay --features rich --samples "$T/real.csv" --summary "$T/real.json" "$REAL" 2>/dev/null \
  || die "replay --features rich"
"$PY" "$QW_ROOT/tests/ref/features_ref.py" "$REAL" "$T/real.csv" || die "features differ from the reference (real capture)"
"$PY" "$QW_ROOT/tests/ref/check_samples.py" "$T/real.csv" --summary "$T/real.json" \
  || die "the rich-feature model is not scikit-learn's"
"$QW_ROOT/build/gen_feed" --feed exchange --products BTC-USD,ETH-USD --levels 100 --messages 10000 --seed 11 \
  --out "$T/gen.ndjson" >/dev/null
"$QW_ASAN_BIN" replay --features rich --samples "$T/gen.csv" "$T/gen.ndjson" 2>/dev/null \
  || die "replay --features rich (ASan) on a generated feed"
"$PY" "$QW_ROOT/tests/ref/features_ref.py" "$T/gen.ndjson" "$T/gen.csv" || die "features differ from the reference (generated feed)"
# a named list is the same as the set
"$QW_BIN" replay --features imbalance+ofi+trade_imb --samples "$T/list.csv" "$REAL" 2>/dev/null || die "a '+' list"
[ "$(head -1 "$T/list.csv")" = "product,t_ns,imbalance,ofi,trade_imb,mid,mid_future,label,n_learned,p" ] \
  || die "samples header of a list: $(head -1 "$T/list.csv")"
# the seed set is unchanged: same samples as without --features
"$QW_BIN" replay --samples "$T/seed.csv" "$REAL" 2>/dev/null
"$QW_BIN" replay --features seed --samples "$T/seed2.csv" "$REAL" 2>/dev/null
cmp -s "$T/seed.csv" "$T/seed2.csv" || die "--features seed changed the samples"
# backtest: three sets side by side; the seed configuration keeps its id and numbers
"$QW_BIN" backtest --features seed,book,rich --report-json "$T/bt.json" "$REAL" 2>/dev/null || die "backtest --features"
"$QW_BIN" backtest --report-json "$T/bt1.json" "$REAL" 2>/dev/null || die "backtest"
"$PY" - "$T/bt.json" "$T/bt1.json" <<'PY' || die "backtest feature sets"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ids = [c["id"] for c in a["configs"]]
assert ids == ["h500ms_t0.0001_a0.0001", "h500ms_t0.0001_a0.0001_fbook", "h500ms_t0.0001_a0.0001_frich"], ids
assert [c["features"] for c in a["configs"]] == ["seed", "book", "rich"]
assert len(a["configs"][2]["feature_names"]) == 12 and a["configs"][0]["seed"] and not a["configs"][2]["seed"]
assert a["configs"][0]["pooled"] == b["configs"][0]["pooled"], "seed configuration changed"
for c in a["configs"]:
    print(c["features"], "accuracy %.4f baseline %.4f AUC %.4f" % (c["pooled"]["accuracy"],
          c["pooled"]["baseline_accuracy"], c["pooled"]["roc_auc"]))
PY
for bad in "nope" "ofi+ofi" "ofi+" "" "seed,"; do
  rc=0; "$QW_BIN" backtest --features "$bad" --report-json "$T/x.json" "$REAL" >/dev/null 2>"$T/err" || rc=$?
  [ $rc = 2 ] || die "--features '$bad': exit $rc, expected 2 ($(cat "$T/err"))"
done
rc=0; "$QW_BIN" replay --features nope "$REAL" >/dev/null 2>"$T/err" || rc=$?
[ $rc = 2 ] && grep -q "unknown feature set 'nope'" "$T/err" || die "bad set: exit $rc, $(cat "$T/err")"
"$QW_BIN" replay --features seed,rich "$REAL" >/dev/null 2>"$T/err" && die "replay took two sets"
grep -q "one set here" "$T/err" || die "two sets: $(cat "$T/err")"
echo "rich features: ok"
