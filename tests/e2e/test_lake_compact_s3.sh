#!/usr/bin/env bash
# `lake compact` on an s3:// lake (a real S3-compatible server on loopback,
# SigV4 verified; PostgreSQL 15 catalog; docs/STORAGE.md "Maintenance"):
#  1. many small commits of one product into s3://b/wh;
#  2. compact in a loop while a `replay --persist` writer appends another
#     product: at least one compaction commits, none fails, the writer
#     loses nothing; every earlier row and every row of the writer's feed
#     (persisted alone into a file:// reference lake) is there exactly
#     once (run_id aside);
#  3. a final compact, `lake expire --older-than 0` (deletes the replaced
#     data files) and `clean-orphans`: no orphan left, the rows unchanged,
#     the lake readable (`lake tables`, `lake scan` by the ASan build,
#     `replay --lake` books equal to the file:// reference's).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3lib.sh"
source "$(dirname "$0")/pglib.sh"
[ -x /usr/lib/postgresql/15/bin/initdb ] || skip_test "PostgreSQL 15 is not installed"
s3_start b
pg_start
WPID=
trap '[ -n "$WPID" ] && kill "$WPID" 2>/dev/null; s3_stop; pg_stop; rm -rf "$T"' EXIT
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL="$S3_ENDPOINT"
unset AWS_SESSION_TOKEN QW_ALLOW_LOCAL_CATALOG || true
export ICEBERG_WAREHOUSE=s3://b/wh/ ICEBERG_CATALOG_URI="$PG_URI"
TABLES=(raw_orderbook raw_trades features labels)
export LC_ALL=C
norun() { sed 's/,"run_id":"[^"]*"//'; }
rows() { "$QW_BIN" lake scan "$1" --limit 0 "${@:2}" | norun | sort; }
files() { "$QW_BIN" lake tables | awk -v t="$1" '$1 == t {print $7}'; }
gen() { "$QW_ROOT/build/gen_feed" --feed advanced --products "$1" --levels 30 --messages "$2" --seed "$3" \
  --out "$4" >/dev/null || die "gen_feed"; }

# 1. small commits of BTC-USD
gen BTC-USD 2000 3 "$T/btc.ndjson"
"$QW_BIN" replay --persist --flush-rows 200 --flush-ms 1 --speed 100x "$T/btc.ndjson" --summary "$T/p.json" \
  >/dev/null 2>"$T/p.log" || { tail -5 "$T/p.log"; die "replay --persist into s3://"; }
f0=$(files raw_orderbook)
echo "commits $(jq_py "$T/p.json" 'd["persistence"]["commits"]'), raw_orderbook data files $f0"
(( f0 >= 4 )) || die "too few data files ($f0): nothing to compact"
for t in "${TABLES[@]}"; do rows "$t" >"$T/r0.$t"; done

# 2. compact while a writer appends SOL-USD
gen SOL-USD 2000 9 "$T/sol.ndjson"
"$QW_BIN" replay --persist --flush-rows 100 --flush-ms 1 --speed 4x "$T/sol.ndjson" --summary "$T/w.json" \
  >/dev/null 2>"$T/w.log" &
WPID=$!
rounds=0; committed=0
while kill -0 "$WPID" 2>/dev/null; do
  "$QW_BIN" lake compact --target-size 65536 >"$T/cw.out" 2>&1 || { cat "$T/cw.out"; die "compact during the writer"; }
  grep -q "^total: [1-9]" "$T/cw.out" && committed=$((committed + 1))
  grep "gave up" "$T/cw.out" || true
  rounds=$((rounds + 1))
