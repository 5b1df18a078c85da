#!/usr/bin/env bash
# --bind means what it says, for the dashboard and the simulator alike
# (core/net.c): the dashboard (no authentication) bound to
# 127.0.0.1 — explicitly or by default without PORT — answers on loopback
# and refuses connections to this host's non-loopback address; an address
# the host does not have, or one that is not an address at all, fails at
# start with a clear error instead of listening everywhere or nowhere.
. "$(dirname "$0")/lib.sh"
head -200 "$REAL" > "$T/in.ndjson"
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# connect to host:port; prints "open" or "refused"/"error: ..."
probe() { "$PY" - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close(); print("open")
except ConnectionRefusedError: print("refused")
except OSError as e: print("error:", e)
PY
}
# 1) addresses this host does not have / that are not addresses: non-zero exit, clear error, quickly
for b in 10.255.255.1 999.1.1.1; do
  rc=0; timeout 10 "$QW_BIN" replay --dashboard --port "$(free_port)" --bind "$b" "$T/in.ndjson" 2>"$T/bad.log" || rc=$?
  [ "$rc" != 0 ] || die "--bind $b: exit 0"
  [ "$rc" != 124 ] || die "--bind $b: still running after 10 s (listening nowhere or everywhere)"
  grep -q "$b" "$T/bad.log" && grep -qi 'not an address of this host\|not an IP address' "$T/bad.log" \
    || die "--bind $b: no clear error: $(tail -2 "$T/bad.log")"
done

# 1b) the simulator's --bind, the same rule
for b in 10.255.255.1 999.1.1.1; do
  rc=0; timeout 10 "$QW_BIN" sim --synthetic --port "$(free_port)" --bind "$b" 2>"$T/simbad.log" >/dev/null || rc=$?
  [ "$rc" != 0 ] && [ "$rc" != 124 ] || die "sim --bind $b: exit $rc"
  grep -q "$b" "$T/simbad.log" && grep -qi 'not an address of this host\|not an IP address' "$T/simbad.log" \
    || die "sim --bind $b: no clear error: $(tail -2 "$T/simbad.log")"
done

# 2) loopback really is loopback
ext=""
for a in $(hostname -I 2>/dev/null); do
  case "$a" in 127.*|::1|fe80:*) ;; *:*) [ -z "$ext" ] && ext6=$a ;; *) ext=$a; break ;; esac
done
ext=${ext:-${ext6:-}}
[ -n "$ext" ] || skip "this host has no non-loopback address (hostname -I: '$(hostname -I 2>/dev/null)')"
for mode in explicit default; do
  port=$(free_port)
  if [ $mode = explicit ]; then args=(--bind 127.0.0.1); else args=(); fi
  env -u PORT "$QW_BIN" replay --dashboard --port "$port" "${args[@]}" "$T/in.ndjson" 2>"$T/d.log" & pid=$!
  for _ in $(seq 100); do [ "$(probe 127.0.0.1 "$port")" = open ] && break; sleep 0.1; done
  [ "$(probe 127.0.0.1 "$port")" = open ] || { kill $pid; die "$mode: not listening on 127.0.0.1:$port"; }
  [ "$(curl -s "http://127.0.0.1:$port/healthz")" = ok ] || { kill $pid; die "$mode: /healthz"; }
  got=$(probe "$ext" "$port")
  listen=$(ss -ltn 2>/dev/null | grep ":$port " || true)
  kill $pid; wait $pid 2>/dev/null || true
  [ "$got" = refused ] || die "$mode: $ext:$port answered '$got' although bound to loopback (ss: $listen)"
  # the simulator, bound the same way
  port=$(free_port)
  "$QW_BIN" sim --synthetic --port "$port" "${args[@]}" > /dev/null 2>"$T/s.log" & pid=$!
  for _ in $(seq 100); do [ "$(probe 127.0.0.1 "$port")" = open ] && break; sleep 0.1; done
  [ "$(probe 127.0.0.1 "$port")" = open ] || { kill $pid; die "sim $mode: not listening on 127.0.0.1:$port"; }
  got=$(probe "$ext" "$port")
  kill $pid; wait $pid 2>/dev/null || true
  [ "$got" = refused ] || die "sim $mode: $ext:$port answered '$got' although bound to loopback"
done
echo ok
