#!/usr/bin/env bash
# bench/lake_upkeep.sh: what lake upkeep buys, vs the number of commits.
# For each pacing of the real capture through `replay --persist --flush-ms 1`
# (more commits at slower speeds), raw_orderbook's current metadata.json size,
# data files and scan-planning time (`lake scan --limit 1`: metadata, list,
# manifests, one data file; best of 3), and the writer's commit latency, are
# measured:
#   none      no expire, no compaction (manifest merge on commit is on: default)
#   after     then `lake expire --older-than 0 --retain-last 1` + `lake compact`
#   maintain  a fresh run with `--maintain 2` (expire by table property, so
#             only compaction acts within the run), measured after it
# Prints a Markdown table (docs/PERFORMANCE.md "Lake upkeep").
# Usage: bench/lake_upkeep.sh [SPEEDS...]   (default: 20x 5x 2x)
set -euo pipefail
cd "$(dirname "$0")/.."
QW=${QW_BIN:-build/quotewatch}
REAL=${REAL:-${QW_SHARED:-../shared}/data/real/coinbase_exchange_ws_2021-04-17.ndjson}
[ -x "$QW" ] && [ -f "$REAL" ] || { echo "need $QW and $REAL" >&2; exit 1; }
W=$(mktemp -d /dev/shm/qwbench.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$W"' EXIT
speeds=("$@"); (( ${#speeds[@]} )) || speeds=(20x 5x 2x)

ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
plan_ms() { # best of 3
  local best=999999 i v
  for i in 1 2 3; do v=$(ms "$QW" lake scan raw_orderbook --limit 1 --warehouse "$1"); (( v < best )) && best=$v; done
  echo "$best"
}
meta() { ls "$1/quotewatch/raw_orderbook/metadata/"*.metadata.json | sort | tail -1 | xargs stat -c %s; }
files() { "$QW" lake tables --warehouse "$1" | awk '$1 == "raw_orderbook" {print $7}'; }
snaps() { "$QW" lake tables --warehouse "$1" | awk '$1 == "raw_orderbook" {print $3}'; }
lat() { "${PY:-python3}" -c "import json,sys; p=json.load(open(sys.argv[1]))['persistence']; print('%d %.2f %.2f' % (p['commits'], p['commit_ms_avg'], p['flush_commit_ms_avg']))" "$1"; }

echo "| speed | commits | mode | snapshots | metadata.json bytes | data files | scan planning ms | commit ms avg (work / flush-to-commit) |"
echo "|---|---|---|---|---|---|---|---|"
for sp in "${speeds[@]}"; do
  wh="$W/n$sp"
  "$QW" replay --persist --warehouse "$wh" --flush-ms 1 --speed "$sp" "$REAL" --summary "$W/s.json" >/dev/null 2>&1
  read -r c work f2c < <(lat "$W/s.json")
  echo "| $sp | $c | none | $(snaps "$wh") | $(meta "$wh") | $(files "$wh") | $(plan_ms "$wh") | $work / $f2c |"
  sleep 6 # past the commit-lease skew margin: the replaced files may go
  "$QW" lake compact --warehouse "$wh" >/dev/null
  "$QW" lake expire --warehouse "$wh" --older-than 0 --retain-last 1 >/dev/null
  echo "| $sp | $c | after expire + compact | $(snaps "$wh") | $(meta "$wh") | $(files "$wh") | $(plan_ms "$wh") | |"
  wh="$W/m$sp"
  "$QW" replay --persist --maintain 2 --warehouse "$wh" --flush-ms 1 --speed "$sp" "$REAL" --summary "$W/s.json" >/dev/null 2>&1
  read -r c work f2c < <(lat "$W/s.json")
  echo "| $sp | $c | --maintain 2 | $(snaps "$wh") | $(meta "$wh") | $(files "$wh") | $(plan_ms "$wh") | $work / $f2c |"
done
