/**
 * A 200-feature model (100 numeric + 100 categorical, generated; few trees) is served like Expresso's:
 * batch and single predictions under its names, /metrics with a child per feature and bin. Its /metrics
 * size and scrape time are measured by bench/wide-schema.bench.ts (docs/performance.md), not here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { openStore } from '../../src/store/open-store.js';
import { genericSchema } from '../helpers/generic-data.js';
import { type GenericServer, serveGenericModel } from '../helpers/generic-server.js';
import { buildTestApp, parseMetrics, sumSeries } from '../helpers/server-harness.js';
import type { GenericModel } from '../helpers/train-generic-model.js';

describe('server on a 200-feature model', () => {
  let server: GenericServer;
  let wide: GenericModel;
  let model: ChurnModel;
  let app: FastifyInstance;

  before(async () => {
    server = await serveGenericModel(
      { rows: 1500, numeric: 100, categorical: 100, seed: 5, trees: 5 },
      { config: { batchLimit: 500 } },
    );
    ({ generic: wide, model, app } = server);
  });
  after(() => server?.close());

  it('has 200 features, half of them categorical', () => {
    assert.equal(model.schema.features.length, 200);
    assert.equal(model.schema.features.filter((f) => f.kind === 'categorical').length, 100);
  });

  it('scores a batch of 300 and single records as the model does', async () => {
    const records = wide.data.records.slice(0, 300);
    const batch = await app.inject({ method: 'POST', url: '/predict', payload: { records } });
    assert.equal(batch.statusCode, 200, batch.body.slice(0, 300));
    const { predictions } = batch.json() as { predictions: { churn_probability: number }[] };
    const expected = model.scoreRecords(records);
    const off = predictions.filter((p, i) => Math.abs(p.churn_probability - expected[i]!) >= 1e-12);
    assert.equal(off.length, 0);
    for (const r of [300, 301]) {
      const upper = Object.fromEntries(
        Object.entries(wide.data.records[r]!).map(([k, v]) => [k.toUpperCase(), v]),
      );
      const one = await app.inject({ method: 'POST', url: '/predict', payload: upper });
      assert.equal(one.statusCode, 200, one.body);
      const p = one.json() as { churn_probability: number };
      assert.ok(Math.abs(p.churn_probability - model.scoreRecord(wide.data.records[r]!)) < 1e-12);
    }
  });

  it('/metrics counts every feature of every record, in bounded series', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    const m = parseMetrics(res.body);
    for (const f of model.schema.features)
      assert.equal(sumSeries(m, 'churnwatch_feature_values_total', `feature="${f.name}"`), 302, f.name);
    const bins = Object.values(model.profile.features).reduce((n, fp) => n + fp.labels.length, 0);
    let series = 0;
    for (const key of m.keys()) if (key.startsWith('churnwatch_feature_values_total{')) series++;
    assert.equal(series, bins);
  });
});

describe('request schema of 1,000 features', () => {
  it('validates and canonicalises every field, refusing unknown and doubled ones, and documents them', async () => {
    const schema = genericSchema(500, 500);
    const store = openStore('sqlite::memory:');
    await store.migrate();
    const app = await buildTestApp({ store, schema, docs: true });
    try {
      const post = (payload: object) => app.inject({ method: 'POST', url: '/predict', payload });
      const record = Object.fromEntries(
        schema.features.map((f, i) => [f.name, f.kind === 'numeric' ? i : `level ${i}`]),
      );
      // Past validation and canonicalisation, stopped only by the missing model.
      const ok = await post({ records: [record, { ...record, user_id: 'u' }] });
      assert.equal((ok.json() as { code: string }).code, 'CW_NO_MODEL', ok.body);
      const bad: [object, string][] = [
        [{ ...record, cat_499: 5 }, 'body/cat_499 must be string or null'],
        [{ ...record, num_499x: 5 }, 'body has unknown field "num_499x"'],
        [{ cat_499: 'a', CAT_499: 'b' }, 'body gives cat_499 twice (as cat_499 and CAT_499); send one'],
      ];
      for (const [body, message] of bad) {
        const res = await post(body);
        assert.equal(res.statusCode, 400, res.body);
        assert.equal((res.json() as { message: string }).message, message);
      }
      const doc = await app.inject({ method: 'GET', url: '/docs/json' });
      assert.equal(doc.statusCode, 200);
      assert.ok(doc.body.includes('"cat_499"'));
    } finally {
      await app.close();
      await store.close();
    }
  });
});
