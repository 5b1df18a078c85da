#!/usr/bin/env bash
# A damaged lake is an error, never silently empty data: with the current
# metadata.json of raw_trades deleted, `lake tables`, `lake describe` and
# `replay --lake` exit non-zero and name the table (they used to exit 0
# and replay 0 of 107 trades).
source "$(dirname "$0")/lib.sh"
export ICEBERG_WAREHOUSE="file://$T/wh"
"$QW_BIN" replay "$REAL" --persist --summary "$T/cap.json" 2>"$T/persist.log" || die "persist failed"
"$QW_BIN" lake tables > "$T/t0.txt" 2>&1 || die "lake tables failed on a good lake"
meta=$("$QW_BIN" lake describe raw_trades | awk '$1 == "metadata" {print $2}')
meta=${meta#file://}
[ -f "$meta" ] || die "no metadata file found for raw_trades ($meta)"
rm -f "$meta"
rc=0; "$QW_BIN" lake tables > "$T/t1.txt" 2> "$T/t1.err" || rc=$?
[ "$rc" != 0 ] || die "lake tables exited 0 with an unreadable table"
grep -q "raw_trades" "$T/t1.err" || { cat "$T/t1.err"; die "lake tables must name raw_trades"; }
rc=0; "$QW_BIN" lake describe raw_trades > /dev/null 2> "$T/d1.err" || rc=$?
[ "$rc" != 0 ] || die "lake describe exited 0 with an unreadable table"
rc=0; "$QW_BIN" replay --lake --summary "$T/lake.json" > /dev/null 2> "$T/r1.err" || rc=$?
[ "$rc" != 0 ] || die "replay --lake exited 0 with an unreadable table"
grep -q "raw_trades" "$T/r1.err" || { tail -5 "$T/r1.err"; die "replay --lake must name raw_trades"; }
echo "damaged table reported: ok"

# An emptied catalog (catalog.db truncated to 0 bytes) over existing tables:
# `lake tables` says which folders hold unregistered tables and exits 1, a
# writer refuses to create new tables over them (naming `lake register`),
# clean-orphans deletes nothing, and `lake register` brings every row back.
export ICEBERG_WAREHOUSE="file://$T/wh2"
"$QW_BIN" replay "$REAL" --persist --summary "$T/cap2.json" 2>"$T/persist2.log" || die "persist 2 failed"
"$QW_BIN" replay --lake --summary "$T/before.json" 2>/dev/null || die "lake replay before"
nfiles=$(find "$T/wh2/quotewatch" -type f | wc -l)
: > "$T/wh2/catalog.db"; rm -f "$T/wh2/catalog.db-wal" "$T/wh2/catalog.db-shm"
rc=0; "$QW_BIN" lake tables > "$T/t2.txt" 2> "$T/t2.err" || rc=$?
[ "$rc" != 0 ] || die "lake tables exited 0 over unregistered tables"
grep -q "raw_orderbook is not in the catalog.*lake register" "$T/t2.err" || { cat "$T/t2.err"; die "lake tables must point at lake register"; }
rc=0; "$QW_BIN" replay "$REAL" --persist > /dev/null 2> "$T/p3.err" || rc=$?
[ "$rc" != 0 ] || die "a writer created new tables over existing ones"
grep -q "lake register" "$T/p3.err" || { tail -3 "$T/p3.err"; die "the writer's error must name lake register"; }
"$QW_BIN" lake clean-orphans --older-than 0 > "$T/clean.txt" 2>&1 || true
[ "$(find "$T/wh2/quotewatch" -type f | wc -l)" = "$nfiles" ] || die "files changed while the catalog was empty"
"$QW_BIN" lake register > "$T/reg.txt" 2> "$T/reg.err" || { cat "$T/reg.txt" "$T/reg.err"; die "lake register failed"; }
[ "$(grep -c ' registered ' "$T/reg.txt")" = 4 ] || { cat "$T/reg.txt"; die "lake register must register 4 tables"; }
"$QW_BIN" lake register raw_trades > "$T/reg2.txt" 2>&1 || die "register of a registered table must succeed"
grep -q "already in the catalog" "$T/reg2.txt" || die "second register must say already in the catalog"
"$QW_BIN" lake tables > /dev/null 2>&1 || die "lake tables after register"
"$QW_BIN" replay --lake --summary "$T/after.json" 2>/dev/null || die "lake replay after register"
"$PY" - "$T/before.json" "$T/after.json" <<'PY' || die "rows differ after register"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["messages"] == b["messages"] and a["messages"] > 0, (a["messages"], b["messages"])
bad = [p for p in a["products"] if a["products"][p]["book_digest"] != b["products"][p]["book_digest"]]
assert not bad, bad
print("register: every row back,", a["messages"], "messages")
PY
echo ok
