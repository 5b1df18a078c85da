# Shared helpers for e2e tests (sourced). Each test script is one test:
# exit 0 = pass. Failures print what differed.
set -euo pipefail
: "${QW_ROOT:?run through tests/run.sh}"
REAL="$QW_SHARED/data/real/coinbase_exchange_ws_2021-04-17.ndjson"
REAL_ORIG="$QW_SHARED/data/real/coinbase_exchange_ws_2021-04-17.orig.cryptofeed-v1.txt"
T=$(mktemp -d /tmp/qwe2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
jq_py() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
# A test that cannot run here: says why and exits 77 (automake's skip code);
# tests/run.sh lists it as skipped, never as passed.
skip() { echo "SKIPPED: $*"; exit 77; }
