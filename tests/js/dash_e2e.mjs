// dash_e2e.mjs: the dashboard in a real browser (Debian chromium driven by
// playwright-core).
// Live phase, against `quotewatch live` connected to the simulator: numbers
// and charts update from pushed data, product switch, a simulator outage
// shows a warning that clears after the client reconnects.
// Replay phase, against `quotewatch replay --dashboard` of the real capture
// (only when CAPTURE is given): every chart axis is labelled, time axes and
// the hover readout are in feed time (compared with the capture's own
// `time` fields) in UTC, and in local time when the zone selector says so;
// tick labels never repeat; drag-to-zoom survives updates until reset; the
// model warm-up text; the heatmap's time axis; no horizontal overflow at
// 390 px; screenshots at 1440x900 and 390x844.
// Soak phase: live + simulator at 10x for 60 s (10 min of feed time),
// switching products: no console errors, feed time advances, heap bounded.
// Replay phase also: subscription of the page, model-quality panel with
// calibration, CSV/PNG exports of the visible window, the lake query.
// Every phase: no console errors.
// usage: node dash_e2e.mjs QW_BIN SCREENSHOT [CAPTURE SHOTDIR]
import { chromium } from 'playwright-core';
import { spawn } from 'child_process';
import fs from 'fs';
import net from 'net';

const [bin, shot, capture, shotDir] = process.argv.slice(2);
const freePort = () => new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
const waitPort = async (port, ms = 10000) => { const end = Date.now() + ms;
  while (Date.now() < end) { const ok = await new Promise((r) => { const c = net.connect(port, '127.0.0.1', () => { c.end(); r(true); }); c.on('error', () => r(false)); }); if (ok) return; await new Promise((r) => setTimeout(r, 100)); }
  throw new Error(`port ${port} never opened`); };
const simPort = await freePort(), dashPort = await freePort();
const procs = [];
const run = (args) => { const p = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] }); p.stderr.on('data', () => {}); procs.push(p); return p; };
const startSim = () => run(['sim', '--synthetic', '--feed', 'exchange', '--products', 'BTC-USD,ETH-USD', '--levels', '300', '--speed', '1x', '--port', String(simPort), '--log-level', 'warn']);
let fail = 0;
const check = (ok, what) => { console.log(`${ok ? 'ok' : 'FAIL'} ${what}`); if (!ok) fail++; };
let browser;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const launch = () => chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-dev-shm-usage'] });

// feed time of the capture: every `time` field (exchange time, UTC)
function captureTimes(file) {
  let lo = Infinity, hi = -Infinity;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /"time":"([^"]+)"/.exec(line);
    if (!m) continue;
    const t = Date.parse(m[1]) / 1000;
    if (t < lo) lo = t; if (t > hi) hi = t;
  }
  return [lo, hi];
}
const hms = (sec, utc = true) => { const d = new Date(sec * 1000); const f = (n) => String(n).padStart(2, '0');
  return utc ? `${f(d.getUTCHours())}:${f(d.getUTCMinutes())}:${f(d.getUTCSeconds())}` : null; };

