/**
 * /predict and /feedback accept the same spellings of their field names (field-names.ts): one table of
 * spellings runs over both routes' fields, so the routes cannot drift apart again (/feedback once
 * refused `CHURN` while /predict took `MONTANT`).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadModel } from '../../src/model/model-io.js';
import { toFeedbackInput } from '../../src/server/routes/feedback-route.js';
import { openStore } from '../../src/store/open-store.js';
import type { PredictionStore } from '../../src/store/prediction-store.js';
import { buildTestApp } from '../helpers/server-harness.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

/** Ways to write a field name, and whether the rule accepts them. */
const SPELLINGS = [
  { name: 'lower case', spell: (f: string) => f.toLowerCase(), accepted: true },
  { name: 'upper case', spell: (f: string) => f.toUpperCase(), accepted: true },
  {
    name: 'capitalised',
    spell: (f: string) => f[0]!.toUpperCase() + f.slice(1).toLowerCase(),
    accepted: false,
  },
] as const;

type Body = Record<string, unknown>;

interface Route {
  readonly url: '/predict' | '/feedback';
  /** Every field with a valid value, under its documented name. */
  readonly fields: Body;
  /** A valid body without `field` (and its spellings), to which the spelled field is added. */
  base(field: string, n: number): Body;
  readonly duplicateCode: string;
}

const ROUTES: readonly Route[] = [
  {
    url: '/predict',
    fields: { user_id: 'u', MONTANT: 1000, REGION: 'DAKAR', TENURE: 'K > 24 month' },
    base: () => ({ FREQUENCE: 3 }),
    duplicateCode: 'CW_PREDICT_DUPLICATE_FIELD',
  },
  {
    url: '/feedback',
    fields: { churn: 1, user_id: 'u', prediction_id: 'p', observed_at: '2026-01-01T00:00:00Z' },
    base: (field, n) => {
      const base: Body = { churn: 0, user_id: `feedback-${n}` };
      delete base[field];
      return field === 'user_id' ? { ...base, prediction_id: `missing-${n}` } : base;
    },
    duplicateCode: 'CW_FEEDBACK_DUPLICATE_FIELD',
  },
];

describe('field name spellings, /predict and /feedback alike', () => {
  let store: PredictionStore;
  let app: FastifyInstance;
  let n = 0;

  before(async () => {
    store = openStore('sqlite::memory:');
    await store.migrate();
    app = await buildTestApp({ store, model: await loadModel(join(await trainSmallModel(), 'latest')) });
  });
  after(async () => {
    await app?.close();
    await store?.close();
  });

  const post = (url: string, payload: Body) => app.inject({ method: 'POST', url, payload });

  for (const route of ROUTES) {
    for (const [field, value] of Object.entries(route.fields)) {
      for (const spelling of SPELLINGS) {
        const name = spelling.spell(field);
        it(`${route.url}: ${field} in ${spelling.name} (${name}) is ${spelling.accepted ? 'accepted' : 'refused'}`, async () => {
          const res = await post(route.url, { ...route.base(field, n++), [name]: value });
          if (spelling.accepted) {
            assert.equal(res.statusCode, 200, res.body);
          } else {
            assert.equal(res.statusCode, 400, res.body);
            assert.equal(res.json().message, `body has unknown field "${name}"`);
          }
        });
      }
      it(`${route.url}: ${field} under both spellings is refused, naming it`, async () => {
        const body = {
          ...route.base(field, n++),
          [field.toLowerCase()]: value,
          [field.toUpperCase()]: value,
        };
        const res = await post(route.url, body);
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().code, route.duplicateCode);
        assert.match(res.json().message, new RegExp(`^body gives ${field} twice \\(as ${field} and `));
      });
    }
  }

  it('/predict reads every spelling as the same field', async () => {
    const score = async (body: Body) => {
      const res = await post('/predict', body);
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { user_id: string | null; churn_probability: number };
    };
    const fields = ROUTES[0]!.fields;
    const lower = await score(
      Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v])),
    );
    const upper = await score(
      Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.toUpperCase(), v])),
    );
    assert.equal(lower.user_id, 'u');
    assert.equal(upper.user_id, 'u');
    assert.equal(lower.churn_probability, upper.churn_probability);
    const without = await score({});
    assert.notEqual(upper.churn_probability, without.churn_probability, 'the features were read');
  });

  it('/feedback reads every spelling as the same field', () => {
    const fields = ROUTES[1]!.fields;
    for (const spell of [(f: string) => f.toLowerCase(), (f: string) => f.toUpperCase()]) {
      const body = Object.fromEntries(Object.entries(fields).map(([k, v]) => [spell(k), v]));
      const receivedAt = Date.parse('2026-01-01T00:05:00Z');
      assert.deepEqual(toFeedbackInput(body, 'body', receivedAt), {
        predictionId: 'p',
        userId: 'u',
        label: 1,
        observedAt: Date.parse('2026-01-01T00:00:00Z'),
        receivedAt,
      });
    }
  });

  it('/feedback still says which field a label-less item misses', async () => {
    const res = await post('/feedback', { user_id: 'u' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().message, 'body must have field "churn"');
    assert.equal(res.json().code, 'CW_FEEDBACK_NO_LABEL');
    const batch = await post('/feedback', { records: [{ user_id: 'u', CHURN: 1 }, { user_id: 'v' }] });
    assert.equal(batch.json().message, 'body/records/1 must have field "churn"');
  });
});
