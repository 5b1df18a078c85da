#!/usr/bin/env bash
# `quotewatch lake compact` (docs/STORAGE.md "Maintenance"):
#  1. hundreds of commits per table at test speed (replay --persist paced
#     with --flush-ms 1): ~1,000 small data files;
#  3. compact: one "replace" snapshot per table, file count bounded, rows
#     identical, replay --lake gives the capture replay's books; then
#     expire + clean-orphans delete the replaced files and the metadata
#     shrinks; DuckDB and icebird read exactly the expected rows;
#  4. compact in a loop while a `replay --persist` writer appends: no row
#     lost or duplicated (every earlier row still there, the writer's rows
#     all there, no duplicate row), DuckDB and icebird count the same;
#  6. replay --persist --maintain 1: the writer's background thread
#     compacts while it writes (counted in the persistence stats), rows and
#     replay --lake books intact;
#  5. kill -9 at random moments during compact: the lake stays readable
#     with every row (sorted lake scan unchanged).
source "$(dirname "$0")/lib.sh"
JS="$QW_ROOT/tests/js"
[ -d "$JS/node_modules/icebird" ] || "$QW_ROOT/scripts/install-npm.sh" tests/js >/dev/null
W=$(mktemp -d /dev/shm/qwcompact.XXXXXX 2>/dev/null || mktemp -d "$T/w.XXXXXX")
trap 'rm -rf "$W" "$T"' EXIT
WH="$W/wh"
TABLES=(raw_orderbook raw_trades features labels)
export LC_ALL=C # sort, comm and uniq agree
rows() { "$QW_BIN" lake scan "$1" --limit 0 --warehouse "$WH" | sort; }
digest() { local t; for t in "${TABLES[@]}"; do rows "$t" | md5sum; done; }
files() { "$QW_BIN" lake tables --warehouse "$WH" | awk -v t="$1" '$1 == t {print $7}'; }
meta_bytes() { local f; f=$(ls "$WH/quotewatch/$1/metadata/"*.metadata.json | sort | tail -1); stat -c %s "$f"; }

# 1. many small commits
"$QW_BIN" replay --persist --warehouse "$WH" --flush-ms 1 --speed 5x "$REAL" --summary "$T/p.json" \
  2>"$T/p.log" >/dev/null || { tail -5 "$T/p.log"; die "replay --persist"; }
commits=$(jq_py "$T/p.json" 'd["persistence"]["commits"]')
f0=$(files raw_orderbook)
echo "commits $commits, raw_orderbook data files $f0, metadata $(meta_bytes raw_orderbook) bytes"
(( commits >= 150 && f0 >= 300 )) || die "too few commits ($commits) or files ($f0)"
digest >"$T/d0"
before_bytes=$(meta_bytes raw_orderbook)

# 3. compact for real
"$QW_BIN" lake compact --warehouse "$WH" >"$T/c.out" || { cat "$T/c.out"; die "lake compact failed"; }
cat "$T/c.out"
f1=$(files raw_orderbook)
echo "raw_orderbook data files: $f0 -> $f1"
(( f1 <= 40 && f1 * 10 < f0 )) || die "file count not bounded ($f1)"
"$QW_BIN" lake describe raw_orderbook --warehouse "$WH" | grep -q " replace .*(current)" \
  || die "current snapshot is not a replace"
digest | cmp -s - "$T/d0" || die "rows changed by compact"
"$QW_BIN" lake compact --warehouse "$WH" | grep -q "^total: 0 file(s)" || die "a second compact found more"
"$QW_BIN" replay "$REAL" --summary "$T/ref.json" 2>/dev/null
"$QW_BIN" replay --lake --warehouse "$WH" --summary "$T/lake.json" 2>/dev/null
"$PY" - "$T/ref.json" "$T/lake.json" <<'PY' || die "replay --lake after compact differs from the capture replay"
import json, sys
a, b = (json.load(open(f))["products"] for f in sys.argv[1:3])
bad = [p for p in a if a[p]["book_digest"] != b.get(p, {}).get("book_digest")]
print("replay --lake books:", "equal" if not bad else bad, flush=True)
sys.exit(1 if bad else 0)
PY
sleep 5 # past the lease skew margin: the replaced files may be deleted
"$QW_BIN" lake expire --warehouse "$WH" --older-than 0 --retain-last 1 >"$T/exp.out" || die "expire"
grep -q "^raw_orderbook: expired .* [1-9][0-9]* data file(s)" "$T/exp.out" \
  || die "expire deleted no replaced data file: $(grep ^raw_orderbook "$T/exp.out")"
