#!/usr/bin/env bash
# Object-store lake benchmark (part of make bench; S3=0 skips it): the same
# synthetic capture through `replay --persist` into file:// and into s3://
# (the loopback S3 server of the tests, SigV4 verified) with a PostgreSQL
# catalog for both, back to back in one run; then `replay --lake` from each.
# Reports raw_orderbook rows/s, flush->commit and committer averages, and
# the lake replay rates, and the CPU seconds of our process and of the
# S3 server (node, single-threaded: when its CPU time is close to the
# wall time of a phase, the server is the bottleneck, not the client), and
# the server's floor: its CPU per request for 300 tiny signed GETs by curl.
# Usage: bench/lake_s3.sh [MESSAGES]; BEFORE=/path/to/an/older/quotewatch
# adds its s3:// rows ("s3-before") to the same run, for before/after ratios;
# PERSIST_ARGS="--flush-rows 500000 ..." are added to every `replay --persist`
# (larger files: fewer requests per row).
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
[ -z "${BEFORE:-}" ] || psql -h 127.0.0.1 -p "$PG_PORT" -U qw -d postgres -qc 'CREATE DATABASE s3b' >/dev/null
now() { date +%s.%N; }
srv_cpu() { # the S3 server's user+system CPU seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$S3_PID/stat"
}
run() { # NAME WAREHOUSE CATALOG [BINARY]
  local bin=${4:-$QW_BIN} t0 t1 t2 c0 c1 c2
  c0=$(srv_cpu); t0=$(now)
  /usr/bin/time -f '%U %S' -o "$T/$1-cpu" "$bin" replay --persist --warehouse "$2" --catalog-uri "$3" --log-level warn --no-progress \
    ${PERSIST_ARGS:-} --summary "$T/$1.json" "$f"
  t1=$(now); c1=$(srv_cpu)
  /usr/bin/time -f '%U %S' -o "$T/$1-lake-cpu" "$bin" replay --lake --warehouse "$2" --catalog-uri "$3" --log-level warn --no-progress \
    --summary "$T/$1-lake.json"
  t2=$(now); c2=$(srv_cpu)
  echo "$1 $t0 $t1 $t2 $c0 $c1 $c2" >>"$T/times"
}
run file "file://$T/wh" "$PG_URI"
[ -z "${BEFORE:-}" ] || run s3-before "s3://b/whb" "postgresql://qw@127.0.0.1:$PG_PORT/s3b" "$BEFORE"
run s3 "s3://b/wh" "postgresql://qw@127.0.0.1:$PG_PORT/s3"
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
import json, sys
d, nbytes = sys.argv[1], int(sys.argv[2])
rate, lrate = {}, {}
_, t0, t1, c0, c1 = open(d + "/floor").read().split()
print(f"s3 server floor: 300 signed 1-byte GETs (curl, one connection) in {float(t1) - float(t0):.2f} s, "
      f"{(float(c1) - float(c0)) / 300 * 1e3:.1f} ms of server CPU each")
for line in open(d + "/times"):
    name, t0, t1, t2, c0, c1, c2 = line.split()
    t0, t1, t2, c0, c1, c2 = (float(x) for x in (t0, t1, t2, c0, c1, c2))
    cpu = lambda f: sum(float(x) for x in open(f).read().split()[-2:])
    qp, ql = cpu(f"{d}/{name}-cpu"), cpu(f"{d}/{name}-lake-cpu")
    s = json.load(open(f"{d}/{name}.json")); p = s["persistence"]
    lk = json.load(open(f"{d}/{name}-lake.json"))
    rows = p["rows_written"]["raw_orderbook"]
    rate[name] = rows / (t1 - t0)
    lrate[name] = lk["messages"] / (t2 - t1)
    os_ = p.get("objstore")
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
print(f"s3:// / file:// persist rate: {rate['s3'] / rate['file']:.2f}")
print(f"s3:// / file:// lake replay rate: {lrate['s3'] / lrate['file']:.2f}")
if "s3-before" in rate:
    print(f"s3-before / file:// persist {rate['s3-before'] / rate['file']:.2f}, "
          f"lake replay {lrate['s3-before'] / lrate['file']:.2f}")
PY
