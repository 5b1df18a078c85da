#!/usr/bin/env bash
# gs:// without HMAC keys: an OAuth access token from the metadata server.
# tests/e2e/gcs_stub.py is a loopback metadata-server stub (GCE_METADATA_HOST
# points at it, as with Google's client libraries) and a GCS XML API stub
# that accepts only "Authorization: Bearer <a live token it issued>" (401
# otherwise, also for an expired token or any x-amz-* header) and forwards to
# the loopback S3 server. Proves: one token fetched and reused, refreshed
# before expiry during a longer run (never sent expired), the lake round
# trip over it (replay --lake books = the feed's), HMAC keys still go
# through SigV4 without a token, metadata server down -> one clear error at
# start, and the token never reaches a log or a summary.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3lib.sh"
source "$(dirname "$0")/pglib.sh"
[ -x /usr/lib/postgresql/15/bin/initdb ] || skip_test "PostgreSQL 15 is not installed"
s3_start b
pg_start
STUB_PID=
trap '[ -n "$STUB_PID" ] && kill "$STUB_PID" 2>/dev/null; s3_stop; pg_stop; rm -rf "$T"' EXIT
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

# one command (ASan build): one token, reused for every request
"$QW_ASAN_BIN" lake tables --warehouse "$WH" --s3-endpoint "$EP" >"$T/t0.txt" 2>"$T/t0.log" \
  || { cat "$T/t0.log" "$T/stub.json"; die "lake tables over gs:// with a metadata token"; }
[ "$(stub 'd["fetches"]')" = 1 ] && [ "$(stub 'd["rejected"]')" = 0 ] && [ "$(stub 'd["requests"]')" -ge 1 ] \
  || { cat "$T/stub.json"; die "expected one token fetch, no rejected request"; }

# a run longer than the token's life (4 s, refreshed with 1 s left): several
# tokens, none ever sent expired (the stub would answer 401 and the run fail)
"$QW_ROOT/build/gen_feed" --feed advanced --products BTC-USD,ETH-USD --levels 200 --messages 1600 \
  --seed 5 --out "$T/feed.ndjson" >/dev/null
"$QW_BIN" replay "$T/feed.ndjson" --summary "$T/ref.json" 2>/dev/null
f0=$(stub 'd["fetches"]')
t0=$SECONDS
"$QW_BIN" replay --persist --warehouse "$WH" --s3-endpoint "$EP" --flush-ms 300 --speed 1x \
  "$T/feed.ndjson" --summary "$T/p.json" 2>"$T/p.log" || { tail -5 "$T/p.log"; cat "$T/stub.json"; die "replay --persist over gs://"; }
el=$((SECONDS - t0))
"$PY" - "$T/stub.json" "$f0" "$el" <<'PY' || die "token refresh"
import json, sys
d = json.load(open(sys.argv[1])); f0, el = int(sys.argv[2]), int(sys.argv[3])
n = d["fetches"] - f0
print("run of %d s: %d token fetches, %d requests, %d rejected, tokens used %s" % (el, n, d["requests"], d["rejected"], d["tokens_used"]))
assert d["rejected"] == 0, d["reject_reasons"][:3]
assert el >= 5 and n >= 2, "expected a refresh during a run longer than the token's life"
assert n <= el // 3 + 2, "tokens fetched more often than their life requires"
assert d["requests"] >= 3 * n, "tokens are not reused"
PY
[ "$(jq_py "$T/p.json" 'd["persistence"]["errors"]')" = 0 ] || die "persistence errors"
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

# metadata server down: one clear line at start, non-zero exit
dead=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if GCE_METADATA_HOST="127.0.0.1:$dead" "$QW_ASAN_BIN" lake tables --warehouse "$WH" --s3-endpoint "$EP" \
  >/dev/null 2>"$T/down.err"; then die "metadata server down: expected failure"; fi
grep -q "access token from the metadata server: metadata server 127.0.0.1:$dead unreachable" "$T/down.err" \
  || { cat "$T/down.err"; die "metadata server down: unclear error"; }
if GCE_METADATA_HOST="127.0.0.1:$dead" "$QW_BIN" replay --persist --warehouse "$WH" --s3-endpoint "$EP" \
  "$T/feed.ndjson" >/dev/null 2>"$T/down2.err"; then die "replay --persist: metadata server down: expected failure"; fi
grep -q "metadata server" "$T/down2.err" || { cat "$T/down2.err"; die "replay --persist: unclear error"; }

# the tokens never reach a log, an error or a summary
! grep -rq "ya29\.stub" "$T"/*.log "$T"/*.err "$T"/*.json "$T"/*.txt 2>/dev/null \
  || die "an access token reached a log or summary"
grep -q "GCS access token from the metadata server" "$T/p.log" || die "token fetches are not logged"
echo "gcs metadata token: ok"
