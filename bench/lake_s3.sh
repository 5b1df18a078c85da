#!/usr/bin/env bash
# Object-store lake benchmark (part of make bench; S3=0 skips it): the same
# synthetic capture through `replay --persist` into file:// and into s3://
# (the loopback S3 server of the tests, SigV4 verified) with a PostgreSQL
# catalog for both; then `replay --lake` from each. Reports raw_orderbook
# rows/s, flush->commit and committer latencies, the lake replay rates, and
# the CPU seconds of our process and of the S3 server (node, single-threaded:
# when its CPU time is close to the wall time of a phase, the server is the
# bottleneck, not the client), and the server's floor: its CPU per request
# for 300 tiny signed GETs by curl.
# The server is warmed up first: s3rver runs on V8, whose JIT takes several
# runs to compile its request path (measured: its CPU for one persist of
# 400k messages falls 1.25 -> 1.00 -> 0.82 -> 0.75 -> 0.67 -> 0.65 s over the
# first six runs, and the wall with it). WARMUP (default 6) untimed s3://
# persists go first, printed as they run; a store on its own machine has no
# such warm-up. Then REPS (default 3) rounds of file://, s3-before (if
# BEFORE is set) and s3://, each run into its own catalog database and
# warehouse; each run's line, then the medians.
# Usage: bench/lake_s3.sh [MESSAGES]; BEFORE=/path/to/an/older/quotewatch
# adds its s3:// rows ("s3-before") to the same rounds, for before/after
# ratios; PERSIST_ARGS="--flush-rows 500000 ..." are added to every
# `replay --persist` (larger files: fewer requests per row).
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
now() { date +%s.%N; }
srv_cpu() { # the S3 server's user+system CPU seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$S3_PID/stat"
}
run() { # NAME WAREHOUSE CATALOG [BINARY]
  local bin=${4:-$QW_BIN} t0 t1 t2 c0 c1 c2
  c0=$(srv_cpu); t0=$(now)
  /usr/bin/time -f '%U %S' -o "$T/$1-$k-cpu" "$bin" replay --persist --warehouse "$2" --catalog-uri "$3" --log-level warn --no-progress \
    ${PERSIST_ARGS:-} --summary "$T/$1-$k.json" "$f"
  t1=$(now); c1=$(srv_cpu)
  /usr/bin/time -f '%U %S' -o "$T/$1-$k-lake-cpu" "$bin" replay --lake --warehouse "$2" --catalog-uri "$3" --log-level warn --no-progress \
    --summary "$T/$1-$k-lake.json"
  t2=$(now); c2=$(srv_cpu)
  echo "$1 $t0 $t1 $t2 $c0 $c1 $c2 $k" >>"$T/times"
}
k=0
db() { # a fresh catalog database for the next run: DB
  k=$((k + 1))
  psql -h 127.0.0.1 -p "$PG_PORT" -U qw -d postgres -qc "CREATE DATABASE r$k" >/dev/null
  DB="postgresql://qw@127.0.0.1:$PG_PORT/r$k"
}
for i in $(seq "${WARMUP:-6}"); do # untimed: the server's JIT (see the top)
  db; c0=$(srv_cpu); t0=$(now)
  "$QW_BIN" replay --persist --warehouse "s3://b/warm$i" --catalog-uri "$DB" --log-level warn \
    --no-progress ${PERSIST_ARGS:-} "$f"
  printf 'warm-up %d: replay --persist into s3:// %.2f s, s3 server %.2f CPU-s\n' "$i" \
    "$(echo "$(now) - $t0" | bc)" "$(echo "$(srv_cpu) - $c0" | bc)"
done
for i in $(seq "${REPS:-3}"); do
  db; run file "file://$T/wh$i" "$DB"
  [ -z "${BEFORE:-}" ] || { db; run s3-before "s3://b/whb$i" "$DB" "$BEFORE"; }
  db; run s3 "s3://b/wh$i" "$DB"
done
# the server's own floor: 300 signed GETs of a 1-byte object on one kept-alive
# connection by the curl tool (no quotewatch involved)
printf x >"$T/x"
curl -s --aws-sigv4 aws:amz:us-east-1:s3 -u S3RVER:S3RVER -T "$T/x" \
  -H "x-amz-content-sha256: $(sha256sum "$T/x" | cut -d' ' -f1)" "$S3_ENDPOINT/b/floor" >/dev/null
urls=(); for _ in $(seq 300); do urls+=(-o /dev/null "$S3_ENDPOINT/b/floor"); done
c0=$(srv_cpu); t0=$(now)
curl -s --aws-sigv4 aws:amz:us-east-1:s3 -u S3RVER:S3RVER \
  -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" "${urls[@]}"
