#!/usr/bin/env bash
# The catalog goes away under a live writer: PostgreSQL is stopped for a
# few seconds while `quotewatch live --persist` ingests from the simulator.
# Ingest keeps running (messages keep arriving, books stay valid), the
# writer reports errors and retries with backoff, nothing is dropped, and
# after PostgreSQL returns every row gets committed: the lake replays to the
# live run's final books.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
source "$(dirname "$0")/pglib.sh"
trap 'pg_stop; cleanup_live' EXIT
pg_start
export ICEBERG_CATALOG_URI="$PG_URI" ICEBERG_WAREHOUSE="file://$T/wh"
port=$(free_port)
start_sim sim --port "$port" --synthetic --feed advanced --products BTC-USD,ETH-USD --levels 500 --speed 5x
wait_port "$port"
start_live live --products BTC-USD,ETH-USD --url "ws://127.0.0.1:$port" --persist --flush-ms 300 \
  --summary "$T/live.json"
wait_status "$T/live.status" 'd["live"]["persistence"]["commits"] >= 2' 30
pg_pause
m0=$(jq_py "$T/live.status" 'd["live"]["messages"]')
wait_status "$T/live.status" 'd["live"]["persistence"]["errors"] >= 1' 20
sleep 2
wait_status "$T/live.status" "d['live']['messages'] > $m0 + 500 and all(p['valid'] for p in d['products'].values())" 10
c0=$(jq_py "$T/live.status" 'd["live"]["persistence"]["commits"]')
pg_resume
wait_status "$T/live.status" "d['live']['persistence']['commits'] > $c0 + 1" 40
sleep 1
stop_and_wait "$LIVE_PID" TERM || die "live exited non-zero"
stop_and_wait "$SIM_PID" TERM || true
"$PY" - "$T/live.json" <<'PY' || die "persistence counters"
import json, sys
p = json.load(open(sys.argv[1]))["live"]["persistence"]
print(p)
assert p["errors"] >= 1 and p["dropped"] == 0 and p["queued"] == 0, p
PY
lake_equals_live "$T/live.json"
echo "catalog outage: ok"
