#!/usr/bin/env bash
# /metrics of a live process, strictly parsed (tests/ref/prom_check.py)
# before any message arrived (no last-message-age sample, not -1) and after
# (feed families, the latency histogram, process_* and build info).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
sport=$(free_port); hport=$(free_port)
start_live live --feed exchange --products "$REAL_PRODUCTS" --url "ws://127.0.0.1:$sport" \
  --port "$hport" --bind 127.0.0.1 --backoff-max 0.5
wait_port "$hport"
curl -sf "http://127.0.0.1:$hport/metrics" > "$T/m0.txt" || die "/metrics before data"
"$PY" tests/ref/prom_check.py "$T/m0.txt" || die "/metrics (no data yet) is not strict Prometheus text"
! grep -q '^quotewatch_feed_last_message_age_seconds ' "$T/m0.txt" || die "age sample before any message"
grep -q '^quotewatch_feed_connected 0$' "$T/m0.txt" || die "feed_connected should be 0"
start_sim sim --port "$sport" --speed max "$REAL"
wait_status "$T/live.status" 'all(p["valid"] for p in d["products"].values())' 30
curl -sf "http://127.0.0.1:$hport/metrics" > "$T/m1.txt" || die "/metrics after data"
"$PY" tests/ref/prom_check.py "$T/m1.txt" || die "/metrics (live) is not strict Prometheus text"
for k in quotewatch_feed_last_message_age_seconds 'quotewatch_receive_to_prediction_seconds_count' \
  'quotewatch_feed_connected 1' process_cpu_seconds_total process_open_fds process_start_time_seconds \
  'quotewatch_build_info{version='; do
  grep -q "^$k" "$T/m1.txt" || die "/metrics lacks $k"
done
stop_and_wait "$LIVE_PID" TERM || die "live exited non-zero"
echo ok
