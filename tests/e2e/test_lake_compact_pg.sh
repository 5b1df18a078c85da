#!/usr/bin/env bash
# `lake compact` with the PostgreSQL catalog (tests/e2e/pglib.sh): many
# small commits, then compaction in a loop while a `replay --persist`
# writer appends to the same tables through the same catalog: no row lost
# or duplicated (multiset of rows, run ids aside, equals the earlier rows
# plus a reference lake of the writer's feed); then expire + clean-orphans
# leave no orphan and the rows are unchanged.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pglib.sh"
W=$(mktemp -d /dev/shm/qwcompactpg.XXXXXX 2>/dev/null || mktemp -d "$T/w.XXXXXX")
trap 'pg_stop; rm -rf "$W" "$T"' EXIT
export LC_ALL=C
pg_start
WH="$W/wh"
CAT=(--warehouse "$WH" --catalog-uri "$PG_URI")
TABLES=(raw_orderbook raw_trades features labels)
rows() { "$QW_BIN" lake scan "$1" --limit 0 "${@:2}" | sed 's/,"run_id":"[^"]*"//' | sort; }
files() { "$QW_BIN" lake tables "${CAT[@]}" | awk -v t="$1" '$1 == t {print $7}'; }

"$QW_BIN" replay --persist "${CAT[@]}" --flush-ms 1 --speed 20x "$REAL" --summary "$T/p.json" \
  >/dev/null 2>"$T/p.log" || { tail -5 "$T/p.log"; die "replay --persist"; }
f0=$(files raw_orderbook)
echo "commits $(jq_py "$T/p.json" 'd["persistence"]["commits"]'), raw_orderbook files $f0"
# many small files to compact: ~300 on an idle machine; under load commits
# take longer and carry more rows each (fewer files), which the checks below
# do not depend on
(( f0 >= 80 )) || die "too few files ($f0)"
for t in "${TABLES[@]}"; do rows "$t" "${CAT[@]}" >"$T/r0.$t"; done

"$QW_ROOT/build/gen_feed" --feed advanced --products SOL-USD --levels 50 --messages 3000 --seed 9 \
  --out "$T/sol.ndjson" >/dev/null
"$QW_BIN" replay --persist "${CAT[@]}" --flush-rows 50 --flush-ms 1 --speed 100x "$T/sol.ndjson" \
  >/dev/null 2>"$T/w.log" &
wpid=$!
rounds=0; committed=0
while kill -0 "$wpid" 2>/dev/null; do
  "$QW_BIN" lake compact "${CAT[@]}" --target-size 65536 >"$T/c.out" 2>&1 || { cat "$T/c.out"; die "compact"; }
  grep -q "^total: [1-9]" "$T/c.out" && committed=$((committed + 1))
  rounds=$((rounds + 1))
done
wait "$wpid" || { tail -5 "$T/w.log"; die "writer failed"; }
"$QW_BIN" lake compact "${CAT[@]}" >/dev/null || die "final compact"
echo "compact rounds during the writer: $rounds, $committed committed; raw_orderbook files $f0 -> $(files raw_orderbook)"
(( committed >= 1 )) || die "no compaction committed while the writer appended"
"$QW_BIN" replay --persist --warehouse "$W/ref" --flush-ms 1000 --speed 100x "$T/sol.ndjson" \
  >/dev/null 2>&1 || die "reference replay"
check_rows() {
  local t; for t in "${TABLES[@]}"; do
    rows "$t" --warehouse "$W/ref" | cat "$T/r0.$t" - | sort >"$T/want.$t"
    rows "$t" "${CAT[@]}" >"$T/got.$t"
    cmp -s "$T/want.$t" "$T/got.$t" || die "$t: rows lost or duplicated ($1): $(diff "$T/want.$t" "$T/got.$t" | head -3)"
  done
}
check_rows "after compaction during the writer"
sleep 6
"$QW_BIN" lake expire "${CAT[@]}" --older-than 0 --retain-last 1 >/dev/null || die "expire"
"$QW_BIN" lake clean-orphans "${CAT[@]}" --older-than 0 --dry-run | grep -q "^0 orphan" || die "orphans left"
check_rows "after expire"
echo "lake compact (PostgreSQL catalog): ok"
