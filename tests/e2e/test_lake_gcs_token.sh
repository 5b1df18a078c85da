#!/usr/bin/env bash
# gs:// without HMAC keys: an OAuth access token from the metadata server.
# tests/e2e/gcs_stub.py is a loopback metadata-server stub (GCE_METADATA_HOST
# points at it, as with Google's client libraries) and a GCS XML API stub
# that accepts only "Authorization: Bearer <a live token it issued>" (401
# otherwise, also for an expired token or any x-amz-* header) and forwards to
# the loopback S3 server. Proves: one token fetched and reused, refreshed
# before expiry during a longer run (never sent expired), a token revoked
# mid-run (401) is refreshed and the request retried once, counted in
# objstore.auth_refreshes, with everything still committed; a token that
# stays refused fails after one refresh (no loop); the lake round
# trip over it (replay --lake books = the feed's), HMAC keys still go
# through SigV4 without a token, metadata server down -> one clear error at
# start, a service-account key (GOOGLE_APPLICATION_CREDENTIALS) gets its
# token by a signed JWT grant (signature and claims checked by the stub; a
# foreign key, a non-service-account file and a remote http token_uri are
# refused at start), and no token or key reaches a log or a summary.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3lib.sh"
source "$(dirname "$0")/pglib.sh"
[ -x /usr/lib/postgresql/15/bin/initdb ] || skip_test "PostgreSQL 15 is not installed"
s3_start b
pg_start
STUB_PID=
trap '[ -n "$STUB_PID" ] && kill "$STUB_PID" 2>/dev/null; s3_stop; pg_stop; rm -rf "$T"' EXIT
# a service-account key made here (RSA 2048); the stub verifies JWTs with its public half
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/sa.pem" 2>/dev/null || die "openssl genpkey"
openssl pkey -in "$T/sa.pem" -pubout -out "$T/sa.pub" 2>/dev/null
export STUB_SA_PUBKEY="$T/sa.pub" STUB_SA_EMAIL=qw-test@example.iam.gserviceaccount.com
"$PY" "$QW_ROOT/tests/e2e/gcs_stub.py" "$S3_ENDPOINT" 4 "$T/stub.json" >"$T/stub.out" 2>"$T/stub.log" &
STUB_PID=$!
for i in $(seq 50); do grep -q '^ready ' "$T/stub.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready ' "$T/stub.out" || { cat "$T/stub.log"; die "stub did not start"; }
read -r _ MPORT GPORT <"$T/stub.out"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN GCS_HMAC_ACCESS_ID GCS_HMAC_SECRET \
  AWS_ENDPOINT_URL QW_ALLOW_LOCAL_CATALOG || true
export GCE_METADATA_HOST="127.0.0.1:$MPORT" ICEBERG_CATALOG_URI="$PG_URI"
WH=gs://b/wh
EP="http://127.0.0.1:$GPORT"
stub() { jq_py "$T/stub.json" "$1"; }
revoke() { # [all=1|all=0]: the stub revokes every token issued so far
  "$PY" -c 'import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1], data=b"", method="POST"), timeout=5)' \
    "http://127.0.0.1:$MPORT/revoke${1:+?$1}"
}

# one command (ASan build): one token, reused for every request
"$QW_ASAN_BIN" lake tables --warehouse "$WH" --s3-endpoint "$EP" >"$T/t0.txt" 2>"$T/t0.log" \
  || { cat "$T/t0.log" "$T/stub.json"; die "lake tables over gs:// with a metadata token"; }
[ "$(stub 'd["fetches"]')" = 1 ] && [ "$(stub 'd["rejected"]')" = 0 ] && [ "$(stub 'd["requests"]')" -ge 1 ] \
  || { cat "$T/stub.json"; die "expected one token fetch, no rejected request"; }

# a run longer than the token's life (4 s, refreshed with 1 s left): several
# tokens, none ever sent expired (the stub would answer 401 "expired"); 2 s
# in, the stub revokes the live token: the next request gets 401, the client
# fetches a new token and retries that request once (counted), and the run
# still commits every row
"$QW_ROOT/build/gen_feed" --feed advanced --products BTC-USD,ETH-USD --levels 200 --messages 1600 \
  --seed 5 --out "$T/feed.ndjson" >/dev/null
"$QW_BIN" replay "$T/feed.ndjson" --summary "$T/ref.json" 2>/dev/null
f0=$(stub 'd["fetches"]')
t0=$SECONDS
(sleep 2; revoke) &
REV=$!
"$QW_BIN" replay --persist --warehouse "$WH" --s3-endpoint "$EP" --flush-ms 300 --speed 1x \
  "$T/feed.ndjson" --summary "$T/p.json" 2>"$T/p.log" || { tail -5 "$T/p.log"; cat "$T/stub.json"; die "replay --persist over gs://"; }
