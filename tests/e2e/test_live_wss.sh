#!/usr/bin/env bash
# wss:// with the client's own TLS (src/ingest/wstls.c) and framing
# (wsraw.c) against `quotewatch sim --tls-cert/--tls-key`, with a CA made
# here by openssl: exact books vs the capture over a host name (SNI and
# name check) with permessage-deflate, and without deflate on the Exchange
# feed; certificates for another name or address are refused (counted,
# clear last_error); a dropped connection (fault drop=N) over TLS recovers
# to exact books; clean stops. Live side: ASan+UBSan build.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/livelib.sh"
BIN="$QW_ASAN_BIN"; [ -x "$BIN" ] || BIN="$QW_BIN"

cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=qw-wss-ca" 2>/dev/null
cert() { # name SAN
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$2" > "$1.cnf"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 2 \
    -extfile "$1.cnf" 2>/dev/null
}
cert good "DNS:localhost,IP:127.0.0.1"
cert other "DNS:other.example,IP:10.9.8.7"
cd - >/dev/null

"$QW_BIN" replay "$REAL" --summary "$T/ref.json" 2>/dev/null

check_clean() { # name
  grep -q "ERROR: AddressSanitizer\|runtime error" "$T/$1.log" && die "$1: sanitizer report"
  return 0
}

# 1. exact books over wss://localhost (SNI + host name check), Advanced
# with permessage-deflate, then Exchange without
for run in "advanced|" "exchange|--no-deflate"; do
  IFS='|' read -r feed nd <<<"$run"
  port=$(free_port)
  # shellcheck disable=SC2086
  start_sim "sim-$feed" --port "$port" --speed max --tls-cert "$T/good.pem" --tls-key "$T/good.key" $nd "$REAL"
  wait_port "$port"
  # shellcheck disable=SC2086
  LIVE_BIN="$BIN" start_live "live-$feed" --feed "$feed" --products "$REAL_PRODUCTS" \
    --url "wss://localhost:$port" --ca-file "$T/ca.pem" --summary "$T/$feed.json" --log-level debug $nd
  wait_status "$T/live-$feed.status" 'all(p["valid"] for p in d["products"].values())' 40
  wait_quiet "$T/live-$feed.status" 30
  rc=0; stop_and_wait "$LIVE_PID" TERM || rc=$?
  [ "$rc" = 0 ] || { tail -20 "$T/live-$feed.log"; die "$feed: live exited $rc"; }
  check_clean "live-$feed"
  same_books "$T/$feed.json" "$T/ref.json" "$REAL_PRODUCTS" || die "$feed: wss books differ from the capture's"
  jq_py "$T/$feed.json" 'd["live"]["state"]' | grep -qx stopped || die "$feed: not stopped"
  [ "$(jq_py "$T/$feed.json" 'd["live"]["connects"]')" = 1 ] || die "$feed: connects != 1"
  [ "$(jq_py "$T/$feed.json" 'd["rejected"]')" = 0 ] || die "$feed: rejected messages"
  if [ -z "$nd" ]; then
    grep -q '"permessage-deflate: server_no_context_takeover' "$T/live-$feed.log" || die "$feed: deflate not agreed"
  else
    grep -q '"permessage-deflate: ' "$T/live-$feed.log" && die "$feed: deflate agreed with --no-deflate"
  fi
  stop_and_wait "$SIM_PID" TERM || true
  echo "$feed ${nd:-deflate}: exact over wss://localhost ($(jq_py "$T/$feed.json" 'd["live"]["messages"]') messages)"
done

# 2. a certificate from the trusted CA for another name / address: refused
port=$(free_port)
start_sim sim-other --port "$port" --speed max --tls-cert "$T/other.pem" --tls-key "$T/other.key" "$REAL"
wait_port "$port"
for url in "wss://localhost:$port|name" "wss://127.0.0.1:$port|ip"; do
  IFS='|' read -r u kind <<<"$url"
  LIVE_BIN="$BIN" start_live "mis-$kind" --feed exchange --products "$REAL_PRODUCTS" --url "$u" \
    --ca-file "$T/ca.pem" --summary "$T/mis-$kind.json" --duration 3 --backoff-max 0.3
  rc=0; wait "$LIVE_PID" || rc=$?
  [ "$rc" = 0 ] || die "mismatch $kind: exited $rc"
  check_clean "mis-$kind"
  err=$(jq_py "$T/mis-$kind.json" 'd["live"]["last_error"]')
  [ "$(jq_py "$T/mis-$kind.json" 'd["live"]["connects"]')" = 0 ] || die "mismatch $kind: connected"
  [ "$(jq_py "$T/mis-$kind.json" 'd["live"]["attempts"]')" -ge 2 ] || die "mismatch $kind: no retries"
  want="hostname mismatch"; [ "$kind" = ip ] && want="IP address mismatch"
  [[ "${err,,}" == "tls: certificate verify failed: ${want,,}" ]] || die "mismatch $kind: last_error '$err'"
  echo "mismatch $kind: $err ($(jq_py "$T/mis-$kind.json" 'd["live"]["attempts"]') attempts)"
done
stop_and_wait "$SIM_PID" TERM || true

# 3. fault over TLS: the simulator drops the connection after N messages
port=$(free_port)
start_sim sim-drop --port "$port" --speed max --tls-cert "$T/good.pem" --tls-key "$T/good.key" \
  --fault drop=4000 "$REAL"
wait_port "$port"
LIVE_BIN="$BIN" start_live drop --feed exchange --products "$REAL_PRODUCTS" --url "wss://127.0.0.1:$port" \
  --ca-file "$T/ca.pem" --summary "$T/drop.json" --backoff-max 0.5
wait_status "$T/drop.status" 'all(p["valid"] for p in d["products"].values()) and d["live"]["reconnects"] >= 1' 40
wait_quiet "$T/drop.status" 30
wait_status "$T/drop.status" 'all(p["valid"] for p in d["products"].values())' 20
rc=0; stop_and_wait "$LIVE_PID" TERM || rc=$?
[ "$rc" = 0 ] || die "drop: live exited $rc"
check_clean drop
same_books "$T/drop.json" "$T/ref.json" "$REAL_PRODUCTS" || die "drop: books not exact after recovery"
jq_py "$T/drop.json" 'd["live"]["disconnects"] >= 1 and d["live"]["reconnects"] >= 1' | grep -qx True \
  || die "drop: counters $(jq_py "$T/drop.json" 'd["live"]')"
echo "drop over TLS: recovered ($(jq_py "$T/drop.json" '{k: d["live"][k] for k in ("connects","reconnects","disconnects")}'))"
echo "wss: ok"