async function replayPhase() {
  const [lo, hi] = captureTimes(capture);
  console.log(`capture feed time ${new Date(lo * 1000).toISOString()} .. ${new Date(hi * 1000).toISOString()}`);
  const port = await freePort();
  // SKL-USD: price ~0.79 (the repeated-label case); NU-GBP: never ready in this capture (warm-up text)
  // --features book: the feature panel shows the configured set, not only the seed four
  run(['replay', '--dashboard', '--port', String(port), '--speed', '2x', '--products', 'SKL-USD,NU-GBP,BAND-GBP',
       '--features', 'book', '--log-level', 'warn', capture]);
  await waitPort(port);
  const inFeed = (t, slack = 1) => t >= lo - slack && t <= hi + slack;
  // local zone = America/New_York (UTC-4 on the capture's day), so UTC and local differ
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, timezoneId: 'America/New_York' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => document.getElementById('bid').textContent !== '–', null, { timeout: 15000 });
  await page.selectOption('#product', 'SKL-USD');
  await page.waitForFunction(() => charts.mid.data[0].length > 20, null, { timeout: 20000 });
  await sleep(1500);
  // axes: every chart axis has a label; x axes say feed time (UTC)
  const ax = await page.evaluate(() => Object.fromEntries(Object.entries(charts).map(([k, c]) =>
    [k, { labels: c.axes.map((a) => a.label || ''), x: c.axes[0]._values || [], y: c.axes[1]._values || [],
          min: c.scales.x.min, max: c.scales.x.max }])));
  for (const [k, a] of Object.entries(ax)) {
    check(a.labels.every((l) => l.length > 0), `${k}: every axis labelled (${a.labels.join(' | ')})`);
    check(a.labels[0] === 'feed time (UTC)', `${k}: x axis is feed time in UTC`);
  }
  check(/price \(USD\)/.test(ax.mid.labels[1]), `mid y axis has the quote currency (${ax.mid.labels[1]})`);
  check(inFeed(ax.mid.min) && inFeed(ax.mid.max), `mid x range ${hms(ax.mid.min)}..${hms(ax.mid.max)} lies in the capture's feed time`);
  const dayLo = hms(lo), dayHi = hms(hi + 1);
  const xs = ax.mid.x.filter((v) => v);
  check(xs.length >= 2 && xs.every((v) => v.slice(0, 8) >= dayLo && v.slice(0, 8) <= dayHi),
    `mid time ticks in UTC feed time (${xs.join(', ')}; capture ${dayLo}..${dayHi})`);
  for (const [k, a] of Object.entries(ax)) {
    const ys = a.y.filter((v) => v), xv = a.x.filter((v) => v);
    check(new Set(ys).size === ys.length && new Set(xv).size === xv.length, `${k}: no repeated tick labels (y: ${ys.join(', ')})`);
  }
  const heat = await page.$eval('#heatmap', (c) => c.dataset.ticks || '');
  check(heat.split(' ').filter(Boolean).every((t) => t.slice(0, 8) >= dayLo && t.slice(0, 8) <= dayHi) && heat.length > 0,
    `heatmap time axis in feed time (${heat})`);
  // hover readout
  const box = await page.$eval('#chart-mid .u-over', (e) => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; });
  await page.mouse.move(box[0] + box[2] * 0.6, box[1] + box[3] / 2);
  await sleep(200);
  const legend = await page.$$eval('#chart-mid .u-legend .u-series', (rows) => rows.map((r) => r.innerText.replace(/\s+/g, ' ').trim()));
  const tm = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) UTC/.exec(legend[0] || '');
  const hoverT = tm ? Date.parse(`${tm[1]}T${tm[2]}Z`) / 1000 : NaN;
  check(tm && inFeed(hoverT), `hover readout time is feed time (${legend[0]})`);
  check(/^mid:?\s*\d+\.\d+$/.test(legend[1] || ''), `hover readout shows the mid price (${legend[1]})`);
  check(legend.slice(2).every((l) => /price × size/.test(l)), `hover readout has trade price × size (${legend.slice(2).join(' / ')})`);
  // hover on a trade marker: its price x size
  const tr = await page.evaluate(() => { const u = charts.mid;
    for (const si of [2, 3]) { const i = u.data[si].findIndex((v) => v != null);
      if (i >= 0) { u.setCursor({ left: u.valToPos(u.data[0][i], 'x'), top: u.valToPos(u.data[si][i], 'y') });
        return u.root.querySelectorAll('.u-legend .u-series')[si].innerText.replace(/\s+/g, ' '); } }
    return null; });
  check(tr !== null && /[\d.]+ × [\d.]+/.test(tr), `hover on a trade shows price × size (${tr})`);
  // drag-to-zoom survives updates; double-click and the button reset it
  await page.mouse.move(box[0] + box[2] * 0.3, box[1] + box[3] / 2);
  await page.mouse.down(); await page.mouse.move(box[0] + box[2] * 0.6, box[1] + box[3] / 2, { steps: 5 }); await page.mouse.up();
  await sleep(1500);
  const z = await page.evaluate(() => ({ zoom, mid: [charts.mid.scales.x.min, charts.mid.scales.x.max], prob: [charts.prob.scales.x.min, charts.prob.scales.x.max],
    btn: !document.getElementById('zoomreset').hidden }));
  check(z.zoom && z.btn && Math.abs(z.mid[0] - z.zoom.min) < 1e-6 && Math.abs(z.mid[1] - z.zoom.max) < 1e-6 && Math.abs(z.prob[0] - z.zoom.min) < 1e-6,
    `drag-to-zoom kept after 1.5 s of updates, on every time chart (${JSON.stringify(z)})`);
  await page.click('#zoomreset');
  await sleep(300);
  const r1 = await page.evaluate(() => [zoom, charts.mid.scales.x.max - charts.mid.scales.x.min]);
  check(r1[0] === null && r1[1] > z.mid[1] - z.mid[0], 'reset button restores the full window');
  await page.mouse.move(box[0] + box[2] * 0.3, box[1] + box[3] / 2);
  await page.mouse.down(); await page.mouse.move(box[0] + box[2] * 0.5, box[1] + box[3] / 2, { steps: 5 }); await page.mouse.up();
  await sleep(300);
  await page.mouse.dblclick(box[0] + box[2] * 0.4, box[1] + box[3] / 2);
  await sleep(300);
  check(await page.evaluate(() => zoom === null && document.getElementById('zoomreset').hidden), 'double-click resets the zoom');
  // zone selector: local (America/New_York) is UTC-4 on 2021-04-17
  await page.selectOption('#tz', 'local');
  await sleep(500);
  const loc = await page.evaluate(() => [charts.mid.axes[0].label, (charts.mid.axes[0]._values || []).filter((v) => v)]);
  const hLo = (new Date(lo * 1000).getUTCHours() + 20) % 24;
  check(loc[0] === 'feed time (local)' && loc[1].length > 0 && loc[1].every((v) => Number(v.slice(0, 2)) === hLo || Number(v.slice(0, 2)) === (hLo + 1) % 24),
    `zone selector switches to local time (${loc[0]}: ${loc[1].join(', ')})`);
  await page.selectOption('#tz', 'UTC');
  // the warm-up text on a product whose model is not ready
  await page.selectOption('#product', 'NU-GBP');
  await page.waitForFunction(() => !document.getElementById('acc-warmup').hidden, null, { timeout: 10000 });
  const wu = await page.textContent('#acc-warmup');
  check(/\d+\/100 no-move · \d+\/100 move/.test(wu), `warm-up text on the accuracy chart: "${wu}"`);
  check(/warming up/.test(await page.textContent('#prob')), 'headline says the model is warming up');
  check(/price \(GBP\)/.test(await page.evaluate(() => charts.mid.axes[1].label)), 'product switch re-labels the price axis (GBP)');
  await page.selectOption('#product', 'SKL-USD');
  await sleep(1000);
  // subscription: the page's pushes carry only the selected product, the selector all of them
  const sub = await page.evaluate(() => [state.subscribed, state.products.map((p) => p.product), (state.summary || []).length,
    [...document.querySelectorAll('#product option')].length]);
  check(sub[0] === 'SKL-USD' && sub[1].length === 1 && sub[1][0] === 'SKL-USD' && sub[2] >= 3 && sub[3] === sub[2],
    `page subscribes to the selected product (${JSON.stringify(sub)})`);
  // WebSocket down: the page polls /api/state?product=P until it reconnects (then subscribes again)
  const [poll] = await Promise.all([page.waitForRequest((r) => r.url().includes('/api/state?product=SKL-USD'), { timeout: 5000 }).catch(() => null),
    page.evaluate(() => ws.close())]);
  check(poll !== null, 'with the WebSocket closed the page polls /api/state?product=SKL-USD');
  await page.waitForFunction(() => ws && ws.readyState === 1 && state.subscribed === 'SKL-USD', null, { timeout: 10000 });
  // model quality: accuracy vs baseline, AUC, calibration dots, calibrated headline
  await page.waitForFunction(() => { const r = state.products[0].model.recent; return r && r.n > 0 && r.auc != null; }, null, { timeout: 30000 });
  await sleep(500);
  const mq = await page.evaluate(() => ({ q: document.getElementById('quality').innerText.replace(/\s+/g, ' '),
    pts: Number(document.getElementById('calib').dataset.points), cal: document.getElementById('probcal').textContent, n: state.products[0].model.recent.n }));
  check(/accuracy \(p ≥ 0\.5\) \d+\.\d %/.test(mq.q) && /majority baseline \d+\.\d %/.test(mq.q) && /ROC AUC 0\.\d{3}|ROC AUC 1\.000/.test(mq.q),
    `model quality panel: ${mq.q}`);
  check(mq.pts >= 1, `calibration view has ${mq.pts} decile points (n ${mq.n})`);
  check(/model learned in this run \(no --load-model\)/.test(mq.q), `model origin shown: ${mq.q}`);
  // the feature panel: the configured set (--features book), each with its value, unit and coefficient
  const fp = await page.evaluate(() => ({ names: document.getElementById('coefs').dataset.features,
    rows: [...document.querySelectorAll('#coefs .row[data-feature]')].map((r) => r.innerText.replace(/\s+/g, ' ').trim()) }));
  check(fp.names === 'spread_bps imbalance depth volatility microprice_bps ofi depth_imb_1 depth_imb_5 spread_ticks' &&
    fp.rows.length === 9 && /^microprice_bps -?\d+\.\d+ bps -?\d+\.\d{4}$/.test(fp.rows[4]) && /^spread_ticks \d+\.\d+ ticks /.test(fp.rows[8]),
    `feature panel shows the configured set with values and units (${fp.rows.join(' | ')})`);
  check(mq.cal === '' || /of \d+ recent predictions in \d\.\d–\d\.\d, \d+ % moved|no recent prediction/.test(mq.cal), `headline p(move) with its calibration: "${mq.cal}"`);
  // exports of the visible window: CSV (header + rows), PNG, lake query
  const dlText = async (sel) => { const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.click(sel)]);
    return [dl.suggestedFilename(), fs.readFileSync(await dl.path())]; };
  const [csvName, csvBuf] = await dlText('.export[data-chart="mid"] button[data-fmt="csv"]');
  const csv = csvBuf.toString('utf8').trim().split('\n');
  check(/^quotewatch-SKL-USD-mid-\d{8}T\d{6}Z-\d{8}T\d{6}Z\.csv$/.test(csvName), `CSV file name ${csvName}`);
  check(csv[0] === 'time_utc,mid,buy trade (price × size),sell trade (price × size)' && csv.length > 1 &&
    csv.slice(1).every((l) => /^2021-04-17T\d\d:\d\d:\d\d\.\d{3}Z,/.test(l)), `mid CSV: header "${csv[0]}", ${csv.length - 1} rows (${csv[1]})`);
  const [pngName, png] = await dlText('.export[data-chart="mid"] button[data-fmt="png"]');
  check(png.length > 1000 && png.slice(1, 4).toString() === 'PNG', `PNG download ${pngName}: ${png.length} bytes`);
  const [, pcsv] = await dlText('.export[data-chart="prob"] button[data-fmt="csv"]');
  check(pcsv.toString().split('\n')[0] === 'time_utc,model raw p (uncalibrated),realized label (0/1)' && pcsv.toString().trim().split('\n').length > 1, 'model-output CSV has header and rows');
  const lq = await page.evaluate(() => document.getElementById('lakeq').textContent);
  check(/^quotewatch lake scan raw_orderbook --products SKL-USD --since 2021-04-17T\d\d:\d\d:\d\d\.\d{3}Z --until 2021-04-17T\d\d:\d\d:\d\d\.\d{3}Z --limit 0\nquotewatch lake scan raw_trades /.test(lq),
    `lake query for the visible window: ${lq.split('\n')[0]}`);
  fs.mkdirSync(shotDir, { recursive: true });
  await page.locator('section', { has: page.locator('#calib') }).screenshot({ path: `${shotDir}/dashboard-quality.png` });
  await page.evaluate(() => window.scrollTo(0, 0)); // the downloads scrolled to their buttons
  await page.mouse.move(box[0] + box[2] * 0.7, box[1] + box[3] / 2);
  await sleep(200);
  await page.screenshot({ path: `${shotDir}/dashboard-1440.png` });
  // phone
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  const pp = await phone.newPage();
  pp.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  pp.on('pageerror', (e) => errors.push(String(e)));
  await pp.goto(`http://127.0.0.1:${port}/`);
  await pp.waitForFunction(() => document.getElementById('bid').textContent !== '–', null, { timeout: 15000 });
  await sleep(1500);
  const ov = await pp.evaluate(() => ({ sw: document.documentElement.scrollWidth, w: window.innerWidth,
    wide: [...document.querySelectorAll('main > *, header, canvas, .uplot')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).map((e) => e.id || e.className) }));
  check(ov.sw <= ov.w && ov.wide.length === 0, `no horizontal overflow at 390 px (scrollWidth ${ov.sw}, too wide: ${ov.wide.join(',') || 'none'})`);
  const cols = await pp.$$eval('main > section', (s) => new Set(s.map((e) => Math.round(e.getBoundingClientRect().x))).size);
  check(cols === 1, `panels stacked in one column at 390 px (${cols} distinct x)`);
  await pp.screenshot({ path: `${shotDir}/dashboard-390.png` });
  await pp.screenshot({ path: `${shotDir}/dashboard-390-full.png`, fullPage: true });
  check(errors.length === 0, `replay: no console errors (${errors.join(' | ')})`);
  await phone.close(); await ctx.close();
}

