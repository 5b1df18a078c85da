#!/usr/bin/env bash
# Hot model reload in live (docs/LIVE.md "Hot reload"): models trained by
# `backtest --save-model` on the real capture; live starts from one of them
# (--load-model F) against the simulator streaming the capture, and
#  - /api/state model_origin names F and the file's CRC-32;
#  - F replaced by rename with another model: reload counted ok, origin
#    changes to the new checksum;
#  - SIGHUP (file unchanged): reload counted ok, loaded_at changes;
#  - a corrupt file, then a model of another configuration (Δ 1 s), each
#    renamed over F: error count rises, origin unchanged, /healthz ok, the
#    log says why in one line;
#  - messages keep increasing through every reload (/metrics sampled every
#    100 ms: no stall over 2 s while the stream runs);
#  - at the end every book equals the capture's (as test_live_exact).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
command -v curl >/dev/null || skip_test "curl not installed"
[ -f "$REAL" ] || skip_test "no real capture at $REAL"

bt() { "$QW_BIN" backtest --no-progress --products "$REAL_PRODUCTS" --report-json "$T/r.json" "$@" 2>>"$T/bt.log"; }
bt "$REAL" --save-model "$T/A.qwm" || die "backtest --save-model A"
head -n 6000 "$REAL" >"$T/prefix.ndjson"
bt "$T/prefix.ndjson" --save-model "$T/B.qwm" || die "backtest --save-model B"
bt "$REAL" --horizon 500ms,1s --save-config 1 --save-model "$T/H1s.qwm" || die "backtest --save-config 1"
crc() { "$PY" -c 'import sys,zlib; b=open(sys.argv[1],"rb").read(); print("%08x" % zlib.crc32(b[:-4]))' "$1"; }
crcA=$(crc "$T/A.qwm"); crcB=$(crc "$T/B.qwm")
[ "$crcA" != "$crcB" ] || die "the two models are the same"
"$PY" -c 'import sys,zlib,struct; b=open(sys.argv[1],"rb").read(); assert struct.unpack("<I",b[-4:])[0]==zlib.crc32(b[:-4])' "$T/A.qwm" \
  || die "the stored CRC is not zlib's crc32 of the content"

rc=0; bt "$REAL" --save-model "$T/x.qwm" --save-config 1 || rc=$?
[ "$rc" = 2 ] && [ ! -e "$T/x.qwm" ] || die "--save-config outside the grid: exit $rc, want 2 and no file"
# a model of another configuration is refused at start, naming the field
rc=0; "$QW_BIN" replay "$REAL" --load-model "$T/H1s.qwm" 2>"$T/rep-bad.log" || rc=$?
[ "$rc" = 1 ] && grep -q 'configuration mismatch: horizon_ms' "$T/rep-bad.log" || die "replay --load-model H1s: exit $rc"
rc=0; "$QW_BIN" live --products "$REAL_PRODUCTS" --url ws://127.0.0.1:9 --port 0 --load-model "$T/H1s.qwm" 2>"$T/live-bad.log" || rc=$?
[ "$rc" = 1 ] && grep -q 'configuration mismatch: horizon_ms' "$T/live-bad.log" || die "live --load-model H1s: exit $rc"
"$QW_BIN" replay "$REAL" --load-model "$T/A.qwm" --summary "$T/repA.json" 2>/dev/null || die "replay --load-model A"
"$QW_BIN" replay "$REAL" --summary "$T/ref.json" 2>/dev/null
cp "$T/A.qwm" "$T/F.qwm"
sport=$(free_port); hport=$(free_port)
start_sim sim --port "$sport" --speed 2x "$REAL"
wait_port "$sport"
start_live live --feed exchange --products "$REAL_PRODUCTS" --url "ws://127.0.0.1:$sport" \
  --port "$hport" --bind 127.0.0.1 --load-model "$T/F.qwm" --summary "$T/sum.json"
wait_port "$hport"
api() { curl -sf "http://127.0.0.1:$hport/api/state" >"$T/state.json" || die "/api/state"; }
# wait_origin PYTHON_EXPR SECONDS : on o = model_origin, m = the /metrics text
wait_origin() {
  "$PY" - "$hport" "$1" "$2" <<'PY' || { curl -s "http://127.0.0.1:$hport/api/state" | head -c 1500; tail -5 "$T/live.log"; die "timed out waiting for: $1"; }
import json, sys, time, urllib.request
port, expr, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
end = time.time() + secs
while time.time() < end:
    try:
        d = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/state" % port, timeout=2))
        m = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=2).read().decode()
        o = d["model_origin"]
        if eval(expr):
            print(json.dumps(o)); sys.exit(0)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}
