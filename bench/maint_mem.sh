#!/usr/bin/env bash
# bench/maint_mem.sh [PRODUCTS] [MESSAGES]: peak RSS (/usr/bin/time -f %M)
# of `replay --persist` of a generated feed of PRODUCTS products (default
# 32) with and without `--maintain 2 --maintain-expire-age 20` (issue 17
# item 10: the memory of a --maintain round; docs/PERFORMANCE.md "Lake
# upkeep"). Many partitions make each compaction commit replace hundreds of
# files out of manifests of thousands of entries. Part of no test.
set -euo pipefail
cd "$(dirname "$0")/.."
NP=${1:-32}
MSGS=${2:-100000}
QW=${QW_BIN:-build/quotewatch}
W=$(mktemp -d /tmp/qwmaintmem.XXXXXX)
trap 'rm -rf "$W"' EXIT
prods=$(/usr/bin/python3 -c "print(','.join(f'P{i:02d}-USD' for i in range($NP)))")
build/gen_feed --feed advanced --products "$prods" --levels 200 --messages "$MSGS" --seed 7 \
  --gap-us 2000 --out "$W/feed.ndjson" >/dev/null
run() { # LABEL ARGS...: one line "LABEL peak_kib P seconds S commits C maint_runs R compacted F"
  local label=$1; shift
  rm -rf "$W/wh"
  /usr/bin/time -f "%M %e" -o "$W/time" "$QW" replay --persist --warehouse "$W/wh" --flush-ms 200 \
    --speed 4x "$W/feed.ndjson" --summary "$W/s.json" "$@" >/dev/null 2>"$W/log"
  /usr/bin/python3 - "$label" "$W/time" "$W/s.json" <<'PY'
import json, sys
kib, sec = open(sys.argv[2]).read().split()[:2]
p = json.load(open(sys.argv[3]))["persistence"]
print(sys.argv[1], "peak_kib", kib, "seconds", sec, "commits", p["commits"], "maint_runs",
      p["maintenance_runs"], "compacted", p["maintenance_files_compacted"], "expired",
      p["maintenance_snapshots_expired"], "errors", p["errors"] + p["maintenance_errors"])
PY
}
run none
run maintain --maintain 2 --maintain-expire-age 20
