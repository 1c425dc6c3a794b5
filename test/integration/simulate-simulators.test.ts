/**
 * The simulators against a real server (runServe: real SQLite store, in-process monitor, dashboard data):
 * labels are delivered for the stated share and join, the sudden-drift scenario turns MONTANT red while
 * stable traffic does not, Ctrl-C (abort) reports what was sent, a dead API fails after bounded retries.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningServer, runServe } from '../../src/cli/commands/serve.js';
import type { DashboardData } from '../../src/dashboard/dashboard-data.js';
import { writeSyntheticCsv } from '../../src/data/synthetic.js';
import { createLiveMonitor } from '../../src/monitor/live-monitor.js';
import { startFeedbackSimulator } from '../../src/simulate/feedback.js';
import { createHandoffWriter, followHandoff } from '../../src/simulate/handoff-file.js';
import { type SentPrediction, simulatePredictions } from '../../src/simulate/predictions.js';
import { csvRowSource } from '../../src/simulate/row-source.js';
import { getScenario } from '../../src/simulate/scenarios.js';
import { freePort } from '../helpers/free-port.js';
import { trainSmallModel } from '../helpers/train-small-model.js';
import { waitFor } from '../helpers/wait-for.js';

let dir: string;
let server: RunningServer;
let holdout: string;

before(async () => {
  // 20,000 rows: 4,000 validation rows calibrate the drift thresholds for 1,000-row windows soundly.
  const models = await trainSmallModel(20_000);
  dir = await mkdtemp(join(tmpdir(), 'churnwatch-sim-'));
  holdout = join(dir, 'holdout.csv');
  // Another seed than the model's training data: unseen customers from the same population.
  await writeSyntheticCsv(holdout, { rows: 6000, seed: 99 });
  server = await runServe({
    port: '0',
    host: '127.0.0.1',
    modelPath: join(models, 'latest'),
    storeUrl: `sqlite:${join(dir, 'sim.db')}`,
    logLevel: 'warn',
    // Dashboard answers and the live analysis are reused for 2 s and 1 s in production; here a short
    // reuse lets a test see its own traffic as soon as it is sent.
    dashboardCacheMs: '20',
    observer: createLiveMonitor({ cacheMs: 20 }),
    env: {},
  });
});

after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The first dashboard answer computed after everything sent so far (the ones before may be reused). */
async function dashboard(): Promise<DashboardData> {
  const sentBy = Date.now();
  return waitFor(
    async () => {
      const res = await fetch(`${server.url}/dashboard/data.json?range=1h`);
      assert.equal(res.status, 200);
      const data = (await res.json()) as DashboardData;
      return data.generatedAt > sentBy + 20 && data;
    },
    { what: 'a /dashboard/data.json answer computed after the traffic', timeoutMs: 5000, intervalMs: 25 },
  );
}

test('stable traffic keeps MONTANT green, sudden-drift turns it red (live window of 1000 rows)', async () => {
  const source = await csvRowSource(holdout);
  const stable = await simulatePredictions({
    url: server.url,
    source,
    rate: 5000,
    concurrency: 4,
    batch: 20,
    rows: 1200,
    scenario: getScenario('stable'),
  });
  assert.equal(stable.rowsSent, 1200);
  assert.equal(stable.rejected, 0);
  let d = await dashboard();
  const montant = () => d.live.features.find((f) => f.feature === 'MONTANT')!;
  assert.equal(d.live.rows, 1000);
  assert.equal(montant().drifted, false, `stable MONTANT: ${JSON.stringify(montant())}`);

  const drift = await simulatePredictions({
    url: server.url,
    source,
    rate: 5000,
    concurrency: 4,
    batch: 20,
    rows: 1200,
    scenario: getScenario('sudden-drift'),
  });
  assert.deepEqual(drift.byScenario, { 'sudden-drift': 1200 });
  d = await dashboard();
  assert.equal(montant().drifted, true, `drifted MONTANT: ${JSON.stringify(montant())}`);
  assert.ok(montant().score! > montant().threshold!);
  assert.equal(d.live.features.find((f) => f.feature === 'TENURE')!.drifted, false);
  assert.equal(d.alerts.find((a) => a.name === 'ChurnwatchFeatureDrift')!.state, 'pending');
  // The drill-down shows the serving shares moving to MONTANT's upper bins.
  const dist = d.distributions.MONTANT!;
  const upper = (shares: readonly number[]) => shares.slice(-4).reduce((s, x) => s + x, 0);
  assert.ok(upper(dist.current) > upper(dist.reference) + 0.05, JSON.stringify(dist));
});

test('switch-after moves from the first scenario to the second in simulated time', async () => {
  const result = await simulatePredictions({
    url: server.url,
    source: await csvRowSource(holdout),
    rate: 200,
    concurrency: 2,
    batch: 1,
    rows: 120,
    scenario: getScenario('stable'),
    // 0.25 s of wall time at speed 60 = 15 s simulated.
    switchAfterMs: 15_000,
    speed: 60,
    thenScenario: getScenario('missing-spike'),
  });
  assert.equal(result.rowsSent, 120);
  assert.ok((result.byScenario.stable ?? 0) > 10, JSON.stringify(result.byScenario));
  assert.ok((result.byScenario['missing-spike'] ?? 0) > 10, JSON.stringify(result.byScenario));
});

