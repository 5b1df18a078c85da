// iceberg_check.mjs OUTDIR: independent checks of a table written by our C
// code (OUTDIR/result.json from the ice_e2e_table unit test):
//  - avsc decodes every manifest list and manifest; the embedded Avro schemas
//    carry the Iceberg field ids and the file metadata has the keys Iceberg
//    readers use; entries, partitions and bounds hold what was registered;
//  - icebird reads the table (metadata -> manifest list -> manifests ->
//    Parquet) and sees the snapshot, every file and every row.
import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { icebergMetadata, icebergRead, icebergManifests } from 'icebird';

const out = process.argv[2];
const res = JSON.parse(fs.readFileSync(path.join(out, 'result.json'), 'utf8'));
const files = JSON.parse(fs.readFileSync(path.join(out, 'files.json'), 'utf8'));
let failures = 0;
const check = (ok, what) => { if (!ok) { failures++; console.error('FAIL:', what); } };
const local = (uri) => (uri.startsWith('file://') ? uri.slice(7) : uri);

// file:// for node's fetch (icebird fetches everything by URL)
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const u = String(url);
  if (!u.startsWith('file://')) return realFetch(url, init);
  try {
    return new Response(fs.readFileSync(local(u)), { status: 200 });
  } catch {
    return new Response('not found', { status: 404, statusText: 'Not Found' });
  }
};

const longType = avro.types.LongType.__with({
  fromBuffer: (b) => b.readBigInt64LE(),
  toBuffer: (n) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b; },
  fromJSON: BigInt, toJSON: Number, isValid: (n) => typeof n === 'bigint',
  compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
});
function decode(file) {
  return new Promise((resolve, reject) => {
    const recs = [];
    let meta;
    avro.createFileDecoder(file, { parseHook: (s) => avro.Type.forSchema(s, { registry: { long: longType } }) })
      .on('metadata', (type, codec, header) => {
        meta = {};
        for (const [k, v] of Object.entries(header.meta)) meta[k] = v.toString();
      })
      .on('data', (r) => recs.push(r))
      .on('error', reject)
      .on('end', () => resolve({ meta, recs }));
  });
}
const ids = (fields) => Object.fromEntries(fields.map((f) => [f.name, f['field-id']]));

const metaText = fs.readFileSync(local(res.metadata_location), 'utf8');
const md = JSON.parse(metaText);
check(md['format-version'] === 2, 'format-version 2');
check(md.snapshots.length === 2, 'two snapshots');
check(md['last-sequence-number'] === 2, 'last-sequence-number 2');
check(md['metadata-log'].length === 2, 'metadata-log has the two earlier files');
check(/\/metadata\/00002-[0-9a-f-]{36}\.metadata\.json$/.test(res.metadata_location), 'metadata file name');
check(metaText.includes(`"current-snapshot-id": ${res.snapshot_2}`), 'current snapshot id');

const snap = md.snapshots[md.snapshots.length - 1];
const list = await decode(local(snap['manifest-list']));
const ls = JSON.parse(list.meta['avro.schema']);
check(ls.name === 'manifest_file', 'list record name');
const lids = ids(ls.fields);
const wantList = { manifest_path: 500, manifest_length: 501, partition_spec_id: 502, content: 517,
  sequence_number: 515, min_sequence_number: 516, added_snapshot_id: 503, added_files_count: 504,
  existing_files_count: 505, deleted_files_count: 506, added_rows_count: 512,
  existing_rows_count: 513, deleted_rows_count: 514, partitions: 507, key_metadata: 519 };
for (const [k, v] of Object.entries(wantList)) check(lids[k] === v, `list field ${k} id ${v}`);
for (const k of ['snapshot-id', 'parent-snapshot-id', 'sequence-number', 'format-version', 'avro.schema', 'avro.codec'])
  check(k in list.meta, `list metadata key ${k}`);
check(list.meta['snapshot-id'] === String(res.snapshot_2), 'list snapshot-id');
check(list.meta['parent-snapshot-id'] === String(res.snapshot_1), 'list parent-snapshot-id');
check(list.recs.length === 2, 'list carries the parent manifest');
check(list.recs[0].sequence_number === 2n && list.recs[1].sequence_number === 1n, 'manifest sequence numbers');

