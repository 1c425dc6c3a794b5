/**
 * POST /log (issue 18, part 2): predictions made by a model that lives elsewhere, logged with their
 * features and score, are stored, counted and monitored exactly as served ones, with /predict's field
 * names and precise 400s; feedback joins to them by prediction id or customer id. A server on a
 * generated non-Expresso model (awkward names, a feature `Score` that only differs from /log's `score`
 * by case), real SQLite store, a real live monitor. A prediction_id logged already is acknowledged and
 * counted nowhere again; a logged class is ŷ for the counters, the window and realized performance.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadModel } from '../../src/model/model-io.js';
import { createLiveMonitor, type LiveMonitor } from '../../src/monitor/live-monitor.js';
import { estimatePerformance, expectedConfusion } from '../../src/stats/cbpe.js';
import { cbpeCalibrator } from '../../src/stats/cbpe-calibration.js';
import { classRates } from '../../src/stats/classification.js';
import type { LoggedPrediction } from '../../src/store/prediction-store.js';
import { type GenericServer, serveGenericModel } from '../helpers/generic-server.js';
import { buildTestApp, parseMetrics, sumSeries } from '../helpers/server-harness.js';

const NOW = Date.UTC(2026, 5, 1, 12);

describe('POST /log', () => {
  let server: GenericServer;
  let app: FastifyInstance;
  let monitor: LiveMonitor;

  before(async () => {
    monitor = createLiveMonitor({ cacheMs: 0, clock: () => NOW });
    server = await serveGenericModel(
      { rows: 1200, numeric: 5, categorical: 3, seed: 11, trees: 8 },
      { loadModel, docs: true, observer: monitor, clock: () => NOW, config: { batchLimit: 100 } },
    );
    ({ app } = server);
  });
  after(() => server?.close());

  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload });
  const record = (r: number, extra: object = {}) => ({
    customerID: server.generic.data.ids[r]!,
    ...server.generic.data.records[r]!,
    score: (r % 10) / 10 + 0.05,
    ...extra,
  });
  const metrics = async () => parseMetrics((await app.inject({ method: 'GET', url: '/metrics' })).body);
  const predictions = (m: Map<string, number>) => sumSeries(m, 'churnwatch_predictions_total');
  const stored = async (): Promise<Map<string, LoggedPrediction>> => {
    await app.churnwatch.context.writer.flush();
    const out = new Map<string, LoggedPrediction>();
    for await (const page of server.store.readPredictions()) for (const p of page) out.set(p.id, p);
    return out;
  };
  const refusal = async (payload: object) => {
    const res = await post('/log', payload);
    return { status: res.statusCode, ...(res.json() as { code: string; message: string }) };
  };

  it('logs one record with its own id, class and time, stored as a served prediction', async () => {
    const before = predictions(await metrics());
    const res = await post(
      '/log',
      record(0, { prediction_id: 'ext-1', class: 1, timestamp: NOW - 3600_000 }),
    );
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      prediction_id: 'ext-1',
      model_version: server.model.info.version,
      already_logged: false,
    });
    const row = (await stored()).get('ext-1');
    assert.ok(row, 'stored');
    assert.equal(row.createdAt, NOW - 3600_000);
    assert.equal(row.userId, server.generic.data.ids[0]);
    assert.equal(row.score, 0.05);
    assert.equal(row.predictedClass, 1, 'the class given, not the threshold rule');
    assert.equal(row.modelVersion, server.model.info.version);
    const m = await metrics();
    assert.equal(predictions(m) - before, 1);
    assert.equal(sumSeries(m, 'churnwatch_predictions_total', 'predicted_class="1"') >= 1, true);
  });

  it('logs a batch: generated ids, the class by the threshold, ISO times, the features under any spelling', async () => {
    const threshold = server.model.info.threshold;
    const spelt = (r: number) => {
      const out: Record<string, unknown> = { user_id: `u-${r}` };
      // Lower case spells the feature `Score` as `score`: /log's own field wins (sent after).
      for (const [name, value] of Object.entries(server.generic.data.records[r]!))
        if (name !== 'Score') out[r % 2 === 0 ? name.toUpperCase() : name.toLowerCase()] = value;
      return { ...out, Score: server.generic.data.records[r]!.Score, score: r / 10 };
    };
    const res = await post('/log', {
      records: [1, 2, 3, 9].map((r) => ({ ...spelt(r), timestamp: '2026-06-01T10:00:00Z' })),
    });
    assert.equal(res.statusCode, 200, res.body);
    const { prediction_ids } = res.json() as { prediction_ids: string[] };
    assert.equal(prediction_ids.length, 4);
    const rows = await stored();
    prediction_ids.forEach((id, i) => {
      const row = rows.get(id)!;
      const r = [1, 2, 3, 9][i]!;
      assert.equal(row.userId, `u-${r}`);
      assert.equal(row.predictedClass, r / 10 >= threshold ? 1 : 0);
      assert.equal(row.createdAt, Date.parse('2026-06-01T10:00:00Z'));
    });
  });

  it('refuses bad records with /predict-quality messages, and a bad batch logs nothing', async () => {
    const before = predictions(await metrics());
    const count = (await stored()).size;
    const { score: _score, ...unscored } = record(1);
    const cases: [object, number, string, RegExp][] = [
      [
        { records: [record(0), unscored] },
        400,
        'FST_ERR_VALIDATION',
        /^body\/records\/1 must have field "score"$/,
      ],
      [
        { records: [record(0, { score: 1.5 })] },
        400,
        'FST_ERR_VALIDATION',
        /^body\/records\/0\/score must be <= 1/,
      ],
      [record(0, { score: '0.3' }), 400, 'FST_ERR_VALIDATION', /^body\/score must be number$/],
      [record(0, { class: 2 }), 400, 'FST_ERR_VALIDATION', /^body\/class must be one of 0, 1$/],
      [record(0, { Churn: 'Yes' }), 400, 'FST_ERR_VALIDATION', /^body has unknown field "Churn"$/],
      [
        record(0, { 'tenure months': 'x' }),
        400,
        'FST_ERR_VALIDATION',
        /^body\/tenure months must be number or null$/,
      ],
      [
        { records: [record(0), record(1, { SCORE: 3 })] },
        400,
        'CW_PREDICT_DUPLICATE_FIELD',
        /^body\/records\/1 gives Score twice/,
      ],
      [
        { records: [record(0), record(1), record(2, { timestamp: Math.floor(NOW / 1000) })] },
        400,
        'CW_LOG_BAD_TIME',
        /^body\/records\/2\/timestamp is .*, before 2000-01-01T00:00:00Z \(epoch milliseconds, not seconds\)$/,
      ],
      [
        record(0, { timestamp: NOW + 2 * 86_400_000 }),
        400,
        'CW_LOG_BAD_TIME',
        /^body\/timestamp is .*more than 1 day after/,
      ],
      [
        record(0, { timestamp: 'yesterday' }),
        400,
        'FST_ERR_VALIDATION',
        /^body\/timestamp must be a date-time/,
      ],
      [
        { records: [record(0, { prediction_id: 'same' }), record(1, { prediction_id: 'same' })] },
        400,
        'CW_LOG_DUPLICATE_ID',
        /^body\/records\/1\/prediction_id "same" is also body\/records\/0's/,
      ],
    ];
    for (const [payload, status, code, message] of cases) {
      const got = await refusal(payload);
      assert.equal(got.status, status, JSON.stringify(got));
      assert.equal(got.code, code, got.message);
      assert.match(got.message, message);
    }
    assert.equal(predictions(await metrics()), before, 'nothing counted');
    assert.equal((await stored()).size, count, 'nothing stored');
  });

  it('takes feedback by prediction id and by customer id, into realized performance', async () => {
    const res = await post('/log', {
      records: [10, 11, 12, 13].map((r) => record(r, { prediction_id: `fb-${r}`, timestamp: NOW - 60_000 })),
    });
    assert.equal(res.statusCode, 200, res.body);
    const byId = await post('/feedback', { prediction_id: 'fb-10', churn: 1 });
    assert.equal((byId.json() as { status: string }).status, 'joined', byId.body);
    const byUser = await post('/feedback', { customerID: server.generic.data.ids[11], churn: 0 });
    assert.deepEqual(
      [
        (byUser.json() as { status: string }).status,
        (byUser.json() as { prediction_id: string }).prediction_id,
      ],
      ['joined', 'fb-11'],
    );
    const m = await metrics();
    assert.equal(sumSeries(m, 'churnwatch_realized_confusion_total'), 2);
  });

  it('feeds the live monitor: estimated and realized performance over the logged rows', async () => {
    const analysis = await monitor.analyze();
    assert.ok(analysis);
    assert.equal(analysis.modelVersion, server.model.info.version);
    assert.equal(analysis.rows, 9, 'every logged row: 1 + 4 + 4');
    assert.equal(analysis.labeled, 2);
    assert.ok(analysis.estimated, 'estimated performance');
    assert.ok(analysis.realized, 'realized performance');
    const m = await metrics();
    assert.ok(sumSeries(m, 'churnwatch_window_performance', 'kind="estimated"') > 0);
    assert.ok(sumSeries(m, 'churnwatch_expected_confusion_total') > 0);
  });

  it('acknowledges a prediction_id logged already without storing, counting or observing it again', async () => {
    const count = async () => {
      const m = await metrics();
      return {
        predictions: predictions(m),
        features: sumSeries(m, 'churnwatch_feature_values_total'),
        expected: sumSeries(m, 'churnwatch_expected_confusion_total'),
        stored: (await stored()).size,
        window: (await monitor.analyze())!.rows,
      };
    };
    const before = await count();
    // A retry of ext-1 (stored by the first test) with other values: the first record stands.
    const again = await post('/log', record(5, { prediction_id: 'ext-1', class: 0, score: 0.9 }));
    assert.equal(again.statusCode, 200, again.body);
    assert.deepEqual(again.json(), {
      prediction_id: 'ext-1',
      model_version: server.model.info.version,
      already_logged: true,
    });
    const mixed = await post('/log', {
      records: [record(6, { prediction_id: 'fb-10' }), record(7, { prediction_id: 'new-7' }), record(8)],
    });
    assert.equal(mixed.statusCode, 200, mixed.body);
    const answer = mixed.json() as { prediction_ids: string[]; already_logged: string[] };
    assert.deepEqual(answer.prediction_ids.slice(0, 2), ['fb-10', 'new-7']);
    assert.deepEqual(answer.already_logged, ['fb-10']);
    // Two requests racing with one new id: neither is stored when the other checks.
    const raced = await Promise.all([1, 2].map(() => post('/log', record(9, { prediction_id: 'race-9' }))));
    assert.deepEqual(raced.map((r) => r.statusCode).sort(), [200, 200]);
    assert.deepEqual(raced.map((r) => (r.json() as { already_logged: boolean }).already_logged).sort(), [
      false,
      true,
    ]);
    const after = await count();
    // new-7, the generated id of record 8, race-9: three new predictions, everywhere alike.
    assert.deepEqual(
      [after.predictions, after.stored, after.window],
      [before.predictions + 3, before.stored + 3, before.window + 3],
    );
    assert.equal(after.features - before.features, 3 * (after.features / after.predictions));
    const rows = await stored();
    assert.equal(rows.get('ext-1')!.score, 0.05, 'the first record stands');
    assert.equal(rows.get('ext-1')!.predictedClass, 1);

    // A server that never saw ext-1 (restarted) finds it in the store.
    const restarted = await buildTestApp({ store: server.store, model: server.model });
    try {
      const res = await restarted.inject({
        method: 'POST',
        url: '/log',
        payload: record(5, { prediction_id: 'ext-1' }),
      });
      assert.equal((res.json() as { already_logged: boolean }).already_logged, true, res.body);
      const m = parseMetrics((await restarted.inject({ method: 'GET', url: '/metrics' })).body);
      assert.equal(predictions(m), 0, 'not counted by the restarted server');
    } finally {
      await restarted.close();
    }
  });

  it("uses the logged class as ŷ everywhere: expected-confusion counters, the window's estimate, realized metrics", async () => {
    const threshold = server.model.info.threshold;
    // Classes against the threshold rule on every other record, then labels for most of them.
    const res = await post('/log', {
      records: Array.from({ length: 30 }, (_, k) => {
        const score = ((k * 37) % 100) / 100;
        const byThreshold = score >= threshold ? 1 : 0;
        return record(20 + k, {
          prediction_id: `cls-${k}`,
          score,
          class: k % 2 === 0 ? 1 - byThreshold : byThreshold,
        });
      }),
    });
    assert.equal(res.statusCode, 200, res.body);
    const labels = await post('/feedback', {
      records: Array.from({ length: 24 }, (_, k) => ({
        prediction_id: `cls-${k}`,
        churn: k % 3 === 0 ? 1 : 0,
      })),
    });
    assert.equal(labels.statusCode, 200, labels.body);

    // Every logged prediction, from the store: the expected confusion by NannyML's rule with y_pred.
    const rows = [...(await stored()).values()];
    const calibrate = cbpeCalibrator(server.model.profile.cbpe);
    const expected = expectedConfusion(
      rows.map((r) => r.score),
      rows.map((r) => r.predictedClass),
      calibrate,
    );
    const realized = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (const r of rows) {
      if (r.label !== null)
        realized[r.predictedClass === 1 ? (r.label === 1 ? 'tp' : 'fp') : r.label === 1 ? 'fn' : 'tn'] += 1;
    }
    const m = await metrics();
    const analysis = (await monitor.analyze())!;
    assert.equal(analysis.rows, rows.length, 'the window holds every stored prediction, once');
    const near = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
    for (const k of ['tp', 'fp', 'tn', 'fn'] as const) {
      near(
        sumSeries(m, 'churnwatch_expected_confusion_total', `outcome="${k}"`),
        expected[k],
        `counter ${k}`,
      );
      near(analysis.estimated!.confusion[k], expected[k], `window estimate ${k}`);
      assert.equal(
        sumSeries(m, 'churnwatch_realized_confusion_total', `outcome="${k}"`),
        realized[k],
        `realized counter ${k}`,
      );
      assert.equal(analysis.realized!.confusion[k], realized[k], `window realized ${k}`);
    }
    const rates = classRates(expected);
    near(analysis.estimated!.accuracy, rates.accuracy, 'estimated accuracy');
    near(
      sumSeries(m, 'churnwatch_window_performance', 'kind="estimated"', 'metric="accuracy"'),
      rates.accuracy,
      'estimated accuracy gauge',
    );
    // The threshold rule would have given another estimate: the classes made the difference.
    const scores = rows.map((r) => r.score);
    assert.notEqual(estimatePerformance(scores, threshold, calibrate).accuracy, rates.accuracy);
  });

  it('is documented at /docs', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, unknown>;
      components: {
        schemas: Record<string, { title?: string; properties: Record<string, unknown>; required?: string[] }>;
      };
    };
    assert.ok(doc.paths['/log']);
    // @fastify/swagger names shared schemas def-<n> and keeps the $id as the title.
    const logRecord = Object.values(doc.components.schemas).find((s) => s.title === 'LogRecord')!;
    for (const field of ['score', 'class', 'prediction_id', 'timestamp', 'customerID', '2024_spend', 'Score'])
      assert.ok(field in logRecord.properties, field);
    assert.deepEqual(logRecord.required, ['score']);
  });
});
