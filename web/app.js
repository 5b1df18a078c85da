// QuoteWatch dashboard: state pushed over /ws (subprotocol "qw-state"),
// falling back to polling /api/state every 300 ms. Every series lives in a
// fixed-size ring, so memory stays bounded after hours; charts redraw at
// most once per animation frame.
'use strict';

const N = 600;          // points kept per product and series (~1 min at 10 Hz)
const HEAT_COLS = 300;  // heatmap columns
const HEAT_ROWS = 60;   // price buckets around mid
const STALE_S = 5;      // a book older than this is stale

const $ = (id) => document.getElementById(id);
let state = null, product = null, ws = null, pollTimer = null, lastMsg = 0, dirty = false;
const hist = new Map(); // product -> rings

function ring(n) { return { t: new Float64Array(n), v: new Float64Array(n), len: 0, head: 0, n }; }
function push(r, t, v) { r.t[r.head] = t; r.v[r.head] = v; r.head = (r.head + 1) % r.n; if (r.len < r.n) r.len++; }
function arr(r) { // oldest first
  const t = new Array(r.len), v = new Array(r.len);
  for (let i = 0; i < r.len; i++) { const k = (r.head - r.len + i + r.n) % r.n; t[i] = r.t[k]; v[i] = r.v[k]; }
  return [t, v];
}
function series(p) {
  if (!hist.has(p)) hist.set(p, { mid: ring(N), buy: ring(200), sell: ring(200), p: ring(N), lab: ring(200), acc: ring(N), base: ring(N),
                                  heat: new Float32Array(HEAT_COLS * HEAT_ROWS), heatHead: 0, heatBps: 0, lastTrade: 0, lastLabel: 0 });
  return hist.get(p);
}

// ---- charts ----
function mkChart(el, seriesDefs, opts = {}) {
  const w = el.clientWidth || 600;
  return new uPlot({ width: w, height: opts.height || 200, legend: { show: false }, cursor: { show: false },
    scales: { x: { time: true }, y: opts.y || {} }, axes: [{ stroke: '#8b949e', grid: { stroke: '#21262d' } },
      { stroke: '#8b949e', grid: { stroke: '#21262d' }, size: 70 }], series: [{}, ...seriesDefs] },
    [[], ...seriesDefs.map(() => [])], el);
}
const charts = {};
function initCharts() {
  charts.mid = mkChart($('chart-mid'), [
    { stroke: '#58a6ff', width: 1.5 },
    { stroke: '#3fb950', width: 0, points: { show: true, size: 7, fill: '#3fb950' } },
    { stroke: '#f85149', width: 0, points: { show: true, size: 7, fill: '#f85149' } }], { height: 330 });
  charts.prob = mkChart($('chart-prob'), [
    { stroke: '#d2a8ff', width: 1.5 },
    { stroke: '#f0883e', width: 0, points: { show: true, size: 6, fill: '#f0883e' } }], { y: { range: [0, 1] } });
  charts.acc = mkChart($('chart-acc'), [{ stroke: '#58a6ff', width: 1.5 }, { stroke: '#8b949e', width: 1, dash: [4, 4] }],
    { y: { range: [0, 1] }, height: 180 });
  window.addEventListener('resize', () => { for (const c of Object.values(charts)) c.setSize({ width: c.root.parentElement.clientWidth - 4, height: c.height }); });
}

// ---- ingest state ----
function onState(s) {
  state = s; lastMsg = performance.now();
  const now = Date.now() / 1000;
  const sel = $('product');
  const names = s.products.map((p) => p.product);
  if (sel.options.length !== names.length || names.some((n, i) => sel.options[i].value !== n)) {
    sel.innerHTML = ''; for (const n of names) sel.add(new Option(n, n));
    if (!product || !names.includes(product)) product = names[0] || null;
    sel.value = product;
  }
  for (const p of s.products) {
    const h = series(p.product);
    if (p.mid != null) push(h.mid, now, p.mid);
    for (let i = p.trades.length - 1; i >= 0; i--) { // oldest first, only new ones
      const t = p.trades[i];
      if (t.t_ns <= h.lastTrade) continue;
      h.lastTrade = t.t_ns;
      push(t.aggressor === 'buy' ? h.buy : h.sell, now, Number(t.price));
    }
    if (p.p != null) push(h.p, now, p.p);
    for (const l of p.labels) { if (l.t_ns > h.lastLabel) { h.lastLabel = l.t_ns; push(h.lab, now, l.label); } }
    if (p.model.rolling_accuracy != null) { push(h.acc, now, p.model.rolling_accuracy); push(h.base, now, p.model.base_rate); }
    heatColumn(h, p);
  }
  dirty = true;
}

