#!/usr/bin/env bash
# The streamed lake reader's order (lake_read.c DESIGN) against a reference
# sort: three runs of three products written out of time order (the second
# capture first, as a restart would) in many small files, each run opening
# with an Exchange snapshot (snapshot trades reach back before the run).
# `replay --lake --persist` (ASan build) writes the messages it streams as
# a fourth run into the same lake; that run's messages, in msg_id order,
# must equal the first three runs' rows sorted by (run's first exchange
# time, msg_id) in Python, message by message and level row for level row
# (trade rows count in the runs' first times; the writer drops trades it
# already stored, so they are not compared).
source "$(dirname "$0")/lib.sh"
WH="$T/wh"
for s in 1 2 3; do
  "$QW_ROOT/build/gen_feed" --products A-USD,B-USD,C-USD --levels 40 --messages 1500 --seed "$s" \
    --start "2026-01-02T00:0$s:00Z" --out "$T/f$s.ndjson" >/dev/null
done
for s in 2 1 3; do
  "$QW_BIN" replay --persist --warehouse "$WH" --flush-rows 250 --no-progress "$T/f$s.ndjson" \
    2>"$T/p$s.log" || { cat "$T/p$s.log"; die "replay --persist f$s"; }
done
scan() { "$QW_BIN" lake scan "$1" --warehouse "$WH" --limit 0 >"$T/$2.ndjson" 2>"$T/$2.err" || { cat "$T/$2.err"; die "lake scan $1"; }; }
scan raw_orderbook ob1; scan raw_trades tr1
nfiles=$(find "$WH" -name '*.parquet' | wc -l)
[ "$nfiles" -ge 30 ] || die "only $nfiles data files: the merge needs many"
"$QW_ASAN_BIN" replay --lake --persist --warehouse "$WH" --flush-rows 250 --no-progress \
  --summary "$T/lake.json" 2>"$T/lake.log" || { tail -20 "$T/lake.log"; die "replay --lake --persist"; }
grep -q '3 run(s)' "$T/lake.log" || die "the lake replay did not read 3 runs: $(grep 'run(s)' "$T/lake.log")"
scan raw_orderbook ob2; scan raw_trades tr2
"$PY" - "$T" <<'PY' || die "streamed order differs from the reference sort"
import collections, json, sys
t = sys.argv[1]
def rows(name):
    return [json.loads(l) for l in open(f"{t}/{name}.ndjson")]
def key(r):  # one row, as the message carries it
    if "trade_id" in r:
        return ("T", r["product_id"], r["trade_id"], r["price"], r["size"], r["aggressor_side"], r["exchange_ns"], r["is_snapshot"])
    return ("L", r["product_id"], r["side"], r["price"], r["size"], r["exchange_ns"], r["is_snapshot"])
old = rows("ob1") + rows("tr1")
runs = sorted({r["run_id"] for r in old})
assert len(runs) == 3, runs
new = [r for r in rows("ob2") + rows("tr2") if r["run_id"] not in runs]
assert {r["run_id"] for r in new} and len({r["run_id"] for r in new}) == 1
# each run's first time: msg_ns (levels) or exchange_ns, snapshot trades
# only for a run with nothing else
first = {}
for snap_pass in (False, True):
    for r in old:
        t_ = r.get("msg_ns") or r["exchange_ns"] or 0
        is_st = "trade_id" in r and r["is_snapshot"]
        if t_ > 0 and is_st == snap_pass and (not snap_pass or r["run_id"] not in first or first[r["run_id"]][1]):
            if r["run_id"] not in first or (first[r["run_id"]][1] == snap_pass and t_ < first[r["run_id"]][0]) or (first[r["run_id"]][1] and not snap_pass):
                first[r["run_id"]] = (t_, snap_pass)
order = sorted(runs, key=lambda x: first[x][0])
assert len({first[x][0] for x in runs}) == 3, first
def messages(rs, runorder):
    m = collections.defaultdict(list)
    for r in rs:
        if r.get("side") in ("connect", "gap"):
            continue  # markers: the fourth run writes its own
        if "trade_id" in r:
            continue  # the writer drops trades it deems repeats: levels carry the order
        m[(runorder.index(r["run_id"]), r["msg_id"])].append(key(r))
    out, seen = [], set()
    for k in sorted(m):  # the writer stores a trade id once (docs/STORAGE.md): so does the reference
        rows_ = [x for x in sorted(m[k]) if x[0] != "T" or (x[1], x[2]) not in seen]
        seen.update((x[1], x[2]) for x in rows_ if x[0] == "T")
        if rows_:
            out.append(rows_)
    return out
ref = messages(old, order)
got = messages(new, [new[0]["run_id"]])
n = min(len(ref), len(got))
bad = [i for i in range(n) if ref[i] != got[i]]
if len(ref) != len(got) or bad:
    print("messages", len(ref), len(got), "first difference at", bad[:1], file=sys.stderr)
    if bad:
        print(ref[bad[0]][:3], got[bad[0]][:3], file=sys.stderr)
    sys.exit(1)
print(f"{len(ref)} messages of {len(old)} rows in the reference order, runs {[first[x][0] for x in order]}")
PY
echo "ok: streamed order equals the reference sort ($nfiles files)"
