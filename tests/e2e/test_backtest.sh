#!/usr/bin/env bash
# `quotewatch backtest` on the real capture: every metric of a 2x2x2 grid
# recomputed with scikit-learn from the dumped predictions
# (tests/ref/backtest_check.py, rel. 1e-9); the seed configuration's
# predictions equal `replay --samples` bit for bit (so they stay
# scikit-learn's model); the HTML report is well-formed, self-contained and
# (when chromium + playwright-core are here) renders without console errors;
# usage errors exit 2, an unreadable input exits 1 but still reports; the
# ASan build runs the grid clean.
. "$(dirname "$0")/lib.sh"
[ -f "$REAL" ] || skip_test "real capture $REAL missing (set QW_SHARED)"
GRID=(--horizon 500ms,1s --threshold 0.0001,0.0002 --alpha 1e-4,1e-3 --window 5s)
"$QW_BIN" backtest --log-level warn --no-progress "${GRID[@]}" --report-json "$T/r.json" \
  --report-html "$T/r.html" --predictions-csv "$T/p.csv" "$REAL"
[ "$(jq_py "$T/r.json" 'len(d["configs"])')" = 8 ] || die "grid must give 8 configurations"
[ "$(jq_py "$T/r.json" '[c["seed"] for c in d["configs"]].index(True)')" = 0 ] || die "config 0 must be the seed"
"$PY" "$QW_ROOT/tests/ref/backtest_check.py" "$T/r.json" "$T/p.csv"
# 1 ms windows: more than the points, so results_one sorts by time instead
# of bucketing the p-sorted points; the same check
"$QW_BIN" backtest --log-level warn --no-progress --window 1ms --horizon 500ms,1s \
  --report-json "$T/w.json" --predictions-csv "$T/w.csv" "$REAL"
"$PY" "$QW_ROOT/tests/ref/backtest_check.py" "$T/w.json" "$T/w.csv"

# seed configuration == replay, sample for sample (defaults: one configuration)
"$QW_BIN" replay --log-level warn --samples "$T/samples.csv" "$REAL"
"$QW_BIN" backtest --log-level warn --report-json "$T/seed.json" --predictions-csv "$T/seed.csv" "$REAL"
[ "$(jq_py "$T/seed.json" 'len(d["configs"]) == 1 and d["configs"][0]["seed"]')" = True ] || die "default = seed only"
"$PY" - "$T/samples.csv" "$T/seed.csv" "$T/p.csv" "$T/seed.json" <<'PYEOF'
import csv, json, sys
rep = [(r["product"], r["t_ns"], float(r["p"]), int(r["label"]))
       for r in csv.DictReader(open(sys.argv[1])) if r["p"] != ""]
for path in sys.argv[2:4]:
    bt = [(r["product"], r["t_ns"], float(r["p"]), int(r["y"]))
          for r in csv.DictReader(open(path)) if r["config"] == "0"]
    assert len(bt) == len(rep), (path, len(bt), len(rep))
    for i, (a, b) in enumerate(zip(bt, rep)):
        assert a == b, (path, i, a, b)
d = json.load(open(sys.argv[4]))["configs"][0]
labeled = sum(1 for _ in csv.DictReader(open(sys.argv[1])))
assert d["labeled"] == labeled, (d["labeled"], labeled)
print(f"seed predictions equal replay's: {len(rep)} of {labeled} labeled samples")
PYEOF

# the HTML page: balanced tags, no script, no external reference
"$PY" - "$T/r.html" <<'PYEOF'
import re, sys
from html.parser import HTMLParser
VOID = {"meta", "br", "hr", "img", "input", "link", "line", "circle", "rect", "polyline", "path"}
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.tags = {}
    def handle_starttag(s, t, a):
        s.tags[t] = s.tags.get(t, 0) + 1
        if t not in VOID: s.stack.append(t)
    def handle_startendtag(s, t, a):
        s.tags[t] = s.tags.get(t, 0) + 1
    def handle_endtag(s, t):
        if t in VOID: return
        assert s.stack and s.stack[-1] == t, f"</{t}> closes <{s.stack[-1] if s.stack else None}>"
        s.stack.pop()
html = open(sys.argv[1]).read()
p = P(); p.feed(html); p.close()
assert not p.stack, f"unclosed: {p.stack}"
assert p.tags.get("section") == 8 and p.tags.get("svg") == 24, p.tags
assert "script" not in p.tags and "img" not in p.tags and "link" not in p.tags, p.tags
assert not re.search(r"(https?:|//[a-z]|url\(|@import)", html, re.I), "external reference"
print("html well-formed and self-contained")
PYEOF
if [ -x /usr/bin/chromium ] && { [ -d "$QW_ROOT/tests/js/node_modules/playwright-core" ] || "$QW_ROOT/scripts/install-npm.sh" tests/js >/dev/null 2>&1; }; then
  (cd "$QW_ROOT/tests/js" && node backtest_html.mjs "$T/r.html" 8 "$QW_ROOT/build/backtest.png") || die "HTML in chromium"
else
  echo "note: chromium or playwright-core unavailable: browser check not run (HTML checked statically)"
fi

# --products filter: only those products are evaluated
"$QW_BIN" backtest --log-level warn --products SKL-USD,YFI-BTC --report-json "$T/f.json" "$REAL"
[ "$(jq_py "$T/f.json" 'sorted(d["configs"][0]["products"])')" = "['SKL-USD', 'YFI-BTC']" ] || die "--products filter"

# errors
set +e
"$QW_BIN" backtest "$REAL" 2>"$T/e1"; rc=$?
[ $rc = 2 ] && grep -q -- "--report-json" "$T/e1" || die "missing --report-json: exit $rc $(cat "$T/e1")"
"$QW_BIN" backtest --horizon 5parsecs --report-json "$T/x.json" "$REAL" 2>"$T/e2"; rc=$?
[ $rc = 2 ] && grep -q -- "--horizon" "$T/e2" || die "bad --horizon: exit $rc"
"$QW_BIN" backtest --alpha 1,2,3,4,5,6,7,8,9 --report-json "$T/x.json" "$REAL" 2>"$T/e3"; rc=$?
[ $rc = 2 ] || die "9 alphas: exit $rc"
"$QW_BIN" backtest --log-level off --report-json "$T/m.json" "$T/missing" "$REAL"; rc=$?
[ $rc = 1 ] || die "missing input must exit 1 (got $rc)"
[ "$(jq_py "$T/m.json" 'd["configs"][0]["pooled"]["samples"] > 5000')" = True ] || die "report after a missing input"
: > "$T/empty"
"$QW_BIN" backtest --log-level off --report-json "$T/z.json" --report-html "$T/z.html" "$T/empty"; rc=$?
[ $rc = 0 ] || die "empty input: exit $rc"
[ "$(jq_py "$T/z.json" 'd["configs"][0]["pooled"]["roc_auc"] is None and d["configs"][0]["pooled"]["samples"] == 0')" = True ] || die "empty report"
set -e

# sanitizers: the whole grid through the ASan+UBSan build
if [ -x "$QW_ASAN_BIN" ]; then
  "$QW_ASAN_BIN" backtest --log-level warn "${GRID[@]}" --report-json "$T/a.json" --report-html "$T/a.html" "$REAL"
  "$PY" -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert a['configs']==b['configs']" "$T/a.json" "$T/r.json" || die "ASan report differs"
fi
echo ok