function heatColumn(h, p) {
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
  h.heatHead = (h.heatHead + 1) % HEAT_COLS;
}

// ---- render (once per frame at most) ----
const fmt = (v, d = 2) => (v == null || Number.isNaN(v) ? '–' : Number(v).toFixed(d));
function render() {
  requestAnimationFrame(render);
  if (!dirty || !state) return;
  dirty = false;
  const p = state.products.find((x) => x.product === product);
  renderStatus(p);
  if (!p) return;
  $('bid').textContent = p.best_bid ?? '–'; $('ask').textContent = p.best_ask ?? '–';
  $('mid').textContent = fmt(p.mid, 6); $('spread').textContent = p.spread ?? '–';
  $('spreadbps').textContent = p.spread_bps != null ? `(${fmt(p.spread_bps, 2)} bps)` : '';
  $('prob').textContent = p.p != null ? fmt(p.p, 3) : (p.stability != null ? `stability ${fmt(p.stability, 2)}` : '–');
  const h = series(p.product);
  const [mt, mv] = arr(h.mid), [bt, bv] = arr(h.buy), [st, sv] = arr(h.sell);
  charts.mid.setData(sparse(mt, mv, [[bt, bv], [st, sv]]));
  const [pt, pv] = arr(h.p), [lt, lv] = arr(h.lab);
  charts.prob.setData(sparse(pt, pv, [[lt, lv]]));
  const [at, av] = arr(h.acc), [, bv2] = arr(h.base);
  charts.acc.setData([at, av, bv2]);
  renderLadder(p); renderHeat(h); renderModel(p); renderTrades(p);
}
// one x axis: the line's times plus the points' times, values null where absent
function sparse(xt, xv, pts) {
  const all = [...xt.map((t, i) => [t, 0, i])];
  pts.forEach(([t], k) => t.forEach((tt, i) => all.push([tt, k + 1, i])));
  all.sort((a, b) => a[0] - b[0]);
  const x = [], cols = [[], ...pts.map(() => [])];
  for (const [t, k, i] of all) {
    x.push(t);
    cols.forEach((c, j) => c.push(j === k ? (k === 0 ? xv[i] : pts[k - 1][1][i]) : null));
  }
  return [x, ...cols];
}
function renderLadder(p) {
  const rows = []; const n = Math.max(p.bids.length, p.asks.length);
  for (let i = Math.min(9, p.asks.length - 1); i >= 0; i--) rows.push(`<tr><td></td><td class="px ask">${p.asks[i][0]}</td><td class="ask">${p.asks[i][1]}</td></tr>`);
  for (let i = 0; i < Math.min(10, p.bids.length); i++) rows.push(`<tr><td class="bid">${p.bids[i][1]}</td><td class="px bid">${p.bids[i][0]}</td><td></td></tr>`);
  $('ladder').tBodies[0].innerHTML = n ? rows.join('') : '<tr><td colspan="3">no book</td></tr>';
}
const heatCtx = () => $('heatmap').getContext('2d');
function renderHeat(h) {
  const c = $('heatmap'), ctx = heatCtx();
  const img = ctx.createImageData(HEAT_COLS, HEAT_ROWS);
  let max = 0; for (let i = 0; i < h.heat.length; i++) max = Math.max(max, h.heat[i]);
  const lmax = Math.log1p(max) || 1;
  for (let x = 0; x < HEAT_COLS; x++) {
    const src = (h.heatHead + x) % HEAT_COLS;
    for (let y = 0; y < HEAT_ROWS; y++) {
      const v = Math.log1p(h.heat[src * HEAT_ROWS + y]) / lmax, o = ((HEAT_ROWS - 1 - y) * HEAT_COLS + x) * 4;
      // dark (no liquidity) -> blue -> orange -> yellow (deep)
      img.data[o] = 11 + 244 * Math.min(1, v * 1.5); img.data[o + 1] = 14 + 200 * v * v; img.data[o + 2] = 19 + 150 * Math.sin(Math.PI * Math.min(v, 1)); img.data[o + 3] = 255;
    }
  }
  const tmp = renderHeat.tmp || (renderHeat.tmp = Object.assign(document.createElement('canvas'), { width: HEAT_COLS, height: HEAT_ROWS }));
  tmp.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false; ctx.drawImage(tmp, 0, 0, c.width, c.height);
  ctx.strokeStyle = '#ffffff55'; ctx.beginPath(); ctx.moveTo(0, c.height / 2); ctx.lineTo(c.width, c.height / 2); ctx.stroke();
}
function renderModel(p) {
  const m = p.model;
  $('model').innerHTML = `<dl><dt>ready</dt><dd>${m.ready ? 'yes' : `no (${m.class_counts[0]}/${m.min_per_class} · ${m.class_counts[1]}/${m.min_per_class} per class)`}</dd>
    <dt>labeled</dt><dd>${m.labeled}</dd><dt>rolling accuracy</dt><dd>${fmt(m.rolling_accuracy, 3)}</dd>
    <dt>base rate</dt><dd>${fmt(m.base_rate, 3)}</dd><dt>intercept</dt><dd>${fmt(m.intercept, 4)}</dd></dl>`;
  const names = ['spread_bps', 'imbalance', 'depth', 'volatility'];
  const mx = Math.max(1e-12, ...m.coef.map((c) => Math.abs(c ?? 0)));
  $('coefs').innerHTML = m.coef.map((c, i) => { const w = Math.abs(c ?? 0) / mx * 50;
    return `<div class="row"><span>${names[i]}</span><div class="bar"><i class="${c < 0 ? 'neg' : ''}" style="left:${c < 0 ? 50 - w : 50}%;width:${w}%"></i></div><span>${fmt(c, 4)}</span></div>`; }).join('');
}
function renderTrades(p) {
  $('trades').tBodies[0].innerHTML = p.trades.slice(0, 12).map((t) =>
    `<tr><td>${new Date(t.t_ns / 1e6).toISOString().slice(11, 23)}</td><td class="${t.aggressor}">${t.aggressor}</td><td>${t.price}</td><td>${t.size}</td></tr>`).join('');
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
    <dt>latency p50/p99/p99.9</dt><dd>${state.latency_us ? `${fmt(state.latency_us.p50, 1)} / ${fmt(state.latency_us.p99, 1)} / ${fmt(state.latency_us.p999, 1)} µs` : '–'}</dd>`;
  const ps = state.persistence;
  $('persist').innerHTML = ps.enabled ? `<dt>queued</dt><dd>${ps.queued}</dd><dt>dropped</dt><dd>${ps.dropped}</dd><dt>commits</dt><dd>${ps.commits}</dd>
    <dt>errors</dt><dd>${ps.errors}</dd><dt>rows (book)</dt><dd>${ps.rows_written.raw_orderbook}</dd>
    <dt>last commit</dt><dd>${ps.last_commit_ns ? new Date(ps.last_commit_ns / 1e6).toISOString().slice(11, 19) : '–'}</dd>` : '<dt>persistence</dt><dd>off</dd>';
}

// ---- transport: WebSocket, polling fallback ----
function connect() {
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  try { ws = new WebSocket(url, 'qw-state'); } catch { ws = null; return startPolling(); }
  ws.onopen = () => { stopPolling(); };
  ws.onmessage = (e) => { try { onState(JSON.parse(e.data)); } catch (err) { console.warn('bad state', err); } };
  ws.onclose = () => { ws = null; startPolling(); setTimeout(connect, 2000); };
  ws.onerror = () => {};
}
function startPolling() {
  if (pollTimer) return;
  pollTimer = setInterval(async () => {
    try { const r = await fetch('/api/state', { cache: 'no-store' }); if (r.ok) onState(await r.json()); } catch { dirty = true; }
  }, 300);
}
function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }
setInterval(() => { if (performance.now() - lastMsg > 3000) dirty = true; }, 1000);

$('product').addEventListener('change', (e) => { product = e.target.value; dirty = true; });
initCharts();
connect();
requestAnimationFrame(render);
