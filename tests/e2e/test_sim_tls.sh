#!/usr/bin/env bash
# quotewatch sim --tls-cert/--tls-key serves wss:// with a certificate made
# here by the openssl CLI (a throwaway CA + a server cert for 127.0.0.1 and
# localhost). The probe verifies the chain against that CA and gets the ack
# and snapshot; a client that does not trust the CA fails the handshake;
# mismatched TLS flags are an error. Also --speed 10x paces by feed time.
. "$(dirname "$0")/lib.sh"
cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=qw test CA" \
  -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout srv.key -out srv.csr 2>/dev/null
printf "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n" > ext.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile ext.cnf -out srv.pem 2>/dev/null
set +e
"$QW_BIN" sim --tls-cert srv.pem "$REAL" 2>e; rc=$?
set -e
[ $rc = 2 ] || die "--tls-cert without --tls-key must fail with 2 (got $rc)"
PYTHONPATH="$QW_ROOT/tests/ref" "$PY" - "$QW_BIN" "$REAL" "$T" <<'PYEOF' || die "TLS checks failed"
import json, ssl, sys, time
from ws_probe import WS, Books, Sim, Closed
binary, real, tdir = sys.argv[1:4]
fails = []
def check(c, what):
    if not c:
        fails.append(what); print("FAIL:", what, flush=True)
sim = Sim(binary, ["--tls-cert", tdir + "/srv.pem", "--tls-key", tdir + "/srv.key",
                   "--speed", "10x", real], tdir + "/sim.log")
try:
    try:
        WS(sim.url("wss"), timeout=5)
        check(False, "untrusted CA accepted")
    except ssl.SSLError:
        pass
    ws = WS(sim.url("wss"), cafile=tdir + "/ca.pem")
    ws.send_json({"type": "subscribe", "product_ids": ["SKL-USD"], "channels": ["level2_batch", "matches"]})
    B, t0, first, last = Books(), time.monotonic(), None, None
    while time.monotonic() - t0 < 6:
        try:
            m = json.loads(ws.recv_text(1))
        except TimeoutError:
            continue
        B.apply(m)
        if m.get("type") == "l2update":
            first = first or time.monotonic()
            last = time.monotonic()
    check(B.acks and B.snapshots.get("SKL-USD") == 1, f"wss ack/snapshot {B.counts}")
    check(B.counts.get("l2update", 0) > 100, f"wss updates {B.counts}")
    # 30.8 s of feed at 10x: updates spread over more than 2 s
    check(first and last and last - first > 2.0, f"--speed 10x not paced: {first} {last}")
    ws.close()
finally:
    rc, err, summ = sim.stop()
check(rc == 0 and "wss://" in err, "sim exit / listen log")
print("failures:", len(fails))
sys.exit(1 if fails else 0)
PYEOF
