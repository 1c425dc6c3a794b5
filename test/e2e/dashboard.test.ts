/**
 * The built-in dashboard in real headless Chromium: a server with a small trained model gets a short
 * simulated session (stable, then sudden-drift, labels delivered), then /dashboard must load without
 * console errors, every panel must have data, and MONTANT must be shown red. Saves a screenshot to
 * a temp dir, and to docs/images/dashboard.png (the README's picture) when CHURNWATCH_UPDATE_SCREENSHOT=1.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { runServe } from '../../src/cli/commands/serve.js';
import { writeSyntheticCsv } from '../../src/data/synthetic.js';
import { startFeedbackSimulator } from '../../src/simulate/feedback.js';
import { simulatePredictions } from '../../src/simulate/predictions.js';
import { csvRowSource } from '../../src/simulate/row-source.js';
import { getScenario } from '../../src/simulate/scenarios.js';
import { CHROMIUM, requireBinary } from '../helpers/external-binary.js';
import { repoRoot } from '../helpers/shared-files.js';
import { trainSmallModel } from '../helpers/train-small-model.js';
import { waitFor } from '../helpers/wait-for.js';

test('the built-in dashboard shows every panel with data and MONTANT in red after sudden drift', {
  timeout: 120_000,
}, async (t) => {
  const executablePath = requireBinary(t, CHROMIUM);
  if (!executablePath) return;
  const models = await trainSmallModel(20_000);
  const dir = await mkdtemp(join(tmpdir(), 'churnwatch-dash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const holdout = join(dir, 'holdout.csv');
  await writeSyntheticCsv(holdout, { rows: 4000, seed: 99 });
  const server = await runServe({
    port: '0',
    host: '127.0.0.1',
    modelPath: join(models, 'latest'),
    storeUrl: `sqlite:${join(dir, 'dash.db')}`,
    logLevel: 'warn',
    env: {},
  });
  t.after(() => server.close());

  // A short session: stable, then sudden-drift; 80 % of labels arrive within 3 s.
  const feedback = startFeedbackSimulator({
    url: server.url,
    coverage: 0.8,
    minDelayMs: 200,
    maxDelayMs: 3000,
  });
  const source = await csvRowSource(holdout);
  const common = { url: server.url, source, rate: 1500, concurrency: 4, batch: 10, onSent: feedback.add };
  await simulatePredictions({ ...common, rows: 1200, scenario: getScenario('stable') });
  await simulatePredictions({ ...common, rows: 1200, scenario: getScenario('sudden-drift') });
  feedback.finish();
  const fb = await feedback.done;
  assert.ok(fb.sent > 1500, `only ${fb.sent} labels`);
  await server.app.churnwatch.joinPendingNow();
  // Label panels draw only chunks whose labels are due (older than the p90 label delay, ~3 s here):
  // wait until one is, however fast this machine ran the traffic.
  await waitFor(
    async () => {
      const res = await fetch(`${server.url}/dashboard/data.json?range=5m`);
      const data = (await res.json()) as { series: { labelCoverage: (number | null)[] } };
      return data.series.labelCoverage.some((v) => v !== null);
    },
    { what: 'a chunk due for its labels in /dashboard/data.json', timeoutMs: 30_000, intervalMs: 500 },
  );

  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  await page.goto(`${server.url}/dashboard?range=5m`);
  await page.waitForSelector('body[data-loaded]', { timeout: 20_000 });

  const states = await page.$$eval('[data-panel]', (els) =>
    els.map((e) => [e.getAttribute('data-panel'), e.getAttribute('data-state')]),
  );
  assert.ok(states.length >= 17, `${states.length} panels`);
  const empty = states.filter(([, s]) => s !== 'ready').map(([p]) => p);
  assert.deepEqual(empty, [], `panels without data: ${empty.join(', ')}`);

  // MONTANT is drifting: its row in the drift table is marked and painted red.
  const montant = page.locator('[data-panel="feature-drift"] tr[data-feature="MONTANT"]');
  assert.equal(await montant.getAttribute('data-drifted'), 'true');
  const color = await montant
    .locator('td')
    .first()
    .evaluate(
      (td) =>
        (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(td)
          .color,
    );
  assert.equal(color, 'rgb(209, 36, 47)');
  // A stable feature is not.
  assert.equal(
    await page.locator('[data-panel="feature-drift"] tr[data-feature="TENURE"]').getAttribute('data-drifted'),
    'false',
  );
  // The drill-down opens on a drifting feature; clicking MONTANT shows its bins, serving in red.
  await montant.click();
  assert.equal(await page.locator('#feature').inputValue(), 'MONTANT');
  assert.ok((await page.locator('[data-panel="feature-drilldown"] .bar.cur.bad').count()) >= 5);
  // The feature-drift alert's condition holds: pending until it has held for its `for` (15 minutes).
  assert.equal(
    await page
      .locator('[data-panel="alerts"] tr[data-alert="ChurnwatchFeatureDrift"]')
      .getAttribute('data-state'),
    'pending',
  );
  // uPlot comes from this server: charts are drawn.
  assert.ok((await page.locator('.uplot canvas').count()) >= 8);
  // The range selector reloads the data.
  await page.selectOption('#range', '15m');
  await page.waitForFunction("document.querySelector('#status')?.textContent?.startsWith('last 15 min')");

  const shotDir =
    process.env.CHURNWATCH_UPDATE_SCREENSHOT === '1'
      ? join(repoRoot, 'docs', 'images')
      : join(dir, 'screenshots');
  await mkdir(shotDir, { recursive: true });
  const shot = join(shotDir, 'dashboard.png');
  await page.selectOption('#range', '5m');
  await page.waitForTimeout(500);
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok((await stat(shot)).size > 20_000);
  assert.deepEqual(problems, []);
});
