#!/usr/bin/env bash
# Command-line contract: usage errors exit 2 naming the flag; an unreadable
# input exits 1; --help/--version exit 0; summary to a file is complete.
. "$(dirname "$0")/lib.sh"
"$QW_BIN" --help | grep -q "quotewatch replay" || die "--help"
"$QW_BIN" --version | grep -q "^quotewatch " || die "--version"
set +e
"$QW_BIN" replay --speed warp "$REAL" 2>"$T/e"; [ $? = 2 ] || die "bad --speed must exit 2"
grep -q -- "--speed" "$T/e" || die "error must name --speed"
"$QW_BIN" replay --frobnicate "$REAL" 2>"$T/e"; [ $? = 2 ] || die "unknown flag must exit 2"
grep -q -- "--frobnicate" "$T/e" || die "error must name the flag"
"$QW_BIN" replay 2>/dev/null; [ $? = 2 ] || die "no input must exit 2"
"$QW_BIN" replay --summary "$T/s.json" /nonexistent/file 2>/dev/null; [ $? = 1 ] || die "missing file must exit 1"
set -e
"$QW_BIN" replay --summary - "$REAL" 2>/dev/null > "$T/out.json"
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['messages']==9946; assert set(d['rejected_by_reason'])>={'bad_json','bad_number','bad_time','too_large'}" "$T/out.json"
# --speed paces by feed time: 30.8 s of feed at 100x takes >= ~0.25 s
s=$(date +%s%N); "$QW_BIN" replay --speed 100x "$REAL" 2>/dev/null; e=$(date +%s%N)
(( (e - s) / 1000000 >= 250 )) || die "--speed 100x was not paced ($(( (e - s) / 1000000 )) ms)"
# progress bar on demand goes to stderr and ends with a newline
"$QW_BIN" replay --progress "$REAL" 2>"$T/p" >/dev/null
grep -q "100%" "$T/p" || die "progress bar"
# --products filters a capture: only those products get books and rows; the
# other products' messages count as unknown_product, and the kept products'
# books equal the unfiltered run's
"$QW_BIN" replay --summary "$T/all.json" "$REAL" 2>/dev/null
"$QW_BIN" replay --products BAND-GBP,SKL-GBP --summary "$T/some.json" "$REAL" 2>/dev/null
"$PY" - "$T/all.json" "$T/some.json" <<'PYEOF' || die "--products filter"
import json, sys
a, s = (json.load(open(f)) for f in sys.argv[1:])
assert sorted(s["products"]) == ["BAND-GBP", "SKL-GBP"], sorted(s["products"])
assert s["messages"] == a["messages"] and s["rejected"] == a["rejected"]
assert s["unknown_product"] > 0 and a["unknown_product"] == 0
for p in s["products"]:
    assert s["products"][p] == a["products"][p], p
PYEOF
