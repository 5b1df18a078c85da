#!/usr/bin/env bash
# The SQL catalog against a real PostgreSQL 15 started here: the same unit
# checks as SQLite (contract, CAS conflicts, 4 processes x 25 commits with
# no lost commit, password redaction), through QW_TEST_PG_URI.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pglib.sh"
trap 'pg_stop; rm -rf "$T"' EXIT
pg_start
QW_TEST_PG_URI="$PG_URI" "$QW_ROOT/build/test_unit" catalog_ > "$T/unit.log" 2>&1 || { cat "$T/unit.log"; die "catalog unit tests failed on PostgreSQL"; }
grep -E '^[0-9]+ passed, 0 failed' "$T/unit.log" || die "no result line"
# the layout is the one pyiceberg/Java use
psql "$PG_URI" -Atc "select column_name from information_schema.columns where table_name='iceberg_tables' order by ordinal_position" > "$T/cols"
diff <(printf 'catalog_name\ntable_namespace\ntable_name\nmetadata_location\nprevious_metadata_location\n') "$T/cols" \
  || die "iceberg_tables columns differ from the SqlCatalog layout"
# 8 processes creating the catalog tables at the same moment on a fresh database
psql "$PG_URI" -qc "drop table if exists iceberg_tables, iceberg_namespace_properties"
pids=()
for i in 1 2 3 4 5 6 7 8; do
  "$QW_BIN" lake tables --catalog-uri "$PG_URI" --warehouse "$T/wh$i" > "$T/race$i.log" 2>&1 & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || { cat "$T"/race*.log | grep -v '^{"time' | head; die "concurrent catalog creation failed"; }; done
echo "postgresql catalog: ok"
