// QuoteWatch dashboard: state pushed over /ws (subprotocol "qw-state"),
// falling back to polling /api/state every 300 ms. The page subscribes to
// the selected product ({"subscribe":P}): pushes then carry that product's
// full state (labels as deltas) plus a light summary of every product for
// the selector; history of a product starts when it is selected. Every series lives in a
// fixed-size ring, so memory stays bounded after hours; charts redraw at
// most once per animation frame.
//
// Time: every time axis, hover readout and table shows FEED (exchange) time:
// the state's feed_time_ns (newest message time the server has seen) for
// sampled series, each trade's / label's own t_ns for events. Never the
// browser clock, so live and replay at any speed read the same. Zone: UTC
// by default, local on request (#tz, remembered in localStorage).
'use strict';

const N = 600;          // points kept per product and series (~1 min at 10 Hz)
const HEAT_COLS = 300;  // heatmap columns
const HEAT_ROWS = 60;   // price buckets around mid
const STALE_S = 5;      // a book older than this is stale

const $ = (id) => document.getElementById(id);
let state = null, product = null, ws = null, pollTimer = null, lastMsg = 0, dirty = false;
let zone = (() => { try { return localStorage.getItem('qw-tz') === 'local' ? 'local' : 'UTC'; } catch { return 'UTC'; } })();
let zoom = null;        // {min, max} in feed seconds, shared by the time charts until reset
const hist = new Map(); // product -> rings

function ring(n, extra) { return { t: new Float64Array(n), v: new Float64Array(n), s: extra ? new Float64Array(n) : null, len: 0, head: 0, n }; }
function push(r, t, v, s) { r.t[r.head] = t; r.v[r.head] = v; if (r.s) r.s[r.head] = s; r.head = (r.head + 1) % r.n; if (r.len < r.n) r.len++; }
function last(r) { return r.len ? r.t[(r.head - 1 + r.n) % r.n] : -Infinity; }
function arr(r) { // oldest first
  const t = new Array(r.len), v = new Array(r.len), s = r.s ? new Array(r.len) : null;
  for (let i = 0; i < r.len; i++) { const k = (r.head - r.len + i + r.n) % r.n; t[i] = r.t[k]; v[i] = r.v[k]; if (s) s[i] = r.s[k]; }
  return [t, v, s];
}
function series(p) {
  if (!hist.has(p)) hist.set(p, { mid: ring(N), buy: ring(200, true), sell: ring(200, true), p: ring(N), lab: ring(200), acc: ring(N), base: ring(N),
                                  heat: new Float32Array(HEAT_COLS * HEAT_ROWS), heatT: new Float64Array(HEAT_COLS), heatN: 0, heatHead: 0, heatBps: 0,
                                  lastTrade: 0, lastLabel: 0, lastT: 0, pxDec: 0 });
  return hist.get(p);
}

