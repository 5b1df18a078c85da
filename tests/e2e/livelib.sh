# Helpers for live-mode e2e tests (sourced after lib.sh): a simulator and a
# live client over real loopback sockets, status-file polling, book checks.
REAL_PRODUCTS="BAND-GBP,BAND-BTC,YFI-BTC,NU-GBP,CRV-EUR,SKL-GBP,SKL-USD,SKL-BTC,NMR-EUR,DASH-BTC"
PIDS=()
cleanup_live() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup_live EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() { # port [seconds]
  local i
  for i in $(seq 1 $(( ${2:-10} * 20 ))); do
    "$PY" -c 'import socket,sys; s=socket.socket(); s.settimeout(0.2); s.connect(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  die "nothing listens on port $1"
}

# start_sim NAME ARGS... : runs build/quotewatch sim (or $SIM_BIN) in the background; sets SIM_PID
start_sim() {
  local name=$1; shift
  "${SIM_BIN:-$QW_BIN}" sim "$@" >"$T/$name.out" 2>"$T/$name.log" &
  SIM_PID=$!; PIDS+=("$SIM_PID")
}

# start_live NAME ARGS... : build/quotewatch live (or $LIVE_BIN); status in $T/NAME.status; sets LIVE_PID
start_live() {
  local name=$1; shift
  "${LIVE_BIN:-$QW_BIN}" live --status-file "$T/$name.status" --port 0 "$@" >"$T/$name.out" 2>"$T/$name.log" &
  LIVE_PID=$!; PIDS+=("$LIVE_PID")
}

# wait_status FILE PYTHON_EXPR SECONDS : poll the status JSON (as d) until EXPR is true
wait_status() {
  "$PY" - "$1" "$2" "$3" <<'PYEOF' || { echo "--- status:"; cat "$1" 2>/dev/null | head -c 3000; echo; die "timed out waiting for: $2"; }
import json, sys, time
path, expr, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
end = time.time() + secs
while time.time() < end:
    try:
        d = json.load(open(path))
        if eval(expr):
            sys.exit(0)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    time.sleep(0.1)
sys.exit(1)
PYEOF
}

# wait_quiet FILE SECONDS : until the live message count stops moving for 1.5 s
wait_quiet() {
  "$PY" - "$1" "$2" <<'PYEOF' || die "messages never stopped moving"
import json, sys, time
path, secs = sys.argv[1], float(sys.argv[2])
end = time.time() + secs; last = None; since = time.time()
while time.time() < end:
    try:
        d = json.load(open(path))
        n = d["messages"] - d["heartbeats"]
    except (OSError, ValueError, KeyError):
        time.sleep(0.1); continue
    if n != last:
        last, since = n, time.time()
    elif time.time() - since > 1.5:
        sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PYEOF
}

# same_books A.json B.json [products] : every product's whole book (digest),
# level counts and top-10 equal; valid in A
same_books() {
  "$PY" - "$1" "$2" "${3:-}" <<'PYEOF'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
prods = sys.argv[3].split(",") if sys.argv[3] else sorted(b["products"])
bad = 0
for p in prods:
    pa, pb = a["products"].get(p), b["products"].get(p)
    if pa is None or pb is None:
        print("missing product", p, pa is None, pb is None); bad += 1; continue
    for k in ("book_digest", "bid_levels", "ask_levels", "bids", "asks"):
        if pa[k] != pb[k]:
            print(p, k, "differs:", str(pa[k])[:200], "vs", str(pb[k])[:200]); bad += 1
    if not pa.get("valid"):
        print(p, "not valid in", sys.argv[1]); bad += 1
sys.exit(1 if bad else 0)
PYEOF
}

stop_and_wait() { # pid [signal] : returns the exit code
  kill -"${2:-TERM}" "$1" 2>/dev/null || true
  local rc=0; wait "$1" || rc=$?
  return $rc
}

# lake_equals_live LIVE_SUMMARY : replay --lake (the configured warehouse)
# reproduces the live run's books exactly: no committed row was lost
lake_equals_live() {
  "$QW_BIN" replay --lake --summary "$T/lake-eq.json" 2>/dev/null || die "lake unreadable"
  "$PY" - "$1" "$T/lake-eq.json" <<'PYEOF' || die "lake books differ from the live books: rows were lost"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = [p for p in a["products"] if a["products"][p]["book_digest"] != b["products"][p]["book_digest"]]
print("books", "equal" if not bad else "differ: %s" % bad)
sys.exit(1 if bad else 0)
PYEOF
}