for (const by of ['prediction_id', 'user_id'] as const) {
  test(`feedback by ${by}: about coverage × rows labels are posted and all join`, async () => {
    const before = await server.app.churnwatch.context.store.countFeedback();
    const feedback = startFeedbackSimulator({
      url: server.url,
      coverage: 0.5,
      minDelayMs: 0,
      maxDelayMs: 2000,
      speed: 4,
      by,
      seed: by === 'user_id' ? 3 : 4,
    });
    const sent: SentPrediction[] = [];
    const result = await simulatePredictions({
      url: server.url,
      source: await csvRowSource(holdout),
      rate: 4000,
      concurrency: 4,
      batch: 10,
      rows: 800,
      scenario: getScenario('stable'),
      seed: by === 'user_id' ? 21 : 22,
      onSent: (s) => {
        sent.push(...s);
        feedback.add(s);
      },
    });
    feedback.finish();
    const fb = await feedback.done;
    assert.equal(result.rowsSent, 800);
    assert.equal(fb.received, 800);
    // Binomial(800, 0.5): within ±5 standard deviations (±71).
    assert.ok(Math.abs(fb.scheduled - 400) < 71, `scheduled ${fb.scheduled}`);
    assert.equal(fb.sent, fb.scheduled);
    assert.equal(fb.waiting, 0);
    await server.app.churnwatch.joinPendingNow();
    const afterCounts = await server.app.churnwatch.context.store.countFeedback();
    // Every label joined (the holdout's ids are unique, so user_id joins are unambiguous too).
    assert.equal(afterCounts.joined - before.joined, fb.sent, JSON.stringify(fb.byStatus));
    assert.equal(sent.length, 800);
    assert.ok(sent.every((s) => s.label === 0 || s.label === 1));
  });
}

test('labels wait for their delay; a stop reports the undelivered ones', async () => {
  const controller = new AbortController();
  const feedback = startFeedbackSimulator({
    url: server.url,
    coverage: 1,
    minDelayMs: 60_000,
    maxDelayMs: 60_000,
    speed: 1,
    signal: controller.signal,
  });
  feedback.add([{ predictionId: 'x', userId: 'y', label: 1, sentAt: Date.now(), scenario: 'stable' }]);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(feedback.stats.sent, 0);
  assert.equal(feedback.stats.waiting, 1);
  controller.abort();
  const r = await feedback.done;
  assert.equal(r.stoppedBy, 'signal');
  assert.equal(r.sent, 0);
  assert.equal(r.waiting, 1);
});

test('a stop (Ctrl-C) ends the run cleanly and reports what was sent', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 700);
  const result = await simulatePredictions({
    url: server.url,
    source: await csvRowSource(holdout, { loop: true }),
    rate: 100,
    concurrency: 2,
    batch: 1,
    scenario: getScenario('stable'),
    signal: controller.signal,
  });
  assert.equal(result.stoppedBy, 'signal');
  // 100 rows/s for 0.7 s with a 20-row burst: between a few and ~95 rows.
  assert.ok(result.rowsSent > 5 && result.rowsSent < 100, `sent ${result.rowsSent}`);
});

test('a dead API fails with CW_SIM_API_UNREACHABLE after bounded retries', async () => {
  const port = await freePort();
  const started = Date.now();
  await assert.rejects(
    simulatePredictions({
      url: `http://127.0.0.1:${port}`,
      source: await csvRowSource(holdout),
      rate: 10,
      concurrency: 1,
      batch: 1,
      rows: 3,
      scenario: getScenario('stable'),
      retry: { attempts: 3, initialDelayMs: 20, timeoutMs: 1000 },
    }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'CW_SIM_API_UNREACHABLE');
      assert.match(error.message, /failed 3 times in a row \(last: ECONNREFUSED\); 0 rows were sent before/);
      return true;
    },
  );
  assert.ok(Date.now() - started < 5000);
});

test('the hand-off file carries served predictions from one simulator to the other', async () => {
  const path = join(dir, 'handoff', 'sent.jsonl');
  const writer = await createHandoffWriter(path);
  const items: SentPrediction[] = [
    { predictionId: 'p1', userId: 'u1', label: 1, sentAt: 1000, scenario: 'stable' },
    { predictionId: 'p2', userId: 'u2', label: null, sentAt: 2000, scenario: 'concept-drift' },
  ];
  writer.write(items);
  await writer.close({ rows: 2 });
  const got: SentPrediction[] = [];
  assert.equal(await followHandoff(path, (s) => got.push(...s), { pollMs: 10 }), 'done');
  assert.deepEqual(got, items);
  const text = await readFile(path, 'utf8');
  assert.equal(text.trim().split('\n').length, 3);
});
