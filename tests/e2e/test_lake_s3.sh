#!/usr/bin/env bash
# The lake on an object store: replay --persist of the capture into
# s3://b/wh (a real S3-compatible server on loopback, SigV4 verified;
# PostgreSQL 15 catalog) gives the same tables, `lake scan` rows and
# `replay --lake` books and models as the same run into a file:// lake,
# and `backtest --lake` the metrics and model of `backtest` on the file;
# a `replay --persist --maintain` run compacts its s3:// tables as it goes
# and still replays to the capture's books;
# a missing bucket, a wrong secret and a SQLite or missing catalog exit
# non-zero with one clear line; the secret never reaches a log.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/s3lib.sh"
source "$(dirname "$0")/pglib.sh"
[ -x /usr/lib/postgresql/15/bin/initdb ] || skip_test "PostgreSQL 15 is not installed"
s3_start b
pg_start
trap 's3_stop; pg_stop; rm -rf "$T"' EXIT
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL="$S3_ENDPOINT"
unset AWS_SESSION_TOKEN QW_ALLOW_LOCAL_CATALOG || true
WH=s3://b/wh/
LOCAL="$T/wh"
compare() { # A.json B.json: books (digest) and models equal
  "$PY" - "$@" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = 0
for p in sorted(a["products"]):
    pa, pb = a["products"][p], b["products"].get(p)
    if pb is None:
        print("missing", p); bad += 1; continue
    for k in ("book_digest", "bid_levels", "ask_levels", "book_updates", "snapshots"):
        if pa[k] != pb[k]: print(p, k, pa[k], pb[k]); bad += 1
    for k in ("labeled", "positives", "predictions", "coef", "intercept", "scaler_mean", "scaler_var"):
        if pa["model"][k] != pb["model"][k]: print(p, "model", k); bad += 1
sys.exit(1 if bad else 0)
PY
}

"$QW_BIN" replay "$REAL" --summary "$T/ref.json" 2>/dev/null
# the same run into a file:// lake (SQLite catalog in the warehouse)
"$QW_BIN" replay --persist --warehouse "$LOCAL" --flush-rows 4000 "$REAL" --summary "$T/l1.json" 2>/dev/null \
  || die "replay --persist into file:// failed"
"$QW_BIN" replay --persist --warehouse "$WH" --catalog-uri "$PG_URI" --flush-rows 4000 "$REAL" \
  --summary "$T/p1.json" 2>"$T/p1.log" || { cat "$T/p1.log"; die "replay --persist into s3:// failed"; }
for t in raw_orderbook raw_trades features labels; do
  [ "$(jq_py "$T/p1.json" "d['persistence']['rows_written']['$t']")" = \
    "$(jq_py "$T/l1.json" "d['persistence']['rows_written']['$t']")" ] || die "rows_written $t differ"
done
[ "$(jq_py "$T/p1.json" 'd["persistence"]["errors"]')" = 0 ] || die "persistence errors"

# a stray object put by another client (curl, SigV4) for clean-orphans below
stray=quotewatch/raw_trades/data/stray.parquet
curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER -X PUT --data-binary x \
  -H "x-amz-content-sha256: $(printf x | sha256sum | cut -d' ' -f1)" "$S3_ENDPOINT/b/wh/$stray" \
  || die "curl PUT of a stray object"
put_at=$SECONDS

# lake tables: same records per table; locations are object URIs
"$QW_BIN" lake tables --warehouse "$WH" --catalog-uri "$PG_URI" >"$T/tables.txt" || die "lake tables"
grep -qE '^raw_orderbook +snapshots [0-9]+ +records 18081 .* s3://b/wh/quotewatch/raw_orderbook/metadata/' "$T/tables.txt" \
  && grep -qE '^raw_trades +snapshots 1 +records 107 ' "$T/tables.txt" || { cat "$T/tables.txt"; die "lake tables"; }
