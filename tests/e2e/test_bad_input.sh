#!/usr/bin/env bash
# Bad input interleaved with the real capture (truncated JSON, wrong types,
# deep nesting, 100 KB lines, NUL bytes, absurd numbers, bad UTF-8...):
# every bad line is counted as rejected, the books equal the reference's
# for the real lines, the run exits 0, and ASan/UBSan stay quiet.
. "$(dirname "$0")/lib.sh"
"$PY" "$QW_ROOT/tests/ref/make_bad_corpus.py" --out "$T/bad.ndjson"
nbad=$(jq_py "$T/bad.ndjson.json" 'd["bad_lines"]')
nunk=$(jq_py "$T/bad.ndjson.json" 'd["unknown_lines"]')
nreal=$(jq_py "$T/bad.ndjson.json" 'd["real_lines"]')
(( nbad >= 50 )) || die "corpus too small ($nbad bad lines)"
"$PY" "$QW_ROOT/tests/ref/ref_replay.py" "$REAL" > "$T/ref.json"
for bin in "$QW_BIN" "$QW_ASAN_BIN"; do
  "$bin" replay --max-line 65536 --summary "$T/s.json" "$T/bad.ndjson" 2>"$T/log" || die "exit $? ($(tail -3 "$T/log"))"
  "$PY" "$QW_ROOT/tests/ref/compare_books.py" "$T/s.json" "$T/ref.json"
  got=$(jq_py "$T/s.json" 'd["rejected"]')
  [ "$got" = "$nbad" ] || die "rejected $got, corpus has $nbad bad lines"
  [ "$(jq_py "$T/s.json" 'sum(d["rejected_by_reason"].values())')" = "$nbad" ] || die "reasons do not add up"
  [ "$(jq_py "$T/s.json" 'd["messages"]')" = $((nbad + nunk + nreal)) ] || die "message count"
  [ "$(jq_py "$T/s.json" 'd["unknown_types"]')" = "$nunk" ] || die "unknown types"
  for r in bad_json bad_type bad_number too_large too_deep; do
    [ "$(jq_py "$T/s.json" "d['rejected_by_reason']['$r']")" -gt 0 ] || die "no $r rejections counted"
  done
done
