#!/usr/bin/env bash
# Independent readers on a table our C code writes: Parquet files made by
# hyparquet-writer are registered through qw_ice_create_table + two
# qw_ice_append commits (unit test ice_e2e_table, ASan build), then avsc
# checks the manifest lists/manifests (field ids, file metadata keys, entries,
# bounds) and icebird reads the table (snapshot, files, rows, time travel).
# A tampered expectation must make the checker fail (no vacuous pass).
. "$(dirname "$0")/lib.sh"
JS="$QW_ROOT/tests/js"
[ -d "$JS/node_modules/icebird" ] || "$QW_ROOT/scripts/install-npm.sh" "$JS" >/dev/null
UT="$QW_ROOT/build/asan/test_unit"
[ -x "$UT" ] || UT="$QW_ROOT/build/test_unit"
(cd "$JS" && node iceberg_make_parquet.mjs "$T") || die "parquet fixture"
QW_ICE_E2E_DIR="$T" "$UT" ice_e2e_table > "$T/ut.log" 2>&1 || { cat "$T/ut.log"; die "C writer"; }
grep -q '^1 passed, 0 failed' "$T/ut.log" || { cat "$T/ut.log"; die "ice_e2e_table did not run"; }
(cd "$JS" && node iceberg_check.mjs "$T") || die "independent readers disagree"
# negative control: claim one more row than written
"$PY" - "$T/result.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["rows"] += 1; json.dump(d, open(p, "w"))
PY
if (cd "$JS" && node iceberg_check.mjs "$T") > "$T/neg.log" 2>&1; then
  die "checker accepted a wrong row count"
fi
echo "ok"