"$QW_BIN" lake clean-orphans --warehouse "$WH" --older-than 0 --dry-run | grep -q "^0 orphan" \
  || die "orphans left after compact + expire"
after_bytes=$(meta_bytes raw_orderbook)
echo "raw_orderbook metadata: $before_bytes -> $after_bytes bytes"
(( after_bytes * 4 < before_bytes )) || die "metadata not bounded"
n=$(find "$WH/quotewatch/raw_orderbook/data" -name '*.parquet' | wc -l)
(( n == f1 )) || die "$n data files on disk, the table has $f1"
digest | cmp -s - "$T/d0" || die "rows changed by expire after compact"
"$PY" "$QW_ROOT/tests/ref/lake_expect.py" "$REAL" raw_orderbook >"$T/ob.json"
"$PY" "$QW_ROOT/tests/ref/lake_expect.py" "$REAL" raw_trades >"$T/tr.json"
(cd "$JS" && node lake_check.mjs "$WH" raw_orderbook "$T/ob.json" && node lake_check.mjs "$WH" raw_trades "$T/tr.json") \
  || die "independent readers disagree after compact"

# 4. compact while a writer appends (another product: the earlier rows stay comparable)
for t in "${TABLES[@]}"; do rows "$t" >"$T/r0.$t"; done
"$QW_ROOT/build/gen_feed" --feed advanced --products SOL-USD --levels 50 --messages 4000 --seed 9 \
  --out "$T/sol.ndjson" >/dev/null
"$QW_BIN" replay --persist --warehouse "$WH" --flush-rows 50 --flush-ms 1 --speed 100x "$T/sol.ndjson" \
  --summary "$T/w.json" >/dev/null 2>"$T/w.log" &
wpid=$!
rounds=0; committed=0
while kill -0 "$wpid" 2>/dev/null; do
  "$QW_BIN" lake compact --warehouse "$WH" --target-size 65536 >"$T/cw.out" 2>&1 || { cat "$T/cw.out"; die "compact during the writer"; }
  grep -q "^total: [1-9]" "$T/cw.out" && committed=$((committed + 1))
  grep -q "gave up" "$T/cw.out" && grep "gave up" "$T/cw.out"
  rounds=$((rounds + 1))
done
wait "$wpid" || { tail -5 "$T/w.log"; die "writer failed"; }
"$QW_BIN" lake compact --warehouse "$WH" >/dev/null
echo "compact rounds during the writer: $rounds, $committed of them committed"
(( committed >= 1 )) || die "no compaction committed while the writer appended"
"$PY" - "$T/w.json" <<'PY' || die "writer persistence"
import json, sys
p = json.load(open(sys.argv[1]))["persistence"]
print("writer:", {k: p[k] for k in ("commits", "commit_conflicts", "errors", "rows_given_up", "dropped")})
sys.exit(1 if p["errors"] or p["rows_given_up"] or p["dropped"] else 0)
PY
# the reference: the same feed persisted alone, never compacted (rows are
# deterministic but for run_id; the feed repeats some rows, so multisets)
"$QW_BIN" replay --persist --warehouse "$W/ref" --flush-ms 1000 --speed 100x "$T/sol.ndjson" \
  >/dev/null 2>&1 || die "reference replay"
