#!/usr/bin/env bash
# The S3 client (src/objstore) against a real S3-compatible server on
# loopback (s3rver, SigV4 verified): the s3live_* unit tests, release and
# ASan+UBSan builds: put/get/range/head/delete of a key that needs
# percent-encoding, a listing of 1003 keys over two pages, multipart
# upload (bytes verified) and single PUT through the fileio backend, an
# aborted stream and a failed complete leave nothing, wrong secret -> 403
# with a clear message and no retry, missing bucket -> "does not exist".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3lib.sh"
s3_start b
export QW_TEST_S3_ENDPOINT="$S3_ENDPOINT"
for bin in build/test_unit build/asan/test_unit; do
  [ -x "$bin" ] || die "$bin missing: run make first"
  "$bin" s3live_ 120 >"$T/out" 2>&1 || { cat "$T/out"; die "$bin s3live_ failed"; }
  grep -q '^5 passed, 0 failed' "$T/out" || { cat "$T/out"; die "$bin: expected 5 passed"; }
  s3_stop; s3_start b # a fresh bucket for the next build
  export QW_TEST_S3_ENDPOINT="$S3_ENDPOINT"
done
echo "objstore client: ok"
