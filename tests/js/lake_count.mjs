// lake_count.mjs WAREHOUSE TABLE N : DuckDB (every Parquet file under the
// table's data/, so run it after expire + clean-orphans) and icebird (the
// table through its latest metadata) must both count N rows.
import { DuckDBInstance } from '@duckdb/node-api';
import { icebergRead } from 'icebird';
import fs from 'fs';
import path from 'path';

const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const u = String(url);
  if (!u.startsWith('file://')) return realFetch(url, init);
  try { return new Response(fs.readFileSync(u.slice(7)), { status: 200 }); }
  catch { return new Response('not found', { status: 404, statusText: 'Not Found' }); }
};
const [wh, table, want] = process.argv.slice(2);
const dir = path.join(wh, 'quotewatch', table);
const files = [];
(function walk(d) { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
  const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (p.endsWith('.parquet')) files.push(p); } })(path.join(dir, 'data'));
const inst = await DuckDBInstance.create(':memory:'); const c = await inst.connect();
const list = '[' + files.map(f => `'${f}'`).join(',') + ']';
const n = Number((await c.runAndReadAll(`select count(*) from read_parquet(${list})`)).getRowsJson()[0][0]);
const metas = fs.readdirSync(path.join(dir, 'metadata')).filter(f => f.endsWith('.metadata.json')).sort();
const data = await icebergRead({ tableUrl: 'file://' + dir, metadataFileName: metas[metas.length - 1] });
const ok = n === Number(want) && data.length === Number(want);
console.log(`${ok ? 'ok' : 'FAIL'} ${table}: duckdb ${n} rows in ${files.length} files, icebird ${data.length}, want ${want}`);
process.exit(ok ? 0 : 1);
