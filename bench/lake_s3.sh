#!/usr/bin/env bash
# Object-store lake benchmark (part of make bench; S3=0 skips it): the same
# synthetic capture through `replay --persist` into file:// and into s3://
# (the loopback S3 server of the tests, SigV4 verified) with a PostgreSQL
# catalog for both, back to back in one run; then `replay --lake` from each.
# Reports raw_orderbook rows/s, flush->commit and committer averages, and
# the lake replay rates. Usage: bench/lake_s3.sh [MESSAGES]
source "$(dirname "$0")/../tests/e2e/lib.sh"
source "$QW_ROOT/tests/e2e/s3lib.sh"
source "$QW_ROOT/tests/e2e/pglib.sh"
N=${1:-200000}
out="$QW_ROOT/build/bench"; mkdir -p "$out"
f="$out/lake-s3-feed-$N.ndjson"
[ -s "$f" ] || "$QW_ROOT/build/gen_feed" --feed exchange --products BTC-USD,ETH-USD --levels 50000 \
  --messages "$N" --seed 9 --out "$f" >/dev/null
s3_start b
pg_start
trap 's3_stop; pg_stop; rm -rf "$T"' EXIT
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL="$S3_ENDPOINT"
psql -h 127.0.0.1 -p "$PG_PORT" -U qw -d postgres -qc 'CREATE DATABASE s3' >/dev/null
now() { date +%s.%N; }
run() { # NAME WAREHOUSE CATALOG
  local t0 t1 t2
  t0=$(now)
  "$QW_BIN" replay --persist --warehouse "$2" --catalog-uri "$3" --log-level warn --no-progress \
    --summary "$T/$1.json" "$f"
  t1=$(now)
  "$QW_BIN" replay --lake --warehouse "$2" --catalog-uri "$3" --log-level warn --no-progress \
    --summary "$T/$1-lake.json"
  t2=$(now)
  echo "$1 $t0 $t1 $t2" >>"$T/times"
}
run file "file://$T/wh" "$PG_URI"
run s3 "s3://b/wh" "postgresql://qw@127.0.0.1:$PG_PORT/s3"
"$PY" - "$T" "$(stat -c %s "$f")" <<'PY' | tee "$out/lake-s3.txt"
import json, sys
d, nbytes = sys.argv[1], int(sys.argv[2])
rate = {}
for line in open(d + "/times"):
    name, t0, t1, t2 = line.split(); t0, t1, t2 = float(t0), float(t1), float(t2)
    s = json.load(open(f"{d}/{name}.json")); p = s["persistence"]
    lk = json.load(open(f"{d}/{name}-lake.json"))
    rows = p["rows_written"]["raw_orderbook"]
    rate[name] = rows / (t1 - t0)
    os_ = p.get("objstore")
    print(f"{name:4}: replay --persist {t1 - t0:6.2f} s: {rows / (t1 - t0) / 1e6:.2f} M raw_orderbook rows/s "
          f"({rows} rows, {p['files']} files, {p['bytes'] / 1e6:.1f} MB, {p['commits']} commits); "
          f"flush->commit avg {p['flush_commit_ms_avg']:.1f} ms, committer avg {p['commit_ms_avg']:.1f} ms"
          + (f"; {os_['requests']} requests, {os_['retries']} retries" if os_ else ""))
    print(f"      replay --lake {t2 - t1:6.2f} s: {lk['messages'] / (t2 - t1) / 1e6:.2f} M messages/s "
          f"({lk['messages']} messages)")
print(f"s3:// / file:// persist rate: {rate['s3'] / rate['file']:.2f}")
PY
