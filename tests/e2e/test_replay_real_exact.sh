#!/usr/bin/env bash
# The real Exchange capture replays to exactly the books an independent
# Python/decimal reference computes, under ASan+UBSan too.
. "$(dirname "$0")/lib.sh"
"$PY" "$QW_ROOT/tests/ref/ref_replay.py" "$REAL" > "$T/ref.json"
for bin in "$QW_BIN" "$QW_ASAN_BIN"; do
  "$bin" replay --summary "$T/s.json" "$REAL" 2>"$T/log" || die "replay exit $?"
  "$PY" "$QW_ROOT/tests/ref/compare_books.py" "$T/s.json" "$T/ref.json" --counts
  [ "$(jq_py "$T/s.json" 'd["messages"]')" = 9946 ] || die "messages != 9946"
  [ "$(jq_py "$T/s.json" 'd["bytes"]')" = 1425215 ] || die "bytes != 1425215"
  [ "$(jq_py "$T/s.json" 'd["rejected"]')" = 0 ] || die "rejected != 0"
  [ "$(jq_py "$T/s.json" 'len(d["products"])')" = 10 ] || die "products != 10"
  [ "$(jq_py "$T/s.json" 'sum(p["snapshots"] for p in d["products"].values())')" = 10 ] || die "snapshots"
  [ "$(jq_py "$T/s.json" 'sum(p["book_updates"] for p in d["products"].values())')" = 9719 ] || die "updates"
  [ "$(jq_py "$T/s.json" 'sum(p["trades"] for p in d["products"].values())')" = 107 ] || die "trades"
  [ "$(jq_py "$T/s.json" 'd["ignored"]')" = 107 ] || die "ticker messages should be ignored (107)"
  [ "$(jq_py "$T/s.json" 'all(p["valid"] for p in d["products"].values())')" = True ] || die "a book is not valid"
done
