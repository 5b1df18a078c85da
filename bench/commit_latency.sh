#!/usr/bin/env bash
# Average flush+commit latency (Parquet files written and fsynced, manifest,
# list, metadata, catalog CAS) for small commits, SQLite vs PostgreSQL 15
# (a throwaway server from tests/e2e/pglib.sh). Part of make bench.
set -euo pipefail
cd "$(dirname "$0")/.."
export QW_ROOT=$PWD PY=/usr/bin/python3 QW_SHARED=${QW_SHARED:-$(cd .. && pwd)/shared}
source tests/e2e/lib.sh
source tests/e2e/pglib.sh
trap 'pg_stop; rm -rf "$T"' EXIT
pg_start
for cat in sqlite postgresql; do
  uri=""; [ $cat = postgresql ] && uri=$PG_URI
  build/quotewatch replay --persist --warehouse "$T/wh-$cat" --catalog-uri "$uri" --flush-rows 1000 \
    --log-level warn --no-progress "$REAL" --summary "$T/$cat.json"
  "$PY" -c "import json,sys; p=json.load(open(sys.argv[1]))['persistence']; print(f\"$cat: {p['commits']} commits, {p['flush_commit_ms_avg']:.2f} ms average per flush+commit\")" "$T/$cat.json"
done
