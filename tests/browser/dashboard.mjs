// Drives Debian's headless chromium (through playwright-core, no bundled
// browser) against a running `vigil serve`, the way an analyst would: load
// the dashboard, wait for the model card and the form built from the schema,
// type a record into the form, click "Score record" and read the verdict,
// its explanation and the recent-detections table; with --expect-alerts N
// (the server has an alert store of N alerts) the Alerts panel: its rows,
// per-hour chart and totals, the entity and score filters and an expanded
// raw line. Also checks the fallback
// when explanations are refused, the API-key dialog, a phone-sized layout
// and the dark theme, and saves screenshots. Prints "ok: ..." per check and
// exits 1 if any failed.
//
// node dashboard.mjs --url http://127.0.0.1:PORT/ --record FILE.json
//                    --expect-label attack --expect-anomaly 1 --out DIR
//                    [--auth-url URL --key KEY] [--expect-alerts N]
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const out = args.out || '.';
const record = JSON.parse(readFileSync(args.record, 'utf8'));
let failures = 0;
const ok = (what) => console.log('ok:   ' + what);
const fail = (what) => { console.log('FAIL: ' + what); failures++; };
const check = (cond, what) => (cond ? ok(what) : fail(what));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  timeout: 60000,
});

// A page that records what the browser complains about.
async function open(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/401/.test(m.text())) problems.push('console: ' + m.text()); });
  page.on('requestfailed', (r) => problems.push('request failed: ' + r.url()));
  // The page must not reach beyond the server it came from.
  const origin = new URL(url).origin;
  page.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push('external request: ' + r.url()); });
  await page.goto(url, { waitUntil: 'load', timeout: 30000 });
  return { page, problems };
}

