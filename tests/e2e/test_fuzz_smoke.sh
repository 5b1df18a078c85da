#!/usr/bin/env bash
# A short, bounded libFuzzer run per parser target on top of the corpus
# replay (the long runs are `make fuzz`). Finds crashes, UB, leaks, and
# (feed) any message we accept that jansson calls invalid JSON.
. "$(dirname "$0")/lib.sh"
for n in fuzz_feed fuzz_dec fuzz_time fuzz_frame; do
  mkdir -p "$T/$n"
  "$QW_ROOT/build/fuzz/$n" -max_total_time=15 -max_len=4096 -seed=1 "$T/$n" "$QW_ROOT/fuzz/corpus/$n" \
    > "$T/$n.log" 2>&1 || { tail -40 "$T/$n.log"; die "$n found a problem"; }
done