norun() { sed 's/,"run_id":"[^"]*"//'; }
for t in "${TABLES[@]}"; do
  rows "$t" >"$T/r1.$t"
  WH="$W/ref" rows "$t" | cat "$T/r0.$t" - | norun | sort >"$T/want.$t"
  norun <"$T/r1.$t" | sort >"$T/got.$t"
  cmp -s "$T/want.$t" "$T/got.$t" || die "$t: rows lost or duplicated: $(diff "$T/want.$t" "$T/got.$t" | head -3)"
  echo "$t: $(wc -l <"$T/r1.$t") rows: the earlier rows and the writer's, none lost or duplicated"
done
sleep 5
"$QW_BIN" lake expire --warehouse "$WH" --older-than 0 --retain-last 1 >/dev/null || die "expire"
"$QW_BIN" lake clean-orphans --warehouse "$WH" --older-than 0 >/dev/null || die "clean-orphans"
for t in "${TABLES[@]}"; do
  (cd "$JS" && node lake_count.mjs "$WH" "$t" "$(wc -l <"$T/r1.$t")") || die "independent readers disagree on $t"
done
# 6. --maintain: the writer's own background thread compacts while it writes
WH="$W/m"
"$QW_BIN" replay --persist --maintain 1 --warehouse "$WH" --flush-ms 1 --speed 5x "$REAL" \
  --summary "$T/m.json" >/dev/null 2>"$T/m.log" || { tail -5 "$T/m.log"; die "replay --persist --maintain"; }
"$PY" - "$T/m.json" <<'PY' || die "--maintain counters"
import json, sys
p = json.load(open(sys.argv[1]))["persistence"]
print("--maintain:", {k: p[k] for k in p if k.startswith("maintenance") or k in ("commits", "errors")})
sys.exit(0 if p["maintenance_runs"] >= 2 and p["maintenance_files_compacted"] > 0
         and not p["maintenance_errors"] and not p["errors"] and not p["rows_given_up"] else 1)
PY
for t in "${TABLES[@]}"; do
  n=$("$QW_BIN" lake scan "$t" --limit 0 --warehouse "$WH" | wc -l)
  (( n == $(jq_py "$T/m.json" "d['persistence']['rows_written']['$t']") )) || die "--maintain: $t has $n rows"
done
"$QW_BIN" replay --lake --warehouse "$WH" --summary "$T/mlake.json" 2>/dev/null
"$PY" - "$T/ref.json" "$T/mlake.json" <<'PY' || die "replay --lake after --maintain differs from the capture replay"
import json, sys
a, b = (json.load(open(f))["products"] for f in sys.argv[1:3])
sys.exit(1 if [p for p in a if a[p]["book_digest"] != b.get(p, {}).get("book_digest")] else 0)
PY
echo "--maintain: raw_orderbook files $(files raw_orderbook), rows and books intact"

# 5. kill -9 during compact (last: a killed compactor's commit lease stays
#    live for its TTL and holds expire's cutoff back meanwhile, by design)
WH="$W/k"
"$QW_BIN" replay --persist --warehouse "$WH" --flush-ms 1 --speed 20x "$REAL" >/dev/null 2>&1 \
  || die "replay --persist (kill phase)"
digest >"$T/dk"
k0=$(files raw_orderbook)
for i in 1 2 3 4 5; do
  "$QW_BIN" lake compact --warehouse "$WH" --target-size $((65536 * i)) >"$T/k$i.out" 2>&1 &
  pid=$!
  sleep "$((RANDOM % 2)).$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  "$QW_BIN" lake tables --warehouse "$WH" >/dev/null || die "lake unreadable after kill -9 of compact ($i)"
  digest | cmp -s - "$T/dk" || die "rows changed after kill -9 of compact ($i)"
done
"$QW_BIN" lake compact --warehouse "$WH" >/dev/null || die "compact after the kills"
digest | cmp -s - "$T/dk" || die "rows changed by compact after the kills"
echo "kill -9 during compact x5: readable, rows unchanged; raw_orderbook files $k0 -> $(files raw_orderbook)"
echo "lake compact: ok"
