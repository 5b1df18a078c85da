#!/usr/bin/env bash
# qw-test: serial (timing budgets or a CPU-heavy browser/container: runs alone)
# SIGTERM with persistence: the final flush and commit end within
# --close-timeout (counted from the signal), and one log line says how many
# rows were committed and how many given up.
#  A. healthy catalog: exit 0, "0 given up", the count equals the summary's rows.
#  B. the catalog (PostgreSQL) is down at SIGTERM: exit 1 well within the
#     budget (2 s here) instead of retrying for the usual grace, rows given up
#     counted in the summary (rows_given_up) and the log.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
source "$(dirname "$0")/pglib.sh"
trap 'pg_stop; cleanup_live' EXIT
port=$(free_port)
start_sim sim --port "$port" --synthetic --feed advanced --products BTC-USD,ETH-USD --levels 200 --speed 5x
wait_port "$port"

# A
ICEBERG_WAREHOUSE="file://$T/whA" start_live liveA --products BTC-USD,ETH-USD --url "ws://127.0.0.1:$port" \
  --persist --flush-ms 300 --summary "$T/a.json"
wait_status "$T/liveA.status" 'd["live"]["persistence"]["commits"] >= 2' 30
stop_and_wait "$LIVE_PID" TERM || die "A: live exited non-zero"
line=$(grep -o 'persistence closed in [0-9.]* s: [0-9]* rows committed, [0-9]* given up' "$T/liveA.log") \
  || { tail "$T/liveA.log"; die "A: no close line in the log"; }
echo "A: $line"
"$PY" - "$T/a.json" "$line" <<'PY' || die "A: counts"
import json, re, sys
p = json.load(open(sys.argv[1]))["live"]["persistence"]
rows, gave = map(int, re.search(r"(\d+) rows committed, (\d+) given up", sys.argv[2]).groups())
assert gave == 0 and p["rows_given_up"] == 0, (gave, p)
assert rows == sum(p["rows_written"].values()) and rows > 0, (rows, p["rows_written"])
# sized for a 512 MiB instance: the writer ring holds at most 256 Ki records (36 MiB) by default
assert p["capacity"] <= 262144, p["capacity"]
PY

# B
pg_start
ICEBERG_CATALOG_URI="$PG_URI" ICEBERG_WAREHOUSE="file://$T/whB" start_live liveB --products BTC-USD,ETH-USD \
  --url "ws://127.0.0.1:$port" --persist --flush-ms 200 --close-timeout 2 --summary "$T/b.json"
wait_status "$T/liveB.status" 'd["live"]["persistence"]["commits"] >= 2' 30
pg_pause
wait_status "$T/liveB.status" 'd["live"]["persistence"]["errors"] >= 1' 20
t0=$(date +%s.%N)
rc=0; stop_and_wait "$LIVE_PID" TERM || rc=$?
el=$("$PY" -c "import sys; print(round($(date +%s.%N) - $t0, 2))")
echo "B: exit $rc after ${el}s"
[ "$rc" = 1 ] || { tail "$T/liveB.log"; die "B: rows were given up, exit must be 1 (was $rc)"; }
"$PY" -c "import sys; sys.exit(0 if $el < 3.5 else 1)" || die "B: SIGTERM took ${el}s with --close-timeout 2"
grep -q 'persistence closed in [0-9.]* s: [0-9]* rows committed, [1-9][0-9]* given up' "$T/liveB.log" \
  || { tail "$T/liveB.log"; die "B: the close line must count given-up rows"; }
[ "$(jq_py "$T/b.json" 'd["live"]["persistence"]["rows_given_up"] > 0')" = True ] || die "B: rows_given_up"
echo ok