echo "floor $t0 $(now) $c0 $(srv_cpu)" >"$T/floor"
"$PY" - "$T" "$(stat -c %s "$f")" <<'PY' | tee "$out/lake-s3.txt"
import json, statistics, sys
d, nbytes = sys.argv[1], int(sys.argv[2])
runs = {}
_, t0, t1, c0, c1 = open(d + "/floor").read().split()
print(f"s3 server floor: 300 signed 1-byte GETs (curl, one connection) in {float(t1) - float(t0):.2f} s, "
      f"{(float(c1) - float(c0)) / 300 * 1e3:.1f} ms of server CPU each")
cpu = lambda f: sum(float(x) for x in open(f).read().split()[-2:])
for line in open(d + "/times"):
    name, t0, t1, t2, c0, c1, c2, k = line.split()
    t0, t1, t2, c0, c1, c2 = (float(x) for x in (t0, t1, t2, c0, c1, c2))
    tag = f"{d}/{name}-{k}"
    qp, ql = cpu(f"{tag}-cpu"), cpu(f"{tag}-lake-cpu")
    p = json.load(open(f"{tag}.json"))["persistence"]
    lk = json.load(open(f"{tag}-lake.json"))
    rows = p["rows_written"]["raw_orderbook"]
    os_ = p.get("objstore")
    r = dict(rate=rows / (t1 - t0), lrate=lk["messages"] / (t2 - t1), ours=qp, srv=c1 - c0,
             p50=p.get("flush_commit_ms_p50", 0), p99=p.get("flush_commit_ms_p99", 0))
    runs.setdefault(name, []).append(r)
    print(f"{name:9}: replay --persist {t1 - t0:6.2f} s: {rows / (t1 - t0) / 1e6:.2f} M raw_orderbook rows/s "
          f"({rows} rows, {p['files']} files, {p['bytes'] / 1e6:.1f} MB, {p['commits']} commits); "
          f"flush->commit avg {p['flush_commit_ms_avg']:.1f} ms, committer avg {p['commit_ms_avg']:.1f} ms"
          + (f" (p50 {p['flush_commit_ms_p50']:.1f} / p99 {p['flush_commit_ms_p99']:.1f} ms; committer "
             f"p50 {p['commit_ms_p50']:.1f} / p99 {p['commit_ms_p99']:.1f} ms)" if 'commit_ms_p50' in p else "")
          + (f"; {os_['requests']} requests, {os_['retries']} retries" if os_ else ""))
    print(f"      cpu s: quotewatch {qp:.2f}" + (f", s3 server {c1 - c0:.2f}" if name != "file" else ""))
    print(f"      replay --lake {t2 - t1:6.2f} s: {lk['messages'] / (t2 - t1) / 1e6:.2f} M messages/s "
          f"({lk['messages']} messages)")
    print(f"      cpu s: quotewatch {ql:.2f}" + (f", s3 server {c2 - c1:.2f}" if name != "file" else "")
          + (f"; {lk['objstore']['requests']} requests" if lk.get('objstore') else ""))
med = lambda name, key: statistics.median(r[key] for r in runs[name])
print(f"medians of {len(runs['s3'])} runs each:")
for name in runs:
    each = ", ".join(f"{r['rate'] / 1e6:.2f}" for r in runs[name])
    print(f"  {name:9}: replay --persist {med(name, 'rate') / 1e6:.2f} M raw_orderbook rows/s "
          f"(runs {each}), "
          f"flush->commit p50 {med(name, 'p50'):.1f} / p99 {med(name, 'p99'):.1f} ms, "
          f"cpu s: quotewatch {med(name, 'ours'):.2f}"
          + (f", s3 server {med(name, 'srv'):.2f}" if name != "file" else "")
          + f"; replay --lake {med(name, 'lrate') / 1e6:.2f} M messages/s")
print(f"s3:// / file:// persist rate: {med('s3', 'rate') / med('file', 'rate'):.2f}")
print(f"s3:// / file:// lake replay rate: {med('s3', 'lrate') / med('file', 'lrate'):.2f}")
if "s3-before" in runs:
    print(f"s3-before / file:// persist {med('s3-before', 'rate') / med('file', 'rate'):.2f}, "
          f"lake replay {med('s3-before', 'lrate') / med('file', 'lrate'):.2f}; "
          f"s3 / s3-before persist {med('s3', 'rate') / med('s3-before', 'rate'):.2f}")
PY
