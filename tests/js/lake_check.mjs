// lake_check.mjs WAREHOUSE TABLE EXPECT.json : independent readers over a
// QuoteWatch lake table. DuckDB reads every Parquet data file of the table
// (all files under data/, i.e. what the writer committed: the test runs
// after clean-orphans) and icebird reads the table through its Iceberg
// metadata; both must see exactly the expected rows.
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

const [wh, table, expectPath] = process.argv.slice(2);
const expect = JSON.parse(fs.readFileSync(expectPath, 'utf8'));
const dir = path.join(wh, 'quotewatch', table);
const files = [];
(function walk(d) { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
  const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (p.endsWith('.parquet')) files.push(p); } })(path.join(dir, 'data'));
const inst = await DuckDBInstance.create(':memory:'); const c = await inst.connect();
const list = '[' + files.map(f => `'${f}'`).join(',') + ']';
let fail = 0;
const check = (what, got, want) => { const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) { console.log(`FAIL ${what}: got ${g.slice(0, 300)} want ${w.slice(0, 300)}`); fail++; } else console.log(`ok ${what}`); };
// 1. DuckDB: exact multiset of the key columns
const q = expect.query.replace('$FILES', `read_parquet(${list})`);
const rows = (await c.runAndReadAll(q)).getRowsJson();
check(`duckdb ${table} rows (${files.length} files)`, rows.length, expect.rows.length);
check(`duckdb ${table} values`, rows, expect.rows);
// field ids and codec as written
const meta = (await c.runAndReadAll(`select distinct compression from parquet_metadata('${files[0]}')`)).getRowsJson();
check('codec', meta.map(r => r[0]), [expect.codec]);
const fids = (await c.runAndReadAll(`select count(*) from parquet_schema('${files[0]}') where field_id is not null`)).getRowsJson();
check('field ids on every column', Number(fids[0][0]), expect.ncols);
// 2. icebird: the table through its metadata (current snapshot)
const metas = fs.readdirSync(path.join(dir, 'metadata')).filter(f => f.endsWith('.metadata.json')).sort();
const metadataFileName = metas[metas.length - 1];
const data = await icebergRead({ tableUrl: 'file://' + dir, metadataFileName });
check(`icebird ${table} row count`, data.length, expect.rows.length);
process.exit(fail ? 1 : 0);
