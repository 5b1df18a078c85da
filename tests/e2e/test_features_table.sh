#!/usr/bin/env bash
# The `features` table carries the configured feature set (docs/TABLES.md,
# docs/ICEBERG.md "Schema evolution"). One lake, the real capture three times:
#  1. `--features seed` by the PREVIOUS version of QuoteWatch (the commit
#     before the opt-in columns, built once from git into build/prev-SHA):
#     the features table has schema 0, 14 columns, files without the new
#     columns;
#  2. `--features rich` by this version (ASan build when there is one): the
#     table is evolved in place (schema 1: the 8 optional columns, ids
#     15..22, last-column-id 22, old schema and snapshots kept);
#  3. `--features book`: no further evolution; the 3 features the set lacks
#     are null.
# Then: `lake scan` (projection by field id), DuckDB (read_parquet with the
# schema mapped by field id) and icebird (through the metadata) read the
# same rows, every row of all three runs; old rows are null in the new
# columns; every row's configured features equal what the pipeline computed
# (each run's --samples CSV, exactly) and the rich run's rows, all of them,
# equal tests/ref/features_ref.py, an independent computation; `lake
# compact` keeps the rows identical.
source "$(dirname "$0")/lib.sh"
JS="$QW_ROOT/tests/js"
[ -d "$JS/node_modules/icebird" ] || "$QW_ROOT/scripts/install-npm.sh" tests/js >/dev/null
export LC_ALL=C
git -C "$QW_ROOT" rev-parse HEAD >/dev/null 2>&1 \
  || skip_test "no git history: the previous version's lake is written by that version, built from git"
added=$(git -C "$QW_ROOT" log -1 --format=%H -S'{"microprice_bps", 15' -- src/storage/tables.c)
[ -n "$added" ] || skip_test "the commit that added the feature columns is not in this history"
prev=$(git -C "$QW_ROOT" rev-parse "$added^")
PD="$QW_ROOT/build/prev-${prev:0:12}"
OLD="$PD/build/quotewatch"
if [ ! -x "$OLD" ]; then
  echo "building the previous version ${prev:0:12} (once, into $PD)"
  rm -rf "$PD" && mkdir -p "$PD"
  git -C "$QW_ROOT" archive "$prev" | tar -x -C "$PD"
  make -C "$PD" -j"$(nproc)" OPT=-O0 build/quotewatch > "$T/prev-build.log" 2>&1 \
    || { tail -20 "$T/prev-build.log"; die "cannot build the previous version ${prev:0:12}"; }
fi
NEW="$QW_BIN"
[ -x "$QW_ASAN_BIN" ] && NEW="$QW_ASAN_BIN"
WH="$T/wh"
run() { # BIN SET: replay --persist of the real capture with that feature set
  "$1" replay --persist --warehouse "$WH" --features "$2" --samples "$T/$2.csv" --summary "$T/$2.json" \
    --no-progress --log-level info "$REAL" > /dev/null 2> "$T/$2.log" || { tail -5 "$T/$2.log"; die "replay --features $2 ($1)"; }
}
meta() { ls "$WH/quotewatch/features/metadata/"*.metadata.json | sort | tail -1; }

# 1. the previous version: schema 0, 14 columns
run "$OLD" seed
"$PY" - "$(meta)" <<'PY' || die "the previous version's table"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["current-schema-id"] == 0 and m["last-column-id"] == 14, (m["current-schema-id"], m["last-column-id"])
assert [f["id"] for f in m["schemas"][0]["fields"]] == list(range(1, 15))
PY
cp "$(meta)" "$T/schema0.json"

# 1b. `lake compact` by this version of a never-evolved lake (a lake of its
# own: two runs of the previous version, two files per partition; a copy of
# $WH would still name $WH's files) evolves the schema first, so its new
# files hold no field id the schema lacks; rows kept
for i in 1 2; do
  "$OLD" replay --persist --warehouse "$T/wh0" --features seed --no-progress "$REAL" >/dev/null 2>&1 \
    || die "replay $i of the previous version into a second lake"
done
"$NEW" lake scan features --limit 0 --warehouse "$T/wh0" | sort >"$T/c0-before.txt"
"$NEW" lake compact --table features --warehouse "$T/wh0" --log-level info >"$T/c0.log" 2>&1 \
  || { tail "$T/c0.log"; die "lake compact of the previous version's lake"; }
