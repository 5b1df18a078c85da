#!/usr/bin/env bash
# The same capture through every input path gives the same books: a file,
# stdin, zstd (any name), the original cryptofeed capture format (receive
# times + connect/sent lines), the recorder format, and split in two files.
. "$(dirname "$0")/lib.sh"
books() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({k:(v['bids'],v['asks'],v['book_updates'],v['trades'],v['snapshots']) for k,v in d['products'].items()}, sort_keys=True))" "$1"; }
"$QW_BIN" replay --summary "$T/plain.json" "$REAL" 2>/dev/null
want=$(books "$T/plain.json")
"$QW_BIN" replay --summary "$T/stdin.json" - < "$REAL" 2>/dev/null
[ "$(books "$T/stdin.json")" = "$want" ] || die "stdin differs"
zstd -q -c "$REAL" > "$T/cap.zst"; cp "$T/cap.zst" "$T/cap.bin"
"$QW_BIN" replay --summary "$T/z.json" "$T/cap.bin" 2>/dev/null
[ "$(books "$T/z.json")" = "$want" ] || die "zstd differs"
[ "$(jq_py "$T/z.json" 'd["bytes"]')" = 1425215 ] || die "zstd bytes"
zstd -q -dc "$T/cap.zst" | "$QW_BIN" replay --summary "$T/zs.json" - 2>/dev/null
"$QW_BIN" replay --summary "$T/orig.json" "$REAL_ORIG" 2>/dev/null
[ "$(books "$T/orig.json")" = "$want" ] || die "cryptofeed format differs"
[ "$(jq_py "$T/orig.json" 'd["meta_lines"]')" = 3 ] || die "cryptofeed sent lines not counted as meta"
[ "$(jq_py "$T/orig.json" 'd["connects"]')" = 1 ] || die "cryptofeed connect line"
[ "$(jq_py "$T/orig.json" 'd["rejected"]')" = 0 ] || die "cryptofeed format rejected lines"
awk '{printf "{\"recv_ns\":%d,\"msg\":%s}\n", 1618677817000000000 + NR, $0}' "$REAL" > "$T/rec.ndjson"
"$QW_BIN" replay --summary "$T/rec.json" "$T/rec.ndjson" 2>/dev/null
[ "$(books "$T/rec.json")" = "$want" ] || die "recorder format differs"
head -n 5000 "$REAL" > "$T/a"; tail -n +5001 "$REAL" > "$T/b"
"$QW_BIN" replay --summary "$T/split.json" "$T/a" "$T/b" 2>/dev/null
[ "$(books "$T/split.json")" = "$want" ] || die "split files differ"
[ "$(jq_py "$T/split.json" 'd["bytes"]')" = 1425215 ] || die "split bytes"
# truncated zstd: counted input error, exit 0, the part read is applied
head -c 100000 "$T/cap.zst" > "$T/trunc.zst"
"$QW_BIN" replay --summary "$T/t.json" "$T/trunc.zst" 2>/dev/null || die "truncated zstd must exit 0"
[ "$(jq_py "$T/t.json" 'd["input_errors"]')" = 1 ] || die "truncated zstd not counted"