// ---- formatting ----
const fmt = (v, d = 2) => (v == null || Number.isNaN(v) ? '–' : Number(v).toFixed(d));
const quoteOf = (prod) => (prod && prod.includes('-') ? prod.split('-')[1] : '');
const decimalsOf = (x) => { const s = String(x); const i = s.indexOf('.'); return i < 0 ? 0 : s.length - i - 1; };
// exact decimals of a tick increment (uPlot's incrs are 1, 2, 2.5, 5 x 10^k)
const incrDecimals = (inc) => { const s = (+inc).toFixed(12).replace(/0+$/, ''); const i = s.indexOf('.'); return i < 0 ? 0 : s.length - i - 1; };
const pad = (n, w = 2) => String(n).padStart(w, '0');
function tparts(sec) {
  const d = new Date(sec * 1000), u = zone === 'UTC';
  return { Y: u ? d.getUTCFullYear() : d.getFullYear(), M: (u ? d.getUTCMonth() : d.getMonth()) + 1, D: u ? d.getUTCDate() : d.getDate(),
    h: u ? d.getUTCHours() : d.getHours(), m: u ? d.getUTCMinutes() : d.getMinutes(), s: u ? d.getUTCSeconds() : d.getSeconds(),
    ms: u ? d.getUTCMilliseconds() : d.getMilliseconds() };
}
const zoneName = () => (zone === 'UTC' ? 'UTC' : 'local');
function fmtTime(sec, dec = 3) { // HH:MM:SS[.fff]
  if (sec == null || !Number.isFinite(sec)) return '–';
  const p = tparts(sec);
  let out = `${pad(p.h)}:${pad(p.m)}:${pad(p.s)}`;
  if (dec > 0) out += '.' + pad(p.ms, 3).slice(0, dec);
  return out;
}
function fmtDateTime(sec) {
  if (sec == null || !Number.isFinite(sec)) return '–';
  const p = tparts(sec);
  return `${p.Y}-${pad(p.M)}-${pad(p.D)} ${fmtTime(sec, 3)} ${zoneName()}`;
}
// time-axis labels: as many decimals as the tick step needs, so no two ticks read the same
function timeValues(u, splits, ai, space, incr) {
  const dec = incr >= 1 ? 0 : Math.min(3, incrDecimals(incr));
  return splits.map((s) => fmtTime(s, dec));
}
const tzDate = (ts) => (zone === 'UTC' ? uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC') : new Date(ts * 1e3));

// ---- charts ----
const AX = { stroke: '#8b949e', grid: { stroke: '#21262d' }, ticks: { stroke: '#30363d' }, labelSize: 18, font: '11px system-ui', labelFont: '11px system-ui' };
function timeAxis() { return { ...AX, label: `feed time (${zoneName()})`, values: timeValues, space: 70 }; }
function mkChart(el, seriesDefs, opts = {}) {
  const w = Math.max(200, el.clientWidth || 600);
  const u = new uPlot({ width: w, height: opts.height || 200, tzDate,
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 7 } },
    select: { show: true },
    scales: { x: { time: true }, y: opts.y || {} },
    axes: [timeAxis(), { ...AX, label: opts.yLabel, size: opts.ySize || 70, ...(opts.yAxis || {}) }],
    series: [{ label: 'time', value: (u2, v) => fmtDateTime(v) }, ...seriesDefs],
    hooks: { setSelect: [(u2) => { // drag-to-zoom: every time chart follows, kept until reset
      if (u2.select.width < 3) return;
      const min = u2.posToVal(u2.select.left, 'x'), max = u2.posToVal(u2.select.left + u2.select.width, 'x');
      u2.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      setZoom({ min, max });
    }] } },
  [[], ...seriesDefs.map(() => [])], el);
  u.over.addEventListener('dblclick', () => setZoom(null)); // uPlot resets this chart; we reset all
  return u;
}
function setZoom(z) {
  zoom = z; $('zoomreset').hidden = !z; dirty = true;
  for (const c of timeCharts()) { if (z) c.setScale('x', z); }
}
const charts = {};
const timeCharts = () => [charts.mid, charts.prob, charts.acc];
const pointsOnly = () => null;
let midDec = 2; // decimals of the selected product's price strings (its price increment)
function priceAxisValues(u, splits, ai, space, incr) {
  const d = Math.min(Math.max(incrDecimals(incr), 0), Math.max(midDec, incrDecimals(incr)));
  return splits.map((v) => v.toFixed(d));
}
// tick steps never finer than the product's price increment, so labels never repeat
function priceIncrs() {
  const inc = 10 ** -midDec, out = [];
  for (let e = -midDec; e <= 9; e++) for (const m of [1, 2, 5]) { const v = m * 10 ** e; if (v >= inc - 1e-15) out.push(+v.toPrecision(6)); }
  return out;
}
function priceRange(u, min, max) { // at least 4 increments tall, padded 5%
  if (min == null || !Number.isFinite(min)) return [0, 1];
  const inc = 10 ** -midDec, span = Math.max(max - min, 4 * inc), c = (min + max) / 2;
  return [c - span * 0.55, c + span * 0.55];
}
let tradeSizes = { buy: [], sell: [] };
function tradeValue(side) {
  return (u, v, si, i) => (v == null || i == null ? '–' : `${v.toFixed(midDec)} × ${tradeSizes[side][i] ?? '?'}`);
}
function initCharts() {
  for (const k of Object.keys(charts)) { charts[k].destroy(); delete charts[k]; }
  const q = quoteOf(product);
  charts.mid = mkChart($('chart-mid'), [
    { label: 'mid', stroke: '#58a6ff', width: 1.5, spanGaps: true, points: { show: false }, paths: uPlot.paths.stepped({ align: 1 }), value: (u, v) => (v == null ? '–' : v.toFixed(midDec + 1)) },
    { label: 'buy trade (price × size)', stroke: '#3fb950', fill: '#3fb950', width: 0, paths: pointsOnly, points: { show: true, size: 8, fill: '#3fb950' }, value: tradeValue('buy') },
    { label: 'sell trade (price × size)', stroke: '#f85149', fill: '#f85149', width: 0, paths: pointsOnly, points: { show: true, size: 8, fill: '#f85149' }, value: tradeValue('sell') }],
  { height: 330, yLabel: `price (${q || 'quote'})`, ySize: 80, y: { range: priceRange }, yAxis: { values: priceAxisValues, incrs: () => priceIncrs() } });
  charts.prob = mkChart($('chart-prob'), [
    { label: 'model raw p (uncalibrated)', stroke: '#d2a8ff', width: 1.5, spanGaps: true, points: { show: false }, value: (u, v) => fmt(v, 3) },
    { label: 'realized label (0/1)', stroke: '#f0883e', width: 0, paths: pointsOnly, points: { show: true, size: 6, fill: '#f0883e' }, value: (u, v) => (v == null ? '–' : String(v)) }],
  { y: { range: [0, 1] }, yLabel: 'raw model output / label', ySize: 50, yAxis: { values: (u, s) => s.map((v) => v.toFixed(1)) } });
  charts.acc = mkChart($('chart-acc'), [
    { label: 'rolling accuracy', stroke: '#58a6ff', width: 1.5, value: (u, v) => fmt(v, 3) },
    { label: 'base rate', stroke: '#8b949e', width: 1, dash: [4, 4], value: (u, v) => fmt(v, 3) }],
  { y: { range: [0, 1] }, height: 180, yLabel: 'fraction of window', ySize: 50, yAxis: { values: (u, s) => s.map((v) => v.toFixed(1)) } });
  $('trades-time').textContent = `time (${zoneName()})`;
  dirty = true;
}
function resizeCharts() {
  for (const c of Object.values(charts)) c.setSize({ width: Math.max(200, c.root.parentElement.clientWidth), height: c.height });
  dirty = true;
}