grep -q 'quotewatch.features: schema evolved (0 type promotions, 8 added fields)' "$T/c0.log" \
  || { cat "$T/c0.log"; die "compact did not evolve the old table's schema"; }
# (the evolved table shows its 8 new columns as null: compared without them)
"$NEW" lake scan features --limit 0 --warehouse "$T/wh0" | sed 's/,"microprice_bps":null.*"spread_ticks":null}/}/' \
  | sort >"$T/c0-after.txt"
cmp -s "$T/c0-before.txt" "$T/c0-after.txt" || { diff "$T/c0-before.txt" "$T/c0-after.txt" | head -4; die "compact of the old lake changed rows"; }
"$PY" - "$(ls "$T/wh0/quotewatch/features/metadata/"*.metadata.json | sort | tail -1)" <<'PY' || die "compacted old lake's schema"
import json, sys
m = json.load(open(sys.argv[1]))
cur = next(s for s in m["schemas"] if s["schema-id"] == m["current-schema-id"])
assert [f["id"] for f in cur["fields"]] == list(range(1, 23)), [f["id"] for f in cur["fields"]]
assert m["snapshots"][-1]["summary"]["operation"] == "replace", m["snapshots"][-1]["summary"]
PY
echo "compact of the previous version's lake: schema evolved first, rows identical"

# 2. this version, rich: evolved in place, once
run "$NEW" rich
grep -q 'quotewatch.features: schema evolved (0 type promotions, 8 added fields)' "$T/rich.log" \
  || { grep -i schema "$T/rich.log"; die "features table not evolved"; }
[ "$(grep -c 'schema evolved' "$T/rich.log")" = 1 ] || die "only the features table changes"
# 3. book: nothing more to evolve
run "$QW_BIN" book
grep -q 'schema evolved' "$T/book.log" && die "the evolved table was evolved again"
"$PY" - "$(meta)" "$T/schema0.json" <<'PY' || die "evolved metadata"
import json, sys
m, old = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
names = ["microprice_bps", "ofi", "depth_imb_1", "depth_imb_5", "trade_imb", "ret_1s_bps",
         "since_trade_s", "spread_ticks"]
assert m["current-schema-id"] == 1 and m["last-column-id"] == 22
s0, s1 = m["schemas"]
assert s0 == old["schemas"][0], "schema 0 changed"
f0, f1 = s0["fields"], s1["fields"]
assert s1["schema-id"] == 1 and f1[:14] == f0, "existing fields changed (ids, names, types, required)"
assert [(f["id"], f["name"], f["type"], f["required"]) for f in f1[14:]] == \
       [(15 + i, n, "double", False) for i, n in enumerate(names)], f1[14:]
by_schema = {}
for s in m["snapshots"]:
    by_schema.setdefault(s["schema-id"], 0)
    by_schema[s["schema-id"]] += 1
assert set(by_schema) == {0, 1}, by_schema  # the old run's snapshots keep schema 0
print(f"features: schema 0 (14 fields) -> schema 1 (22 fields); snapshots per schema {by_schema}")
PY
"$QW_BIN" lake tables --warehouse "$WH" | grep -Eq '^features .* columns 22 +schema 1 ' || die "lake tables: $("$QW_BIN" lake tables --warehouse "$WH")"

# every row through three readers
"$QW_BIN" lake scan features --limit 0 --warehouse "$WH" > "$T/scan.ndjson" || die "lake scan"
(cd "$JS" && node features_table.mjs "$WH" "$T") || die "DuckDB / icebird"
"$PY" - "$T" <<'PY' || die "rows"
import csv, json, sys
from collections import Counter, defaultdict
T = sys.argv[1]
NAMES = ["spread_bps", "imbalance", "depth", "volatility", "microprice_bps", "ofi", "depth_imb_1",
         "depth_imb_5", "trade_imb", "ret_1s_bps", "since_trade_s", "spread_ticks"]
KEY = ["run_id", "product_id", "exchange_ns", "n_learned", "p", "mid", "stability"] + NAMES
def load(name):
    out = []
    for line in open(f"{T}/{name}"):
        d = json.loads(line)
        out.append(tuple(None if d.get(k) is None else str(d[k]) if k in ("exchange_ns", "n_learned")
                         else d[k] if isinstance(d[k], str) else float(d[k]) for k in KEY))
    return out
