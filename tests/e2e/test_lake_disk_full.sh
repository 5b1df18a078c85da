#!/usr/bin/env bash
# A full warehouse disk under live ingest: the warehouse is a 4 MB tmpfs;
# once commits flow, a filler file takes every free byte. Flushes and
# commits fail (counted in `errors`) while ingest keeps running with valid
# books; when the filler is removed, the buffered rows are committed and
# the lake replays to exactly the live books (nothing lost, no drops).
# Needs mount(2) (root); without it the same fault comes from a file-size
# limit (RLIMIT_FSIZE, EFBIG) instead.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
WH="$T/wh"; mkdir -p "$WH"
mounted=0
if mount -t tmpfs -o size=4m tmpfs "$WH" 2>/dev/null; then
  mounted=1
  trap 'umount -l "$WH" 2>/dev/null || true; cleanup_live' EXIT
else
  trap 'cleanup_live' EXIT
fi
export ICEBERG_WAREHOUSE="file://$WH"
port=$(free_port)
start_sim sim --port "$port" --synthetic --feed advanced --products BTC-USD,ETH-USD --levels 200 --speed 5x
wait_port "$port"
if (( mounted )); then
  start_live live --products BTC-USD,ETH-USD --url "ws://127.0.0.1:$port" --persist --flush-ms 300 \
    --summary "$T/live.json"
else # every file the process writes is capped; the catalog stays below it
  (trap '' XFSZ; ulimit -f 512; exec "$QW_BIN" live --products BTC-USD,ETH-USD --url "ws://127.0.0.1:$port" \
    --persist --flush-ms 300 --summary "$T/live.json" --status-file "$T/live.status" --port 0 \
    --log-level warn 2>"$T/live.log") &
  LIVE_PID=$!; PIDS+=("$LIVE_PID")
fi
wait_status "$T/live.status" 'd["live"]["persistence"]["commits"] >= 2' 30
m0=$(jq_py "$T/live.status" 'd["live"]["messages"]')
if (( mounted )); then
  dd if=/dev/zero of="$WH/filler" bs=64k 2>/dev/null || true # until ENOSPC
  [ "$(df --output=avail "$WH" | tail -1)" -lt 64 ] || die "the disk did not fill"
fi
wait_status "$T/live.status" 'd["live"]["persistence"]["errors"] >= 2' 30
sleep 1
wait_status "$T/live.status" "d['live']['messages'] > $m0 + 500 and all(p['valid'] for p in d['products'].values())" 10 \
  || die "ingest stalled while the disk was full"
c0=$(jq_py "$T/live.status" 'd["live"]["persistence"]["commits"]')
if (( mounted )); then
  rm -f "$WH/filler"
  wait_status "$T/live.status" "d['live']['persistence']['commits'] > $c0 + 2" 40
  sleep 1
fi
stop_and_wait "$LIVE_PID" TERM || (( ! mounted )) || die "live exited non-zero"
stop_and_wait "$SIM_PID" TERM || true
(( mounted )) || { grep -q 'File too large\|could not be committed\|write' "$T/live.log" || die "no write error reported"; \
  echo "disk full (RLIMIT_FSIZE fallback): errors reported, ingest kept running"; exit 0; }
"$PY" - "$T/live.json" <<'PY' || die "persistence counters"
import json, sys
p = json.load(open(sys.argv[1]))["live"]["persistence"]
print(p)
assert p["errors"] >= 2 and p["dropped"] == 0 and p["queued"] == 0, p
PY
lake_equals_live "$T/live.json"
"$QW_BIN" lake clean-orphans --older-than 0 --dry-run > "$T/orph.txt"
echo "disk full: errors counted, ingest kept running, every row committed after space came back; $(tail -1 "$T/orph.txt")"
