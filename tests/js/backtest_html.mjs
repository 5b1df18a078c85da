// backtest_html.mjs: the `quotewatch backtest --report-html` page in Debian
// chromium (playwright-core), opened from disk with the network blocked:
// no console errors, no request other than the file itself, one section per
// configuration, three SVG charts per section, rendered to a PNG.
// usage: node backtest_html.mjs REPORT.html CONFIGS OUT.png
import { chromium } from 'playwright-core';
import path from 'node:path';

const [file, nconf, png] = process.argv.slice(2);
let fail = 0;
const check = (ok, what) => { console.log(`${ok ? 'ok' : 'FAIL'} ${what}`); if (!ok) fail++; };
let browser;
try {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-dev-shm-usage'] });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors = [], requests = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.route('**/*', (r) => {
    const u = r.request().url();
    if (!u.startsWith('file://')) { requests.push(u); return r.abort(); }
    return r.continue();
  });
  await page.goto('file://' + path.resolve(file));
  const sections = await page.$$eval('section', (s) => s.length);
  const svgs = await page.$$eval('section svg', (s) => s.length);
  const lines = await page.$$eval('section svg polyline', (s) => s.filter((p) => p.getAttribute('points').trim().length > 0).length);
  check(sections === Number(nconf), `${sections} sections (want ${nconf})`);
  check(svgs === 3 * Number(nconf), `${svgs} charts`);
  check(lines >= 2 * Number(nconf), `${lines} non-empty curves`);
  await page.screenshot({ path: png, fullPage: false });
  check(errors.length === 0, `no console errors (${errors.join(' | ')})`);
  check(requests.length === 0, `no network requests (${requests.join(' ')})`);
} catch (e) {
  console.log('FAIL', e.message); fail++;
} finally {
  if (browser) await browser.close();
}
process.exit(fail ? 1 : 0);
