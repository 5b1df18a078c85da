#!/usr/bin/env bash
# Model state survives reconnects, pending labels spanning the outage are
# dropped: a synthetic market is served with one connection drop halfway;
# the live run's models (labeled counts, coefficients, scaler) equal those
# of a replay of its own recording, which keeps models across connect
# markers, and the drop shows up as dropped pending labels.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"

"$QW_ROOT/build/gen_feed" --feed advanced --products BTC-USD,ETH-USD --levels 300 --messages 40000 \
  --seed 11 --out "$T/synth.ndjson" >/dev/null
port=$(free_port)
start_sim sim --port "$port" --speed max --fault drop=20000/once "$T/synth.ndjson"
wait_port "$port"
mkdir -p "$T/rec"
start_live live --products BTC-USD,ETH-USD --url "ws://127.0.0.1:$port" --record "$T/rec" \
  --summary "$T/live.json" --backoff-max 0.3
wait_status "$T/live.status" 'd["live"]["reconnects"] >= 1 and all(p["valid"] for p in d["products"].values())' 40
wait_quiet "$T/live.status" 30
rc=0; stop_and_wait "$LIVE_PID" TERM || rc=$?
[ "$rc" = 0 ] || die "live exited $rc"
"$QW_BIN" replay "$T/rec"/*.ndjson.zst --summary "$T/rep.json" 2>/dev/null
"$PY" - "$T/live.json" "$T/rep.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["live"]["reconnects"] >= 1, "no reconnect happened"
bad = 0
for p in ("BTC-USD", "ETH-USD"):
    ma, mb = a["products"][p]["model"], b["products"][p]["model"]
    for k in ("labeled", "positives", "predictions", "ready", "coef", "intercept", "scaler_mean",
              "scaler_var", "class_counts", "dropped"):
        if ma[k] != mb[k]:
            print(p, k, ma[k], "!=", mb[k]); bad += 1
    if ma["labeled"] < 1000:
        print(p, "too few labeled samples", ma["labeled"]); bad += 1
    if a["products"][p]["resyncs_by_reason"]["reconnect"] < 1:
        print(p, "no reconnect resync"); bad += 1
    if a["products"][p]["book_digest"] != b["products"][p]["book_digest"]:
        print(p, "book differs"); bad += 1
print("dropped pending:", {p: a["products"][p]["model"]["dropped"] for p in ("BTC-USD", "ETH-USD")})
sys.exit(1 if bad else 0)
PY
stop_and_wait "$SIM_PID" TERM || true
