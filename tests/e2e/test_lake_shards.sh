#!/usr/bin/env bash
# Product shards on one bucket: one synthetic sim serving 9 products, one
# PostgreSQL catalog, one s3:// warehouse (loopback S3 server, SigV4
# verified) and three `live --persist --shard i/3` writers. Shard 1 is
# killed with -9 mid-run and restarted while the others keep committing:
# committed rows only grow, nothing is duplicated by (product, sequence)
# or trade id, every product is written by exactly one shard (its run_id
# says which), none is missing, and each product's `replay --lake
# --products P` books equal its shard's live books. Also: /api/state,
# /metrics and the summary name the shard; N>1 with a local lake exits 2.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
source "$(dirname "$0")/s3lib.sh"
source "$(dirname "$0")/pglib.sh"
[ -x /usr/lib/postgresql/15/bin/initdb ] || skip_test "PostgreSQL 15 is not installed"
s3_start b
pg_start
trap 'cleanup_live; s3_stop; pg_stop' EXIT
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL="$S3_ENDPOINT"
export ICEBERG_WAREHOUSE=s3://b/wh ICEBERG_CATALOG_URI="$PG_URI"
unset AWS_SESSION_TOKEN QW_ALLOW_LOCAL_CATALOG QW_SHARD || true
# FNV-1a 64 mod 3: shard 0 BTC SOL ADA, shard 1 ETH DOGE XRP, shard 2 LINK UNI ATOM
PRODS=BTC-USD,ETH-USD,SOL-USD,ADA-USD,DOGE-USD,XRP-USD,LINK-USD,UNI-USD,ATOM-USD

# a shard of several machines cannot use a local lake: exit 2, one line
rc=0; "$QW_BIN" live --products "$PRODS" --shard 1/3 --persist --warehouse "$T/local" \
  2>"$T/refuse.err" >/dev/null || rc=$?
[ "$rc" = 2 ] && grep -q "one PostgreSQL catalog" "$T/refuse.err" || { cat "$T/refuse.err"; die "local lake with 3 shards: rc $rc"; }

sport=$(free_port)
start_sim sim --port "$sport" --synthetic --feed advanced --products "$PRODS" --levels 60 --speed 4x --seed 7
wait_port "$sport"
declare -A LP HP
shard() { # i name : start shard i of 3 (status $T/name.status, summary $T/name.json)
  HP[$2]=$(free_port)
  start_live "$2" --products "$PRODS" --shard "$1/3" --url "ws://127.0.0.1:$sport" --persist \
    --flush-ms 400 --close-timeout 40 --backoff-max 0.5 --port "${HP[$2]}" --summary "$T/$2.json"
  LP[$2]=$LIVE_PID
}
commits() { jq_py "$T/$1.status" 'd["live"]["persistence"]["commits"]'; }
lake_rows() { "$QW_BIN" lake tables 2>/dev/null | awk '/^raw_(orderbook|trades)/{printf "%s ", $5}'; }
shard 0 s0; shard 1 s1
LIVE_BIN=$QW_ASAN_BIN shard 2 s2 # one shard under ASan+UBSan (leaks checked at exit)
for s in s0 s1 s2; do
  wait_status "$T/$s.status" 'd["live"]["persistence"]["commits"] >= 3 and all(p["valid"] for p in d["products"].values())' 60
done
# the shard in the status file, /api/state and /metrics
"$PY" - "$T/s1.status" <<'PY' || die "status file: shard"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["live"]["shard"] == {"index": 1, "count": 3, "products": ["ETH-USD", "DOGE-USD", "XRP-USD"]}, d["live"]["shard"]
assert sorted(d["products"]) == ["DOGE-USD", "ETH-USD", "XRP-USD"], sorted(d["products"])
PY
curl -sf "http://127.0.0.1:${HP[s2]}/api/state" >"$T/state.json" || die "/api/state"
jq_py "$T/state.json" 'd["shard"]' | grep -q "'index': 2, 'count': 3, 'products': \['LINK-USD', 'UNI-USD', 'ATOM-USD'\]" \
  || die "/api/state shard: $(jq_py "$T/state.json" 'd.get("shard")')"
curl -sf "http://127.0.0.1:${HP[s2]}/metrics" >"$T/m.txt" || die "/metrics"
grep -q '^quotewatch_shard_index 2$' "$T/m.txt" && grep -q '^quotewatch_shard_count 3$' "$T/m.txt" \
  || die "/metrics lacks the shard gauges"
"$PY" tests/ref/prom_check.py "$T/m.txt" || die "/metrics is not strict Prometheus text"

# kill -9 shard 1 mid-run: committed rows only grow, the others keep committing
before=$(lake_rows)
c0=$(commits s0); c2=$(commits s2)
kill -9 "${LP[s1]}"; wait "${LP[s1]}" 2>/dev/null || true
sleep 1
mid=$(lake_rows)
wait_status "$T/s0.status" "d['live']['persistence']['commits'] >= $c0 + 3" 40
wait_status "$T/s2.status" "d['live']['persistence']['commits'] >= $c2 + 3" 40
shard 1 s1b
wait_status "$T/s1b.status" 'd["live"]["persistence"]["commits"] >= 3 and all(p["valid"] for p in d["products"].values())' 60
after=$(lake_rows)
"$PY" - "$before" "$mid" "$after" <<'PY' || die "committed rows shrank: $before -> $mid -> $after"
import sys
a, b, c = ([int(x) for x in s.split()] for s in sys.argv[1:4])
assert len(a) == len(b) == len(c) == 2 and all(x <= y <= z for x, y, z in zip(a, b, c)) and c[0] > b[0], (a, b, c)
PY
sleep 2
for s in s0 s2 s1b; do stop_and_wait "${LP[$s]}" TERM || die "$s exit code"; done

