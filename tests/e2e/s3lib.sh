# s3lib.sh (sourced after lib.sh): a throwaway S3-compatible server on
# loopback (tests/js/s3_server.mjs: @20minutes/s3rver, SigV4 verified, key
# and secret S3RVER/S3RVER).
#   s3_start BUCKET... -> sets S3_ENDPOINT (http://127.0.0.1:PORT), S3_DIR
#   s3_stop            -> stops it (also from the EXIT trap)
# node runs with --openssl-legacy-provider: s3rver ciphers its
# ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in the
# legacy provider (without it every truncated listing is a 500).
s3_start() {
  command -v node >/dev/null || skip_test "node is not installed"
  local js="$QW_ROOT/tests/js"
  [ -d "$js/node_modules/@20minutes/s3rver" ] || "$QW_ROOT/scripts/install-npm.sh" tests/js >/dev/null
  [ -d "$js/node_modules/@20minutes/s3rver" ] || die "s3rver missing (scripts/install-npm.sh tests/js)"
  S3_DIR=$(mktemp -d /tmp/qws3.XXXXXX)
  (cd "$js" && exec node --openssl-legacy-provider s3_server.mjs 0 "$S3_DIR/data" "$@") \
    >"$S3_DIR/server.log" 2>&1 &
  S3_PID=$!
  local i
  for i in $(seq 100); do
    grep -q '^ready ' "$S3_DIR/server.log" 2>/dev/null && break
    kill -0 "$S3_PID" 2>/dev/null || { cat "$S3_DIR/server.log"; die "s3 server exited"; }
    sleep 0.1
  done
  grep -q '^ready ' "$S3_DIR/server.log" || { cat "$S3_DIR/server.log"; die "s3 server did not start"; }
  S3_ENDPOINT="http://127.0.0.1:$(awk '/^ready /{print $2}' "$S3_DIR/server.log")"
  export S3_ENDPOINT
  trap 's3_stop; rm -rf "$T"' EXIT
}
s3_stop() {
  [ -n "${S3_PID:-}" ] && { kill "$S3_PID" 2>/dev/null; wait "$S3_PID" 2>/dev/null || true; }
  S3_PID=
  [ -n "${S3_DIR:-}" ] && rm -rf "$S3_DIR"
  S3_DIR=
}
