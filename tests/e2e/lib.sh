# Shared helpers for e2e tests (sourced). Each test script is one test:
# exit 0 = pass, 77 after "SKIPPED: reason" = cannot run here (skip), any
# other = fail. Failures print what differed. A script runs on its own
# (`bash tests/e2e/test_x.sh`) or under tests/run.sh, which sets the same
# variables.
set -euo pipefail
if [ -z "${QW_ROOT:-}" ]; then
  QW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  export QW_ROOT QW_BIN="$QW_ROOT/build/quotewatch" QW_ASAN_BIN="$QW_ROOT/build/asan/quotewatch"
  export QW_SHARED="${QW_SHARED:-$(cd "$QW_ROOT/.." && pwd)/shared}" PY="${PY:-/usr/bin/python3}"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  cd "$QW_ROOT"
  [ -x "$QW_BIN" ] || { echo "FAIL: $QW_BIN missing: run make first" >&2; exit 1; }
fi
REAL="$QW_SHARED/data/real/coinbase_exchange_ws_2021-04-17.ndjson"
REAL_ORIG="$QW_SHARED/data/real/coinbase_exchange_ws_2021-04-17.orig.cryptofeed-v1.txt"
T=$(mktemp -d /tmp/qwe2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
skip_test() { echo "SKIPPED: $*"; exit 77; }
jq_py() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
# A test that cannot run here: says why and exits 77 (automake's skip code);
# tests/run.sh lists it as skipped, never as passed. (skip is the old name.)
skip() { skip_test "$@"; }
