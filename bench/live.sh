#!/usr/bin/env bash
# Live end-to-end benchmark (part of `make bench`): the simulator serves a
# synthetic capture at --speed max over loopback; the live client and its
# pipeline consume it. Reports messages/s from the first to the last
# streamed message and the receive-to-prediction latency percentiles.
# --tls: wss:// (the simulator with a throwaway CA and certificate made
# here by openssl, the client trusting it through --ca-file).
# Usage: bench/live.sh [MESSAGES] [FEED] [--no-deflate] [--tls]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}; FEED=${2:-exchange}; DEFLATE=""; TLS=""
for a in "${@:3}"; do
  case "$a" in
    --no-deflate) DEFLATE=--no-deflate ;;
    --tls) TLS=1 ;;
    *) echo "usage: bench/live.sh [MESSAGES] [FEED] [--no-deflate] [--tls]" >&2; exit 2 ;;
  esac
done
out=build/bench; mkdir -p "$out"
scheme=ws; sim_tls=(); live_tls=()
if [ -n "$TLS" ]; then
  c="$out/tls"; mkdir -p "$c"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$c/ca.key" -out "$c/ca.pem" -days 2 \
    -subj "/CN=qw-bench-ca" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$c/srv.key" -out "$c/srv.csr" -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$c/ext.cnf"
  openssl x509 -req -in "$c/srv.csr" -CA "$c/ca.pem" -CAkey "$c/ca.key" -CAcreateserial \
    -out "$c/srv.pem" -days 2 -extfile "$c/ext.cnf" 2>/dev/null
  scheme=wss; sim_tls=(--tls-cert "$c/srv.pem" --tls-key "$c/srv.key"); live_tls=(--ca-file "$c/ca.pem")
fi
f="$out/live-$FEED-$N.ndjson"
[ -s "$f" ] || build/gen_feed --feed "$FEED" --products BTC-USD,ETH-USD --levels 1000 --messages "$N" --seed 7 --out "$f"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
build/quotewatch sim --port "$port" --speed max --log-level warn $DEFLATE "${sim_tls[@]}" "$f" 2>"$out/live-sim.log" &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for i in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
st="$out/live-status.json"; rm -f "$st"
build/quotewatch live --feed "$FEED" --products BTC-USD,ETH-USD --url "$scheme://127.0.0.1:$port" \
  "${live_tls[@]}" --status-file "$st" --summary "$out/live-summary.json" --log-level warn --port 0 $DEFLATE 2>"$out/live.log" &
live=$!
/usr/bin/python3 - "$st" "$N" <<'PY'
import json, sys, time
path, n = sys.argv[1], int(sys.argv[2])
t_first = None; last = None; since = time.time(); end = time.time() + 600
while time.time() < end:
    try: d = json.load(open(path))
    except (OSError, ValueError): time.sleep(0.05); continue
    m = d["messages"] - d["heartbeats"]
    if t_first is None and m > 0: t_first = (time.time(), m)
    if m != last: last, since = m, time.time()
    elif m > 0 and time.time() - since > 2: break
    time.sleep(0.05)
PY
sim_cpu=$(awk '{printf "%.2f", ($14+$15)/100}' /proc/$sim/stat 2>/dev/null || echo nan)
kill -TERM $live; wait $live || true
/usr/bin/python3 - "$out/live-summary.json" "${DEFLATE:-(permessage-deflate)}${TLS:+ wss}" "$sim_cpu" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); L = d["live"]
lat = L["latency_receive_to_prediction"]
# wall rate: book/trade messages from the first to the last one (heartbeats,
# which keep coming after the source ended, are left out of the span)
span = max(L["data_span_s"], 1e-9)
print(f"live {L['feed']} {sys.argv[2]}: {L['data_messages']} book/trade messages "
      f"({L['messages']} in all, {L['bytes']/1e6:.1f} MB) in {span:.3f} s "
      f"= {L['data_messages']/span/1e6:.3f} M msgs/s, {L['bytes']/1e6/span:.0f} MB/s; "
      f"rejected {d['rejected']}, reconnects {L['reconnects']}")
print(f"CPU: client {L['cpu_s']:.2f} s = {L['cpu_s']/L['messages']*1e6:.2f} CPU-s per million messages "
      f"({L['messages']/L['cpu_s']/1e6:.2f} M msgs per CPU-second), peak RSS {L['max_rss_kb']/1024:.0f} MB; "
      f"simulator {sys.argv[3]} s")
print(f"receive->prediction latency: p50 {lat['p50_us']:.1f} us, p99 {lat['p99_us']:.1f} us, "
      f"p99.9 {lat['p999_us']:.1f} us, max {lat['max_us']:.1f} us ({lat['count']} predictions)")
PY
