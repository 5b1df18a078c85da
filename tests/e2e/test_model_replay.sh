#!/usr/bin/env bash
# The whole prediction chain on the real capture, checked sample by sample
# against scikit-learn (tests/ref/check_samples.py); model checkpoints
# round-trip exactly; corrupt, truncated and foreign checkpoints are clear
# errors (exit 1) that leave nothing half-loaded.
. "$(dirname "$0")/lib.sh"
"$QW_BIN" replay --log-level warn --summary "$T/s.json" --samples "$T/samples.csv" \
  --save-model "$T/m.qwm" "$REAL"
"$PY" "$QW_ROOT/tests/ref/check_samples.py" "$T/samples.csv" --summary "$T/s.json"
rows=$(($(wc -l < "$T/samples.csv") - 1))
(( rows > 5000 )) || die "too few samples ($rows)"
[ "$(jq_py "$T/s.json" 'sum(p["model"]["labeled"] for p in d["products"].values())')" = "$rows" ] || die "labeled != rows"
[ "$(jq_py "$T/s.json" 'any(p["model"]["ready"] for p in d["products"].values())')" = True ] || die "no model became ready"
[ "$(jq_py "$T/s.json" 'all(p["model"]["features"]==["spread_bps","imbalance","depth","volatility"] for p in d["products"].values())')" = True ] || die "feature names"
# no sample has an unknown (0) feed time
awk -F, 'NR>1 && $2 <= 0 {bad=1} END {exit bad}' "$T/samples.csv" || die "sample with t_ns <= 0"

# checkpoint round trip: load into an empty replay, the summary's models equal
: > "$T/empty"
"$QW_BIN" replay --log-level warn --load-model "$T/m.qwm" --summary "$T/l.json" "$T/empty"
"$PY" - "$T/s.json" "$T/l.json" <<'PYEOF'
import json, sys
a = json.load(open(sys.argv[1]))["products"]; b = json.load(open(sys.argv[2]))["products"]
assert set(a) == set(b), (set(a), set(b))
for k in a:
    for f in ("labeled", "positives", "ready", "coef", "intercept", "scaler_mean", "scaler_var", "rolling_accuracy", "class_counts"):
        assert a[k]["model"][f] == b[k]["model"][f], (k, f, a[k]["model"][f], b[k]["model"][f])
print("checkpoint round trip exact for", len(a), "products")
PYEOF
# the loaded model keeps learning where it stopped: same file twice = learning continues
"$QW_BIN" replay --log-level warn --load-model "$T/m.qwm" --summary "$T/l2.json" "$REAL"
[ "$(jq_py "$T/l2.json" 'd["products"]["BAND-GBP"]["model"]["labeled"]')" -gt \
  "$(jq_py "$T/s.json" 'd["products"]["BAND-GBP"]["model"]["labeled"]')" ] || die "loaded model did not continue"
# bad checkpoints
set +e
printf 'garbage' > "$T/bad1"
"$QW_BIN" replay --load-model "$T/bad1" "$T/empty" 2>"$T/e1"; [ $? = 1 ] || die "garbage checkpoint must exit 1"
grep -q "not a QuoteWatch model file" "$T/e1" || die "garbage checkpoint message: $(cat "$T/e1")"
head -c 300 "$T/m.qwm" > "$T/bad2"
"$QW_BIN" replay --load-model "$T/bad2" "$T/empty" 2>"$T/e2"; [ $? = 1 ] || die "truncated checkpoint must exit 1"
"$PY" -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[200]^=0xff; open(sys.argv[2],'wb').write(b)" "$T/m.qwm" "$T/bad3"
"$QW_BIN" replay --load-model "$T/bad3" "$T/empty" 2>"$T/e3"; [ $? = 1 ] || die "corrupted checkpoint must exit 1"
"$PY" -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[8]=9; open(sys.argv[2],'wb').write(b)" "$T/m.qwm" "$T/bad4"
"$QW_BIN" replay --load-model "$T/bad4" "$T/empty" 2>"$T/e4"; [ $? = 1 ] || die "future version must exit 1"
grep -q "version" "$T/e4" || die "version message"
"$QW_BIN" replay --load-model "$T/none" "$T/empty" 2>/dev/null; [ $? = 1 ] || die "missing checkpoint must exit 1"
set -e
echo ok
