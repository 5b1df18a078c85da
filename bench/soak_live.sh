#!/usr/bin/env bash
# Long soak (part of make bench; SOAK=0 skips it): the simulator loops a
# synthetic market at 50x with random faults; the live client runs for
# SOAK_MINUTES (default 30). Samples the client's RSS every 30 s and checks
# that it stays flat (last sample within 10% + 8 MB of the sample at 1/3 of
# the run) and that books are valid at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
MIN=${SOAK_MINUTES:-30}
out=build/bench; mkdir -p "$out"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
faults="drop=200000,skip=150000,malformed=50000,stall=12@300000"
build/quotewatch sim --port "$port" --synthetic --feed advanced --products BTC-USD,ETH-USD --levels 20000 \
  --speed 50x --loop --fault "$faults" --log-level warn 2>"$out/soak-sim.log" &
sim=$!
trap 'kill $sim $live 2>/dev/null || true' EXIT
sleep 1
st="$out/soak-status.json"
build/quotewatch live --products BTC-USD,ETH-USD --url "ws://127.0.0.1:$port" --status-file "$st" \
  --summary "$out/soak-summary.json" --watchdog 5 --log-level warn --port 0 2>"$out/soak-live.log" &
live=$!
: > "$out/soak-rss.txt"
end=$((SECONDS + MIN * 60))
while [ $SECONDS -lt $end ]; do
  sleep 30
  echo "$SECONDS $(awk '/VmRSS/{print $2}' /proc/$live/status)" >> "$out/soak-rss.txt"
done
kill -TERM $live; wait $live
/usr/bin/python3 - "$out/soak-rss.txt" "$out/soak-summary.json" <<'PY'
import json, sys
rss = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
d = json.load(open(sys.argv[2])); L = d["live"]
ref = rss[len(rss) // 3][1]; last = rss[-1][1]
print(f"soak: {len(rss)} RSS samples, {rss[0][1]/1024:.0f} -> {ref/1024:.0f} -> {last/1024:.0f} MB; "
      f"{L['messages']} messages, {L['reconnects']} reconnects, {d['gaps']} gaps, {d['rejected']} rejected, "
      f"{L['watchdog_trips']} watchdog trips")
ok = last <= ref * 1.10 + 8192
print("RSS flat" if ok else "RSS GREW")
sys.exit(0 if ok else 1)
PY
