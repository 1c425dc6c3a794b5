/**
 * The HTTP API end to end through Fastify's inject, on both store backends, with a real model trained
 * on synthetic rows: predict (single, batch, both name styles, nulls, unseen categories), feedback by
 * prediction and by user, late joins, idempotency, live metrics, reload and readiness.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { loadModel } from '../../src/model/model-io.js';
import { numericBinIndex } from '../../src/model/reference-bins.js';
import {
  BACKENDS,
  buildTestApp,
  customerRequests,
  parseMetrics,
  sumSeries,
  type TestStore,
} from '../helpers/server-harness.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const TOKEN = 'test-admin-token';

interface Prediction {
  prediction_id: string;
  user_id: string | null;
  churn_probability: number;
  churn: 0 | 1;
  model_version: string;
}

for (const backend of BACKENDS) {
  describe(`server API on ${backend.name}`, () => {
    let modelsDir: string;
    let model: ChurnModel;
    let dir: string;
    let testStore: TestStore;
    let app: FastifyInstance;

    before(async () => {
      modelsDir = await trainSmallModel();
      model = await loadModel(join(modelsDir, 'latest'));
      dir = await mkdtemp(join(tmpdir(), 'churnwatch-server-'));
      testStore = await backend.open(dir);
      app = await buildTestApp({
        store: testStore.store,
        model,
        loadModel,
        config: { adminToken: TOKEN, modelPath: join(modelsDir, 'latest'), batchLimit: 500 },
      });
    });
    after(async () => {
      await app?.close();
      await testStore?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    async function metrics(): Promise<Map<string, number>> {
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      return parseMetrics(res.body);
    }

    it('scores one record with the model and the model threshold', async () => {
      const [record] = customerRequests(1, 5);
      const res = await app.inject({ method: 'POST', url: '/predict', payload: record });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as Prediction;
      const { user_id: _, ...features } = record!;
      const expected = model.scoreRecord(features);
      assert.ok(Math.abs(body.churn_probability - expected) < 1e-12);
      assert.equal(body.churn, expected >= model.info.threshold ? 1 : 0);
      assert.equal(body.user_id, record!.user_id);
      assert.equal(body.model_version, model.info.version);
      assert.match(body.prediction_id, /^[0-9a-f-]{36}$/);
    });

    it('accepts lower-case names, nulls and absent fields, and scores them like upper-case names', async () => {
      const [upper] = customerRequests(1, 9);
      const [lower] = customerRequests(1, 9, true);
      const a = (await app.inject({ method: 'POST', url: '/predict', payload: upper })).json() as Prediction;
      const b = (await app.inject({ method: 'POST', url: '/predict', payload: lower })).json() as Prediction;
      assert.equal(a.churn_probability, b.churn_probability);
      const empty = await app.inject({ method: 'POST', url: '/predict', payload: {} });
      assert.equal(empty.statusCode, 200, empty.body);
      const nulls = await app.inject({
        method: 'POST',
        url: '/predict',
        payload: { MONTANT: null, region: null },
      });
      assert.equal(
        (nulls.json() as Prediction).churn_probability,
        (empty.json() as Prediction).churn_probability,
      );
      assert.equal((empty.json() as Prediction).user_id, null);
    });

    it('scores an unseen category and counts it in the unseen bin', async () => {
      const before = sumSeries(
        await metrics(),
        'churnwatch_feature_values_total',
        'feature="REGION"',
        'bin="unseen"',
      );
      const res = await app.inject({
        method: 'POST',
        url: '/predict',
        payload: { REGION: 'ATLANTIS', MONTANT: 500 },
      });
      assert.equal(res.statusCode, 200, res.body);
      const after = sumSeries(
        await metrics(),
        'churnwatch_feature_values_total',
        'feature="REGION"',
        'bin="unseen"',
      );
      assert.equal(after - before, 1);
    });

    it('scores a batch in order, counts every feature bin and the CBPE expectations', async () => {
      const records = customerRequests(300, 21);
      const m0 = await metrics();
      const res = await app.inject({ method: 'POST', url: '/predict', payload: { records } });
      assert.equal(res.statusCode, 200, res.body);
      const { predictions } = res.json() as { predictions: Prediction[] };
      assert.equal(predictions.length, 300);
      const scores = model.scoreRecords(records.map(({ user_id: _, ...f }) => f));
      predictions.forEach((p, i) => {
        assert.ok(Math.abs(p.churn_probability - scores[i]!) < 1e-12);
        assert.equal(p.user_id, records[i]!.user_id);
      });
      const m1 = await metrics();
      const delta = (name: string, ...match: string[]) =>
        sumSeries(m1, name, ...match) - sumSeries(m0, name, ...match);
      // Independent bin assignment for one numeric feature.
      const binning = model.profile.features.MONTANT!;
      assert.equal(binning.kind, 'numeric');
      if (binning.kind === 'numeric') {
        const counts = new Map<string, number>();
        for (const r of records) {
          const label = binning.labels[numericBinIndex(binning, r.MONTANT as number | null)]!;
          counts.set(label, (counts.get(label) ?? 0) + 1);
        }
        for (const [label, count] of counts) {
          assert.equal(
            delta('churnwatch_feature_values_total', 'feature="MONTANT"', `bin="${label}"`),
            count,
            label,
          );
        }
      }
      for (const f of Object.keys(model.profile.features)) {
        assert.equal(delta('churnwatch_feature_values_total', `feature="${f}"`), 300, f);
      }
      assert.equal(delta('churnwatch_score_values_total'), 300);
      const churners = predictions.filter((p) => p.churn === 1);
      assert.equal(delta('churnwatch_predictions_total', 'predicted_class="1"'), churners.length);
      const tp = churners.reduce((s, p) => s + p.churn_probability, 0);
      assert.ok(Math.abs(delta('churnwatch_expected_confusion_total', 'outcome="tp"') - tp) < 1e-6);
      assert.ok(Math.abs(delta('churnwatch_expected_confusion_total') - 300) < 1e-6);
    });

    it('joins feedback by prediction_id and by user_id; repeats are duplicate or conflict', async () => {
      const records = customerRequests(3, 33);
      const res = await app.inject({ method: 'POST', url: '/predict', payload: { records } });
      const [p0, p1, p2] = (res.json() as { predictions: Prediction[] }).predictions;
      const fb = await app.inject({
        method: 'POST',
        url: '/feedback',
        payload: {
          records: [
            { prediction_id: p0!.prediction_id, churn: 1 },
            { user_id: p1!.user_id, churn: 0, observed_at: new Date(Date.now() + 1000).toISOString() },
            { user_id: p2!.user_id, churn: 1, observed_at: Date.now() + 1000 },
          ],
        },
      });
      assert.equal(fb.statusCode, 200, fb.body);
      const { results } = fb.json() as { results: { status: string; prediction_id: string | null }[] };
      assert.deepEqual(
        results.map((r) => [r.status, r.prediction_id]),
        [
          ['joined', p0!.prediction_id],
          ['joined', p1!.prediction_id],
          ['joined', p2!.prediction_id],
        ],
      );
      const m = await metrics();
      const again = await app.inject({
        method: 'POST',
        url: '/feedback',
        payload: { prediction_id: p0!.prediction_id, churn: 1 },
      });
      assert.equal((again.json() as { status: string }).status, 'duplicate');
      const other = await app.inject({
        method: 'POST',
        url: '/feedback',
        payload: { prediction_id: p0!.prediction_id, churn: 0 },
      });
      assert.equal((other.json() as { status: string }).status, 'conflict');
      const m2 = await metrics();
      assert.equal(
        sumSeries(m2, 'churnwatch_realized_confusion_total'),
        sumSeries(m, 'churnwatch_realized_confusion_total'),
        'a duplicate or conflict is not a new realized outcome',
      );
      assert.equal(
        sumSeries(m2, 'churnwatch_feedback_total', 'status="conflict"') -
          sumSeries(m, 'churnwatch_feedback_total', 'status="conflict"'),
        1,
      );
      const outcome = p0!.churn === 1 ? 'tp' : 'fn';
      assert.ok(sumSeries(m2, 'churnwatch_realized_confusion_total', `outcome="${outcome}"`) >= 1);
    });

    it('keeps feedback for an unknown user pending and joins it when the prediction arrives', async () => {
      const userId = `late-${backend.name}`;
      const observedAt = Date.now() + 60_000;
      const fb = await app.inject({
        method: 'POST',
        url: '/feedback',
        payload: { user_id: userId, churn: 1, observed_at: observedAt },
      });
      assert.equal((fb.json() as { status: string }).status, 'pending');
      assert.equal(sumSeries(await metrics(), 'churnwatch_feedback_pending') >= 1, true);
      const [record] = customerRequests(1, 44);
      const pred = await app.inject({
        method: 'POST',
        url: '/predict',
        payload: { ...record, user_id: userId },
      });
      assert.equal(pred.statusCode, 200);
      const before = sumSeries(await metrics(), 'churnwatch_label_delay_seconds_count');
      const joined = await app.churnwatch.joinPendingNow();
      assert.equal(joined, 1);
      const m = await metrics();
      assert.equal(sumSeries(m, 'churnwatch_label_delay_seconds_count') - before, 1);
      assert.equal(sumSeries(m, 'churnwatch_feedback_pending'), 0);
    });

    it('serves /model, /healthz and /readyz', async () => {
      const info = (await app.inject({ method: 'GET', url: '/model' })).json() as Record<string, unknown>;
      assert.equal(info.version, model.info.version);
      assert.equal(info.threshold, model.info.threshold);
      assert.equal((info.schema as unknown[]).length, 17);
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200, ready.body);
    });

    it('reloads the model only with the right token', async () => {
      const missing = await app.inject({ method: 'POST', url: '/admin/reload' });
      assert.equal(missing.statusCode, 401);
      const wrong = await app.inject({
        method: 'POST',
        url: '/admin/reload',
        headers: { authorization: 'Bearer nope' },
      });
      assert.equal(wrong.statusCode, 403);
      const bad = await app.inject({
        method: 'POST',
        url: '/admin/reload',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: { path: join(dir, 'no-such-model') },
      });
      assert.equal(bad.statusCode, 422, bad.body);
      const ok = await app.inject({
        method: 'POST',
        url: '/admin/reload',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal((ok.json() as { model_version: string }).model_version, model.info.version);
      const m = await metrics();
      assert.equal(sumSeries(m, 'churnwatch_model_reloads_total', 'result="success"'), 1);
      assert.equal(sumSeries(m, 'churnwatch_model_reloads_total', 'result="failure"'), 1);
      assert.equal(sumSeries(m, 'churnwatch_model_info'), 1);
      const after = await app.inject({ method: 'POST', url: '/predict', payload: { MONTANT: 1000 } });
      assert.equal(after.statusCode, 200);
    });

    it('answers 404 on /admin/reload when no token is configured', async () => {
      await withTempDir(async (tmp) => {
        const other = await backend.open(tmp);
        const noAdmin = await buildTestApp({
          store: other.store,
          model,
          loadModel,
        });
        try {
          const res = await noAdmin.inject({
            method: 'POST',
            url: '/admin/reload',
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          assert.equal(res.statusCode, 404);
          assert.equal((res.json() as { code: string }).code, 'CW_ADMIN_DISABLED');
        } finally {
          await noAdmin.close();
          await other.cleanup();
        }
      });
    });
  });
}
