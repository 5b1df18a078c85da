#!/usr/bin/env bash
# qw-test: serial (timing budgets or a CPU-heavy browser/container: runs alone)
# A dashboard flood must not delay or stall ingest: live against the
# simulator (paced, one dropped connection mid-stream) while a hostile
# client mix (tests/ref/dash_flood.py: thousands of connections from
# 127.0.0.2, /api/state and /metrics hammering, slowloris, WebSocket clients
# that never read) runs against the dashboard. The feed must reconnect within
# its backoff bound (drop -> next connect, both in the simulator's log), end
# with books equal to the capture's, /healthz must answer a fresh client
# (127.0.0.1) during or right after the flood, the rejected connections are
# counted in /metrics, and SIGTERM still stops the process promptly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
FLOOD_S=${FLOOD_S:-12}
FLOOD_N=${FLOOD_N:-3000}
"$QW_BIN" replay "$REAL" --summary "$T/ref.json" 2>/dev/null
sport=$(free_port); dport=$(free_port)
# 2x pacing: the 37 s capture streams for ~18 s; message 3000 is ~8 s in
start_sim sim --port "$sport" --speed 2x --fault drop=3000/once "$REAL"
wait_port "$sport"
start_live live --feed exchange --products "$REAL_PRODUCTS" --url "ws://127.0.0.1:$sport" \
  --summary "$T/sum.json" --port "$dport"
wait_port "$dport"
"$PY" tests/ref/dash_flood.py "$dport" "$FLOOD_S" "$FLOOD_N" >"$T/flood.json" 2>"$T/flood.err" &
fpid=$!; PIDS+=("$fpid")
# a fresh client on another source address, during the flood
hz=0
for i in $(seq 1 $((FLOOD_S * 2))); do
  sleep 0.5
  [ "$(curl -s -m 2 "http://127.0.0.1:$dport/healthz")" = ok ] && hz=$((hz + 1))
done
wait "$fpid" || die "flooder failed: $(cat "$T/flood.err")"
echo "flood: $(cat "$T/flood.json"); /healthz answered $hz of $((FLOOD_S * 2)) tries during the flood"
ok=0
for i in $(seq 1 20); do
  [ "$(curl -s -m 2 "http://127.0.0.1:$dport/healthz")" = ok ] && { ok=1; break; }; sleep 0.1
done
[ "$ok" = 1 ] || die "/healthz does not answer a fresh client right after the flood"
wait_status "$T/live.status" 'd["live"]["reconnects"] >= 1' 30
# drop -> next connect, from the simulator's log (one clock, ms resolution)
delay=$("$PY" - "$T/sim.log" <<'PY'
import json, sys
from datetime import datetime
def t(l): return datetime.fromisoformat(l["time"].rstrip("Z")[:26]).timestamp()
lines = [json.loads(x) for x in open(sys.argv[1]) if x.startswith("{")]
drop = next(t(l) for l in lines if l["message"].startswith("fault=drop"))
conn = next(t(l) for l in lines if l["message"].startswith("connect client=") and t(l) > drop)
print("%.3f" % (conn - drop))
PY
) || die "no drop/reconnect in the simulator log"
echo "feed reconnect: ${delay} s after the drop (backoff bound 0.5 s)"
"$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 3 else 1)" "$delay" \
  || die "the feed reconnected ${delay} s after the drop (bound 3 s): the dashboard delayed ingest"
wait_status "$T/live.status" 'all(p["valid"] for p in d["products"].values()) and d["live"]["state"] == "subscribed"' 40
wait_quiet "$T/live.status" 40
curl -s "http://127.0.0.1:$dport/metrics" >"$T/metrics.txt"
"$PY" tests/ref/prom_check.py "$T/metrics.txt" || die "/metrics is not valid Prometheus text"
rej=$(awk '/^quotewatch_dashboard_rejected_total/ {s += $2} END {print s + 0}' "$T/metrics.txt")
grep '^quotewatch_dashboard_rejected_total' "$T/metrics.txt" || true
[ "$rej" -gt 0 ] || die "no rejected dashboard connections counted"
conns=$(awk '/^quotewatch_dashboard_connections / {print $2}' "$T/metrics.txt")
[ "${conns:-99}" -le 2 ] || die "$conns dashboard connections still counted open after the flood"
t0=$(date +%s%N)
rc=0; stop_and_wait "$LIVE_PID" TERM || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 0 ] || { tail -20 "$T/live.log"; die "live exited $rc"; }
echo "SIGTERM -> exit in $ms ms"
[ "$ms" -lt 5000 ] || die "SIGTERM took $ms ms"
same_books "$T/sum.json" "$T/ref.json" "$REAL_PRODUCTS" || die "books not exact after the flood"
echo "books exact; $rej dashboard connections rejected"