done
wait "$WPID" || { tail -5 "$T/w.log"; WPID=; die "writer failed"; }
WPID=
echo "compact rounds during the writer: $rounds, $committed of them committed"
(( committed >= 1 )) || die "no compaction committed while the writer appended"
"$PY" - "$T/w.json" <<'PY' || die "writer persistence"
import json, sys
p = json.load(open(sys.argv[1]))["persistence"]
print("writer:", {k: p[k] for k in ("commits", "commit_conflicts", "errors", "rows_given_up", "dropped")})
sys.exit(1 if p["errors"] or p["rows_given_up"] or p["dropped"] or p["commits"] < 10 else 0)
PY
# the reference: the writer's feed alone into a file:// lake, never compacted
REF="$T/ref"
"$QW_BIN" replay --persist --warehouse "$REF" --catalog-uri "$REF/c.db" --flush-ms 1000 "$T/sol.ndjson" \
  --summary "$T/ref.json" >/dev/null 2>&1 || die "reference replay"
check_rows() { # WHAT: the s3 lake holds exactly the earlier rows plus the reference's
  local t
  for t in "${TABLES[@]}"; do
    rows "$t" --warehouse "$REF" --catalog-uri "$REF/c.db" | cat "$T/r0.$t" - | sort >"$T/want.$t"
    rows "$t" >"$T/got.$t"
    cmp -s "$T/want.$t" "$T/got.$t" \
      || die "$1: $t rows lost or duplicated: $(diff "$T/want.$t" "$T/got.$t" | head -3)"
  done
  echo "$1: $(cat "$T"/got.* | wc -l) rows, the earlier ones and the writer's, none lost or duplicated"
}
check_rows "after compacting during the writer"

# 3. final compact, expire, clean-orphans
"$QW_BIN" lake compact >"$T/c.out" || { cat "$T/c.out"; die "final compact"; }
grep '^total' "$T/c.out"
f1=$(files raw_orderbook)
echo "raw_orderbook data files: $f1 (were $f0 before the writer)"
(( f1 <= 4 )) || die "file count not bounded after compact ($f1)"
sleep 6 # past the 5 s skew margin: the replaced files may go
"$QW_BIN" lake expire --older-than 0 --retain-last 1 >"$T/exp.out" 2>"$T/exp.err" || { cat "$T/exp.err"; die "lake expire over s3://"; }
grep '^total' "$T/exp.out"
grep -q "^raw_orderbook: expired .* [1-9][0-9]* data file(s)" "$T/exp.out" \
  || die "expire deleted no replaced data file: $(grep ^raw_orderbook "$T/exp.out")"
"$QW_BIN" lake clean-orphans --older-than 0 >"$T/orph.out" 2>"$T/orph.err" || { cat "$T/orph.err"; die "clean-orphans over s3://"; }
tail -1 "$T/orph.out"
"$QW_BIN" lake clean-orphans --older-than 0 --dry-run 2>/dev/null | grep -q "^0 orphan" || die "orphans left"
"$QW_BIN" lake tables >"$T/tables.txt" || die "lake tables after expire"
check_rows "after expire + clean-orphans"
"$QW_ASAN_BIN" lake scan raw_trades --limit 0 | norun | sort | cmp -s - "$T/got.raw_trades" || die "lake scan (asan) differs"
# replay --lake: the books of the whole lake equal those of a file:// lake of both feeds
"$QW_BIN" replay --persist --warehouse "$REF" --catalog-uri "$REF/c.db" --flush-ms 1000 "$T/btc.ndjson" \
  >/dev/null 2>&1 || die "reference replay (btc)"
"$QW_BIN" replay --lake --summary "$T/lake.json" 2>"$T/lake.log" || { tail -3 "$T/lake.log"; die "replay --lake over s3://"; }
"$QW_BIN" replay --lake --warehouse "$REF" --catalog-uri "$REF/c.db" --summary "$T/rlake.json" 2>/dev/null \
  || die "replay --lake (reference)"
"$PY" - "$T/rlake.json" "$T/lake.json" <<'PY' || die "replay --lake books differ"
import json, sys
a, b = (json.load(open(f))["products"] for f in sys.argv[1:3])
bad = [p for p in a if a[p]["book_digest"] != b.get(p, {}).get("book_digest")] + [p for p in b if p not in a]
print("replay --lake books over s3:// after compact + expire:", "equal" if not bad else bad)
sys.exit(1 if bad or len(a) != 2 else 0)
PY
echo "lake compact on s3: ok"
