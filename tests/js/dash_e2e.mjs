// dash_e2e.mjs: the dashboard in a real browser (Debian chromium driven by
// playwright-core) against `quotewatch live` connected to the simulator.
// Spawns both; checks: no console errors, numbers and charts update from
// pushed data, product switch, a simulator outage shows a warning that
// clears after the client reconnects; saves a screenshot.
// usage: node dash_e2e.mjs QW_BIN SCREENSHOT
import { chromium } from 'playwright-core';
import { spawn } from 'child_process';
import net from 'net';

const [bin, shot] = process.argv.slice(2);
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
} catch (e) {
  console.log('FAIL', e.message); fail++;
} finally {
  if (browser) await browser.close();
  for (const p of procs) p.kill('SIGKILL');
}
process.exit(fail ? 1 : 0);
