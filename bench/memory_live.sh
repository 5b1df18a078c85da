#!/usr/bin/env bash
# bench/memory_live.sh [MINUTES] [PRODUCTS] [SPEED]: peak and final RSS of
# `quotewatch live --persist` against the simulator serving a synthetic
# market of PRODUCTS products (default 10) at SPEED (default 10x real
# time), for MINUTES (default 10), with the default writer ring: the
# sizing check for a 512 MiB Cloud Run instance (goal: peak < 200 MiB).
# RSS is sampled every 5 s into build/bench/memory-rss.txt; part of
# `make bench` (MEMORY=0 skips it). Also the 64-product growth check:
#   bench/memory_live.sh 60 64 10x
# LIVE_ARGS adds flags to the live run, e.g. snapshot expiry by maintenance:
#   LIVE_ARGS="--maintain 60 --maintain-expire-age 5m" bench/memory_live.sh 20 64 10x
set -euo pipefail
cd "$(dirname "$0")/.."
MIN=${1:-10}
NP=${2:-10}
SPEED=${3:-10x}
out=build/bench; mkdir -p "$out"
prods=$(/usr/bin/python3 -c "print(','.join(f'P{i:02d}-USD' for i in range($NP)))")
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
wh=$(mktemp -d /tmp/qwmem.XXXXXX)
build/quotewatch sim --port "$port" --synthetic --feed advanced --products "$prods" --levels 2000 \
  --speed "$SPEED" --loop --log-level warn > /dev/null 2>"$out/memory-sim.log" &
sim=$!
trap 'kill $sim $live 2>/dev/null || true; rm -rf "$wh"' EXIT
sleep 1
ICEBERG_WAREHOUSE="file://$wh" build/quotewatch live --products "$prods" --url "ws://127.0.0.1:$port" \
  --persist --status-file "$out/memory-status.json" --summary "$out/memory-summary.json" \
  --log-level warn --port 0 ${LIVE_ARGS:-} 2>"$out/memory-live.log" &
live=$!
: > "$out/memory-rss.txt"
end=$((SECONDS + MIN * 60))
while [ $SECONDS -lt $end ]; do
  sleep 5
  echo "$SECONDS $(awk '/VmRSS/{print $2}' /proc/$live/status) $(awk '/VmHWM/{print $2}' /proc/$live/status)" >> "$out/memory-rss.txt"
done
kill -TERM $live; wait $live || true
/usr/bin/python3 - "$out/memory-rss.txt" "$out/memory-summary.json" "$MIN" "$NP" "$SPEED" <<'PY'
import json, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
s = json.load(open(sys.argv[2]))
live = s["live"]; p = live["persistence"]
n = len(rows)
pick = [rows[0], rows[n // 4], rows[n // 2], rows[3 * n // 4], rows[-1]]
print(f"live --persist, {sys.argv[4]} products at {sys.argv[5]}, {sys.argv[3]} min: "
      f"{live['messages']} messages ({live['messages_per_s_avg']:.0f}/s), "
      f"{sum(p['rows_written'].values())} rows committed, dropped {p['dropped']}, "
      f"commits {p['commits']}, maintenance runs {p.get('maintenance_runs', 0)}, "
      f"snapshots expired {p.get('maintenance_snapshots_expired', 0)}")
print("RSS MiB at t=" + ", ".join(f"{t}s: {r / 1024:.1f}" for t, r, _ in pick))
print(f"peak RSS (VmHWM) {rows[-1][2] / 1024:.1f} MiB")
PY
