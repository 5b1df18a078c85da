#!/usr/bin/env bash
# Large messages: 60,000-level snapshots per side (~13 MB Advanced Trade
# messages, far over Coinbase's real 5 MB) reassemble exactly, with and
# without permessage-deflate; with --max-message below their size they are
# discarded and counted, and the books never become valid.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"

"$QW_ROOT/build/gen_feed" --feed advanced --products BTC-USD,ETH-USD --levels 60000 --messages 3000 \
  --seed 5 --out "$T/big.ndjson" >/dev/null
"$QW_BIN" replay "$T/big.ndjson" --summary "$T/ref.json" 2>/dev/null
for mode in deflate plain; do
  extra=(); [ $mode = plain ] && extra=(--no-deflate)
  port=$(free_port)
  start_sim "sim-$mode" --port "$port" --speed max "${extra[@]}" "$T/big.ndjson"
  wait_port "$port"
  start_live "live-$mode" --products BTC-USD,ETH-USD --url "ws://127.0.0.1:$port" --summary "$T/$mode.json" "${extra[@]}"
  wait_status "$T/live-$mode.status" 'all(p["valid"] for p in d["products"].values())' 40
  wait_quiet "$T/live-$mode.status" 30
  stop_and_wait "$LIVE_PID" TERM || die "$mode: live exit code"
  same_books "$T/$mode.json" "$T/ref.json" BTC-USD,ETH-USD || die "$mode: books differ"
  [ "$(jq_py "$T/$mode.json" 'd["products"]["BTC-USD"]["bid_levels"]')" -ge 50000 ] || die "$mode: book too small"
  stop_and_wait "$SIM_PID" TERM || true
done
# a limit below the snapshot size: discarded, counted, never valid
port=$(free_port)
start_sim sim-small --port "$port" --speed max "$T/big.ndjson"
wait_port "$port"
start_live live-small --products BTC-USD,ETH-USD --url "ws://127.0.0.1:$port" --summary "$T/small.json" \
  --max-message 1048576 --backoff-max 0.2
wait_status "$T/live-small.status" 'd["live"]["oversized"] >= 2' 30
stop_and_wait "$LIVE_PID" TERM || die "small: live exit code"
jq_py "$T/small.json" 'any(p["valid"] for p in d["products"].values())' | grep -qx False || die "a book became valid without its snapshot"
echo "big messages: ok"
