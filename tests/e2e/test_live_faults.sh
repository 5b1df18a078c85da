#!/usr/bin/env bash
# Every simulator fault, one at a time: the live client recovers on its own
# within seconds, its books equal the capture's final books again, and its
# counters show what happened.
# Each case waits until its counters show the fault before it waits for the
# stream to go quiet: a stall is quiet as well (a CI run stopped live in the
# middle of one). The stall case's watchdog (2 s) is twice the heartbeat
# period (the simulator, like Coinbase, sends one a second): with
# --watchdog 1 a heartbeat a few ms late tripped it again after the stream
# ended, and a stop in the resync that followed found the books not valid
# (another CI run).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"

"$QW_BIN" replay "$REAL" --summary "$T/ref.json" 2>/dev/null

# name | feed | sim fault | extra live flags | python check on the final summary d
cases=(
  "drop|exchange|drop=4000||d['live']['reconnects'] >= 1 and d['live']['disconnects'] >= 1"
  "drop-adv|advanced|drop=4000/once||d['live']['reconnects'] >= 1"
  "skip|advanced|skip=2500||d['gaps'] >= 1 and d['live']['gap_reconnects'] >= 1"
  "malformed|advanced|malformed=2000||d['rejected'] >= 1"
  "oversize|advanced|oversize=3000000@1000|--max-message 1048576|d['live']['oversized'] >= 1 and d['live']['reconnects'] >= 1"
  "stall|advanced|stall=4@2000|--watchdog 2|d['live']['watchdog_trips'] >= 1 and d['live']['reconnects'] >= 1"
  "refuse|advanced|refuse=2||d['live']['attempts'] > d['live']['connects'] >= 1"
  "slowread|exchange|slowread=2||d['live']['connects'] >= 1"
)
for c in "${cases[@]}"; do
  IFS='|' read -r name feed fault extra check <<<"$c"
  port=$(free_port)
  start_sim "sim-$name" --port "$port" --speed max --fault "$fault" "$REAL"
  wait_port "$port"
  # shellcheck disable=SC2086
  start_live "live-$name" --feed "$feed" --products "$REAL_PRODUCTS" --url "ws://127.0.0.1:$port" \
    --summary "$T/sum-$name.json" --backoff-max 0.5 $extra
  t0=$SECONDS
  wait_status "$T/live-$name.status" 'all(p["valid"] for p in d["products"].values()) and d["live"]["state"] == "subscribed"' 40
  # the fault first: a stall is quiet too, and a stop during it (or during
  # the resync after its watchdog trip) finds stale or invalid books
  wait_status "$T/live-$name.status" "$check" 40
  wait_quiet "$T/live-$name.status" 30
  wait_status "$T/live-$name.status" 'all(p["valid"] for p in d["products"].values())' 20
  rc=0; stop_and_wait "$LIVE_PID" TERM || rc=$?
  [ "$rc" = 0 ] || die "$name: live exited $rc"
  same_books "$T/sum-$name.json" "$T/ref.json" "$REAL_PRODUCTS" || { tail -30 "$T/live-$name.log"; die "$name: books not exact after recovery"; }
  jq_py "$T/sum-$name.json" "$check" | grep -qx True || {
    jq_py "$T/sum-$name.json" 'd["live"]'; tail -20 "$T/sim-$name.log"; die "$name: counters do not show the fault ($check)"; }
  stop_and_wait "$SIM_PID" TERM || true
  echo "$name: recovered in $((SECONDS - t0)) s: $(jq_py "$T/sum-$name.json" '{k: d["live"][k] for k in ("connects","reconnects","watchdog_trips","oversized","gap_reconnects","resubscribes")} | {"gaps": d["gaps"], "rejected": d["rejected"]}')"
done