// ---- ingest state ----
function onState(s) {
  if (s.error) { console.warn('dashboard server:', s.error); return; }
  state = s; lastMsg = performance.now();
  const ft = s.feed_time_ns != null ? s.feed_time_ns / 1e9 : null; // feed clock, never the browser's
  const sel = $('product');
  const names = (s.summary || s.products).map((p) => p.product);
  if (sel.options.length !== names.length || names.some((n, i) => sel.options[i].value !== n)) {
    sel.innerHTML = ''; for (const n of names) sel.add(new Option(n, n));
    if (!product || !names.includes(product)) { product = names[0] || null; }
    sel.value = product;
    selectProduct(product);
  }
  for (const p of s.products) {
    const h = series(p.product);
    for (const lv of [p.bids[0], p.asks[0]]) if (lv) h.pxDec = Math.max(h.pxDec, decimalsOf(lv[0]));
    const advanced = ft != null && ft > h.lastT;
    if (advanced) {
      h.lastT = ft;
      if (p.mid != null) push(h.mid, ft, p.mid);
      if (p.p != null) push(h.p, ft, p.p);
      if (p.model.rolling_accuracy != null) { push(h.acc, ft, p.model.rolling_accuracy); push(h.base, ft, p.model.base_rate); }
      heatColumn(h, p, ft);
    }
    for (let i = p.trades.length - 1; i >= 0; i--) { // oldest first, only new ones, at their own exchange time
      const t = p.trades[i];
      if (t.t_ns <= h.lastTrade) continue;
      h.lastTrade = t.t_ns;
      h.pxDec = Math.max(h.pxDec, decimalsOf(t.price));
      push(t.aggressor === 'buy' ? h.buy : h.sell, t.t_ns / 1e9, Number(t.price), Number(t.size));
    }
    for (const l of p.labels) { if (l.t_ns > h.lastLabel) { h.lastLabel = l.t_ns; push(h.lab, l.t_ns / 1e9, l.label); } }
  }
  dirty = true;
}
function subscribe() {
  if (ws && ws.readyState === 1 && product) ws.send(JSON.stringify({ subscribe: product }));
}
function selectProduct(p) {
  product = p; zoom = null; $('zoomreset').hidden = true;
  subscribe();
  const h = p ? series(p) : null;
  midDec = h && h.pxDec ? h.pxDec : 2;
  initCharts();
}

function heatColumn(h, p, ft) {
  const col = h.heat.subarray(h.heatHead * HEAT_ROWS, (h.heatHead + 1) * HEAT_ROWS);
  col.fill(0);
  if (p.mid != null && !h.heatBps && p.bids.length && p.asks.length) { // range fixed per product: 1.5x the top-10 span
    const far = Math.max(Math.abs(Number(p.bids[p.bids.length - 1][0]) / p.mid - 1), Math.abs(Number(p.asks[p.asks.length - 1][0]) / p.mid - 1));
    h.heatBps = Math.max(1, far * 1e4 * 1.5);
  }
  if (p.mid != null && h.heatBps) {
    const add = (levels) => { for (const [px, sz] of levels) {
      const bps = (Number(px) / p.mid - 1) * 1e4;
      const row = Math.floor((bps + h.heatBps) / (2 * h.heatBps) * HEAT_ROWS);
      if (row >= 0 && row < HEAT_ROWS) col[row] += Number(sz) * Number(px);
    } };
    add(p.bids); add(p.asks);
  }
  h.heatT[h.heatHead] = ft; h.heatMid = p.mid;
  h.heatHead = (h.heatHead + 1) % HEAT_COLS;
  if (h.heatN < HEAT_COLS) h.heatN++;
}

