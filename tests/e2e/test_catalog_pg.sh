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
psql "$PG_URI" -qc "drop table if exists iceberg_tables, iceberg_namespace_properties, quotewatch_commit_leases"
pids=()
for i in 1 2 3 4 5 6 7 8; do
  "$QW_BIN" lake tables --catalog-uri "$PG_URI" --warehouse "$T/wh$i" > "$T/race$i.log" 2>&1 & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || { cat "$T"/race*.log | grep -v '^{"time' | head; die "concurrent catalog creation failed"; }; done
echo "postgresql catalog: ok"
# pyiceberg's SQLAlchemy form of the same database works; other schemes are
# refused at start with the accepted forms named, and no password leaks
SA_URI="postgresql+psycopg2://qw:secretpw@127.0.0.1:$PG_PORT/qw"
"$QW_BIN" replay "$REAL" --persist --catalog-uri "$SA_URI" --warehouse "$T/wh-sa" --summary "$T/sa.json" \
  > "$T/sa.out" 2> "$T/sa.log" || { tail "$T/sa.log"; die "postgresql+psycopg2:// catalog URI refused"; }
"$QW_BIN" lake tables --catalog-uri "$SA_URI" --warehouse "$T/wh-sa" > "$T/sa-tables.txt" 2>>"$T/sa.log" \
  || die "lake tables through postgresql+psycopg2://"
grep -q raw_orderbook "$T/sa-tables.txt" || die "tables missing through postgresql+psycopg2://"
rc=0; "$QW_BIN" replay "$REAL" --persist --catalog-uri "mysql+pymysql://u:secretpw@127.0.0.1/db" \
  --warehouse "$T/wh-my" > "$T/my.out" 2> "$T/my.log" || rc=$?
[ "$rc" != 0 ] || die "a mysql:// catalog URI must be refused"
grep -q "scheme 'mysql+pymysql' is not supported" "$T/my.log" || { cat "$T/my.log"; die "no clear error for mysql://"; }
! grep -q secretpw "$T/my.log" "$T/my.out" "$T/sa.log" "$T/sa.json" || die "a password reached the output"
echo "catalog URI forms: ok"
