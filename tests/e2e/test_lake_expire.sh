#!/usr/bin/env bash
# `quotewatch lake expire` (docs/STORAGE.md "Maintenance"):
#  1. hundreds of commits per table at test speed (replay --persist paced
#     with --flush-ms 1), metadata-log bounded at 100 with the old metadata
#     files deleted (QuoteWatch's table properties), version-hint.text;
#  2. kill -9 at random moments during expire: the lake stays readable
#     with every row (lake scan digest unchanged);
#  3. expire: snapshots and metadata size bounded, rows identical, no
#     orphan left behind; DuckDB and icebird read the tables;
#  4. expire in a loop while `live --persist` appends to tables that hold
#     older snapshots (those expire; the writer's own, newer than its commit
#     lease, may not): nothing lost (replay --lake equals the live books),
#     every commit landed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
JS="$QW_ROOT/tests/js"
[ -d "$JS/node_modules/icebird" ] || "$QW_ROOT/scripts/install-npm.sh" tests/js >/dev/null
# tmpfs when there is one: thousands of fsynced commits stay within the time budget
W=$(mktemp -d /dev/shm/qwexpire.XXXXXX 2>/dev/null || mktemp -d "$T/w.XXXXXX")
trap 'cleanup_live; rm -rf "$W"' EXIT
WH="$W/wh"
TABLES=(raw_orderbook raw_trades features labels)
digest() { # all rows of every table
  local t; for t in "${TABLES[@]}"; do "$QW_BIN" lake scan "$t" --limit 0 --warehouse "$WH" | md5sum; done
}
snapshots() { "$QW_BIN" lake tables --warehouse "$WH" | awk -v t="$1" '$1 == t {print $3}'; }
meta_bytes() { local f; f=$(ls "$WH/quotewatch/$1/metadata/"*.metadata.json | sort | tail -1); stat -c %s "$f"; }

# (for 4.) snapshots that will be old when the live writer runs: another
# product, so the live books can be compared with the lake's
"$QW_ROOT/build/gen_feed" --feed advanced --products SOL-USD --levels 50 --messages 3000 --seed 9 \
  --out "$T/old.ndjson" >/dev/null
"$QW_BIN" replay --persist --warehouse "$W/live" --flush-rows 100 --flush-ms 1 --speed 200x \
  "$T/old.ndjson" >/dev/null 2>&1 || die "replay --persist (old snapshots)"
old_snaps=$("$QW_BIN" lake tables --warehouse "$W/live" | awk '$1 == "raw_orderbook" {print $3}')

# 1. many commits
"$QW_BIN" replay --persist --warehouse "$WH" --flush-ms 1 --speed 5x "$REAL" --summary "$T/p.json" \
  2>"$T/p.log" >/dev/null || { tail -5 "$T/p.log"; die "replay --persist"; }
commits=$(jq_py "$T/p.json" 'd["persistence"]["commits"]')
ob=$(snapshots raw_orderbook)
echo "commits $commits, raw_orderbook snapshots $ob, metadata $(meta_bytes raw_orderbook) bytes"
(( commits >= 150 && ob >= 120 )) || die "too few commits ($commits, raw_orderbook $ob)"
nmeta=$(ls "$WH/quotewatch/raw_orderbook/metadata/" | grep -c '\.metadata\.json$')
(( nmeta == 101 )) || die "metadata files: $nmeta, want 101 (100 in the log + current)"
for t in "${TABLES[@]}"; do # coalesced while commits queue up, written at close
  hint=$(cat "$WH/quotewatch/$t/metadata/version-hint.text")
  "$QW_BIN" lake tables --warehouse "$WH" | grep -q "$t/metadata/$hint.metadata.json" \
    || die "$t: version-hint.text ($hint) is not the current metadata"
done
digest >"$T/d0"
before_bytes=$(meta_bytes raw_orderbook)

# 2. kill -9 during expire (retain 50 per round, so several rounds expire)
for i in 1 2 3 4 5; do
  keep=$((ob - 40 * i)); (( keep < 5 )) && keep=5
  "$QW_BIN" lake expire --warehouse "$WH" --older-than 0 --retain-last "$keep" >"$T/k$i.out" 2>&1 &
  pid=$!
  sleep "0.0$((RANDOM % 9 + 1))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  "$QW_BIN" lake tables --warehouse "$WH" >/dev/null || die "lake unreadable after kill -9 of expire ($i)"
  digest | cmp -s - "$T/d0" || die "rows changed after kill -9 of expire ($i)"
done
echo "kill -9 during expire x5: readable, rows unchanged"
killed_at=$(date +%s%N)

# 3. expire for real (the leftovers of the killed runs are orphans)
"$QW_BIN" lake expire --warehouse "$WH" --dry-run --older-than 0 --retain-last 3 >"$T/dry.out"
grep -q "(dry run)" "$T/dry.out" || die "dry run: $(tail -1 "$T/dry.out")"
digest | cmp -s - "$T/d0" || die "a dry run changed rows"
"$QW_BIN" lake expire --warehouse "$WH" --older-than 0 --retain-last 3 >"$T/exp.out" \
  || { tail -5 "$T/exp.out"; die "lake expire failed"; }