// ---- render (once per frame at most) ----
// Aligned data for one x axis: the line's own samples plus event times. The
// line is held at its last value at event times (a mid/p is a step function),
// so it has no nulls and no breaks; events are null where absent.
function aligned(lt, lv, evs) {
  const all = lt.map((t, i) => [t, 0, i]);
  evs.forEach(([t], k) => t.forEach((tt, i) => all.push([tt, k + 1, i])));
  all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const x = [], cols = [[], ...evs.map(() => [])], idx = evs.map(() => []);
  let hold = null; // events before the line's first sample: no line there (leading nulls, not a gap)
  for (const [t, k, i] of all) {
    x.push(t);
    if (k === 0) hold = lv[i];
    cols[0].push(hold);
    for (let j = 1; j < cols.length; j++) { cols[j].push(j === k ? evs[k - 1][1][i] : null); idx[j - 1].push(j === k ? i : -1); }
  }
  return { data: [x, ...cols], idx };
}
function setTimeData(c, data) {
  c.setData(data, true);
  if (zoom) c.setScale('x', zoom);
}
function render() {
  requestAnimationFrame(render);
  if (!dirty || !state) return;
  dirty = false;
  const p = state.products.find((x) => x.product === product);
  renderStatus(p);
  if (!p) return;
  const h = series(p.product);
  if (h.pxDec && h.pxDec !== midDec) { midDec = h.pxDec; initCharts(); }
  const d = midDec;
  $('bid').textContent = p.best_bid ?? '–'; $('ask').textContent = p.best_ask ?? '–';
  $('mid').textContent = fmt(p.mid, d + 1); $('spread').textContent = p.spread ?? '–';
  $('spreadbps').textContent = p.spread_bps != null ? `(${fmt(p.spread_bps, 2)} bps)` : '';
  const m = p.model;
  $('prob').textContent = p.p != null ? fmt(p.p, 3) : (m.ready ? '–' : `warming up ${warmup(m)}`);
  $('probcal').textContent = calibText(p.p, m.recent);
  $('feedtime').textContent = state.feed_time_ns != null ? fmtDateTime(state.feed_time_ns / 1e9) : '–';
  const [mt, mv] = arr(h.mid), [bt, bv, bs] = arr(h.buy), [st, sv, ss] = arr(h.sell);
  const mid = aligned(mt, mv, [[bt, bv], [st, sv]]);
  tradeSizes = { buy: mid.idx[0].map((i) => (i < 0 ? null : bs[i])), sell: mid.idx[1].map((i) => (i < 0 ? null : ss[i])) };
  setTimeData(charts.mid, mid.data);
  const [pt, pv] = arr(h.p), [lt, lv] = arr(h.lab);
  setTimeData(charts.prob, aligned(pt, pv, [[lt, lv]]).data);
  const [at, av] = arr(h.acc), [, bv2] = arr(h.base);
  setTimeData(charts.acc, [at, av, bv2]);
  renderWarmup(p);
  renderLadder(p); renderHeat(h, p); renderModel(p); renderQuality(m.recent); renderTrades(p);
  renderLakeQuery(p.product);
}
function warmup(m) {
  const c = m.class_counts, n = m.min_per_class;
  return `${Math.min(c[0], n)}/${n} no-move · ${Math.min(c[1], n)}/${n} move`;
}
function renderWarmup(p) {
  const m = p.model, el = $('acc-warmup'), pel = $('prob-warmup');
  let msg = '';
  if (!m.ready) msg = `Model warming up: needs ${m.min_per_class} labeled samples of each class — ${warmup(m)} (${m.labeled} labeled). No predictions until then.`;
  else if (m.rolling_accuracy == null) msg = `Model ready; waiting for the first labeled prediction (${m.predictions} predictions made).`;
  el.textContent = msg; el.hidden = !msg;
  pel.textContent = m.ready ? '' : msg; pel.hidden = m.ready;
  $('acc-window').textContent = m.ready && m.window ? `window ${m.window_fill}/${m.window} labeled predictions` : '';
}
function renderLadder(p) {
  const rows = []; const n = Math.max(p.bids.length, p.asks.length);
  for (let i = Math.min(9, p.asks.length - 1); i >= 0; i--) rows.push(`<tr><td></td><td class="px ask">${p.asks[i][0]}</td><td class="ask">${p.asks[i][1]}</td></tr>`);
  for (let i = 0; i < Math.min(10, p.bids.length); i++) rows.push(`<tr><td class="bid">${p.bids[i][1]}</td><td class="px bid">${p.bids[i][0]}</td><td></td></tr>`);
  $('ladder').tBodies[0].innerHTML = n ? rows.join('') : '<tr><td colspan="3">no book</td></tr>';
}
// heat colour for v in [0, 1]: dark (no liquidity) -> blue -> orange -> yellow (deep)
function heatRGB(v) { return [11 + 244 * Math.min(1, v * 1.5), 14 + 200 * v * v, 19 + 150 * Math.sin(Math.PI * Math.min(v, 1))]; }
const fmtNotional = (v) => (v >= 1e6 ? (v / 1e6).toFixed(1) + 'M' : v >= 1e3 ? (v / 1e3).toFixed(1) + 'k' : v.toFixed(v < 10 ? 2 : 0));
function renderHeat(h, p) {
  const c = $('heatmap'), dpr = window.devicePixelRatio || 1;
  const W = Math.max(200, c.clientWidth), H = c.clientHeight || 260;
  if (c.width !== Math.round(W * dpr) || c.height !== Math.round(H * dpr)) { c.width = Math.round(W * dpr); c.height = Math.round(H * dpr); }
  const ctx = c.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#0b0e13'; ctx.fillRect(0, 0, W, H);
  const L = 62, R = W < 500 ? 8 : 78, T = 8, B = 40, LEG = 14; // plot box, legend bar below the time axis
  const pw = W - L - R, ph = H - T - B - LEG;
  const img = new ImageData(HEAT_COLS, HEAT_ROWS);
  let max = 0; for (let i = 0; i < h.heat.length; i++) max = Math.max(max, h.heat[i]);
  const lmax = Math.log1p(max) || 1;
  for (let x = 0; x < HEAT_COLS; x++) {
    const src = (h.heatHead + x) % HEAT_COLS;
    for (let y = 0; y < HEAT_ROWS; y++) {
      const [r, g, b] = heatRGB(Math.log1p(h.heat[src * HEAT_ROWS + y]) / lmax), o = ((HEAT_ROWS - 1 - y) * HEAT_COLS + x) * 4;
      img.data[o] = r; img.data[o + 1] = g; img.data[o + 2] = b; img.data[o + 3] = 255;
    }
  }
  const tmp = renderHeat.tmp || (renderHeat.tmp = Object.assign(document.createElement('canvas'), { width: HEAT_COLS, height: HEAT_ROWS }));
  tmp.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false; ctx.drawImage(tmp, L, T, pw, ph);
  ctx.strokeStyle = '#ffffff55'; ctx.beginPath(); ctx.moveTo(L, T + ph / 2); ctx.lineTo(L + pw, T + ph / 2); ctx.stroke();
  ctx.font = '11px system-ui'; ctx.fillStyle = '#8b949e'; ctx.strokeStyle = '#30363d';
  // price axis: offset from the mid of each column (left, bps) and the price at the latest mid (right)
  const q = quoteOf(p.product), bps = h.heatBps || 0;
  ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
  for (let k = -2; k <= 2; k++) {
    const y = T + ph / 2 - (k / 2) * (ph / 2);
    ctx.fillText(bps ? `${k > 0 ? '+' : ''}${(k / 2 * bps).toFixed(bps < 10 ? 1 : 0)}` : '', L - 6, y);
    ctx.beginPath(); ctx.moveTo(L - 3, y); ctx.lineTo(L, y); ctx.stroke();
    if (R > 20 && bps && p.mid != null) { ctx.textAlign = 'left'; ctx.fillText((p.mid * (1 + k / 2 * bps / 1e4)).toFixed(midDec), L + pw + 6, y); ctx.textAlign = 'right'; }
  }
  ctx.save(); ctx.translate(12, T + ph / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = 'center'; ctx.fillText('Δ from mid (bps)', 0, 0); ctx.restore();
  if (R > 20) { ctx.save(); ctx.translate(W - 8, T + ph / 2); ctx.rotate(Math.PI / 2); ctx.textAlign = 'center'; ctx.fillText(`price now (${q})`, 0, 0); ctx.restore(); }
  // time axis: the feed time of each column; columns are pushes, so ticks sit where their time is
  ctx.textAlign = 'center'; ctx.textBaseline = 'top';
  const first = HEAT_COLS - h.heatN, span = h.heatN - 1; // only filled columns (the newest, at the right) have a time
  const nt = span > 0 ? Math.max(1, Math.min(Math.floor((span / HEAT_COLS) * pw / 90), 6)) : 0;
  let prev = ''; const ticks = [];
  for (let k = 0; k <= nt && h.heatN; k++) {
    const x = first + Math.round(nt ? (k / nt) * span : span);
    const px = L + (x + 0.5) * pw / HEAT_COLS, label = fmtTime(h.heatT[(h.heatHead + x) % HEAT_COLS], 1);
    if (label === prev) continue; // never the same label twice
    prev = label; ticks.push(label);
    ctx.beginPath(); ctx.moveTo(px, T + ph); ctx.lineTo(px, T + ph + 3); ctx.stroke();
    ctx.textAlign = k === nt && nt ? 'right' : k === 0 && x < 20 ? 'left' : 'center';
    ctx.fillText(label, px, T + ph + 5);
  }
  ctx.textAlign = 'center';
  ctx.fillText(`feed time (${zoneName()})`, L + pw / 2, T + ph + 19);
  // colour legend: notional per price bucket, log scale
  const ly = H - LEG, lw = Math.min(220, pw * 0.5), lx = L + pw - lw;
  for (let i = 0; i < lw; i++) { const [r, g, b] = heatRGB(i / (lw - 1)); ctx.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`; ctx.fillRect(lx + i, ly, 1, 9); }
  ctx.fillStyle = '#8b949e'; ctx.textBaseline = 'top'; ctx.textAlign = 'right';
  ctx.fillText(`liquidity (${q} per bucket, log): 0`, lx - 4, ly - 1);
  ctx.textAlign = 'left'; ctx.fillText(fmtNotional(max), Math.min(lx + lw + 4, W - 30), ly - 1);
  c.dataset.max = String(max); c.dataset.ticks = ticks.join(' '); // read by tests/js/dash_e2e.mjs
}
function renderModel(p) {
  const m = p.model;
  $('model').innerHTML = `<dl><dt>ready</dt><dd>${m.ready ? 'yes' : `no — warming up (${warmup(m)})`}</dd>
    <dt>labeled</dt><dd>${m.labeled}</dd><dt>rolling accuracy</dt><dd>${fmt(m.rolling_accuracy, 3)}${m.window ? ` <small>(${m.window_fill}/${m.window})</small>` : ''}</dd>
    <dt>base rate</dt><dd>${fmt(m.base_rate, 3)}</dd><dt>intercept</dt><dd>${fmt(m.intercept, 4)}</dd></dl>`;
  // the configured feature set (state.feature_set: the model's inputs in coef order), each with
  // its current value, unit and coefficient
  const fs = state.feature_set?.features ?? Object.keys(p.features ?? {}).map((name) => ({ name, unit: '' }));
  const mx = Math.max(1e-12, ...m.coef.map((c) => Math.abs(c ?? 0)));
  const el = $('coefs');
  el.dataset.features = fs.map((f) => f.name).join(' '); // read by tests/js/dash_e2e.mjs
  el.innerHTML = `<div class="row head"><span>feature set ${html(state.feature_set?.name ?? '')}</span><span>value</span><span>coefficient</span><span></span></div>` +
    fs.map((f, i) => { const c = m.coef[i], w = Math.abs(c ?? 0) / mx * 50, v = p.features ? p.features[f.name] : null;
      return `<div class="row" data-feature="${html(f.name)}"><span>${html(f.name)}</span><span class="val">${fmt(v, Math.abs(v ?? 0) >= 100 ? 1 : 4)} <small>${html(f.unit)}</small></span>` +
        `<div class="bar"><i class="${c < 0 ? 'neg' : ''}" style="left:${c < 0 ? 50 - w : 50}%;width:${w}%"></i></div><span>${fmt(c, 4)}</span></div>`; }).join('');
}
// ---- model quality (model.recent, computed by the server over the last labeled predictions) ----
function calibText(pv, r) { // how often recent predictions in p's decile moved
  if (pv == null || !r) return '';
  const k = Math.min(9, Math.max(0, Math.floor(pv * 10))), c = r.calibration[k];
  if (!c.n) return `(no recent prediction in ${(k / 10).toFixed(1)}–${((k + 1) / 10).toFixed(1)} yet)`;
  return `of ${c.n} recent predictions in ${(k / 10).toFixed(1)}–${((k + 1) / 10).toFixed(1)}, ${Math.round(c.moved / c.n * 100)} % moved`;
}
const html = (v) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// where the models came from: a file given to --load-model (hot-reloaded) or this run alone
function originHtml() {
  const o = state.model_origin;
  if (!o) return '<dt>model</dt><dd id="model-origin">learned in this run (no --load-model)</dd>';
  return `<dt>model</dt><dd id="model-origin" title="${html(o.config)}">${html(o.path)} · crc ${html(o.checksum)} · v${o.version}
    · loaded ${html(o.loaded_at)} · ${o.learned_since_load} learned since · reloads ${o.reloads_ok} ok / ${o.reloads_error} failed</dd>`;
}
function renderQuality(r) {
  const q = $('quality'), svg = $('calib');
  if (!r || !r.n) { q.innerHTML = '<dt>labeled predictions</dt><dd>none yet</dd>' + originHtml(); svg.innerHTML = ''; svg.dataset.points = '0'; return; }
  const pct = (v) => (v == null ? '–' : `${(v * 100).toFixed(1)} %`);
  q.innerHTML = `<dt>accuracy (p ≥ 0.5)</dt><dd>${pct(r.accuracy)}</dd><dt>majority baseline</dt><dd>${pct(r.baseline)}</dd>
    <dt>ROC AUC</dt><dd>${fmt(r.auc, 3)}</dd><dt>window</dt><dd>${r.n}/${r.window} labeled predictions</dd>` + originHtml();
  // calibration: mean predicted p per decile (x) vs realized rate (y), dot area ~ count; diagonal = perfect
  const L = 30, T = 8, W = 180, H = 140, X = (v) => L + v * W, Y = (v) => T + (1 - v) * H;
  const max = Math.max(1, ...r.calibration.map((c) => c.n));
  let out = `<rect x="${L}" y="${T}" width="${W}" height="${H}" fill="#0b0e13" stroke="#30363d"/>
    <line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" stroke="#8b949e" stroke-dasharray="3 3"/>`;
  for (const v of [0, 0.5, 1]) out += `<text x="${X(v)}" y="${T + H + 11}" text-anchor="middle">${v}</text><text x="${L - 4}" y="${Y(v) + 3}" text-anchor="end">${v}</text>`;
  out += `<text x="${L + W / 2}" y="${T + H + 22}" text-anchor="middle">predicted p (decile mean)</text>`;
  out += `<text transform="translate(9 ${T + H / 2}) rotate(-90)" text-anchor="middle">realized move rate</text>`;
  let pts = 0;
  for (const c of r.calibration) {
    if (!c.n) continue;
    pts++;
    const rate = c.moved / c.n;
    out += `<circle cx="${X(c.mean_p).toFixed(1)}" cy="${Y(rate).toFixed(1)}" r="${(2 + 5 * Math.sqrt(c.n / max)).toFixed(1)}" fill="#d2a8ff" fill-opacity="0.8"><title>p ≈ ${fmt(c.mean_p, 2)}: ${c.moved}/${c.n} moved (${Math.round(rate * 100)} %)</title></circle>`;
  }
  svg.innerHTML = out; svg.dataset.points = String(pts);
}

// ---- exports: the visible window of a time chart ----
function visibleRange(c) { return [c.scales.x.min, c.scales.x.max]; }
function isoTime(sec) { return new Date(sec * 1000).toISOString(); }
function download(name, href) {
  const a = document.createElement('a'); a.href = href; a.download = name; document.body.appendChild(a); a.click(); a.remove();
}
function exportName(k, ext) {
  const [lo, hi] = visibleRange(charts[k]);
  const f = (v) => (Number.isFinite(v) ? isoTime(v).replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z') : 'na');
  return `quotewatch-${product}-${k}-${f(lo)}-${f(hi)}.${ext}`;
}
function chartCSV(k) { // header: time (UTC, ISO 8601), then the chart's series; rows in the visible window
  const c = charts[k], [lo, hi] = visibleRange(c), d = c.data;
  const cols = c.series.slice(1).map((s) => s.label);
  const esc = (v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [['time_utc', ...cols].map(esc).join(',')];
  for (let i = 0; i < d[0].length; i++) {
    const t = d[0][i];
    if (!(t >= lo && t <= hi)) continue;
    const row = [isoTime(t)];
    for (let j = 1; j < d.length; j++) {
      const v = d[j][i];
      if (k === 'mid' && j > 1 && v != null) { const sz = tradeSizes[j === 2 ? 'buy' : 'sell'][i]; row.push(`${v} x ${sz ?? ''}`); }
      else row.push(v == null ? '' : String(v));
    }
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}
function exportChart(k, fmtName) {
  if (!charts[k] || !product) return;
  if (fmtName === 'csv') {
    const url = URL.createObjectURL(new Blob([chartCSV(k)], { type: 'text/csv' }));
    download(exportName(k, 'csv'), url);
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } else {
    download(exportName(k, 'png'), charts[k].ctx.canvas.toDataURL('image/png'));
  }
}
// the same window from the lake (docs/STORAGE.md "Commands"), when the process persists
function renderLakeQuery(prod) {
  const c = charts.mid; if (!c) return;
  const [lo, hi] = visibleRange(c);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) { $('lakeq').textContent = '(no data in the window yet)'; return; }
  const since = isoTime(Math.floor(lo * 1000) / 1000), until = isoTime(Math.ceil(hi * 1000 + 1) / 1000);
  const txt = ['raw_orderbook', 'raw_trades'].map((t) => `quotewatch lake scan ${t} --products ${prod} --since ${since} --until ${until} --limit 0`).join('\n');
  if ($('lakeq').textContent !== txt) $('lakeq').textContent = txt;
}
for (const el of document.querySelectorAll('.export')) {
  el.addEventListener('click', (e) => { const b = e.target.closest('button'); if (b) exportChart(el.dataset.chart, b.dataset.fmt); });
}

function renderTrades(p) {
  $('trades').tBodies[0].innerHTML = p.trades.slice(0, 12).map((t) =>
    `<tr><td>${fmtTime(t.t_ns / 1e9, 3)}</td><td class="${t.aggressor}">${t.aggressor}</td><td>${t.price}</td><td>${t.size}</td></tr>`).join('');
}
function renderStatus(p) {
  const f = state.feed, s = $('status'), warn = [];
  const age = f.last_message_age_s;
  const live = state.mode === 'live';
  if (live && f.state !== 'subscribed') warn.push(`Feed disconnected (${f.state}${f.last_error ? ': ' + f.last_error : ''})`);
  else if (live && age != null && age > STALE_S) warn.push(`Stale: no message for ${fmt(age, 1)} s`);
  if (p && !p.valid) warn.push(`${p.product}: book resyncing (waiting for a fresh snapshot)`);
  if (state.persistence.enabled && (state.persistence.errors > 0 || state.persistence.dropped > 0))
    warn.push(`Persistence: ${state.persistence.errors} errors, ${state.persistence.dropped} records dropped`);
  if (performance.now() - lastMsg > 3000) warn.unshift('Dashboard connection lost');
  s.textContent = live ? `${f.state} · ${fmt(f.messages_per_s, 0)} msg/s` : `replay ${f.state} · ${fmt(f.messages_per_s, 0)} msg/s`;
  s.className = 'status' + (warn.length ? ' bad' : '');
  const w = $('warning'); w.hidden = !warn.length; w.textContent = warn.join(' · ');
  $('feed').innerHTML = `<dt>state</dt><dd>${f.state}</dd><dt>messages</dt><dd>${f.messages}</dd><dt>msg/s</dt><dd>${fmt(f.messages_per_s, 0)}</dd>
    <dt>reconnects</dt><dd>${f.reconnects ?? '–'}</dd><dt>rejected</dt><dd>${f.rejected}</dd><dt>gaps</dt><dd>${f.gaps}</dd><dt>resyncs</dt><dd>${f.resyncs}</dd>
    <dt>last message</dt><dd>${age != null ? fmt(age, 1) + ' s ago' : '–'}</dd>
    <dt>latency p50/p99/p99.9</dt><dd>${state.latency_us ? `${fmt(state.latency_us.p50, 1)} / ${fmt(state.latency_us.p99, 1)} / ${fmt(state.latency_us.p999, 1)} µs` : '–'}</dd>`
    + (state.shard ? `<dt>shard</dt><dd id="shard">${state.shard.index}/${state.shard.count}: ${state.shard.products.map(html).join(', ')}</dd>` : '');
  const ps = state.persistence;
  $('persist').innerHTML = ps.enabled ? `<dt>queued</dt><dd>${ps.queued}</dd><dt>dropped</dt><dd>${ps.dropped}</dd><dt>commits</dt><dd>${ps.commits}</dd>
    <dt>errors</dt><dd>${ps.errors}</dd><dt>rows (book)</dt><dd>${ps.rows_written.raw_orderbook}</dd>
    <dt>last commit</dt><dd>${ps.last_commit_ns ? fmtTime(ps.last_commit_ns / 1e9, 0) + ' ' + zoneName() : '–'}</dd>` : '<dt>persistence</dt><dd>off</dd>';
}

// ---- transport: WebSocket, polling fallback ----
function connect() {
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  try { ws = new WebSocket(url, 'qw-state'); } catch { ws = null; return startPolling(); }
  ws.onopen = () => { stopPolling(); subscribe(); };
  ws.onmessage = (e) => { try { onState(JSON.parse(e.data)); } catch (err) { console.warn('bad state', err); } };
  ws.onclose = () => { ws = null; startPolling(); setTimeout(connect, 2000); };
  ws.onerror = () => {};
}
function startPolling() {
  if (pollTimer) return;
  pollTimer = setInterval(async () => {
    try { const r = await fetch(product ? `/api/state?product=${encodeURIComponent(product)}` : '/api/state', { cache: 'no-store' });
      if (r.ok) onState(await r.json()); } catch { dirty = true; }
  }, 300);
}
function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }
setInterval(() => { if (performance.now() - lastMsg > 3000) dirty = true; }, 1000);

$('product').addEventListener('change', (e) => { selectProduct(e.target.value); });
$('tz').value = zone;
$('tz').addEventListener('change', (e) => { zone = e.target.value === 'local' ? 'local' : 'UTC'; try { localStorage.setItem('qw-tz', zone); } catch { /* private mode */ } initCharts(); });
$('zoomreset').addEventListener('click', () => setZoom(null));
let resizeTimer = 0;
window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(resizeCharts, 100); });
initCharts();
connect();
requestAnimationFrame(render);