el=$((SECONDS - t0))
wait "$REV" || die "the stub did not take the revocation"
"$PY" - "$T/stub.json" "$f0" "$el" "$T/p.json" <<'PY' || { cat "$T/stub.json"; die "token refresh"; }
import json, sys
d = json.load(open(sys.argv[1])); f0, el = int(sys.argv[2]), int(sys.argv[3])
p = json.load(open(sys.argv[4]))["persistence"]
n = d["fetches"] - f0
print("run of %d s: %d token fetches, %d requests, %d rejected (%d revoked), tokens used %s; client: "
      "%d auth refreshes, %d token fetches, %d connects for %d requests"
      % (el, n, d["requests"], d["rejected"], d["revoked_rejected"], d["tokens_used"],
         p["objstore"]["auth_refreshes"], p["objstore"]["token_fetches"], p["objstore"]["connects"],
         p["objstore"]["requests"]))
assert d["revokes"] == 1
assert d["rejected"] == d["revoked_rejected"], d["reject_reasons"][:3]  # never sent expired
assert d["revoked_rejected"] >= 1, "the revoked token was not sent again: nothing tested"
assert p["objstore"]["auth_refreshes"] == d["revoked_rejected"], "401 refreshes not counted"
assert 2 <= p["objstore"]["token_fetches"] <= n  # the run's client: its first and refreshes
assert el >= 5 and n >= 2, "expected a refresh during a run longer than the token's life"
assert n <= el // 3 + 3, "tokens fetched more often than their life (and one revocation) requires"
assert d["requests"] >= 3 * n, "tokens are not reused"
assert p["errors"] == 0 and p["rows_given_up"] == 0 and p["objstore"]["failures"] == 0, p
assert 1 <= p["objstore"]["connects"] < p["objstore"]["requests"], "connections are not reused"
PY
"$QW_BIN" replay --lake --warehouse "$WH" --s3-endpoint "$EP" --summary "$T/lake.json" 2>"$T/lake.log" \
  || { tail -3 "$T/lake.log"; die "replay --lake over gs://"; }
"$PY" - "$T/ref.json" "$T/lake.json" <<'PY' || die "replay --lake over gs:// differs from the feed"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = [p for p in a["products"] if a["products"][p]["book_digest"] != b["products"][p]["book_digest"]]
sys.exit(1 if bad else 0)
PY

# HMAC keys: SigV4 to the S3 server itself, no token fetched
f1=$(stub 'd["fetches"]')
GCS_HMAC_ACCESS_ID=S3RVER GCS_HMAC_SECRET=S3RVER "$QW_BIN" lake tables --warehouse "$WH" \
  --s3-endpoint "$S3_ENDPOINT" >"$T/th.txt" 2>"$T/th.log" || { cat "$T/th.log"; die "gs:// with HMAC keys"; }
[ "$(stub 'd["fetches"]')" = "$f1" ] || die "a token was fetched although HMAC keys were set"
grep -q '^raw_orderbook ' "$T/th.txt" || { cat "$T/th.txt"; die "gs:// with HMAC keys: no tables"; }

# a token that stays refused (every token revoked as issued): the first
# request is tried, the token refreshed once, the request retried once, then
# the command fails with one clear line (no loop)
revoke all=1
f2=$(stub 'd["fetches"]'); r2=$(stub 'd["revoked_rejected"]')
if "$QW_ASAN_BIN" lake tables --warehouse "$WH" --s3-endpoint "$EP" >/dev/null 2>"$T/rev.err"; then
  die "a refused token: expected failure"
fi
revoke all=0
grep -q "access to bucket b denied (HTTP 401 AuthenticationRequired" "$T/rev.err" \
  || { cat "$T/rev.err"; die "a refused token: unclear error"; }
[ "$(( $(stub 'd["fetches"]') - f2 ))" = 2 ] && [ "$(( $(stub 'd["revoked_rejected"]') - r2 ))" = 2 ] \
  || { cat "$T/stub.json"; die "a refused token: expected 2 fetches and 2 attempts"; }

# metadata server down: one clear line at start, non-zero exit
dead=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if GCE_METADATA_HOST="127.0.0.1:$dead" "$QW_ASAN_BIN" lake tables --warehouse "$WH" --s3-endpoint "$EP" \
  >/dev/null 2>"$T/down.err"; then die "metadata server down: expected failure"; fi
grep -q "access token from the metadata server: metadata server 127.0.0.1:$dead unreachable" "$T/down.err" \
  || { cat "$T/down.err"; die "metadata server down: unclear error"; }
if GCE_METADATA_HOST="127.0.0.1:$dead" "$QW_BIN" replay --persist --warehouse "$WH" --s3-endpoint "$EP" \
  "$T/feed.ndjson" >/dev/null 2>"$T/down2.err"; then die "replay --persist: metadata server down: expected failure"; fi
grep -q "metadata server" "$T/down2.err" || { cat "$T/down2.err"; die "replay --persist: unclear error"; }

# a service-account key (GOOGLE_APPLICATION_CREDENTIALS): a JWT signed with its
# private key is exchanged at its token_uri (the stub checks the signature and
# claims); the metadata server is not asked (pointed at a dead port)
"$PY" - "$T/sa.pem" "$STUB_SA_EMAIL" "http://127.0.0.1:$MPORT/token" "$T/sa.json" <<'PY'
import json, sys
json.dump({"type": "service_account", "project_id": "p", "private_key_id": "k1",
           "private_key": open(sys.argv[1]).read(), "client_email": sys.argv[2],
           "token_uri": sys.argv[3]}, open(sys.argv[4], "w"))
