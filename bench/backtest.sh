#!/usr/bin/env bash
# Backtest speed (part of make bench): the seed configuration and a grid of
# 8 over the same synthetic Exchange capture (one thread), from the file
# and from the lake (`backtest --lake`), plus the rich feature set.
# Rates and ratios are per CPU-second (user + sys), measured in one run.
# Usage: bench/backtest.sh [MESSAGES]   (QW=BINARY: another build, e.g. a
# copy of the previous one for before/after numbers)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
QW=${QW:-build/quotewatch}
out=build/bench; mkdir -p "$out"
f="$out/backtest-feed-$N.ndjson"
prods=$(/usr/bin/python3 -c "print(','.join(f'P{i}-USD' for i in range(10)))")
[ -s "$f" ] || build/gen_feed --feed exchange --products "$prods" --levels 1000 --messages "$N" --seed 21 \
  --out "$f" >/dev/null
wh=$(mktemp -d /tmp/qwbt.XXXXXX); trap 'rm -rf "$wh"' EXIT
"$QW" replay --persist --warehouse "$wh" --log-level warn --no-progress "$f"
run() { # NAME ARGS...: wall and CPU seconds
  local name=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$wh/$name.time" "$QW" backtest --log-level warn --no-progress \
    --report-json "$wh/$name.json" "$@" >/dev/null
  echo "$name $(cat "$wh/$name.time")" >>"$wh/times"
}
run seed "$f"
run grid8 --horizon 500ms,1s --threshold 0.0001,0.0002 --alpha 1e-4,1e-3 "$f"
run rich --features rich "$f"
run lake_seed --lake --warehouse "$wh"
run lake_grid8 --lake --warehouse "$wh" --horizon 500ms,1s --threshold 0.0001,0.0002 --alpha 1e-4,1e-3
/usr/bin/python3 - "$wh" "$N" <<'PY' | tee "$out/backtest.txt"
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
t = {}
for line in open(d + "/times"):
    name, wall, user, sys_ = line.split(); t[name] = (float(wall), float(user) + float(sys_))
msgs = json.load(open(d + "/seed.json"))["input"]["messages"]
for name, (wall, cpu) in t.items():
    print(f"{name:11} {wall:6.2f} s wall {cpu:6.2f} CPU-s: {msgs / cpu / 1e6:.2f} M msgs per CPU-s")
print(f"CPU-s ratios: grid of 8 / seed: {t['grid8'][1] / t['seed'][1]:.2f}x (file), "
      f"{t['lake_grid8'][1] / t['lake_seed'][1]:.2f}x (lake); rich / seed: {t['rich'][1] / t['seed'][1]:.2f}x")
PY
