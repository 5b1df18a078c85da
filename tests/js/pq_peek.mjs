import { DuckDBInstance } from '@duckdb/node-api';
const f = process.argv[2];
const i = await DuckDBInstance.create(':memory:'); const c = await i.connect();
for (const q of [`select count(*), count(ts), count(n), sum(i), sum(price), count(size), sum(flag::int), count(uniq) from read_parquet('${f}')`,
                 `select * from read_parquet('${f}') limit 3`,
                 `select name, type, field_id, logical_type, converted_type from parquet_schema('${f}')`]) {
  const r = await c.runAndReadAll(q); console.log(JSON.stringify(r.getRowObjectsJson()));
}