PY
GOOGLE_APPLICATION_CREDENTIALS="$T/sa.json" GCE_METADATA_HOST="127.0.0.1:$dead" \
  "$QW_ASAN_BIN" lake tables --warehouse "$WH" --s3-endpoint "$EP" >"$T/tsa.txt" 2>"$T/sa.log" \
  || { cat "$T/sa.log" "$T/stub.json"; die "gs:// with a service-account key"; }
grep -q '^raw_orderbook ' "$T/tsa.txt" || { cat "$T/tsa.txt"; die "service-account key: no tables"; }
[ "$(stub 'd["jwt_fetches"]')" = 1 ] && [ "$(stub 'len(d["jwt_rejected"])')" = 0 ] \
  || { cat "$T/stub.json"; die "expected one accepted JWT grant"; }
grep -q "GCS access token from the token endpoint http://127.0.0.1:$MPORT/token" "$T/sa.log" \
  || die "the JWT token fetch is not logged"
# a different key than the one the endpoint knows: refused, one clear line, non-zero exit
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/other.pem" 2>/dev/null
"$PY" - "$T/other.pem" "$T/sa.json" "$T/sa2.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[2])); k["private_key"] = open(sys.argv[1]).read(); json.dump(k, open(sys.argv[3], "w"))
PY
if GOOGLE_APPLICATION_CREDENTIALS="$T/sa2.json" "$QW_BIN" lake tables --warehouse "$WH" --s3-endpoint "$EP" \
  >/dev/null 2>"$T/sa2.err"; then die "a key the endpoint does not know was accepted"; fi
grep -q "token endpoint http://127.0.0.1:$MPORT/token answered HTTP 400" "$T/sa2.err" \
  || { cat "$T/sa2.err"; die "wrong key: unclear error"; }
# not a service-account key / plain http to a remote host: refused at start
echo '{"type":"authorized_user"}' >"$T/bad.json"
if GOOGLE_APPLICATION_CREDENTIALS="$T/bad.json" "$QW_BIN" lake tables --warehouse "$WH" --s3-endpoint "$EP" \
  >/dev/null 2>"$T/bad.err"; then die "a non-service-account key was accepted"; fi
grep -q "expected a service-account key" "$T/bad.err" || { cat "$T/bad.err"; die "bad key file: unclear error"; }
sed "s#http://127.0.0.1:$MPORT/token#http://192.0.2.1/token#" "$T/sa.json" >"$T/sa3.json"
if GOOGLE_APPLICATION_CREDENTIALS="$T/sa3.json" "$QW_BIN" lake tables --warehouse "$WH" --s3-endpoint "$EP" \
  >/dev/null 2>"$T/sa3.err"; then die "plain http to a remote token_uri was accepted"; fi
grep -q "loopback host" "$T/sa3.err" || { cat "$T/sa3.err"; die "remote http token_uri: unclear error"; }
# no part of the private key reaches a log or an error
! grep -rq "PRIVATE KEY\|$(sed -n 2p "$T/sa.pem" | cut -c1-40)" "$T"/*.log "$T"/*.err 2>/dev/null \
  || die "the private key reached a log"

# a metadata server claiming an absurd token life (expires_in 9.2e18 s): not
# believed (at most a day; life x 1e9 ns overflowed int64 before, UB), the
# command works (ASan+UBSan build)
"$PY" "$QW_ROOT/tests/e2e/gcs_stub.py" "$S3_ENDPOINT" 9200000000000000000 "$T/stub2.json" >"$T/stub2.out" \
  2>"$T/stub2.log" &
STUB2=$!
for i in $(seq 50); do grep -q '^ready ' "$T/stub2.out" 2>/dev/null && break; sleep 0.1; done
read -r _ MPORT2 GPORT2 <"$T/stub2.out"
GCE_METADATA_HOST="127.0.0.1:$MPORT2" "$QW_ASAN_BIN" lake tables --warehouse "$WH" \
  --s3-endpoint "http://127.0.0.1:$GPORT2" --log-level info >"$T/t9.txt" 2>"$T/t9.log" \
  || { kill "$STUB2"; cat "$T/t9.log"; die "an absurd expires_in broke the command"; }
kill "$STUB2" 2>/dev/null; wait "$STUB2" 2>/dev/null || true
grep -q "GCS access token from the metadata server .*(expires in 86400 s)" "$T/t9.log" \
  || { cat "$T/t9.log"; die "an absurd token life was believed"; }

# the tokens never reach a log, an error or a summary
! grep -rq "ya29\.stub" "$T"/*.log "$T"/*.err "$T"/*.json "$T"/*.txt 2>/dev/null \
  || die "an access token reached a log or summary"
grep -q "GCS access token from the metadata server" "$T/p.log" || die "token fetches are not logged"
echo "gcs metadata token: ok"