# every product in exactly one shard's summary; no rows given up
"$PY" - "$PRODS" "$T"/s0.json "$T"/s1b.json "$T"/s2.json <<'PY' || die "shard summaries"
import json, sys
want = set(sys.argv[1].split(",")); seen = {}
conflicts = 0
for i, f in enumerate(sys.argv[2:]):
    d = json.load(open(f)); sh = d["live"]["shard"]; p = d["live"]["persistence"]
    assert sh["count"] == 3 and sorted(sh["products"]) == sorted(d["products"]), sh
    assert p["errors"] == 0 and p["rows_given_up"] == 0 and p["dropped"] == 0, p
    conflicts += p["commit_conflicts"]
    for x in sh["products"]:
        assert x not in seen, (x, "in two shards")
        seen[x] = sh["index"]
assert set(seen) == want, (sorted(seen), sorted(want))
print("3 shards cover the 9 products once; commit conflicts retried:", conflicts)
PY

# the lake: each product written by its own shard only, none missing, no duplicates
"$QW_BIN" lake scan raw_orderbook --limit 0 >"$T/ob.ndjson" 2>"$T/scan.log" || { cat "$T/scan.log"; die "lake scan raw_orderbook"; }
"$QW_BIN" lake scan raw_trades --limit 0 >"$T/tr.ndjson" 2>>"$T/scan.log" || { cat "$T/scan.log"; die "lake scan raw_trades"; }
"$PY" - "$PRODS" "$T/ob.ndjson" "$T/tr.ndjson" <<'PY' || die "lake rows"
import json, sys, collections
def shard(p):
    h = 0xcbf29ce484222325
    for b in p.encode(): h = ((h ^ b) * 0x100000001b3) % 2**64
    return h % 3
want = set(sys.argv[1].split(","))
# Advanced sequence numbers count per connection: a message is (run, product,
# sequence); across runs of a product the update messages' feed times must not
# overlap (a restarted shard starts after what the killed one committed)
runs = collections.defaultdict(set); msgs = collections.defaultdict(set); trades = collections.Counter()
span = {}
bad = 0
for line in open(sys.argv[2]):
    r = json.loads(line)
    if r["product_id"] == "*": continue
    runs[r["product_id"]].add(r["run_id"])
    if not r["is_snapshot"]:
        msgs[(r["run_id"], r["product_id"], r["sequence"])].add(r["msg_id"])
        k = (r["product_id"], r["run_id"]); t = r["msg_ns"]
        lo, hi = span.get(k, (t, t)); span[k] = (min(lo, t), max(hi, t))
for line in open(sys.argv[3]):
    r = json.loads(line)
    if not r["is_snapshot"]:
        trades[(r["product_id"], r["trade_id"])] += 1
if set(runs) != want: print("products in the lake:", sorted(runs)); bad += 1
for p, rs in sorted(runs.items()):
    tags = {r.rsplit("-", 1)[1] for r in rs}
    if tags != {"s%dof3" % shard(p)}: print(p, "written by", tags); bad += 1
    sp = sorted(span[(p, r)] for r in rs)
    if any(a[1] >= b[0] for a, b in zip(sp, sp[1:])): print(p, "runs overlap in feed time:", sp); bad += 1
nruns = {p: len(rs) for p, rs in runs.items()}
if sorted(nruns.values()) != [1] * 6 + [2] * 3: print("runs per product", nruns); bad += 1
dup = [(k, sorted(v)) for k, v in msgs.items() if len(v) > 1][:5]
if dup: print("(run, product, sequence) stored as two messages:", dup); bad += 1
dupt = [k for k, n in trades.items() if n > 1][:5]
if dupt: print("duplicate trade ids:", dupt); bad += 1
print("lake:", len(msgs), "update messages,", sum(trades.values()), "trades; runs per product", nruns)
sys.exit(1 if bad else 0)
PY

# per product: replay --lake --products P equals its shard's live books
for s in s0 s1b s2; do
  for p in $(jq_py "$T/$s.json" '" ".join(d["live"]["shard"]["products"])'); do
    "$QW_BIN" replay --lake --products "$p" --summary "$T/lake-$p.json" 2>"$T/lake-$p.log" \
      || { tail -3 "$T/lake-$p.log"; die "replay --lake --products $p"; }
    "$PY" - "$T/$s.json" "$T/lake-$p.json" "$p" <<'PY' || die "$p: lake books differ from shard $s's live books"
import json, sys
a, b, p = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
assert list(b["products"]) == [p], list(b["products"])
for k in ("book_digest", "bid_levels", "ask_levels"):
    assert a["products"][p][k] == b["products"][p][k], (k, a["products"][p][k], b["products"][p][k])
PY
  done
done
! grep -q "S3RVER:S3RVER" "$T"/*.log || die "a secret reached a log"
echo "lake shards: ok"
