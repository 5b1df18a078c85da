#!/usr/bin/env bash
# The object store misbehaves under a live writer: a fault proxy
# (s3_fault_proxy.py) between `quotewatch live --persist` and the loopback
# S3 server (SigV4 verified; PostgreSQL catalog) drops connections, answers
# 500 and 503 SlowDown, stalls and truncates bodies, then goes down for a
# while. Ingest keeps running with valid books, the failures are counted
# (persistence errors, objstore retries in the status JSON and /metrics),
# nothing is dropped, and after recovery every row is committed: the lake
# replays to the live run's books. Then kill -9 of a writer uploading
# through faults, three times: the lake stays readable, committed rows only
# grow, and no row of a run is committed twice.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
source "$(dirname "$0")/s3lib.sh"
source "$(dirname "$0")/pglib.sh"
[ -x /usr/lib/postgresql/15/bin/initdb ] || skip_test "PostgreSQL 15 is not installed"
s3_start b
pg_start
CTL="$T/fault"; echo ok >"$CTL"
"$PY" "$QW_ROOT/tests/e2e/s3_fault_proxy.py" "${S3_ENDPOINT##*:}" "$CTL" >"$T/proxy.out" 2>"$T/proxy.log" &
PROXY_PID=$!
trap 'kill $PROXY_PID 2>/dev/null; s3_stop; pg_stop; cleanup_live' EXIT
for i in $(seq 50); do grep -q '^ready ' "$T/proxy.out" && break; sleep 0.1; done
PROXY="http://127.0.0.1:$(awk '/^ready /{print $2}' "$T/proxy.out")"
[ "$PROXY" != "http://127.0.0.1:" ] || die "fault proxy did not start"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL="$PROXY"
export ICEBERG_CATALOG_URI="$PG_URI" ICEBERG_WAREHOUSE=s3://b/wh
unset AWS_SESSION_TOKEN QW_ALLOW_LOCAL_CATALOG || true
fault() { echo "$1" >"$CTL"; }
# an object outside every table, for the listing checks at the end
leak=wh/elsewhere/keep.parquet
curl -sf -o /dev/null --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER -X PUT --data-binary PAR1 \
  -H "x-amz-content-sha256: $(printf PAR1 | sha256sum | cut -d' ' -f1)" "$S3_ENDPOINT/b/$leak" \
  || die "curl PUT of $leak"

port=$(free_port); hport=$(free_port)
start_sim sim --port "$port" --synthetic --feed advanced --products BTC-USD,ETH-USD,SOL-USD --levels 300 --speed 5x
wait_port "$port"
start_live live --products BTC-USD,ETH-USD,SOL-USD --url "ws://127.0.0.1:$port" --persist --flush-ms 300 \
  --port "$hport" --bind 127.0.0.1 --summary "$T/live.json"
wait_status "$T/live.status" 'd["live"]["persistence"]["commits"] >= 3' 40
st() { jq_py "$T/live.status" "$1"; }
# transient faults, each until the proxy has injected it and the client has
# retried (counted); commits go on
for f in mix:0.5 503 500; do
  r0=$(st 'd["live"]["persistence"]["objstore"]["retries"]')
  fault "$f"
  wait_status "$T/live.status" "d['live']['persistence']['objstore']['retries'] > $r0" 60
  echo "fault $f: retries counted"