scan, duck, ice = load("scan.ndjson"), load("duckdb.ndjson"), load("icebird.ndjson")
assert Counter(scan) == Counter(duck), "lake scan and DuckDB differ"
assert Counter(scan) == Counter(ice), "lake scan and icebird differ"
# the runs, by their null pattern
runs = defaultdict(list)
for r in scan:
    runs[r[0]].append(r)
ext = lambda r: tuple(v is None for v in r[len(KEY) - 8:])
pattern = {"seed": (True,) * 8, "rich": (False,) * 8,
           "book": (False, False, False, False, True, True, True, False)}
which = {}
for rid, rows in runs.items():
    pats = set(ext(r) for r in rows)
    assert len(pats) == 1, f"run {rid}: mixed null patterns {pats}"
    pat = next(iter(pats))
    name = [k for k, v in pattern.items() if v == pat]
    assert name, f"run {rid}: null pattern {pat} is no configured set's"
    which[name[0]] = rows
assert sorted(which) == ["book", "rich", "seed"], sorted(which)
for s, rows in which.items():
    n = json.load(open(f"{T}/{s}.json"))["persistence"]["rows_written"]["features"]
    assert len(rows) == n, f"{s}: {len(rows)} rows read, {n} written"
    # every sample the pipeline labeled is a row with the same feature values, exactly
    idx = defaultdict(list)
    for r in rows:
        idx[(r[1], r[2], r[3])].append(r)
    with open(f"{T}/{s}.csv", newline="") as f:
        rd = csv.DictReader(f)
        cols = [c for c in rd.fieldnames if c in NAMES]
        k = 0
        for row in rd:
            cand = idx.get((row["product"], row["t_ns"], row["n_learned"]), [])
            want = [float(row[c]) for c in cols]
            assert any([r[KEY.index(c)] for c in cols] == want for r in cand), \
                f"{s}: sample {row['product']} {row['t_ns']} has no equal row ({len(cand)} with its key)"
            k += 1
    print(f"{s}: {len(rows)} rows, {k} samples x {len(cols)} features equal, "
          f"{sum(ext(rows[0]))} opt-in columns null")
# the rich run's rows, all of them, in writer order, for the independent reference
rich_id = which["rich"][0][0]
with open(f"{T}/rich_rows.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["product", "t_ns"] + NAMES)
    for line in open(f"{T}/duckdb.ndjson"):
        d = json.loads(line)
        if d["run_id"] == rich_id:
            w.writerow([d["product_id"], d["exchange_ns"]] + [repr(float(d[n])) for n in NAMES])
PY
"$PY" "$QW_ROOT/tests/ref/features_ref.py" "$REAL" "$T/rich_rows.csv" || die "the rich rows differ from the reference"
# negative control: one opt-in value off by 1e-6 relative must be caught
"$PY" - "$T/rich_rows.csv" <<'PY'
import sys
p = sys.argv[1]; lines = open(p).read().split("\n"); f = lines[500].split(",")
f[9] = repr(float(f[9]) * (1 + 1e-6) + 1e-6); lines[500] = ",".join(f); open(p, "w").write("\n".join(lines))
PY
"$PY" "$QW_ROOT/tests/ref/features_ref.py" "$REAL" "$T/rich_rows.csv" > "$T/neg.txt" 2>&1 \
  && die "the reference accepted a changed value"

# lake compact carries the new columns: rows identical, fewer files
files() { "$QW_BIN" lake tables --warehouse "$WH" | awk '$1 == "features" {print $7}'; }
before=$(files)
sort "$T/scan.ndjson" > "$T/before.txt"
"$QW_BIN" lake compact --table features --warehouse "$WH" > "$T/compact.log" 2>&1 || { tail "$T/compact.log"; die "lake compact"; }
"$QW_BIN" lake scan features --limit 0 --warehouse "$WH" | sort > "$T/after.txt"
after=$(files)
[ "$after" -lt "$before" ] || die "compact rewrote nothing ($before -> $after files)"
cmp -s "$T/before.txt" "$T/after.txt" || { diff "$T/before.txt" "$T/after.txt" | head -4; die "compact changed rows"; }
echo "features table: ok (compact $before -> $after files, rows identical)"
