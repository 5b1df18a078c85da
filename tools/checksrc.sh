#!/usr/bin/env bash
# checksrc.sh: house rules the compiler does not enforce (curl's checksrc).
#  - banned functions: sprintf strcpy strcat strtok atoi atof gets (src/ only)
#  - printf family to stdout only in src/app/ (usage) and core/log.c
#  - every .c opens with a purpose comment; files stay under 800 lines
#  - include direction: a module includes only modules below it
#  - app/ is argument handling: no file under src/app/ includes <jansson.h>,
#    and the commands in THIN_CMDS stay at most THIN_MAX lines
#  - no header under src/ mentions json_t except *_int.h and *_json.h
#    (jansson stays behind module-private or explicitly internal headers)
set -u
cd "$(dirname "$0")/.."
# Every command is held to THIN_MAX lines: argument handling and calls.
THIN_CMDS="src/app/cmd_*.c" # globbed: every command
THIN_MAX=250
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
  [objstore]="core objstore"
  [storage]="core avro parquet iceberg storage pipeline feed book features model objstore"
  [dashboard]="core dashboard pipeline feed book features model ingest storage objstore"
  [sim]="core feed book ingest sim"
  [research]="core feed book features model pipeline ingest research"
  [app]="core feed book features model pipeline ingest avro parquet iceberg storage objstore dashboard sim research app"
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
for f in $(find src/app -name '*.[ch]'); do
  grep -nE '#[[:space:]]*include[[:space:]]*<jansson\.h>' "$f" \
    | while read -r l; do echo "checksrc: $f:$l: jansson in app/ (formatting belongs in a module)"; done | grep . && fail=1
done
for f in $THIN_CMDS; do
  [ -f "$f" ] || { err "$f: listed in THIN_CMDS but missing"; continue; }
  n=$(wc -l < "$f")
  (( n > THIN_MAX )) && err "$f: $n lines (thin command limit $THIN_MAX)"
done
for f in $(find src -name '*.h' ! -name '*_int.h' ! -name '*_json.h'); do
  grep -nw 'json_t' "$f" | while read -r l; do echo "checksrc: $f:$l: json_t in a public header"; done | grep . && fail=1
done
exit $fail