"$QW_BIN" lake tables --warehouse "$LOCAL" >"$T/ltables.txt"
norm() { awk '/^(raw_|features|labels)/{print $1, $5}' "$1"; }
[ "$(norm "$T/tables.txt")" = "$(norm "$T/ltables.txt")" ] || die "lake tables differ from file://"
# version-hint.text (coalesced while commits queue up, written at close):
# every table's names its current metadata file
for t in raw_orderbook raw_trades features labels; do
  hint=$(curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER \
    -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" \
    "$S3_ENDPOINT/b/wh/quotewatch/$t/metadata/version-hint.text") || die "GET $t version-hint.text"
  grep -qE "^$t .*/$t/metadata/$hint\.metadata\.json" "$T/tables.txt" \
    || { cat "$T/tables.txt"; die "$t: version-hint.text ($hint) is not the current metadata"; }
done

# lake scan: the same rows as from the file:// lake (ASan build for one);
# run_id is per run
norun() { sed 's/,"run_id":"[^"]*"//' | sort; }
"$QW_ASAN_BIN" lake scan raw_trades --warehouse "$WH" --catalog-uri "$PG_URI" --limit 0 | norun >"$T/scan.ndjson" \
  || die "lake scan (asan)"
"$QW_BIN" lake scan raw_trades --warehouse "$LOCAL" --limit 0 | norun >"$T/lscan.ndjson"
[ "$(wc -l <"$T/scan.ndjson")" = 107 ] || die "lake scan: $(wc -l <"$T/scan.ndjson") trade rows, expected 107"
cmp -s "$T/scan.ndjson" "$T/lscan.ndjson" || { diff "$T/scan.ndjson" "$T/lscan.ndjson" | head -5; die "lake scan differs from file://"; }
"$QW_BIN" lake scan raw_orderbook --warehouse "$WH" --catalog-uri "$PG_URI" --products NU-GBP --limit 0 | norun >"$T/ob.ndjson"
"$QW_BIN" lake scan raw_orderbook --warehouse "$LOCAL" --products NU-GBP --limit 0 | norun >"$T/lob.ndjson"
[ -s "$T/ob.ndjson" ] && cmp -s "$T/ob.ndjson" "$T/lob.ndjson" || die "lake scan raw_orderbook differs from file://"

# replay --lake: the capture's books and models, as from file://
"$QW_BIN" replay --lake --warehouse "$WH" --catalog-uri "$PG_URI" --summary "$T/lake.json" 2>"$T/lake.log" \
  || { cat "$T/lake.log"; die "replay --lake over s3:// failed"; }
compare "$T/ref.json" "$T/lake.json" || die "replay --lake over s3:// differs from the capture replay"
"$QW_BIN" replay --lake --warehouse "$LOCAL" --summary "$T/llake.json" 2>/dev/null
compare "$T/llake.json" "$T/lake.json" || die "replay --lake differs between s3:// and file://"
# requests of a lake replay: the sizes come from the manifests (no HEAD of a
# data file), the scan reads a writer's file's footer and the merge the whole
# file: at most two GETs per data file (was two HEADs and two whole GETs)
"$QW_BIN" replay --lake --warehouse "$WH" --catalog-uri "$PG_URI" --log-level debug \
  --summary /dev/null >/dev/null 2>"$T/lakedbg.log" || die "replay --lake (debug)"
heads=$(grep -c '"HEAD b/wh/quotewatch/[a-z_]*/data/' "$T/lakedbg.log" || true)
gets=$(grep -c '"GET b/wh/quotewatch/[a-z_]*/data/' "$T/lakedbg.log" || true)
objs=$(grep -o '"GET b/wh/quotewatch/[a-z_]*/data/[^:]*' "$T/lakedbg.log" | sort -u | wc -l)
echo "replay --lake: $gets GETs of $objs data files, $heads HEADs"
(( objs > 0 && heads == 0 && gets <= 2 * objs )) || die "replay --lake requests: $gets GETs of $objs files, $heads HEADs"

# --maintain on s3://: a replay whose writer compacts and expires its own
# tables as it goes (a round a second, small files, its own catalog
# database): rounds run, none fails, files are compacted, and the lake then
# replays to the capture's books
psql -h 127.0.0.1 -p "$PG_PORT" -U qw -d postgres -qc 'CREATE DATABASE maint' >/dev/null \
  || die "CREATE DATABASE maint"
MCAT="postgresql://qw@127.0.0.1:$PG_PORT/maint"
"$QW_BIN" replay --persist --warehouse s3://b/wm/ --catalog-uri "$MCAT" --flush-rows 500 --maintain 1 \
  --maintain-expire-age 1s --maintain-target-size 200000 --speed 10 "$REAL" --summary "$T/m.json" \
  2>"$T/m.log" || { tail -5 "$T/m.log"; die "replay --persist --maintain into s3:// failed"; }
"$PY" - "$T/m.json" <<'PY' || die "--maintain over s3://"
import json, sys
p = json.load(open(sys.argv[1]))["persistence"]
m = {k: v for k, v in p.items() if k.startswith("maintenance")}
print("--maintain over s3://:", m)
assert p["maintenance_runs"] >= 1 and p["maintenance_errors"] == 0, m
assert p["maintenance_files_compacted"] > 0, m
PY
"$QW_BIN" replay --lake --warehouse s3://b/wm/ --catalog-uri "$MCAT" --summary "$T/mlake.json" 2>"$T/ml.log" \
  || { cat "$T/ml.log"; die "replay --lake after --maintain over s3:// failed"; }
compare "$T/ref.json" "$T/mlake.json" || die "replay --lake after --maintain over s3:// differs from the capture"

# backtest --lake over s3://: every configuration's metrics and the saved
# model equal to `backtest` on the capture file (test_backtest_lake.sh does
# the same over file://)
bt=(--horizon 500ms,1s --no-progress --save-config 1)
"$QW_BIN" backtest "${bt[@]}" "$REAL" --report-json "$T/btf.json" --save-model "$T/btf.qwm" 2>/dev/null \
  || die "backtest FILE failed"
"$QW_BIN" backtest "${bt[@]}" --lake --warehouse "$WH" --catalog-uri "$PG_URI" --report-json "$T/btl.json" \
  --save-model "$T/btl.qwm" 2>"$T/btl.log" || { cat "$T/btl.log"; die "backtest --lake over s3:// failed"; }
"$PY" - "$T/btf.json" "$T/btl.json" <<'PY' || die "backtest --lake over s3:// differs from backtest FILE"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert len(a["configs"]) == len(b["configs"]) == 2, (len(a["configs"]), len(b["configs"]))
assert a["configs"][0]["scored"] > 1000, a["configs"][0]["scored"]
assert a["configs"] == b["configs"], "metrics differ"
PY
cmp -s "$T/btf.qwm" "$T/btl.qwm" || die "backtest --save-model differs between the file and s3://"

# clean-orphans over the bucket (prefix listing, HEAD for ages, DELETE): the
# stray object is found, then removed
sleep $(( put_at + 7 - SECONDS > 0 ? put_at + 7 - SECONDS : 0 )) # orphans younger than 5 s are kept
"$QW_BIN" lake clean-orphans --dry-run --older-than 0 --warehouse "$WH" --catalog-uri "$PG_URI" >"$T/orph.txt" 2>"$T/orph.log" \
  || { cat "$T/orph.log"; die "lake clean-orphans over s3://"; }
[ "$(grep -c '^orphan' "$T/orph.txt")" = 1 ] && grep -q "^orphan s3://b/wh/$stray" "$T/orph.txt" \
  || { cat "$T/orph.txt"; die "clean-orphans --dry-run: expected exactly the stray object"; }
"$QW_BIN" lake clean-orphans --older-than 0 --warehouse "$WH" --catalog-uri "$PG_URI" >"$T/orph2.txt" 2>"$T/orph2.log" \
  || { cat "$T/orph2.log"; die "lake clean-orphans over s3://"; }
grep -q "^removed s3://b/wh/$stray" "$T/orph2.txt" || { cat "$T/orph2.txt"; die "stray object not removed"; }
"$QW_BIN" lake clean-orphans --dry-run --older-than 0 --warehouse "$WH" --catalog-uri "$PG_URI" 2>/dev/null \
  | grep -q '^orphan' && die "stray object still listed after removal"

# gs:// goes through the same client (GCS XML API path-style, HMAC keys from
# GCS_HMAC_*; the endpoint override points it at the test server)
AWS_ACCESS_KEY_ID=nobody AWS_SECRET_ACCESS_KEY=wrong-secret-xyz GCS_HMAC_ACCESS_ID=S3RVER GCS_HMAC_SECRET=S3RVER \
  "$QW_BIN" lake tables --warehouse gs://b/wh --catalog-uri "$PG_URI" >"$T/gtables.txt" 2>"$T/g.log" \
  || { cat "$T/g.log"; die "gs:// with HMAC keys"; }
[ "$(norm "$T/gtables.txt")" = "$(norm "$T/tables.txt")" ] || die "lake tables over gs:// differ"

# clear failures, non-zero exit
fails() { # EXPECTED-TEXT cmd...: exits non-zero and says EXPECTED-TEXT on stderr
  local want=$1; shift
  if "$@" >"$T/f.out" 2>"$T/f.err"; then die "expected failure: $*"; fi
  grep -q "$want" "$T/f.err" || { cat "$T/f.err"; die "no '$want' in the error of: $*"; }
}
fails "bucket nob does not exist" "$QW_BIN" lake tables --warehouse s3://nob/wh --catalog-uri "$PG_URI"
fails "bucket nob does not exist" "$QW_BIN" replay --persist --warehouse s3://nob/wh --catalog-uri "$PG_URI" "$REAL"
AWS_SECRET_ACCESS_KEY=wrong-secret-xyz fails "access to bucket b denied" \
  "$QW_BIN" replay --persist --warehouse "$WH" --catalog-uri "$PG_URI" "$REAL"
cp "$T/f.err" "$T/wrong.err"
AWS_SECRET_ACCESS_KEY=wrong-secret-xyz fails "access to bucket b denied" \
  "$QW_BIN" replay --lake --warehouse "$WH" --catalog-uri "$PG_URI"
fails "SQLite file cannot be shared" "$QW_BIN" lake tables --warehouse "$WH" --catalog-uri "$T/c.db"
fails "ICEBERG_CATALOG_URI" "$QW_BIN" replay --persist --warehouse "$WH" "$REAL"
AWS_ENDPOINT_URL= fails "plain http" "$QW_BIN" lake tables --warehouse "$WH" --catalog-uri "$PG_URI" \
  --s3-endpoint http://192.0.2.1:9
! grep -rq "wrong-secret-xyz\|S3RVER:S3RVER" "$T"/*.err "$T"/*.log || die "a secret reached a log"
echo "lake on s3: ok"
