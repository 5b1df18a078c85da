#!/usr/bin/env bash
# kill -9 a writer at random moments, repeatedly: the catalog only ever
# points at complete metadata, every table stays readable (replay --lake
# reads every committed file), committed rows only grow, and the files of
# interrupted flushes are orphans that `lake clean-orphans` removes once
# the killed writers' commit leases have expired (simulated: their
# heartbeats are aged past the TTL).
source "$(dirname "$0")/lib.sh"
WH="$T/wh"; export ICEBERG_WAREHOUSE="file://$WH"
"$QW_ROOT/build/gen_feed" --feed advanced --products BTC-USD,ETH-USD,SOL-USD --levels 2000 --messages 150000 \
  --seed 3 --out "$T/feed.ndjson" >/dev/null
prev=0
for round in 1 2 3 4 5 6; do
  "$QW_BIN" replay --persist --flush-rows 5000 --flush-ms 30 --speed 40x "$T/feed.ndjson" 2>"$T/w$round.log" &
  pid=$!
  sleep "$("$PY" -c "import random; random.seed($round); print(round(random.uniform(0.4, 1.6), 2))")"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  "$QW_BIN" lake tables > "$T/t$round.txt" || { cat "$T/t$round.txt"; die "round $round: lake unreadable"; }
  rows=$(awk '/^raw_orderbook/ {print $5}' "$T/t$round.txt")
  [ -n "$rows" ] && [ "$rows" -ge "$prev" ] || { cat "$T/t$round.txt"; die "round $round: committed rows went from $prev to '$rows'"; }
  prev=$rows
  "$QW_BIN" replay --lake --summary "$T/l$round.json" 2>"$T/l$round.log" || { tail -5 "$T/l$round.log"; die "round $round: replay --lake failed"; }
  echo "round $round: killed; raw_orderbook has $rows committed rows"
done
[ "$prev" -gt 0 ] || die "nothing was ever committed"
"$PY" - "$WH/catalog.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
n = c.execute("UPDATE quotewatch_commit_leases SET heartbeat_ms = heartbeat_ms - 3600000").rowcount
assert n == 4 * 6, "expected the 6 killed writers' leases on 4 tables, got %d" % n
PY
sleep 5 # the clock-skew margin: files of the last seconds are never removed
"$QW_BIN" lake clean-orphans --older-than 0 > "$T/clean.txt"
"$QW_BIN" lake clean-orphans --older-than 0 --dry-run > "$T/clean2.txt"
grep -q '^0 orphan file(s)' "$T/clean2.txt" || { cat "$T/clean2.txt"; die "orphans left after clean-orphans"; }
"$QW_BIN" replay --lake --summary "$T/final.json" 2>/dev/null || die "lake unreadable after cleaning"
echo "crash rounds: ok; $(tail -1 "$T/clean.txt")"
