// lake_analyst.mjs WAREHOUSE OUT.json: an analyst's first queries, run by
// DuckDB over every data file of a QuoteWatch lake (read_parquet with
// union_by_name, so files written before and after a schema evolution mix):
// notional and VWAP per product and minute, spread percentiles, and trades
// joined to the book features as of their time. Prints the answers as JSON
// for tests/ref/analyst_check.py to compare with its own computation.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'fs';

const [wh, out] = process.argv.slice(2);
const files = (t) => {
  const acc = [];
  (function walk(d) { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = `${d}/${e.name}`; if (e.isDirectory()) walk(p); else if (p.endsWith('.parquet')) acc.push(p); } })(`${wh}/quotewatch/${t}/data`);
  return `read_parquet([${acc.map(f => `'${f}'`).join(',')}], union_by_name = true)`;
};
const inst = await DuckDBInstance.create(':memory:');
const c = await inst.connect();
await c.run(`create view trades as select * from ${files('raw_trades')}`);
await c.run(`create view features as select * from ${files('features')}`);
const q = async (sql) => (await c.runAndReadAll(sql)).getRowsJson();
const res = {};
// 1. notional (exact: DECIMAL(38,8) * DECIMAL(38,8) is DECIMAL(38,16)) and VWAP per minute
res.vwap = await q(`
  select product_id, strftime(date_trunc('minute', exchange_ts) at time zone 'UTC', '%Y-%m-%dT%H:%M') as minute,
         count(*)::varchar as n, sum(size)::varchar as volume, sum(price * size)::varchar as notional,
         (sum(price * size) / sum(size))::double as vwap
  from trades group by all order by all`);
// 2. spread percentiles (in price units) per product
res.spread = await q(`
  select product_id, count(*)::varchar as n,
         quantile_disc(best_ask - best_bid, 0.5)::varchar as p50,
         quantile_disc(best_ask - best_bid, 0.9)::varchar as p90,
         quantile_disc(best_ask - best_bid, 0.99)::varchar as p99,
         max(best_ask - best_bid)::varchar as max
  from features group by all order by all`);
// 3. each trade with the last book features at or before its time (ASOF join)
res.asof = await q(`
  select t.product_id, t.trade_id, t.exchange_ns::varchar as t_ns, f.exchange_ns::varchar as f_ns,
         f.best_bid::varchar as bid, f.best_ask::varchar as ask
  from trades t asof left join features f
    on t.product_id = f.product_id and t.exchange_ns >= f.exchange_ns
  order by all`);
fs.writeFileSync(out, JSON.stringify(res));
console.log(`duckdb: ${res.vwap.length} product-minutes, ${res.spread.length} products, ${res.asof.length} trades`);
