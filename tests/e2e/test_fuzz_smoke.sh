#!/usr/bin/env bash
# A short, bounded libFuzzer run per parser target on top of the corpus
# replay (the long runs are `make fuzz`). Finds crashes, UB, leaks, and
# (feed) any message we accept that jansson calls invalid JSON.
. "$(dirname "$0")/lib.sh"
for f in "$QW_ROOT"/build/fuzz/fuzz_*; do
  n=$(basename "$f")
  [ -f "$QW_ROOT/fuzz/$n.c" ] || continue   # a stale binary of a removed target
  mkdir -p "$T/$n"
  corpus=(); [ -d "$QW_ROOT/fuzz/corpus/$n" ] && corpus=("$QW_ROOT/fuzz/corpus/$n")
  "$f" -max_total_time="${QW_FUZZ_SMOKE_SECONDS:-10}" -max_len=4096 -seed=1 "$T/$n" "${corpus[@]}" \
    > "$T/$n.log" 2>&1 || { tail -40 "$T/$n.log"; die "$n found a problem"; }
done