done
# truncated bodies: the writer reads back only what it wrote (from its own
# copy, objstore/s3_cache.c), so a reader meets them: every answer cut in
# half, the scan fails with a clear error after its bounded retries (never
# takes half an object for data), then works once the store answers whole
fault truncate
set +e
"$QW_BIN" lake scan raw_orderbook --limit 1 >"$T/trunc.out" 2>"$T/trunc.err"
rc=$?
set -e
[ "$rc" != 0 ] || die "a scan through truncated bodies succeeded"
grep -qiE 'truncat|short|incomplete|partial|transfer|body' "$T/trunc.err" || { cat "$T/trunc.err"; die "no clear error for truncated bodies"; }
fault ok
"$QW_BIN" lake scan raw_orderbook --limit 1 >"$T/trunc.out" 2>"$T/trunc.err" || { cat "$T/trunc.err"; die "scan after the truncation"; }
[ -s "$T/trunc.out" ] || die "scan after the truncation gave no row"
echo "fault truncate: a reader fails clearly, then reads"
fault stall:2
wait_status "$CTL.stats" 'd["stall"] >= 2' 30
# an outage: every connection is dropped for longer than the retry budget of
# a request; the flush fails (counted), ingest carries on, rows wait
e0=$(st 'd["live"]["persistence"]["errors"]')
m0=$(st 'd["live"]["messages"]')
fault down
wait_status "$T/live.status" "d['live']['persistence']['errors'] > $e0" 90
wait_status "$T/live.status" "d['live']['messages'] > $m0 + 300 and all(p['valid'] for p in d['products'].values())" 20
c0=$(st 'd["live"]["persistence"]["commits"]')
fault ok
wait_status "$T/live.status" "d['live']['persistence']['commits'] > $c0 + 2" 90
curl -sf "http://127.0.0.1:$hport/metrics" >"$T/metrics.txt" || die "/metrics"
grep -qE '^quotewatch_objstore_retries_total [1-9]' "$T/metrics.txt" || die "no objstore retries in /metrics"
grep -qE '^quotewatch_objstore_requests_total [1-9]' "$T/metrics.txt" || die "no objstore requests in /metrics"
"$PY" "$QW_ROOT/tests/ref/prom_check.py" "$T/metrics.txt" || die "/metrics is not strict Prometheus text"
sleep 1
stop_and_wait "$LIVE_PID" TERM || die "live exited non-zero"
stop_and_wait "$SIM_PID" TERM || true
"$PY" - "$T/live.json" "$CTL.stats" <<'PY' || die "persistence counters"
import json, sys
p = json.load(open(sys.argv[1]))["live"]["persistence"]
px = json.load(open(sys.argv[2]))
print("persistence:", {k: p[k] for k in ("commits", "errors", "dropped", "queued", "rows_given_up")},
      "objstore:", p["objstore"], "proxy:", px)
assert p["errors"] >= 1 and p["dropped"] == 0 and p["queued"] == 0 and p["rows_given_up"] == 0, p
o = p["objstore"]
assert o["retries"] >= 3 and o["requests"] > o["retries"] and o["bytes_up"] > 0, o
assert all(px[k] > 0 for k in ("down", "500", "503", "truncate", "stall", "forwarded")), px
PY
AWS_ENDPOINT_URL="$S3_ENDPOINT" lake_equals_live "$T/live.json"

# kill -9 while uploading through faults: readable, only growing, no row twice
# (a catalog database of its own: the live run's tables live in "qw")
psql -h 127.0.0.1 -p "$PG_PORT" -U qw -d postgres -qc 'CREATE DATABASE crash' >/dev/null || die "createdb crash"
export ICEBERG_WAREHOUSE=s3://b/crash ICEBERG_CATALOG_URI="postgresql://qw@127.0.0.1:$PG_PORT/crash"
"$QW_ROOT/build/gen_feed" --feed advanced --products BTC-USD,ETH-USD --levels 500 --messages 40000 \
  --seed 5 --out "$T/feed.ndjson" >/dev/null
# the reference: the same feed into a file:// lake without faults (the feed
# itself repeats some changes within a message, so "twice" means more often
# than here)
env -u ICEBERG_CATALOG_URI "$QW_BIN" replay --persist --flush-rows 3000 --warehouse "$T/ref" \
  "$T/feed.ndjson" 2>/dev/null || die "reference replay --persist"