grep -v '^deleted ' "$T/exp.out"
grep -q "^raw_orderbook: expired [1-9][0-9]* snapshot(s), kept 3 " "$T/exp.out" || die "raw_orderbook not expired"
for t in "${TABLES[@]}"; do
  n=$(snapshots "$t"); (( n <= 3 )) || die "$t keeps $n snapshots"
done
after_bytes=$(meta_bytes raw_orderbook)
echo "raw_orderbook metadata: $before_bytes -> $after_bytes bytes"
(( after_bytes * 4 < before_bytes && after_bytes < 40000 )) || die "metadata not bounded"
digest | cmp -s - "$T/d0" || die "rows changed by expire"
# every file the expired snapshots alone referenced is gone, except what
# the killed runs had already committed and not deleted: clean-orphans.
# Files of the last seconds are never removed, whatever --older-than says
# (QW_ICE_LEASE_SKEW_MS, 5 s: a writer may be starting), so the killed
# runs' files must be older than that first, or some are left for the
# check below to find (a CI run did).
ms=$(( ($(date +%s%N) - killed_at) / 1000000 ))
(( ms < 6000 )) && sleep "$(printf '%d.%03d' $(( (6000 - ms) / 1000 )) $(( (6000 - ms) % 1000 )))"
"$QW_BIN" lake clean-orphans --warehouse "$WH" --older-than 0 >"$T/orph.out"
tail -1 "$T/orph.out"
grep -q "younger than" "$T/orph.out" && die "files left as young: $(grep 'younger than' "$T/orph.out")"
"$QW_BIN" lake clean-orphans --warehouse "$WH" --older-than 0 --dry-run | grep -q "^0 orphan" \
  || die "orphans left"
grep -q '\.parquet' "$T/orph.out" && die "clean-orphans removed data files: $(grep parquet "$T/orph.out" | head -3)"
digest | cmp -s - "$T/d0" || die "rows changed by clean-orphans"
"$PY" "$QW_ROOT/tests/ref/lake_expect.py" "$REAL" raw_orderbook >"$T/ob.json"
"$PY" "$QW_ROOT/tests/ref/lake_expect.py" "$REAL" raw_trades >"$T/tr.json"
(cd "$JS" && node lake_check.mjs "$WH" raw_orderbook "$T/ob.json" && node lake_check.mjs "$WH" raw_trades "$T/tr.json") \
  || die "independent readers disagree after expire"
"$QW_BIN" lake expire --warehouse "$WH" --older-than 0 --retain-last 3 | grep -q "^total: 0 snapshot" \
  || die "a second expire found more"

# 4. expire while a live writer appends
export ICEBERG_WAREHOUSE="$W/live"
"$QW_ROOT/build/gen_feed" --feed advanced --products BTC-USD,ETH-USD --levels 200 --messages 20000 \
  --seed 5 --out "$T/feed.ndjson" >/dev/null
port=$(free_port)
start_sim sim --port "$port" --speed 40x "$T/feed.ndjson"
wait_port "$port"
start_live live --products BTC-USD,ETH-USD --url "ws://127.0.0.1:$port" --persist --flush-ms 20 \
  --summary "$T/live.json"
wait_status "$T/live.status" 'd["live"]["persistence"]["commits"] >= 8' 30
rounds=0
while kill -0 "$SIM_PID" 2>/dev/null && (( rounds < 25 )); do
  "$QW_BIN" lake expire --older-than 0 --retain-last 1 >"$T/le.out" 2>&1 || { cat "$T/le.out"; die "expire during live"; }
  grep '^total: ' "$T/le.out" >>"$T/le.totals"
  rounds=$((rounds + 1))
  sleep 0.1
done
wait_quiet "$T/live.status" 30
stop_and_wait "$LIVE_PID" TERM || die "live exit code"
"$QW_BIN" lake expire --older-than 0 --retain-last 1 >/dev/null
echo "expire rounds during live: $rounds, $(grep -c '^total: [1-9]' "$T/le.totals") of them expired snapshots ($old_snaps old in raw_orderbook)"
grep -q '^total: [1-9]' "$T/le.totals" || die "no expire round expired anything while live wrote"
"$PY" - "$T/live.json" <<'PY' || die "live persistence"
import json, sys
p = json.load(open(sys.argv[1]))["live"]["persistence"]
print("live persistence:", {k: p[k] for k in ("commits", "commit_conflicts", "errors", "rows_given_up", "dropped")})
sys.exit(1 if p["errors"] or p["rows_given_up"] or p["dropped"] else 0)
PY
lake_equals_live "$T/live.json"
echo "lake expire: ok"
