// iceberg_make_parquet.mjs OUTDIR: writes three small Parquet files (with
// hyparquet-writer, independent of our C code) and OUTDIR/files.json listing
// them with the stats the C side registers in the Iceberg table.
import fs from 'node:fs';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';

const out = process.argv[2];
fs.mkdirSync(path.join(out, 'warehouse/quotewatch/raw_trades/data'), { recursive: true });
const day0 = 1618617600000000n; // 2021-04-17T00:00:00Z in microseconds
const specs = [
  { product: 'BTC-USD', day: 0n, rows: 3 },
  { product: 'ETH-USD', day: 0n, rows: 4 },
  { product: 'BTC-USD', day: 1n, rows: 5 },
];
const icebergSchema = JSON.stringify({
  type: 'struct', 'schema-id': 0, fields: [
    { id: 1, name: 'product_id', required: true, type: 'string' },
    { id: 2, name: 'exchange_ts', required: true, type: 'timestamptz' },
    { id: 3, name: 'price', required: false, type: 'double' },
    { id: 4, name: 'trade_id', required: false, type: 'long' },
  ],
});
const files = [];
let trade = 1n;
specs.forEach((s, i) => {
  const ts = [], px = [], ids = [];
  for (let r = 0; r < s.rows; r++) {
    ts.push(day0 + s.day * 86400000000n + BigInt(r) * 1000000n);
    px.push(50000 + i * 100 + r);
    ids.push(trade++);
  }
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'product_id', data: Array(s.rows).fill(s.product), type: 'STRING' },
      { name: 'exchange_ts', data: ts, type: 'INT64' },
      { name: 'price', data: px, type: 'DOUBLE' },
      { name: 'trade_id', data: ids, type: 'INT64' },
    ],
    kvMetadata: [{ key: 'iceberg.schema', value: icebergSchema }],
  });
  const p = path.join(out, `warehouse/quotewatch/raw_trades/data/part-${i}.parquet`);
  fs.writeFileSync(p, Buffer.from(buf));
  files.push({
    path: 'file://' + path.resolve(p), size: buf.byteLength, rows: s.rows, product: s.product,
    ts_min: Number(ts[0]), ts_max: Number(ts[ts.length - 1]),
  });
});
fs.writeFileSync(path.join(out, 'files.json'), JSON.stringify(files, null, 1));
console.log(`wrote ${files.length} parquet files`);
