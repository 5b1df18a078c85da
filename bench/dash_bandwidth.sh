#!/usr/bin/env bash
# bench/dash_bandwidth.sh [SECONDS]: dashboard cost per WebSocket client.
# For each case, `quotewatch replay --dashboard --speed 1x` of the real
# capture (10 products) serves N clients (tests/ref/ws_probe.py, threads)
# for SECONDS (default 20) once every book is valid; reports the server's
# CPU seconds over the window (utime + stime of the process, replay
# included: the 0-client case is the floor) and the bytes each client
# received on the wire. Cases: 0 clients; 1 and 64 clients as before
# (every product, no compression); 1 and 64 clients subscribed (round
# robin over the products) with permessage-deflate. Also the server's RSS
# at the end of the window (deflate keeps zlib state per client). Writes
# build/bench/dash-bandwidth.md; figures go to docs/PERFORMANCE.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-20}
real=${QW_SHARED:-../shared}/data/real/coinbase_exchange_ws_2021-04-17.ndjson
out=build/bench; mkdir -p "$out"
run_case() { # N MODE
  local port pid
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  build/quotewatch replay --dashboard --dash-max-per-ip 128 --port "$port" --speed 1x "$real" --log-level warn 2>/dev/null &
  pid=$!
  /usr/bin/python3 - "$port" "$pid" "$1" "$2" "$S" <<'PY'
import json, os, sys, threading, time, urllib.request
sys.path.insert(0, "tests/ref")
from ws_probe import WS
port, pid, n, mode, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
U = f"http://127.0.0.1:{port}"
for _ in range(200):
    try:
        s = json.loads(urllib.request.urlopen(U + "/api/state").read())
        if len(s["products"]) == 10 and all(p["valid"] for p in s["products"]):
            break
    except Exception:
        pass
    time.sleep(0.1)
names = [p["product"] for p in s["products"]]
tck = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tck
stop = threading.Event()
got = [0] * n
def client(i):
    ws = WS(f"ws://127.0.0.1:{port}/ws", deflate=(mode == "sub"), headers={"Sec-WebSocket-Protocol": "qw-state"})
    if mode == "sub":
        ws.send_json({"subscribe": names[i % len(names)]})
    ready.wait()
    w0 = ws.wire
    while not stop.is_set():
        try:
            ws.recv(timeout=1)
        except TimeoutError:
            pass
    got[i] = ws.wire - w0
    ws.close()
ready = threading.Event()
th = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in th: t.start()
time.sleep(1)  # connected, subscribed
c0, t0 = cpu(), time.monotonic()
ready.set()
time.sleep(secs)
c1, t1 = cpu(), time.monotonic()
rss = int([l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:")][0].split()[1]) / 1024
stop.set()
for t in th: t.join()
dt = t1 - t0
per = sum(got) / n / dt if n else 0
label = {"none": "no clients", "all": "every product, no compression", "sub": "subscribed, permessage-deflate"}[mode]
print(f"| {n} | {label} | {c1 - c0:.2f} | {(c1 - c0) / dt * 100:.1f} % | {per / 1024:.1f} | {per * n / 1024:.0f} | {rss:.1f} |")
PY
  kill -TERM "$pid"; wait "$pid" || true
}
{
  echo "# dashboard bandwidth $(date -u +%FT%TZ), $(nproc) cores, ${S} s per case, real capture at 1x"
  echo
  echo "| clients | mode | server CPU s | of one core | KB/s per client (wire) | KB/s total | server RSS MiB |"
  echo "|---|---|---|---|---|---|---|"
  run_case 0 none
  run_case 1 all
  run_case 1 sub
  run_case 64 all
  run_case 64 sub
} | tee "$out/dash-bandwidth.md"
