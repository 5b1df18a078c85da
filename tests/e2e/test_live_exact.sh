#!/usr/bin/env bash
# Live client vs the simulator over loopback, both protocols: after the
# simulator streamed the real capture, every live book equals the capture's
# final book (whole-book digest, level counts, top 10); the recording made
# with --record replays to the same books; SIGTERM/SIGINT stop cleanly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"

"$QW_BIN" replay "$REAL" --summary "$T/ref.json" 2>/dev/null

for feed in exchange advanced; do
  port=$(free_port)
  start_sim "sim-$feed" --port "$port" --speed max "$REAL"
  wait_port "$port"
  mkdir -p "$T/rec-$feed"
  start_live "live-$feed" --feed "$feed" --products "$REAL_PRODUCTS" --url "ws://127.0.0.1:$port" \
    --record "$T/rec-$feed" --summary "$T/sum-$feed.json"
  wait_status "$T/live-$feed.status" 'all(p["valid"] for p in d["products"].values()) and d["live"]["connects"] >= 1' 30
  wait_quiet "$T/live-$feed.status" 30
  sig=TERM; [ "$feed" = advanced ] && sig=INT
  rc=0; stop_and_wait "$LIVE_PID" "$sig" || rc=$?
  [ "$rc" = 0 ] || { tail -20 "$T/live-$feed.log"; die "$feed: live exited $rc on SIG$sig"; }
  [ -s "$T/sum-$feed.json" ] || die "$feed: no summary written on exit"
  same_books "$T/sum-$feed.json" "$T/ref.json" "$REAL_PRODUCTS" || die "$feed: live books differ from the capture's"
  jq_py "$T/sum-$feed.json" 'd["live"]["state"]' | grep -qx stopped || die "$feed: state not stopped"
  [ "$(jq_py "$T/sum-$feed.json" 'd["rejected"]')" = 0 ] || die "$feed: rejected messages"
  # the recording replays to the same books
  ls "$T/rec-$feed"/quotewatch-*.ndjson.zst >/dev/null || die "$feed: no recording"
  "$QW_BIN" replay "$T/rec-$feed"/*.ndjson.zst --summary "$T/rep-$feed.json" 2>/dev/null
  same_books "$T/rep-$feed.json" "$T/ref.json" "$REAL_PRODUCTS" || die "$feed: replay of the recording differs"
  [ "$(jq_py "$T/rep-$feed.json" 'd["connects"]')" -ge 1 ] || die "$feed: recording has no connect marker"
  stop_and_wait "$SIM_PID" TERM || true
  echo "$feed: ok ($(jq_py "$T/sum-$feed.json" 'd["live"]["messages"]') messages)"
done
