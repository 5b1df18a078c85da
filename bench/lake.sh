#!/usr/bin/env bash
# Lake benchmark (part of make bench): convert a large synthetic capture
# into the lake with replay --persist (ZSTD), report raw_orderbook rows/s,
# MB/s of input, compression vs the NDJSON, and commit latency for SQLite
# and PostgreSQL. Usage: bench/lake.sh [MESSAGES]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-400000}
out=build/bench; mkdir -p "$out"
f="$out/lake-feed-$N.ndjson"
[ -s "$f" ] || build/gen_feed --feed exchange --products BTC-USD,ETH-USD --levels 50000 --messages "$N" --seed 9 --out "$f"
bytes=$(stat -c %s "$f")
rm -rf "$out/lake-wh"
# parse + pipeline only, for the ratio
t0=$(date +%s.%N); build/quotewatch replay --log-level warn --no-progress "$f"; t1=$(date +%s.%N)
# the same with persistence
build/quotewatch replay --persist --warehouse "$out/lake-wh" --log-level warn --no-progress "$f" --summary "$out/lake-sum.json"
t2=$(date +%s.%N)
/usr/bin/python3 - "$out/lake-sum.json" "$bytes" "$t0" "$t1" "$t2" "$out/lake-wh" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1])); p = d["persistence"]; nbytes = int(sys.argv[2])
t0, t1, t2 = map(float, sys.argv[3:6])
rows = p["rows_written"]["raw_orderbook"]; allrows = sum(p["rows_written"].values())
wall = t2 - t1; base = t1 - t0
print(f"input {nbytes/1e6:.0f} MB NDJSON, {d['messages']} messages")
print(f"replay --persist: {wall:.2f} s wall (replay alone {base:.2f} s): {rows/wall/1e6:.2f} M raw_orderbook rows/s, "
      f"{allrows/wall/1e6:.2f} M rows/s all tables, {nbytes/wall/1e6:.0f} MB/s of input")
cpu = p.get("writer_cpu_s", 0)
if cpu:
    print(f"writer thread: {cpu:.2f} CPU-s: {rows/cpu/1e6:.2f} M raw_orderbook rows per CPU-second "
          f"({allrows/cpu/1e6:.2f} M rows of all tables); committer thread {p.get('commit_cpu_s', 0):.2f} CPU-s "
          f"(fsyncs, manifests, metadata, catalog)")
print(f"lake: {p['files']} files, {p['bytes']/1e6:.1f} MB, {p['commits']} commits; "
      f"compression vs NDJSON {nbytes/p['bytes']:.1f}x")
PY
