#!/usr/bin/env bash
# The S3 client (src/objstore) against a real S3-compatible server on
# loopback (s3rver, SigV4 verified): the s3live_* unit tests, release and
# ASan+UBSan builds: put/get/range/head/delete of a key that needs
# percent-encoding, a listing of 1003 keys over two pages, multipart
# upload (bytes verified) and single PUT through the fileio backend, an
# aborted stream and a failed complete leave nothing, a small object
# stat'ed then read by ranges is fetched whole once (s3_cache.c),
# deferred commits upload in the background, a failed one again at sync, wrong secret -> 403
# with a clear message and no retry, missing bucket -> "does not exist";
# retries against a server that fails on purpose (s3_flaky.py).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3lib.sh"
s3_start b
export QW_TEST_S3_ENDPOINT="$S3_ENDPOINT"
for bin in build/test_unit build/asan/test_unit; do
  [ -x "$bin" ] || die "$bin missing: run make first"
  "$bin" s3live_ 120 >"$T/out" 2>&1 || { cat "$T/out"; die "$bin s3live_ failed"; }
  grep -q '^9 passed, 0 failed' "$T/out" || { cat "$T/out"; die "$bin: expected 9 passed"; }
  s3_stop; s3_start b # a fresh bucket for the next build
  export QW_TEST_S3_ENDPOINT="$S3_ENDPOINT"
done
# retries: 503 SlowDown, 429 and a dropped connection are retried and
# counted, 403 is not, 500 forever stops at the retry count or time budget
FLAKY=
flaky_start() { # a fresh server (its failure counts per key start over)
  [ -n "$FLAKY" ] && { kill "$FLAKY" 2>/dev/null; wait "$FLAKY" 2>/dev/null || true; }
  "$PY" "$QW_ROOT/tests/e2e/s3_flaky.py" >"$T/flaky.log" 2>&1 &
  FLAKY=$!
  local i
  for i in $(seq 50); do grep -q '^ready ' "$T/flaky.log" && break; sleep 0.1; done
  export QW_TEST_S3_FLAKY="http://127.0.0.1:$(awk '/^ready /{print $2}' "$T/flaky.log")"
}
trap '[ -n "$FLAKY" ] && kill $FLAKY 2>/dev/null; s3_stop; rm -rf "$T"' EXIT
for bin in build/test_unit build/asan/test_unit; do
  flaky_start
  "$bin" s3flaky_ 60 >"$T/out" 2>&1 || { cat "$T/out"; die "$bin s3flaky_ failed"; }
  grep -q '^2 passed, 0 failed' "$T/out" || { cat "$T/out"; die "$bin: expected 2 passed"; }
done
echo "objstore client: ok"
