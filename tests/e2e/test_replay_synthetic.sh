#!/usr/bin/env bash
# Both protocols from the synthetic market (deep books, bursts, trades,
# heartbeats): exact books against the Python reference, both label
# classes, and every prediction checked against scikit-learn.
. "$(dirname "$0")/lib.sh"
for feed in exchange advanced; do
  "$QW_ROOT/build/gen_feed" --feed "$feed" --products BTC-USD,ETH-USD --levels 5000 \
    --messages 30000 --seed 7 --out "$T/$feed.ndjson"
  "$PY" "$QW_ROOT/tests/ref/ref_replay.py" "$T/$feed.ndjson" > "$T/$feed.ref.json"
  "$QW_ASAN_BIN" replay --log-level warn --summary "$T/$feed.json" --samples "$T/$feed.csv" "$T/$feed.ndjson"
  "$PY" "$QW_ROOT/tests/ref/compare_books.py" "$T/$feed.json" "$T/$feed.ref.json" --counts
  [ "$(jq_py "$T/$feed.json" 'd["rejected"]')" = 0 ] || die "$feed: rejected lines"
  [ "$(jq_py "$T/$feed.json" 'd["gaps"]')" = 0 ] || die "$feed: gaps"
  [ "$(jq_py "$T/$feed.json" 'all(p["valid"] and p["crossed"] == 0 for p in d["products"].values())')" = True ] || die "$feed: invalid book"
  "$PY" - "$T/$feed.csv" <<'PYEOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
pos = sum(int(r["label"]) for r in rows)
assert rows and 0.05 < pos / len(rows) < 0.95, f"label balance {pos}/{len(rows)}"
print(f"{len(rows)} samples, {pos} positive")
PYEOF
  "$PY" "$QW_ROOT/tests/ref/check_samples.py" "$T/$feed.csv" --summary "$T/$feed.json"
done
