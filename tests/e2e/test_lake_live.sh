#!/usr/bin/env bash
# A live run with faults (a sequence gap, a dropped connection) recorded
# and persisted at once: replaying the lake gives the same books and models
# as replaying the recording, because connection and gap markers are stored
# with the raw rows; the live run's own books equal both.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
"$QW_ROOT/build/gen_feed" --feed advanced --products BTC-USD,ETH-USD --levels 300 --messages 30000 \
  --seed 21 --out "$T/feed.ndjson" >/dev/null
port=$(free_port)
start_sim sim --port "$port" --speed max --fault skip=9000,drop=20000/once "$T/feed.ndjson"
wait_port "$port"
mkdir -p "$T/rec"
start_live live --products BTC-USD,ETH-USD --url "ws://127.0.0.1:$port" --record "$T/rec" --persist \
  --warehouse "$T/wh" --summary "$T/live.json" --backoff-max 0.3
wait_status "$T/live.status" 'd["live"]["reconnects"] >= 2 and d["gaps"] >= 1 and all(p["valid"] for p in d["products"].values())' 40
wait_quiet "$T/live.status" 30
stop_and_wait "$LIVE_PID" TERM || die "live exit code"
"$QW_BIN" replay "$T/rec"/*.zst --summary "$T/rec.json" 2>/dev/null
"$QW_BIN" replay --lake --warehouse "$T/wh" --summary "$T/lake.json" 2>/dev/null
"$PY" - "$T/live.json" "$T/rec.json" "$T/lake.json" <<'PY' || die "lake replay differs"
import json, sys
live, rec, lake = (json.load(open(f)) for f in sys.argv[1:4])
bad = 0
for p in ("BTC-USD", "ETH-USD"):
    for k in ("book_digest", "bid_levels", "ask_levels"):
        if not (live["products"][p][k] == rec["products"][p][k] == lake["products"][p][k]):
            print(p, k, live["products"][p][k], rec["products"][p][k], lake["products"][p][k]); bad += 1
    for k in ("labeled", "positives", "predictions", "coef", "intercept", "scaler_mean", "scaler_var", "dropped"):
        if rec["products"][p]["model"][k] != lake["products"][p]["model"][k]:
            print(p, "model", k, rec["products"][p]["model"][k], lake["products"][p]["model"][k]); bad += 1
    if rec["products"][p]["resyncs_by_reason"] != lake["products"][p]["resyncs_by_reason"]:
        print(p, "resyncs", rec["products"][p]["resyncs_by_reason"], lake["products"][p]["resyncs_by_reason"]); bad += 1
print("gaps", rec["gaps"], lake["gaps"], "connects", rec["connects"], lake["connects"], "rejected", rec["rejected"],
      "persistence", live["live"]["persistence"]["dropped"], live["live"]["persistence"]["rows_written"],
      "labeled", [rec["products"][p]["model"]["labeled"] for p in ("BTC-USD", "ETH-USD")],
      [lake["products"][p]["model"]["labeled"] for p in ("BTC-USD", "ETH-USD")],
      "dropped", [rec["products"][p]["model"]["dropped"] for p in ("BTC-USD", "ETH-USD")],
      [lake["products"][p]["model"]["dropped"] for p in ("BTC-USD", "ETH-USD")], "msgs", rec["messages"], lake["messages"])
bad += rec["gaps"] != lake["gaps"] or rec["connects"] != lake["connects"]
sys.exit(1 if bad else 0)
PY
echo "live -> lake: ok"