let nfiles = 0;
let nrows = 0;
for (const mf of list.recs) {
  const m = await decode(local(mf.manifest_path));
  check(fs.statSync(local(mf.manifest_path)).size === Number(mf.manifest_length), 'manifest_length');
  for (const k of ['schema', 'partition-spec', 'partition-spec-id', 'format-version', 'content'])
    check(k in m.meta, `manifest metadata key ${k}`);
  check(m.meta['format-version'] === '2' && m.meta.content === 'data', 'manifest v2 data');
  const spec = JSON.parse(m.meta['partition-spec']);
  check(spec.length === 2 && spec[1].transform === 'day' && spec[1]['field-id'] === 1001, 'partition-spec');
  const es = JSON.parse(m.meta['avro.schema']);
  check(es.name === 'manifest_entry', 'entry record name');
  const eids = ids(es.fields);
  for (const [k, v] of Object.entries({ status: 0, snapshot_id: 1, sequence_number: 3, file_sequence_number: 4, data_file: 2 }))
    check(eids[k] === v, `entry field ${k} id ${v}`);
  const df = es.fields.find((f) => f.name === 'data_file').type;
  const dids = ids(df.fields);
  const wantDf = { content: 134, file_path: 100, file_format: 101, partition: 102, record_count: 103,
    file_size_in_bytes: 104, column_sizes: 108, value_counts: 109, null_value_counts: 110,
    nan_value_counts: 137, lower_bounds: 125, upper_bounds: 128, key_metadata: 131,
    split_offsets: 132, equality_ids: 135, sort_order_id: 140 };
  for (const [k, v] of Object.entries(wantDf)) check(dids[k] === v, `data_file field ${k} id ${v}`);
  const part = df.fields.find((f) => f.name === 'partition').type;
  check(part.fields[0]['field-id'] === 1000 && part.fields[1]['field-id'] === 1001, 'partition field ids');
  check(JSON.stringify(part.fields[1].type).includes('"date"'), 'day partition is an int date');
  const lb = df.fields.find((f) => f.name === 'lower_bounds').type[1];
  check(lb.items.fields[0]['field-id'] === 126 && lb.items.fields[1]['field-id'] === 127, 'bounds map ids');
  for (const e of m.recs) {
    nfiles++;
    check(e.status === 1, 'status ADDED');
    check(e.sequence_number === null, 'sequence number inherited');
    const d = e.data_file;
    const src = files.find((f) => f.path === d.file_path);
    check(!!src, `registered path ${d.file_path}`);
    if (!src) continue;
    nrows += Number(d.record_count);
    check(Number(d.record_count) === src.rows && Number(d.file_size_in_bytes) === src.size, 'counts');
    check(d.file_format === 'PARQUET', 'format');
    check(d.partition.product_id === src.product, 'identity partition');
    check(d.partition.exchange_ts_day === Math.floor(src.ts_min / 86400e6), 'day partition');
    const lo = d.lower_bounds.find((kv) => kv.key === 2).value;
    const hi = d.upper_bounds.find((kv) => kv.key === 2).value;
    check(lo.length === 8 && lo.readBigInt64LE() === BigInt(src.ts_min), 'timestamptz lower bound 8-byte LE');
    check(hi.readBigInt64LE() === BigInt(src.ts_max), 'timestamptz upper bound');
    check(d.lower_bounds.find((kv) => kv.key === 1).value.toString() === src.product, 'string bound');
  }
}
check(nfiles === files.length, `all ${files.length} files in the manifests (saw ${nfiles})`);
check(nrows === res.rows, 'row total');

// icebird: an independent Iceberg reader
const metadataFileName = path.basename(res.metadata_location);
const imd = await icebergMetadata({ tableUrl: res.table_location, metadataFileName });
check(imd.snapshots.length === 2 && imd['current-snapshot-id'] === imd.snapshots[1]['snapshot-id'],
  'icebird sees the current snapshot');
const manifests = await icebergManifests(imd);
const entries = manifests.flatMap((m) => m.entries);
check(entries.length === files.length, `icebird sees ${files.length} files (saw ${entries.length})`);
const rows = await icebergRead({ tableUrl: res.table_location, metadataFileName });
check(rows.length === res.rows, `icebird reads ${res.rows} rows (read ${rows.length})`);
const byProduct = {};
for (const r of rows) byProduct[r.product_id] = (byProduct[r.product_id] || 0) + 1;
check(byProduct['BTC-USD'] === 8 && byProduct['ETH-USD'] === 4, 'rows per product');
// time travel to the first snapshot: only its files
const v1 = md['metadata-log'][1]['metadata-file'];
const rows1 = await icebergRead({ tableUrl: res.table_location, metadataFileName: path.basename(v1) });
check(rows1.length === res.rows - files[files.length - 1].rows, 'first snapshot rows');

if (failures) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log(`ok: avsc ${nfiles} entries / 2 lists, icebird ${rows.length} rows`);