ok_n() { echo "int([l for l in m.splitlines() if l.startswith('quotewatch_model_reloads_total{result=\"$1\"}')][0].split()[1])"; }

wait_origin "o['checksum'] == '$crcA' and o['path'] == '$T/F.qwm' and 'horizon_ms=500' in o['config'] and $(ok_n ok) == 0" 20 >"$T/o0.json"
# sample the message counter through every reload
"$PY" - "$hport" "$T/samples.txt" <<'PY' &
import sys, time, urllib.request
port, out = sys.argv[1], open(sys.argv[2], "w")
for _ in range(1200):
    try:
        m = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=2).read().decode()
        n = [l for l in m.splitlines() if l.startswith("quotewatch_messages_total ")][0].split()[1]
        out.write("%.3f %s\n" % (time.time(), n)); out.flush()
    except Exception:
        break
    time.sleep(0.1)
PY
SAMPLER=$!; PIDS+=("$SAMPLER")

cp "$T/B.qwm" "$T/F.tmp" && mv "$T/F.tmp" "$T/F.qwm"
wait_origin "o['checksum'] == '$crcB' and $(ok_n ok) == 1 and o['reloads_ok'] == 1" 10 >"$T/o1.json"
at1=$(jq_py "$T/o1.json" 'd["loaded_at"]')
sleep 0.2
kill -HUP "$LIVE_PID"
wait_origin "o['checksum'] == '$crcB' and $(ok_n ok) == 2 and o['loaded_at'] != '$at1'" 10 >"$T/o2.json"
"$PY" -c 'import sys,zlib; b=bytearray(open(sys.argv[1],"rb").read()); b[len(b)//2]^=0x40; open(sys.argv[2],"wb").write(b)' "$T/B.qwm" "$T/F.tmp"
mv "$T/F.tmp" "$T/F.qwm"
wait_origin "o['checksum'] == '$crcB' and $(ok_n error) == 1 and $(ok_n ok) == 2" 10 >/dev/null
cp "$T/H1s.qwm" "$T/F.tmp" && mv "$T/F.tmp" "$T/F.qwm"
wait_origin "o['checksum'] == '$crcB' and $(ok_n error) == 2 and $(ok_n ok) == 2" 10 >/dev/null
curl -sf "http://127.0.0.1:$hport/healthz" | grep -q ok || die "/healthz after bad files"
grep -q 'model reload failed, models unchanged: .*checksum mismatch' "$T/live.log" || die "no log line for the corrupt file"
grep -q 'model reload failed, models unchanged: .*configuration mismatch: horizon_ms: the file has 1000, this pipeline uses 500' "$T/live.log" \
  || die "no log line naming the mismatching field"

wait_status "$T/live.status" 'all(p["valid"] for p in d["products"].values())' 60
wait_quiet "$T/live.status" 60
api
"$PY" - "$T/state.json" "$T/o2.json" <<'PY' || die "origin at the end"
import json, sys
d, o2 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
o = d["model_origin"]
assert o["checksum"] == o2["checksum"] and o["loaded_at"] == o2["loaded_at"], (o, o2)
assert o["reloads_ok"] == 2 and o["reloads_error"] == 2, o
assert o["learned_since_load"] > 0, o
PY
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null || true
rc=0; stop_and_wait "$LIVE_PID" TERM || rc=$?
[ "$rc" = 0 ] || { tail -20 "$T/live.log"; die "live exited $rc"; }
same_books "$T/sum.json" "$T/ref.json" "$REAL_PRODUCTS" || die "live books differ from the capture's"
"$PY" - "$T/samples.txt" <<'PY' || die "ingest stalled"
import sys
s = [(float(t), int(n)) for t, n in (l.split() for l in open(sys.argv[1]))]
final = s[-1][1]
run = [x for x in s if x[1] < final]  # while the stream was still running
assert len(run) > 20, "too few samples while streaming: %d" % len(run)
last_t, last_n, worst = run[0][0], run[0][1], 0.0
for t, n in s:
    if n != last_n:
        worst = max(worst, t - last_t); last_t, last_n = t, n
    if n == final:
        break
print("samples %d, longest stall %.2f s, messages %d" % (len(s), worst, final))
assert worst <= 2.0, "messages stalled %.2f s" % worst
PY
stop_and_wait "$SIM_PID" TERM || true
echo "ok: reloads ok 2, errors 2, books exact"
