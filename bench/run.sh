#!/usr/bin/env bash
# make bench: synthetic feeds (both protocols, 2 products x 50k levels per
# side) and the real capture x50, measured in one run each so ratios hold on
# a noisy machine. Writes build/bench/report.md; figures go to
# docs/PERFORMANCE.md by hand, with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench; mkdir -p "$out"
N=${BENCH_MESSAGES:-2000000}
real=../shared/data/real/coinbase_exchange_ws_2021-04-17.ndjson
{
  echo "# bench $(date -u +%FT%TZ) on $(nproc) cores, $(uname -m)"
  echo
  for feed in exchange advanced; do
    f="$out/synth-$feed.ndjson"
    build/gen_feed --feed "$feed" --products BTC-USD,ETH-USD --levels 50000 --messages "$N" --seed 1 --out "$f"
    bytes=$(stat -c %s "$f")
    echo "## synthetic $feed: $N messages, $bytes bytes ($((bytes / N)) B/msg)"
    echo '```'
    build/bench_parse "$f" 3
    /usr/bin/time -f "quotewatch replay (full chain, from file): %e s wall, peak RSS %M KB" \
      build/quotewatch replay --log-level warn --no-progress "$f" 2>&1 | tail -1
    echo '```'
  done
  if [ -f "$real" ]; then
    for i in $(seq 50); do cat "$real"; done > "$out/real50.ndjson"
    echo "## real Exchange capture x50 (497,300 messages, 10 products)"
    echo '```'
    build/bench_parse "$out/real50.ndjson" 3
    echo '```'
  fi
  echo "## live end to end over loopback (simulator --speed max -> client -> pipeline)"
  echo '```'
  for feed in exchange advanced; do
    bench/live.sh "${BENCH_LIVE_MESSAGES:-1000000}" $feed --no-deflate
    bench/live.sh "${BENCH_LIVE_MESSAGES:-1000000}" $feed
  done
  echo '```'
  echo "## lake: capture -> Iceberg (replay --persist, ZSTD)"
  echo '```'
  bench/lake.sh "${BENCH_LAKE_MESSAGES:-400000}"
  bench/commit_latency.sh
  bench/backtest.sh "${BENCH_BACKTEST_MESSAGES:-1000000}"
  if [ "${S3:-1}" != 0 ]; then  # S3=0 skips the object-store run
    bench/lake_s3.sh "${BENCH_LAKE_S3_MESSAGES:-400000}"
  fi
  bench/lake_day.sh || echo "lake_day: the lake was not bounded (see above)"
  echo '```'
  if [ "${MEMORY:-1}" != 0 ]; then  # MEMORY=0 skips the memory runs
    echo "## memory: live --persist, 10 products at 10x for 10 min; 64 products at 10x for 60 min"
    echo '```'
    bench/memory_live.sh 10 10 10x
    bench/memory_live.sh "${MEMORY64_MINUTES:-60}" 64 10x
    echo '```'
  fi
  if [ "${SOAK:-1}" != 0 ]; then  # SOAK=0 skips the 30-minute soak
    echo "## soak (${SOAK_MINUTES:-30} min, 50x, random faults)"
    echo '```'
    bench/soak_live.sh
    echo '```'
  fi
} | tee "$out/report.md"
