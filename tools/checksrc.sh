#!/usr/bin/env bash
# checksrc.sh: house rules the compiler does not enforce (curl's checksrc).
#  - banned functions: sprintf strcpy strcat strtok atoi atof gets (src/ only)
#  - printf family to stdout only in src/app/ (usage) and core/log.c
#  - every .c opens with a purpose comment; files stay under 800 lines
#  - include direction: a module includes only modules below it
set -u
cd "$(dirname "$0")/.."
fail=0
err() { echo "checksrc: $*"; fail=1; }

for f in $(find src -name '*.[ch]'); do
  grep -nE '\b(sprintf|strcpy|strcat|strtok|atoi|atof|gets)\s*\(' "$f" | grep -v 'snprintf\|vsnprintf' \
    | while read -r l; do echo "checksrc: $f:$l: banned function"; done | grep . && fail=1
  case "$f" in
    src/app/*|src/core/log.c) ;;
    *) grep -nE '(^|[^a-z_])printf\s*\(|\bputs\s*\(' "$f" | while read -r l; do echo "checksrc: $f:$l: printf outside app/ and log"; done | grep . && fail=1 ;;
  esac
  n=$(wc -l < "$f")
  (( n > 800 )) && err "$f: $n lines (limit 800)"
  case "$f" in *.c) head -1 "$f" | grep -q '^/\*' || err "$f: must open with a purpose comment" ;; esac
done

# Allowed dependencies per module (ARCHITECTURE.md section 2).
declare -A allow=(
  [core]="core"
  [feed]="core feed"
  [book]="core book"
  [features]="core book features"
  [model]="core model"
  [pipeline]="core feed book features model pipeline"
  [ingest]="core feed ingest pipeline"
  [parquet]="core parquet"
  [avro]="core avro"
  [iceberg]="core avro parquet iceberg"
  [storage]="core avro parquet iceberg storage pipeline feed book features model"
  [dashboard]="core dashboard pipeline feed book features model ingest storage"
  [sim]="core feed book ingest sim"
  [app]="core feed book features model pipeline ingest avro parquet iceberg storage dashboard sim app"
)
for f in $(find src -name '*.[ch]'); do
  mod=$(echo "$f" | cut -d/ -f2)
  for inc in $(grep -oE '#include "[a-z_]+/' "$f" | sed 's/#include "//; s|/||'); do
    [[ " ${allow[$mod]:-} " == *" $inc "* ]] || err "$f includes $inc/ (not allowed for $mod/)"
  done
  if [[ "$f" != src/"$mod"/* ]]; then :; fi
  grep -qE '#include "[a-z_]+/[a-z_]+_int\.h"' "$f" && \
    grep -oE '#include "[a-z_]+/[a-z_]+_int\.h"' "$f" | grep -qv "\"$mod/" && err "$f: includes another module's _int.h"
done
exit $fail
