/**
 * `churnwatch serve` on a monitor-only artifact (`churnwatch profile`) with the prediction log on a real
 * PostgreSQL (a fresh database, dropped after): predictions logged with POST /log, outcomes with POST
 * /feedback, and what the store holds, what joined and the realized metrics agree with what was sent.
 * A retried request (same prediction ids) is acknowledged and counted nowhere again, by the server that
 * took it first and by a restarted one that finds the ids in PostgreSQL. Unreachable PostgreSQL fails
 * under CI=true and skips elsewhere.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { resolveProfileOptions, runProfile } from '../../src/cli/commands/profile.js';
import { type RunningServer, runServe } from '../../src/cli/commands/serve.js';
import { loadModel } from '../../src/model/model-io.js';
import { expectedConfusion } from '../../src/stats/cbpe.js';
import { cbpeCalibrator } from '../../src/stats/cbpe-calibration.js';
import { type ConfusionCounts, classRates } from '../../src/stats/classification.js';
import { openStore } from '../../src/store/open-store.js';
import { EXTERNAL_THRESHOLD, externalScore, scoredCsv } from '../helpers/external-scores.js';
import { generateGenericData } from '../helpers/generic-data.js';
import { freshDatabase } from '../helpers/postgres-database.js';
import { parseMetrics, sumSeries } from '../helpers/server-harness.js';

const LOGGED = 120;
const LABELLED = 90;

test('serve on a profile artifact logs to PostgreSQL: /log, /feedback, joins and realized metrics; retries count once', async (t) => {
  const db = await freshDatabase(t, 'cw_log');
  if (!db) return;
  const dir = await mkdtemp(join(tmpdir(), 'churnwatch-log-pg-'));
  // One cleanup, in order: the server flushes its log before the database goes (dropped first, a
  // server's close would retry its queued writes forever).
  let server: RunningServer | undefined;
  let store: ReturnType<typeof openStore> | undefined;
  t.after(async () => {
    await server?.close();
    await store?.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  // The reference the external model was validated on, and traffic from the same population.
  const reference = generateGenericData({ rows: 1500, numeric: 5, categorical: 3, seed: 5 });
  const traffic = generateGenericData({ rows: LOGGED, numeric: 5, categorical: 3, seed: 6 });
  const csv = join(dir, 'reference.csv');
  await writeFile(csv, scoredCsv(reference));
  const profiled = await runProfile({
    ...resolveProfileOptions(
      {
        data: csv,
        target: 'Churn',
        score: 'proba',
        prediction: 'pred',
        models: join(dir, 'models'),
        quiet: true,
      },
      {},
    ),
    logger: pino({ level: 'silent' }),
  });
  const modelPath = join(dir, 'models', 'latest');
  const serve = () =>
    runServe({ port: '0', host: '127.0.0.1', modelPath, storeUrl: db.url, logLevel: 'warn', env: {} });
  server = await serve();
  const url = () => server!.url;
  const post = async (path: string, body: object) => {
    const res = await fetch(`${url()}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200, `${path}: ${JSON.stringify(json)}`);
    return json;
  };
  const metrics = async () => parseMetrics(await (await fetch(`${url()}/metrics`)).text());
  const version = `model_version="${profiled.version}"`;

  // The service's records: its probability and its decision, overridden to 1 on every 10th record
  // (a business rule the score does not know), so ŷ is the logged class, not the threshold.
  const records = traffic.records.map((features, i) => {
    const score = Number(externalScore(features).toFixed(6));
    const decided = score >= EXTERNAL_THRESHOLD ? 1 : 0;
    return {
      customerID: traffic.ids[i]!,
      ...features,
      score,
      class: i % 10 === 0 ? 1 : decided,
      prediction_id: `svc-${i}`,
    };
  });
  const batches = [records.slice(0, 50), records.slice(50, 100)];
  for (const batch of batches) await post('/log', { records: batch });
  for (const r of records.slice(100)) await post('/log', r);

  // A client that timed out resends its first batch, and one with a new record in it: acknowledged,
  // the logged ids listed, nothing counted twice.
  const retried = await post('/log', { records: batches[0]! });
  assert.deepEqual(
    retried.already_logged,
    batches[0]!.map((r) => r.prediction_id),
  );
  const extra = { ...records[0]!, prediction_id: 'svc-extra' };
  const mixed = await post('/log', { records: [records[1]!, extra] });
  assert.deepEqual(mixed.already_logged, ['svc-1']);
  assert.equal((await post('/log', records[110]!)).already_logged, true);

  // Outcomes: most by prediction id, the rest by customer id (the latest prediction of the customer).
  const outcome = (i: number) => (traffic.labels[i] === 'Yes' ? 1 : 0);
  const feedback = await post('/feedback', {
    records: Array.from({ length: LABELLED }, (_, i) =>
      i < 60
        ? { prediction_id: `svc-${i}`, churn: outcome(i) }
        : { customerID: traffic.ids[i], churn: outcome(i) },
    ),
  });
  const statuses = (feedback.results as { status: string }[]).map((r) => r.status);
  assert.deepEqual(statuses, Array(LABELLED).fill('joined'));

  // What the store holds: every prediction once, with its class; the labels joined.
  await server.app.churnwatch.context.writer.flush();
  store = openStore(db.url);
  const stored = new Map<string, { predictedClass: number; label: number | null; score: number }>();
  for await (const page of store.readPredictions()) for (const p of page) stored.set(p.id, p);
  assert.equal(stored.size, LOGGED + 1);
  assert.ok(
    records.some((r) => r.class !== (r.score >= EXTERNAL_THRESHOLD ? 1 : 0)),
    'some logged classes differ from the threshold rule',
  );
  for (const r of records)
    assert.equal(stored.get(r.prediction_id)!.predictedClass, r.class, r.prediction_id);
  assert.deepEqual(await store.countFeedback(), { joined: LABELLED, pending: 0, duplicate: 0, conflict: 0 });

  const realized: ConfusionCounts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < LABELLED; i++) {
    const yhat = records[i]!.class;
    realized[yhat === 1 ? (outcome(i) ? 'tp' : 'fp') : outcome(i) ? 'fn' : 'tn'] += 1;
  }
  // CBPE with the logged classes as y_pred (cbpe.ts, checked by hand in stats-edge-cases.test.ts).
  const sent = [...records, extra];
  const expected = expectedConfusion(
    sent.map((r) => r.score),
    sent.map((r) => r.class),
    cbpeCalibrator((await loadModel(modelPath)).profile.cbpe),
  );
  const m = await metrics();
  assert.equal(sumSeries(m, 'churnwatch_predictions_total', version), LOGGED + 1);
  assert.equal(
    sumSeries(m, 'churnwatch_predictions_total', version, 'predicted_class="1"'),
    [...records, extra].filter((r) => r.class === 1).length,
  );
  assert.equal(sumSeries(m, 'churnwatch_feedback_total', 'status="joined"'), LABELLED);
  for (const k of ['tp', 'fp', 'tn', 'fn'] as const) {
    assert.equal(
      sumSeries(m, 'churnwatch_realized_confusion_total', version, `outcome="${k}"`),
      realized[k],
      k,
    );
    const counted = sumSeries(m, 'churnwatch_expected_confusion_total', version, `outcome="${k}"`);
    assert.ok(Math.abs(counted - expected[k]) < 1e-6, `expected ${k}: ${counted} vs ${expected[k]}`);
  }
  const window = (kind: string, metric: string) =>
    sumSeries(m, 'churnwatch_window_performance', version, `kind="${kind}"`, `metric="${metric}"`);
  const rates = classRates(realized);
  for (const metric of ['accuracy', 'precision', 'recall', 'f1'] as const)
    assert.ok(Math.abs(window('realized', metric) - rates[metric]) < 1e-9, `realized ${metric}`);
  assert.ok(Math.abs(window('estimated', 'accuracy') - classRates(expected).accuracy) < 1e-9);

  // A restarted server has no memory of the ids: PostgreSQL has them.
  await server.close();
  server = await serve();
  const again = await post('/log', { records: batches[1]! });
  assert.deepEqual(
    again.already_logged,
    batches[1]!.map((r) => r.prediction_id),
  );
  assert.equal(sumSeries(await metrics(), 'churnwatch_predictions_total', version), 0);
  await server.app.churnwatch.context.writer.flush();
  let rows = 0;
  for await (const page of store.readPredictions()) rows += page.length;
  assert.equal(rows, LOGGED + 1);
});