try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, colorScheme: 'light' });
  const { page, problems } = await open(context, args.url);

  // The form is generated from the schema, the card from the stored metrics.
  await page.waitForSelector('#fields .field', { timeout: 15000 });
  const nFields = await page.locator('#fields .field').count();
  check(nFields === Object.keys(record).length, `form built from the schema: ${nFields} fields`);
  const selects = await page.locator('#fields select').count();
  check(selects >= 1, `categorical fields are drop-downs (${selects})`);
  await page.waitForSelector('#model-metrics .card', { timeout: 15000 });
  check(await page.locator('#card-roc polyline').count() >= 1, 'model card draws the stored ROC curve');
  check(await page.locator('#card-pr polyline').count() >= 1, 'model card draws the stored PR curve');
  check(await page.locator('#card-confusion td').count() >= 4, 'model card shows the confusion matrix');
  check(await page.locator('#card-importance .b').count() >= 3, 'model card shows feature importance bars');

  // Live tiles fill from /v1/stats.
  await page.waitForFunction(() => document.getElementById('stat-requests').textContent !== '–', null, { timeout: 10000 });
  check(/live/.test(await page.locator('#conn').textContent()), 'connection pill says live');
  check((await page.locator('#spark-requests path').count()) >= 1, 'request-rate sparkline drawn');

  // Type the record into the form and click Score.
  for (const [name, value] of Object.entries(record)) {
    const el = page.locator(`#fields [name="${name}"]`);
    if (await el.evaluate((e) => e.tagName) === 'SELECT') await el.selectOption(String(value));
    else await el.fill(value === null ? '' : String(value));
  }
  const changed = await page.locator('#fields .field.changed').count();
  check(changed > 0, `fields edited in the form (${changed} differ from the example)`);
  await page.click('#score-btn');
  await page.waitForSelector('#verdict-badge', { timeout: 15000 });
  const badge = (await page.locator('#verdict-badge').textContent()).trim();
  const label = (await page.locator('#verdict-label').textContent()).trim();
  const score = Number(await page.locator('#verdict-score').textContent());
  console.log(`verdict: ${badge}, label ${label}, score ${score}`);
  check(/^(anomaly|normal)$/i.test(badge), `verdict badge shown: ${badge}`);
  check(label.length > 0, `label shown: ${label}`);
  if (args['expect-label']) check(label === args['expect-label'], `label is ${args['expect-label']}`);
  if (args['expect-anomaly']) check(/anomaly/i.test(badge) === (args['expect-anomaly'] === '1'), `badge is ${args['expect-anomaly'] === '1' ? 'Anomaly' : 'Normal'}`);
  check(score >= 0 && score <= 1, `score in [0, 1]: ${score}`);
  const rows = await page.locator('#why-chart .track').count();
  check(rows >= 3, `explanation drawn as a diverging bar chart (${rows} bars)`);
  check(/raw score/.test(await page.locator('#why .sum').textContent()), 'explanation adds up to the raw score');

  // The detection appears among the recent ones.
  await page.waitForFunction((lbl) => [...document.querySelectorAll('#recent tbody tr td:nth-child(4)')].some((td) => td.textContent === lbl),
    label, { timeout: 10000 });
  ok('the scored record appears in the recent detections');
  // The Alerts panel over the server's alert store.
  if (args['expect-alerts']) {
    const want = Number(args['expect-alerts']);
    await page.waitForSelector('#alerts tbody tr[data-id]', { timeout: 15000 });
    check(await page.locator('#alerts-none').isHidden(), 'alerts panel: no how-to when a store is attached');
    const nRows = await page.locator('#alerts tbody tr[data-id]').count();
    check(nRows === Math.min(50, want), `alerts panel lists the newest alerts (${nRows} rows of ${want})`);
    await page.waitForFunction((n) => document.getElementById('alerts-total').textContent.replace(/,/g, '') === String(n), want, { timeout: 10000 })
      .then(() => ok(`alerts panel total: ${want}`), () => fail('alerts panel total is not ' + want));
    const bars = await page.locator('#alerts-chart rect:not(.zero)').count();
    check(bars >= 1, `per-hour chart draws the alerts (${bars} non-empty hours)`);
    check(await page.locator('#alerts tbody td.feat span').count() >= 1, 'alerts show their top features');
    // Click the top entity chip: only its alerts remain.
    const chip = page.locator('#alerts-entities button').first();
    const chipText = (await chip.textContent()).trim();
    await chip.click();
    await page.waitForFunction(() => document.getElementById('af-entity').value !== '', null, { timeout: 5000 });
    const entity = await page.locator('#af-entity').inputValue();
    await page.waitForFunction((e) => {
      const cells = [...document.querySelectorAll('#alerts tbody tr[data-id] td.ent')];
      return cells.length > 0 && cells.every((td) => td.textContent === e);
    }, entity, { timeout: 10000 }).then(() => ok(`entity filter (chip ${chipText}): only ${entity}`), () => fail(`entity filter ${entity}`));
    // A minimum score on top: every score shown reaches it.
    await page.fill('#af-score', '0.99');
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('#alerts tbody tr[data-id] td.num')];
      return cells.every((td) => parseFloat(td.textContent) >= 0.99) && document.querySelectorAll('#alerts tbody tr').length > 0;
    }, null, { timeout: 10000 }).then(() => ok('score filter: every score >= 0.99'), () => fail('score filter'));
    await page.click('#af-clear');
    await page.waitForFunction((n) => document.querySelectorAll('#alerts tbody tr[data-id]').length === n, Math.min(50, want), { timeout: 10000 })
      .then(() => ok('clearing the filters lists every alert again'), () => fail('clear filters'));
    // Expand the first alert's raw line.
    await page.locator('#alerts tbody tr[data-id] button:has-text("raw")').first().click();
    await page.waitForSelector('#alerts tr.raw td', { timeout: 5000 });
    const raw = await page.locator('#alerts tr.raw td').first().textContent();
    check(/line \d+/.test(raw) && raw.split(',').length > 40, 'the raw line expands under its alert');
    await page.locator('#alerts-panel').screenshot({ path: join(out, 'dashboard-alerts.png') });
  }
  await page.waitForTimeout(2500);  // one more poll, so the sparklines show the traffic
  await page.screenshot({ path: join(out, 'dashboard.png'), fullPage: true });

  check(problems.length === 0, 'no page errors, console errors or external requests' + (problems.length ? ': ' + problems.join('; ') : ''));

  // When the server refuses explanations, the verdict still shows and the page says why not.
  await page.route(/\/v1\/detect\?.*explain=1/, (route) => route.fulfill({ status: 400, contentType: 'application/json',
    body: JSON.stringify({ error: "model 'x' cannot explain its predictions; leave out explain=1" }) }));
  await page.click('#score-btn');
  await page.waitForSelector('#why-unavailable', { timeout: 10000 });
  check((await page.locator('#verdict-label').textContent()).trim() === label, 'explain refused: verdict still shown');
  check(/unavailable/.test(await page.locator('#why-unavailable').textContent()), 'explain refused: says explanations are unavailable');
  await page.unroute(/\/v1\/detect\?.*explain=1/);

  // A bad number is caught before sending.
  const firstNumber = page.locator('#fields input[type=number]').first();
  await firstNumber.evaluate((e) => { e.type = 'text'; e.value = 'abc'; });
  await page.click('#score-btn');
  await page.waitForSelector('#verdict-error', { timeout: 5000 });
  ok('a non-number is refused with a message');
  check(!problems.some((p) => /page error|external/.test(p)), 'no page errors after the refused explanation');
  await context.close();

  // Phone-sized and dark: nothing wider than the screen.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true, hasTouch: true });
  const p2 = await open(phone, args.url);
  await p2.page.waitForSelector('#model-metrics .card', { timeout: 15000 });
  await p2.page.waitForTimeout(2500);
  const overflow = await p2.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `phone layout fits the screen (overflow ${overflow}px)`);
  await p2.page.screenshot({ path: join(out, 'dashboard-phone-dark.png'), fullPage: true });
  check(p2.problems.length === 0, 'phone page: no errors' + (p2.problems.length ? ': ' + p2.problems.join('; ') : ''));
  await phone.close();

  // A server with an API key: the dashboard asks for it, then works.
  if (args['auth-url']) {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page: p3 } = await open(ctx, args['auth-url']);
    await p3.waitForSelector('#auth:not([hidden])', { timeout: 10000 });
    ok('a 401 opens the API key dialog');
    await p3.fill('#api-key', 'wrong-key');
    await p3.click('#auth-save');
    await p3.waitForSelector('#auth-error:not([hidden])', { timeout: 10000 });
    ok('a refused key is reported');
    await p3.fill('#api-key', args.key);
    await p3.click('#auth-save');
    await p3.waitForSelector('#fields .field', { timeout: 15000 });
    ok('with the key the models load');
    await p3.waitForSelector('#alerts-none:not([hidden])', { timeout: 10000 });
    check(/--alerts/.test(await p3.locator('#alerts-none').textContent()), 'without a store the Alerts panel says how to get one');
    const stored = await p3.evaluate(() => sessionStorage.getItem('vigil.apiKey'));
    check(stored === args.key, 'the key is kept in sessionStorage');
    await p3.click('#score-btn');
    await p3.waitForSelector('#verdict-badge', { timeout: 15000 });
    ok('scoring works with the key (sent as Authorization: Bearer)');
    await ctx.close();
  }
} catch (e) {
  fail('browser run: ' + (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e));
} finally {
  await browser.close();
}
console.log(failures ? `${failures} browser check(s) failed` : 'all browser checks passed');
process.exit(failures ? 1 : 0);
