/**
 * The API serves any model's schema (issue 17): a server on a model of a generated non-Expresso table
 * (test/helpers/generic-data.ts: names with spaces and dashes, `2024_spend`, and `Score` and `id`, which
 * are also store columns) takes that model's fields under their own names and spellings, refuses the
 * rest with the same precise 400s as for Expresso, documents them in /model and /docs, labels /metrics
 * with them, joins feedback by prediction id and by its id column, and refuses a reload to a model of
 * another schema. Real SQLite store, real trained models.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { loadModel } from '../../src/model/model-io.js';
import { type GenericServer, serveGenericModel } from '../helpers/generic-server.js';
import { buildTestApp, parseMetrics, sumSeries } from '../helpers/server-harness.js';
import type { GenericModel } from '../helpers/train-generic-model.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const TOKEN = 'generic-admin-token';

/** What these tests read of a prediction. */
type Prediction = Record<'prediction_id' | 'model_version', string> & {
  user_id: string | null;
  churn_probability: number;
};

describe('server on a non-Expresso model', () => {
  let server: GenericServer;
  let generic: GenericModel;
  let model: ChurnModel;
  let app: FastifyInstance;

  before(async () => {
    server = await serveGenericModel(
      { rows: 2000, numeric: 6, categorical: 5, seed: 7, trees: 10 },
      { loadModel, docs: true, config: { adminToken: TOKEN, batchLimit: 100 } },
    );
    ({ generic, model, app } = server);
  });
  after(() => server?.close());

  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload });
  const record = (r: number) => ({ customerID: generic.data.ids[r]!, ...generic.data.records[r]! });

  it('has the awkward names this test is about', () => {
    const names = model.schema.features.map((f) => f.name);
    for (const name of ['tenure months', 'Monthly-Charges', '2024_spend', 'Score', 'id', 'payment method'])
      assert.ok(names.includes(name), name);
    assert.equal(model.schema.id, 'customerID');
  });

  it('scores one record under its CSV names, the same as the model does', async () => {
    const res = await post('/predict', record(0));
    assert.equal(res.statusCode, 200, res.body);
    const p = res.json() as Prediction;
    assert.equal(p.user_id, generic.data.ids[0]);
    assert.ok(Math.abs(p.churn_probability - model.scoreRecord(generic.data.records[0]!)) < 1e-12);
  });

  it('accepts and ignores a column the schema left out (a whole CSV row), but not the target', async () => {
    const res = await post('/predict', { ...record(0), RowNumber: 17 });
    assert.equal(res.statusCode, 200, res.body);
    const p = res.json() as Prediction;
    assert.ok(Math.abs(p.churn_probability - model.scoreRecord(generic.data.records[0]!)) < 1e-12);
    const labelled = await post('/predict', { ...record(0), Churn: 'Yes' });
    assert.equal(labelled.statusCode, 400, labelled.body);
    assert.equal((labelled.json() as { message: string }).message, 'body has unknown field "Churn"');
  });

  it('scores a batch under lower- and upper-case spellings and user_id', async () => {
    const spelt = (r: number) => {
      const out: Record<string, unknown> = { user_id: `u-${r}` };
      for (const [name, value] of Object.entries(generic.data.records[r]!))
        out[r % 2 === 0 ? name.toUpperCase() : name.toLowerCase()] = value;
      return out;
    };
    const res = await post('/predict', { records: [0, 1, 2, 3].map(spelt) });
    assert.equal(res.statusCode, 200, res.body);
    const { predictions } = res.json() as { predictions: Prediction[] };
    assert.deepEqual(
      predictions.map((p) => p.user_id),
      ['u-0', 'u-1', 'u-2', 'u-3'],
    );
    predictions.forEach((p, r) => {
      assert.ok(Math.abs(p.churn_probability - model.scoreRecord(generic.data.records[r]!)) < 1e-12);
    });
  });

  const refusals: [string, object, string, string][] = [
    [
      'an unknown field',
      { 'Tenure Months': 3 },
      'FST_ERR_VALIDATION',
      'body has unknown field "Tenure Months"',
    ],
    ['an Expresso field', { MONTANT: 3 }, 'FST_ERR_VALIDATION', 'body has unknown field "MONTANT"'],
    [
      'a numeric string',
      { '2024_spend': '12' },
      'FST_ERR_VALIDATION',
      'body/2024_spend must be number or null',
    ],
    [
      'a number for a category',
      { records: [{}, { 'payment method': 3 }] },
      'FST_ERR_VALIDATION',
      'body/records/1/payment method must be string or null',
    ],
    ['a number for the id', { customerID: 7 }, 'FST_ERR_VALIDATION', 'body/customerID must be string'],
    [
      'a feature under two spellings',
      { Score: 1, SCORE: 2 },
      'CW_PREDICT_DUPLICATE_FIELD',
      'body gives Score twice (as Score and SCORE); send one',
    ],
    [
      'the id under two names',
      { records: [{ customerID: 'a', user_id: 'a' }] },
      'CW_PREDICT_DUPLICATE_FIELD',
      'body/records/0 gives customerID twice (as customerID and user_id); send one',
    ],
  ];
  for (const [what, body, code, message] of refusals) {
    it(`refuses ${what} with 400 ${code}`, async () => {
      const res = await post('/predict', body);
      assert.equal(res.statusCode, 400, res.body);
      assert.deepEqual(res.json(), { statusCode: 400, code, error: 'Bad Request', message });
    });
  }

  it('GET /model lists its fields, spellings, kinds, categories, id and target labels', async () => {
    const info = (await app.inject({ method: 'GET', url: '/model' })).json() as {
      schema: { name: string; also_accepted: string[]; kind: string; categories?: string[] }[];
      id: { column: string; accepted: string[] };
      target: { column: string; positive: string; negative: string };
    };
    assert.deepEqual(
      info.schema.map((f) => f.name),
      model.schema.features.map((f) => f.name),
    );
    const byName = new Map(info.schema.map((f) => [f.name, f]));
    assert.deepEqual(byName.get('tenure months')?.also_accepted, ['TENURE MONTHS']);
    assert.deepEqual(byName.get('Contract')?.also_accepted, ['contract', 'CONTRACT']);
    assert.equal(byName.get('Score')?.kind, 'numeric');
    assert.ok((byName.get('Contract')?.categories ?? []).includes('Month-to-month'));
    assert.deepEqual(info.id, {
      column: 'customerID',
      accepted: ['customerID', 'customerid', 'CUSTOMERID', 'user_id', 'USER_ID'],
    });
    assert.deepEqual(info.target, { column: 'Churn', positive: 'Yes', negative: 'No' });
  });

  it('/docs documents its record: its names, never Expresso`s', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      components: {
        schemas: Record<string, { title?: string; properties: Record<string, { description?: string }> }>;
      };
    };
    // @fastify/swagger names shared schemas def-<n> and keeps the $id as the title.
    const properties = Object.values(doc.components.schemas).find(
      (s) => s.title === 'CustomerRecord',
    )!.properties;
    for (const name of ['tenure months', 'TENURE MONTHS', '2024_spend', 'id', 'customerID', 'user_id'])
      assert.ok(properties[name], name);
    assert.equal(properties.MONTANT, undefined);
    assert.match(properties.Contract!.description ?? '', /Month-to-month/);
    const titled = Object.values(doc.components.schemas);
    const record = titled.find((x) => x.title === 'CustomerRecord') as { description?: string };
    assert.match(record.description ?? '', /Churn is "Yes" \(churn 1\) rather than "No" \(churn 0\)/);
    const feedback = titled.find((x) => x.title === 'FeedbackItem')!;
    assert.match(
      feedback.properties.churn!.description ?? '',
      /1 churned \(Churn Yes\), 0 stayed \(Churn No\)/,
    );
    assert.ok(feedback.properties.customerID);
  });

  it('/metrics labels its features and bins, and only them', async () => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const m = parseMetrics(text);
    for (const name of ['tenure months', 'Monthly-Charges', '2024_spend', 'Score', 'id', 'payment method'])
      assert.ok(sumSeries(m, 'churnwatch_feature_values_total', `feature="${name}"`) > 0, name);
    assert.equal(text.includes('feature="MONTANT"'), false);
    // Six records scored so far, each counted once per feature.
    assert.equal(sumSeries(m, 'churnwatch_feature_values_total', 'feature="2024_spend"'), 6);
  });

  it('joins feedback by prediction id, by its id column and by user_id', async () => {
    const predicted = (await post('/predict', { records: [record(10), record(11), record(12)] })).json() as {
      predictions: Prediction[];
    };
    const [a, b, c] = predicted.predictions;
    assert.ok(a && b && c);
    const feedback = await post('/feedback', {
      records: [
        { prediction_id: a.prediction_id, churn: 1 },
        { customerID: b.user_id, churn: 0 },
        { USER_ID: c.user_id, CHURN: 1 },
      ],
    });
    assert.equal(feedback.statusCode, 200, feedback.body);
    const { results } = feedback.json() as { results: { status: string; prediction_id: string | null }[] };
    const expected = predicted.predictions.map((p) => `joined ${p.prediction_id}`);
    assert.deepEqual(
      results.map((r) => `${r.status} ${r.prediction_id}`),
      expected,
    );
    const twice = await post('/feedback', { customerID: 'x', user_id: 'x', churn: 1 });
    assert.equal(twice.statusCode, 400);
    assert.equal((twice.json() as { code: string }).code, 'CW_FEEDBACK_DUPLICATE_FIELD');
  });

  it('reloads the same model, and refuses one of another schema with 409, naming what differs', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const same = await app.inject({ method: 'POST', url: '/admin/reload', headers: auth });
    assert.equal(same.statusCode, 200, same.body);
    const expresso = join(await trainSmallModel(), 'latest');
    const other = await app.inject({
      method: 'POST',
      url: '/admin/reload',
      headers: auth,
      payload: { path: expresso },
    });
    assert.equal(other.statusCode, 409, other.body);
    const { code, message } = other.json() as { code: string; message: string };
    assert.equal(code, 'CW_ADMIN_RELOAD_SCHEMA_CHANGED');
    assert.match(message, /features added: REGION, TENURE, MONTANT, FREQUENCE_RECH, REVENUE and 12 more/);
    assert.match(
      message,
      /features removed: tenure months, Monthly-Charges, 2024_spend, Score, Total Charges and 6 more/,
    );
    assert.match(message, /id column customerID → user_id/);
    assert.match(message, /target Churn \(Yes\/No\) → CHURN \(1\/0\)/);
    assert.match(message, /restart the server on it instead/);
    // The generic model still serves.
    const res = await post('/predict', record(1));
    assert.equal(res.statusCode, 200);
    assert.equal((res.json() as Prediction).model_version, generic.version);
    const m = parseMetrics((await app.inject({ method: 'GET', url: '/metrics' })).body);
    assert.equal(sumSeries(m, 'churnwatch_model_reloads_total', 'result="failure"'), 1);
  });

  it('an Expresso server refuses to reload to this model, the other way round', async () => {
    const expressoDir = join(await trainSmallModel(), 'latest');
    const expresso = await buildTestApp({
      store: server.store,
      model: await loadModel(expressoDir),
      loadModel,
      config: { adminToken: TOKEN, modelPath: expressoDir },
    });
    try {
      const res = await expresso.inject({
        method: 'POST',
        url: '/admin/reload',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: { path: generic.modelDir },
      });
      assert.equal(res.statusCode, 409, res.body);
      assert.match((res.json() as { message: string }).message, /features added: tenure months/);
    } finally {
      await expresso.close();
    }
  });
});
