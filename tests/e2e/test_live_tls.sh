#!/usr/bin/env bash
# TLS path: the simulator serves wss:// with a certificate from a CA made
# here with openssl. The client trusts it only through --ca-file: without it
# the handshake fails certificate verification (no books, counted errors);
# with it the books are exact. Runs the ASan+UBSan binary for the live side.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"

cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=qw-test-ca" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf 2>/dev/null
cd - >/dev/null

"$QW_BIN" replay "$REAL" --summary "$T/ref.json" 2>/dev/null
port=$(free_port)
start_sim sim --port "$port" --speed max --tls-cert "$T/srv.pem" --tls-key "$T/srv.key" "$REAL"
wait_port "$port"

# 1. no --ca-file: the system store does not know this CA -> refused
start_live untrusted --feed exchange --products "$REAL_PRODUCTS" --url "wss://127.0.0.1:$port" \
  --summary "$T/untrusted.json" --duration 3
rc=0; wait "$LIVE_PID" || rc=$?
[ "$rc" = 0 ] || die "untrusted run exited $rc"
[ "$(jq_py "$T/untrusted.json" 'd["live"]["connects"]')" = 0 ] || die "connected without trusting the CA"
[ "$(jq_py "$T/untrusted.json" 'd["live"]["attempts"]')" -ge 1 ] || die "no connection attempt"
echo "untrusted: $(jq_py "$T/untrusted.json" 'd["live"]["last_error"]')"

# 2. --ca-file: exact books over TLS (ASan+UBSan build)
LIVE_BIN="$QW_ASAN_BIN" start_live trusted --feed advanced --products "$REAL_PRODUCTS" \
  --url "wss://127.0.0.1:$port" --ca-file "$T/ca.pem" --summary "$T/trusted.json"
wait_status "$T/trusted.status" 'all(p["valid"] for p in d["products"].values())' 40
wait_quiet "$T/trusted.status" 30
rc=0; stop_and_wait "$LIVE_PID" INT || rc=$?
[ "$rc" = 0 ] || { tail -30 "$T/trusted.log"; die "trusted ASan run exited $rc"; }
grep -q "ERROR: AddressSanitizer\|runtime error" "$T/trusted.log" && die "sanitizer report"
same_books "$T/trusted.json" "$T/ref.json" "$REAL_PRODUCTS" || die "TLS books differ"
stop_and_wait "$SIM_PID" TERM || true
echo "tls: ok"