// Soak: 10 minutes of feed time at 10x (60 s wall), live + synthetic
// simulator: no console errors, the page keeps updating, memory bounded.
async function soakPhase() {
  const sp = await freePort(), dp = await freePort();
  run(['sim', '--synthetic', '--feed', 'exchange', '--products', 'BTC-USD,ETH-USD', '--levels', '300', '--speed', '10x', '--port', String(sp), '--log-level', 'warn']);
  await waitPort(sp);
  // shard 1 of 2 (both products hash to it): the Feed card shows the shard
  run(['live', '--feed', 'exchange', '--products', 'BTC-USD,ETH-USD', '--shard', '1/2', '--url', `ws://127.0.0.1:${sp}`, '--port', String(dp), '--log-level', 'warn']);
  await waitPort(dp);
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${dp}/`);
  await page.waitForFunction(() => state && state.feed_time_ns, null, { timeout: 15000 });
  const t0 = await page.evaluate(() => state.feed_time_ns / 1e9);
  let heap0 = null, switches = 0;
  const end = Date.now() + 60000;
  while (Date.now() < end) {
    await sleep(5000);
    await page.selectOption('#product', switches++ % 2 ? 'BTC-USD' : 'ETH-USD'); // exercise re-subscription
    if (heap0 === null) heap0 = await page.evaluate(() => performance.memory ? performance.memory.usedJSHeapSize : 0);
  }
  const [t1, heap1, pts] = await page.evaluate(() => [state.feed_time_ns / 1e9, performance.memory ? performance.memory.usedJSHeapSize : 0, charts.mid.data[0].length]);
  console.log(`soak: ${(t1 - t0).toFixed(0)} s of feed time in 60 s wall, ${switches} product switches, JS heap ${(heap0 / 1e6).toFixed(1)} -> ${(heap1 / 1e6).toFixed(1)} MB, ${pts} mid points`);
  check(t1 - t0 >= 400, `soak: feed time advanced ${(t1 - t0).toFixed(0)} s (>= 400 of the nominal 600)`);
  check(!heap0 || heap1 < heap0 * 3 + 20e6, `soak: JS heap bounded (${(heap0 / 1e6).toFixed(1)} -> ${(heap1 / 1e6).toFixed(1)} MB)`);
  check(errors.length === 0, `soak: no console errors over 60 s at 10x (${errors.join(' | ')})`);
  const shard = await page.evaluate(() => { const e = document.getElementById('shard'); return e ? e.textContent : null; });
  check(shard === '1/2: BTC-USD, ETH-USD', `soak: the shard is shown (${shard})`);
  await page.close();
}

try {
  let sim = startSim();
  await waitPort(simPort);
  run(['live', '--feed', 'exchange', '--products', 'BTC-USD,ETH-USD', '--url', `ws://127.0.0.1:${simPort}`, '--port', String(dashPort),
       '--backoff-max', '0.5', '--watchdog', '3', '--log-level', 'warn']);
  await waitPort(dashPort);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-dev-shm-usage'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${dashPort}/`);
  await page.waitForFunction(() => document.getElementById('bid').textContent !== '–', null, { timeout: 15000 });
  check(true, 'headline prices appear');
  const mid1 = await page.textContent('#mid');
  await page.waitForFunction((m) => document.getElementById('mid').textContent !== m, mid1, { timeout: 20000 });
  check(true, 'mid updates from pushed data');
  const rungs = await page.$$eval('#ladder tbody tr', (r) => r.length);
  check(rungs === 20, `depth ladder shows 10 + 10 levels (${rungs})`);
  const pts = await page.evaluate(() => document.querySelectorAll('#chart-mid canvas').length);
  check(pts >= 1, 'mid chart canvas present');
  await page.waitForFunction(() => charts.mid.data[0].length > 2, null, { timeout: 10000 }).catch(() => {});
  const live = await page.evaluate(() => [charts.mid.data[0].length, state.feed_time_ns, Date.now() * 1e6]);
  check(live[0] > 2 && live[1] > 0, `live: mid chart samples at feed time (${live[0]} points, feed_time_ns ${live[1]})`);
  const usedWs = await page.evaluate(() => typeof ws !== 'undefined' && ws && ws.readyState === 1);
  check(usedWs, 'state arrives over the WebSocket');
  const opts = await page.$$eval('#product option', (os) => os.map((o) => o.value));
  check(opts.length === 2, `product selector lists both products (${opts})`);
  const bid1 = await page.textContent('#bid');
  await page.selectOption('#product', opts[1]);
  await page.waitForFunction((b) => document.getElementById('bid').textContent !== b, bid1, { timeout: 5000 });
  check(true, `product switch to ${opts[1]} changes the headline`);
  await new Promise((r) => setTimeout(r, 1500));
  check(await page.isHidden('#warning'), 'no warning while connected');
  // outage: stop the simulator
  sim.kill('SIGKILL');
  await page.waitForFunction(() => !document.getElementById('warning').hidden &&
    /disconnected|Stale/.test(document.getElementById('warning').textContent), null, { timeout: 15000 });
  check(true, `outage shown: "${await page.textContent('#warning')}"`);
  // recovery: the simulator comes back on the same port
  sim = startSim();
  await page.waitForFunction(() => document.getElementById('warning').hidden, null, { timeout: 25000 });
  check(true, 'warning clears after the client reconnects');
  await new Promise((r) => setTimeout(r, 1000));
  await page.screenshot({ path: shot, fullPage: true });
  check(errors.length === 0, `no console errors (${errors.join(' | ')})`);
  for (const p of procs) p.kill('SIGKILL');
  if (capture) await replayPhase();
  if (!process.env.QW_NO_SOAK) await soakPhase();
} catch (e) {
  console.log('FAIL', e.message); fail++;
} finally {
  if (browser) await browser.close();
  for (const p of procs) p.kill('SIGKILL');
}
process.exit(fail ? 1 : 0);
