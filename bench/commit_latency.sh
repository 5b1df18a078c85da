#!/usr/bin/env bash
# Average commit latency (the committer's time per commit: data files
# fsynced, manifest, list, metadata JSON, catalog CAS) and the time from
# flush start to committed, for small commits, SQLite vs PostgreSQL 15
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
  "$PY" -c "import json,sys; p=json.load(open(sys.argv[1]))['persistence']; print(f\"$cat: {p['commits']} commits, {p['commit_ms_avg']:.2f} ms average per commit (fsyncs + manifest + list + metadata + catalog swap), {p['flush_commit_ms_avg']:.2f} ms from flush start (queueing included)\")" "$T/$cat.json"
done