env -u ICEBERG_CATALOG_URI "$QW_BIN" lake scan raw_orderbook --warehouse "$T/ref" --limit 0 >"$T/ref.ndjson" || die "reference scan"
fault mix:0.15
prev=0
for round in 1 2 3; do
  "$QW_BIN" replay --persist --flush-rows 3000 --flush-ms 50 --speed 10x "$T/feed.ndjson" 2>"$T/w$round.log" &
  pid=$!
  # kill once this round has committed something, at a random moment after
  for i in $(seq 100); do
    n=$(AWS_ENDPOINT_URL="$S3_ENDPOINT" "$QW_BIN" lake tables 2>/dev/null | awk '/^raw_orderbook/ {print $5}')
    [ "${n:-0}" -gt "$prev" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.3
  done
  sleep "$("$PY" -c "import random; random.seed($round); print(round(random.uniform(0.1, 0.8), 2))")"
  kill -0 "$pid" 2>/dev/null || die "round $round: the writer finished before it was killed"
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  AWS_ENDPOINT_URL="$S3_ENDPOINT" "$QW_BIN" lake tables >"$T/t$round.txt" 2>&1 \
    || { cat "$T/t$round.txt"; die "round $round: lake unreadable"; }
  rows=$(awk '/^raw_orderbook/ {print $5}' "$T/t$round.txt")
  rows=${rows:-0}
  [ "$rows" -gt "$prev" ] || die "round $round: committed rows went from $prev to $rows"
  prev=$rows
  if [ "$rows" -gt 0 ]; then
    AWS_ENDPOINT_URL="$S3_ENDPOINT" "$QW_BIN" lake scan raw_orderbook --limit 0 >"$T/s$round.ndjson" \
      || die "round $round: lake scan failed"
    "$PY" - "$T/s$round.ndjson" "$T/ref.ndjson" <<'PY' || die "round $round: a row was committed twice"
import collections, json, sys
def key(r):
    return tuple(r[k] for k in ("product_id", "exchange_ns", "side", "price", "size",
                                "is_snapshot", "sequence", "msg_id"))
ref = collections.Counter(key(json.loads(l)) for l in open(sys.argv[2]))
runs = collections.defaultdict(collections.Counter)
for l in open(sys.argv[1]):
    r = json.loads(l)
    runs[r["run_id"]][key(r)] += 1
over = sum(1 for c in runs.values() for k, n in c.items() if n > ref[k])
print(len(runs), "run(s),", sum(sum(c.values()) for c in runs.values()), "rows;", over, "committed more often than the feed has them")
sys.exit(1 if over else 0)
PY
    # raw_trades commits in parallel with raw_orderbook (store_commit.c):
    # no trade twice within a run either
    AWS_ENDPOINT_URL="$S3_ENDPOINT" "$QW_BIN" lake scan raw_trades --limit 0 >"$T/tr$round.ndjson" \
      || die "round $round: lake scan raw_trades failed"
    "$PY" - "$T/tr$round.ndjson" <<'PY' || die "round $round: a trade was committed twice"
import collections, json, sys
c = collections.Counter((r["run_id"], r["product_id"], r["trade_id"], r["is_snapshot"])
                        for r in map(json.loads, open(sys.argv[1])))
over = [k for k, n in c.items() if n > 1]
print(sum(c.values()), "trade rows;", len(over), "committed twice")
sys.exit(1 if over else 0)
PY
  fi
  echo "round $round: killed; raw_orderbook has $rows committed rows"
done
fault ok
[ "$prev" -gt 0 ] || die "nothing was committed through the faults"

# a listing that names a key outside its prefix (the object put at the
# start, old enough for clean-orphans to delete): clean-orphans deletes what
# a listing names and no table references, so it must stop with one clear
# error and the object must still be there; a listing that never advances
# (the same continuation token every page) stops at the second page
fault "listleak:$leak"
if "$QW_BIN" lake clean-orphans --older-than 0 >"$T/leak.out" 2>"$T/leak.err"; then
  cat "$T/leak.out"; die "clean-orphans ran on a listing with a key outside its prefix"
fi
grep -q "outside the prefix" "$T/leak.err" || { cat "$T/leak.err"; die "listing outside its prefix: unclear error"; }
fault ok
curl -sf -o /dev/null --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER \
  -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" "$S3_ENDPOINT/b/$leak" \
  || die "clean-orphans deleted $leak, named by a listing of another prefix"
fault listloop
t0=$SECONDS
if "$QW_BIN" lake clean-orphans --older-than 0 >"$T/loop.out" 2>"$T/loop.err"; then
  die "clean-orphans ran on a listing that never advances"
fi
fault ok
grep -q "continuation token repeats" "$T/loop.err" || { cat "$T/loop.err"; die "endless listing: unclear error"; }
(( SECONDS - t0 < 30 )) || die "an endless listing took $((SECONDS - t0)) s to stop"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["listleak"] >= 1 and d["listloop"] >= 1, d' \
  "$CTL.stats" || die "the proxy did not rewrite a listing"
echo "object-store faults: ok"
