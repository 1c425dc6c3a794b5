/**
 * Agreement 1: the server's counters (expected confusion from calibrated scores, realized confusion at
 * feedback join) and the in-process monitor's window see the same predictions and must give the same
 * numbers. Then the `monitor serve` role, tailing the same store, must export the same gauges as the
 * in-process monitor, on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { generateCustomerRows } from '../../src/data/synthetic.js';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { loadModel } from '../../src/model/model-io.js';
import { createLiveMonitor, type LiveMonitor } from '../../src/monitor/live-monitor.js';
import { buildMonitorApp } from '../../src/monitor/monitor-server.js';
import { createStoreTailer, type StoreTailer } from '../../src/monitor/store-tailer.js';
import { cbpeCalibrator } from '../../src/stats/cbpe-calibration.js';
import { classRates } from '../../src/stats/classification.js';
import { fitIsotonic } from '../../src/stats/isotonic.js';
import {
  BACKENDS,
  buildTestApp,
  customerRequests,
  parseMetrics,
  sumSeries,
  type TestStore,
} from '../helpers/server-harness.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const N = 3000;
const SEED = 41;
const OUTCOMES = ['tp', 'fp', 'tn', 'fn'] as const;
const MONITOR_GAUGES = [
  'churnwatch_drift_score',
  'churnwatch_drift_p_value',
  'churnwatch_drift_threshold',
  'churnwatch_drift_detected',
  'churnwatch_dataset_drift_ratio',
  'churnwatch_monitor_window_rows',
  'churnwatch_window_performance',
  'churnwatch_label_coverage_ratio',
  'churnwatch_feature_missing_ratio',
];

function monitorSeries(metrics: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, value] of metrics) {
    const base = key.split('{')[0]!;
    if (MONITOR_GAUGES.includes(base)) out.set(key, value);
  }
  return out;
}

function assertClose(actual: number, expected: number, what: string, rel = 1e-9): void {
  const scale = Math.max(Math.abs(expected), 1e-12);
  assert.ok(Math.abs(actual - expected) / scale <= rel, `${what}: ${actual} vs ${expected}`);
}

for (const backend of BACKENDS) {
  describe(`monitor agreement on ${backend.name}`, () => {
    let model: ChurnModel;
    let dir: string;
    let testStore: TestStore;
    let app: FastifyInstance;
    let monitor: LiveMonitor;
    let tailer: StoreTailer | undefined;
    const predictionIds: string[] = [];
    const labels = [...generateCustomerRows({ rows: 2 * N, seed: SEED })].map((r) => r.churn);
    const records = customerRequests(2 * N, SEED);

    const post = async (url: string, payload: unknown) => {
      const res = await app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { predictions: { prediction_id: string }[] };
    };
    const predict = async (from: number, to: number) => {
      for (let i = from; i < to; i += 500) {
        const { predictions } = await post('/predict', { records: records.slice(i, Math.min(to, i + 500)) });
        predictionIds.push(...predictions.map((p) => p.prediction_id));
      }
    };
    /** Labels for rows i with i % 4 != 0 in [from, to): 75 % coverage, the rest stays unknown. */
    const feedback = async (from: number, to: number) => {
      const items: { prediction_id: string; churn: 0 | 1 }[] = [];
      for (let i = from; i < to; i++)
        if (i % 4 !== 0) items.push({ prediction_id: predictionIds[i]!, churn: labels[i]! });
      for (let k = 0; k < items.length; k += 500)
        await post('/feedback', { records: items.slice(k, k + 500) });
    };
    const scrape = async (target: FastifyInstance) =>
      parseMetrics((await target.inject({ method: 'GET', url: '/metrics' })).body);

    before(async () => {
      const trained = await loadModel(join(await trainSmallModel(), 'latest'));
      // Whether training chose isotonic depends on its validation rows; give the profile an isotonic CBPE
      // map (scores against their squares: far from the identity) so that both sides must apply it.
      const scores = trained.scoreRecords(records.slice(0, 2000));
      const thresholds = fitIsotonic(
        scores,
        scores.map((s) => s * s),
      );
      const cbpe = {
        calibrated: true,
        method: 'isotonic',
        thresholds,
        eceBefore: 0.1,
        eceAfter: 0.01,
        rows: 2000,
        reason: 'ece',
      } as const;
      model = { ...trained, profile: { ...trained.profile, cbpe } };
      assert.ok(Math.abs(cbpeCalibrator(cbpe)!(0.5) - 0.25) < 0.05);
      dir = await mkdtemp(join(tmpdir(), 'churnwatch-monitor-'));
      testStore = await backend.open(dir);
      monitor = createLiveMonitor({ window: { maxRows: 10_000 }, cacheMs: 0 });
      app = await buildTestApp({
        store: testStore.store,
        model,
        config: { batchLimit: 1000 },
        observer: monitor,
        registry: new Registry(),
      });
      await predict(0, N);
      await feedback(0, N);
    });

    after(async () => {
      await tailer?.stop();
      await app?.close();
      await testStore?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it('windowed CBPE equals the expected-confusion counters exactly, both through the profile calibration', async () => {
      const m = await scrape(app);
      const a = await monitor.analyze();
      assert.ok(a?.estimated);
      assert.equal(a.rows, N);
      for (const o of OUTCOMES) {
        // Same additions in the same order: bit-identical, not merely close.
        assert.equal(
          a.estimated.confusion[o],
          sumSeries(m, 'churnwatch_expected_confusion_total', `outcome="${o}"`),
          o,
        );
      }
      const counters = Object.fromEntries(
        OUTCOMES.map((o) => [o, sumSeries(m, 'churnwatch_expected_confusion_total', `outcome="${o}"`)]),
      ) as Record<(typeof OUTCOMES)[number], number>;
      const rates = classRates(counters);
      for (const metric of ['accuracy', 'precision', 'recall', 'f1', 'specificity'] as const) {
        assert.equal(
          sumSeries(m, 'churnwatch_window_performance', `metric="${metric}"`, 'kind="estimated"'),
          rates[metric],
          metric,
        );
      }
    });

    it('windowed realized performance equals the realized-confusion counters; unknown labels do not count', async () => {
      const m = await scrape(app);
      const a = await monitor.analyze();
      assert.ok(a?.realized);
      const labeled = N - N / 4;
      assert.equal(a.labeled, labeled);
      assert.equal(a.realized.rows, labeled);
      const counters = Object.fromEntries(
        OUTCOMES.map((o) => [o, sumSeries(m, 'churnwatch_realized_confusion_total', `outcome="${o}"`)]),
      ) as Record<(typeof OUTCOMES)[number], number>;
      assert.deepEqual(a.realized.confusion, counters);
      const rates = classRates(counters);
      for (const metric of ['accuracy', 'precision', 'recall', 'f1', 'specificity'] as const) {
        assert.equal(
          sumSeries(m, 'churnwatch_window_performance', `metric="${metric}"`, 'kind="realized"'),
          rates[metric],
        );
      }
      assert.equal(sumSeries(m, 'churnwatch_monitor_window_rows', 'kind="predictions"'), N);
      assert.equal(sumSeries(m, 'churnwatch_monitor_window_rows', 'kind="labeled"'), labeled);
      assert.equal(sumSeries(m, 'churnwatch_label_coverage_ratio'), labeled / N);
      // Every profiled feature (and the score) gets PSI and Jensen-Shannon; numeric ones KS too.
      for (const f of [...Object.keys(model.profile.features), 'score']) {
        assert.ok(
          m.has(`churnwatch_drift_score{model_version="${model.info.version}",feature="${f}",method="psi"}`),
          f,
        );
      }
      assert.ok(
        m.has(
          `churnwatch_drift_p_value{model_version="${model.info.version}",feature="MONTANT",method="ks"}`,
        ),
      );
    });

    it('`monitor serve` tailing the store exports the same gauges as the in-process monitor', async () => {
      await app.churnwatch.joinPendingNow(); // flushes the batched writer
      tailer = createStoreTailer({
        store: testStore.store,
        model,
        window: { maxRows: 10_000 },
        overlapMs: 60_000,
      });
      const started = await tailer.start();
      assert.deepEqual(started, { added: N, labeled: N - N / 4 });
      const role = await buildMonitorApp({ tailer, model, defaultMetrics: false, cacheMs: 0 });
      const compare = async () => {
        const inProcess = monitorSeries(await scrape(app));
        const tailed = monitorSeries(await scrape(role));
        assert.deepEqual([...tailed.keys()].sort(), [...inProcess.keys()].sort());
        // The store returns rows of one batch (same createdAt) by id, so sums may differ in the last bits.
        for (const [key, value] of inProcess) assertClose(tailed.get(key)!, value, key);
      };
      await compare();

      // More traffic, and labels for the old rows: the next poll and label refresh catch up.
      await predict(N, 2 * N);
      await feedback(N, 2 * N);
      await app.churnwatch.joinPendingNow();
      const polled = await tailer.poll();
      assert.equal(polled.added, N);
      await tailer.refreshLabels();
      assert.equal(tailer.window.rows, 2 * N);
      assert.equal(tailer.window.labeled, 2 * (N - N / 4));
      await compare();
      await role.close();
    });
  });
}
