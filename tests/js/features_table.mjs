// features_table.mjs WAREHOUSE OUTDIR : the `features` table through two
// independent readers, for tests/e2e/test_features_table.sh.
// - DuckDB reads every Parquet data file of the table with the columns
//   projected by Iceberg field id (read_parquet's `schema` map, ids from
//   the table's current schema), so a column a file lacks reads as NULL, as
//   the Iceberg spec says; rows come out in writer order (file name, row).
// - icebird reads the table through its Iceberg metadata (current snapshot).
// Both write one JSON object per row (OUTDIR/duckdb.ndjson, icebird.ndjson):
// longs as strings, a field a row lacks as null. The test compares them.
import { DuckDBInstance } from '@duckdb/node-api';
import { icebergRead } from 'icebird';
import fs from 'fs';
import path from 'path';

// node's fetch has no file://; icebird fetches everything by URL
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const u = String(url);
  if (!u.startsWith('file://')) return realFetch(url, init);
  try { return new Response(fs.readFileSync(u.slice(7)), { status: 200 }); }
  catch { return new Response('not found', { status: 404, statusText: 'Not Found' }); }
};

const [wh, out] = process.argv.slice(2);
const dir = path.join(wh, 'quotewatch', 'features');
const metas = fs.readdirSync(path.join(dir, 'metadata')).filter(f => f.endsWith('.metadata.json')).sort();
const metadataFileName = metas[metas.length - 1];
const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata', metadataFileName), 'utf8'));
const schema = meta.schemas.find(s => s['schema-id'] === meta['current-schema-id']);
const TYPES = { string: 'VARCHAR', double: 'DOUBLE', long: 'BIGINT', timestamptz: 'TIMESTAMPTZ' };
const cols = schema.fields.filter(f => TYPES[f.type]); // decimals are not compared here
const J = (o) => JSON.stringify(o, (k, v) => (typeof v === 'bigint' ? String(v) : v));
const row = (get) => J(Object.fromEntries(cols.filter(f => f.type !== 'timestamptz').map(f => {
  const v = get(f.name);
  return [f.name, v === undefined || v === null ? null : f.type === 'long' ? String(v) : v];
})));

// 1. DuckDB, projected by field id
const files = [];
(function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p); else if (p.endsWith('.parquet')) files.push(p);
  }
})(path.join(dir, 'data'));
const inst = await DuckDBInstance.create(':memory:');
const c = await inst.connect();
const map = cols.map(f => `${f.id}: {name: '${f.name}', type: '${TYPES[f.type]}', default_value: NULL}`).join(', ');
const list = '[' + files.map(f => `'${f}'`).join(',') + ']';
const q = `select * from read_parquet(${list}, schema = map {${map}}, filename = true, file_row_number = true)
  order by filename, file_row_number`;
const reader = await c.runAndReadAll(q);
const names = reader.columnNames();
const dd = reader.getRowsJS().map(r => row(n => r[names.indexOf(n)]));
fs.writeFileSync(path.join(out, 'duckdb.ndjson'), dd.join('\n') + '\n');

// 2. icebird, through the metadata
const data = await icebergRead({ tableUrl: 'file://' + dir, metadataFileName });
fs.writeFileSync(path.join(out, 'icebird.ndjson'), data.map(r => row(n => r[n])).join('\n') + '\n');
console.log(`features: schema ${schema['schema-id']} (${schema.fields.length} fields), ${files.length} files: ` +
  `duckdb ${dd.length} rows, icebird ${data.length} rows`);
