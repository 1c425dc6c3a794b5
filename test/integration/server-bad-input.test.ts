/**
 * Malformed requests of every kind: each must get a 4xx in Fastify's error shape, with a message that
 * names the field or the rule, never a 5xx; the server stays healthy; nothing is written for them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { loadModel } from '../../src/model/model-io.js';
import {
  BACKENDS,
  buildTestApp,
  customerRequests,
  parseMetrics,
  sumSeries,
  type TestStore,
} from '../helpers/server-harness.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const TOKEN = 'bad-input-token';
const good = customerRequests(3, 77);
const g0 = good[0]!;
const json = { 'content-type': 'application/json' };

interface Case {
  readonly name: string;
  readonly request: InjectOptions;
  readonly status: number;
  /** What the message must mention (field or rule). */
  readonly message: RegExp;
}

const post = (url: string, payload: unknown, status: number, message: RegExp, name: string): Case => ({
  name,
  request: { method: 'POST', url, payload: payload as InjectOptions['payload'] },
  status,
  message,
});
const raw = (
  url: string,
  payload: string,
  headers: Record<string, string>,
  status: number,
  message: RegExp,
  name: string,
): Case => ({
  name,
  request: { method: 'POST', url, payload, headers },
  status,
  message,
});

const BATCH_LIMIT = 50;
const BODY_LIMIT = 64 * 1024;

const CASES: Case[] = [
  // --- /predict: types
  post('/predict', { MONTANT: '1000' }, 400, /body\/MONTANT must be number or null/, 'numeric as string'),
  post('/predict', { montant: true }, 400, /body\/montant must be number or null/, 'numeric as boolean'),
  post('/predict', { REVENUE: [1] }, 400, /body\/REVENUE must be number or null/, 'numeric as array'),
  post('/predict', { REVENUE: { v: 1 } }, 400, /body\/REVENUE must be number or null/, 'numeric as object'),
  post('/predict', { REGION: 3 }, 400, /body\/REGION must be string or null/, 'category as number'),
  post('/predict', { tenure: false }, 400, /body\/tenure must be string or null/, 'category as boolean'),
  post('/predict', { TOP_PACK: ['a'] }, 400, /body\/TOP_PACK must be string or null/, 'category as array'),
  post(
    '/predict',
    { REGION: 'x'.repeat(201) },
    400,
    /body\/REGION must NOT have more than 200 characters/,
    'category too long',
  ),
  post('/predict', { user_id: 42 }, 400, /body\/user_id must be string/, 'user_id as number'),
  post('/predict', { user_id: null }, 400, /body\/user_id must be string/, 'user_id null'),
  post(
    '/predict',
    { user_id: 'u'.repeat(201) },
    400,
    /body\/user_id must NOT have more than 200/,
    'user_id too long',
  ),
  // PostgreSQL cannot keep U+0000 in text: refused for both stores, before anything is queued.
  post('/predict', { user_id: 'a\u0000b' }, 400, /body\/user_id must not contain the NUL/, 'NUL in user_id'),
  post(
    '/predict',
    { records: [g0, { ...g0, REGION: 'DA\u0000KAR' }] },
    400,
    /body\/records\/1\/REGION must not contain the NUL character \(U\+0000\)/,
    'NUL in a category of a batch item',
  ),
  // --- /predict: unknown or duplicate fields
  post('/predict', { MONTANTS: 1 }, 400, /unknown field "MONTANTS"/, 'misspelt feature'),
  post('/predict', { Montant: 1 }, 400, /unknown field "Montant"/, 'mixed-case feature'),
  post('/predict', { CHURN: 1 }, 400, /unknown field "CHURN"/, 'label in a predict request'),
  post('/predict', { ...g0, extra: 1 }, 400, /unknown field "extra"/, 'extra field on a full record'),
  post('/predict', { MONTANT: 1, montant: 2 }, 400, /MONTANT twice/, 'feature under both spellings'),
  post('/predict', { User_Id: 'a' }, 400, /unknown field "User_Id"/, 'mixed-case user_id'),
  post(
    '/predict',
    { user_id: 'a', USER_ID: 'a' },
    400,
    /body gives user_id twice/,
    'user_id under both spellings',
  ),
  // --- /predict: body shape
  post('/predict', [g0], 400, /body must be object/, 'array instead of object'),
  raw('/predict', '42', json, 400, /body must be object/, 'number body'),
  raw('/predict', '"text"', json, 400, /body must be object/, 'string body'),
  raw('/predict', 'null', json, 400, /body must be object/, 'null body'),
  post('/predict', { records: [] }, 400, /body\/records must have at least 1/, 'empty batch'),
  post('/predict', { records: g0 }, 400, /body\/records must be array/, 'records not an array'),
  post('/predict', { records: [g0, 5] }, 400, /body\/records\/1 must be object/, 'batch item not an object'),
  post(
    '/predict',
    { records: [g0, { MONTANT: 'x' }] },
    400,
    /body\/records\/1\/MONTANT must be number or null/,
    'bad field in batch item',
  ),
  post(
    '/predict',
    { records: [g0, { bogus: 1 }] },
    400,
    /body\/records\/1 has unknown field "bogus"/,
    'unknown field in batch item',
  ),
  post(
    '/predict',
    { records: [g0], MONTANT: 1 },
    400,
    /body has unknown field "MONTANT"/,
    'records mixed with features',
  ),
  post(
    '/predict',
    { records: [{ MONTANT: 1, montant: 1 }] },
    400,
    /body\/records\/0 gives MONTANT twice/,
    'duplicate in batch',
  ),
  post(
    '/predict',
    { records: Array.from({ length: BATCH_LIMIT + 1 }, () => ({ MONTANT: 1 })) },
    400,
    /at most 50 items/,
    'batch over the limit',
  ),
  // --- transport
  raw('/predict', '{"MONTANT": 1', json, 400, /not valid JSON/, 'truncated JSON'),
  raw('/predict', "{'MONTANT': 1}", json, 400, /not valid JSON/, 'single-quoted JSON'),
  raw('/predict', '', json, 400, /empty/i, 'empty JSON body'),
  raw(
    '/predict',
    'MONTANT=1',
    { 'content-type': 'application/x-www-form-urlencoded' },
    415,
    /Unsupported Media Type/,
    'form body',
  ),
  raw(
    '/predict',
    '{"MONTANT":1}',
    { 'content-type': 'text/plain' },
    415,
    /Unsupported Media Type/,
    'text/plain body',
  ),
  raw('/predict', '<x/>', { 'content-type': 'application/xml' }, 415, /Unsupported Media Type/, 'xml body'),
  raw('/predict', '{"__proto__": {"x": 1}}', json, 400, /not valid JSON/, 'prototype poisoning'),
  // The fast JSON path (json-body.ts) must hand every spelling of these keys to the careful parser.
  raw('/predict', '{"\\u005f_proto__": {"x": 1}}', json, 400, /not valid JSON/, 'escaped __proto__ key'),
  raw('/predict', '{"constructor": {"prototype": {}}}', json, 400, /not valid JSON/, 'constructor key'),
  raw(
    '/predict',
    '{"records": [{"\\u0063onstructor": {"prototype": {}}}]}',
    json,
    400,
    /not valid JSON/,
    'escaped constructor key in a batch',
  ),
  raw(
    '/predict',
    JSON.stringify({ user_id: 'x'.repeat(BODY_LIMIT) }),
    json,
    413,
    /too large/i,
    'body over the size limit',
  ),
  // --- /feedback
  post(
    '/feedback',
    { user_id: '\u0000', churn: 1 },
    400,
    /body\/user_id must not contain the NUL/,
    'NUL in feedback user_id',
  ),
  post(
    '/feedback',
    { records: [{ prediction_id: 'p\u0000', churn: 0 }] },
    400,
    /body\/records\/0\/prediction_id must not contain the NUL/,
    'NUL in feedback prediction_id',
  ),
  post('/feedback', { prediction_id: 'p' }, 400, /body must have field "churn"/, 'feedback without churn'),
  post(
    '/feedback',
    { prediction_id: 'p', Churn: 1 },
    400,
    /body has unknown field "Churn"/,
    'mixed-case churn',
  ),
  post(
    '/feedback',
    { prediction_id: 'p', churn: 1, CHURN: 1 },
    400,
    /body gives churn twice \(as churn and CHURN\)/,
    'churn under both spellings',
  ),
  post('/feedback', { prediction_id: 'p', CHURN: 2 }, 400, /body\/CHURN must be one of 0, 1/, 'CHURN 2'),
  post('/feedback', { churn: 1 }, 400, /"prediction_id" or "user_id"/, 'feedback without a key'),
  post('/feedback', { prediction_id: 'p', churn: 2 }, 400, /body\/churn must be one of 0, 1/, 'churn 2'),
  post('/feedback', { prediction_id: 'p', churn: -1 }, 400, /body\/churn must be one of 0, 1/, 'churn -1'),
  post('/feedback', { prediction_id: 'p', churn: 0.5 }, 400, /body\/churn must be integer/, 'churn 0.5'),
  post(
    '/feedback',
    { prediction_id: 'p', churn: '1' },
    400,
    /body\/churn must be integer/,
    'churn as string',
  ),
  post(
    '/feedback',
    { prediction_id: 'p', churn: true },
    400,
    /body\/churn must be integer/,
    'churn as boolean',
  ),
  post('/feedback', { prediction_id: 'p', churn: null }, 400, /body\/churn must be integer/, 'churn null'),
  post(
    '/feedback',
    { prediction_id: 5, churn: 1 },
    400,
    /body\/prediction_id must be string/,
    'prediction_id as number',
  ),
  post(
    '/feedback',
    { prediction_id: '', churn: 1 },
    400,
    /body\/prediction_id must NOT have fewer than 1/,
    'empty prediction_id',
  ),
  post('/feedback', { user_id: ['u'], churn: 1 }, 400, /body\/user_id must be string/, 'user_id as array'),
  post(
    '/feedback',
    { user_id: 'u', churn: 1, observed_at: 'yesterday' },
    400,
    /body\/observed_at must be a date-time/,
    'observed_at text',
  ),
  post(
    '/feedback',
    { user_id: 'u', churn: 1, observed_at: '2024-05-01' },
    400,
    /body\/observed_at must be a date-time/,
    'observed_at date only',
  ),
  post(
    '/feedback',
    { user_id: 'u', churn: 1, observed_at: '2024-05-01T12:00:00' },
    400,
    /body\/observed_at must be a date-time/,
    'observed_at without zone',
  ),
  post(
    '/feedback',
    { user_id: 'u', churn: 1, observed_at: -1 },
    400,
    /body\/observed_at must be >= 0/,
    'negative epoch',
  ),
  raw(
    '/feedback',
    '{"user_id":"u","churn":1,"observed_at":-0}',
    { 'content-type': 'application/json' },
    400,
    /^body\/observed_at must be whole epoch milliseconds ≥ 0, got -0$/,
    'observed_at negative zero',
  ),
  post(
    '/feedback',
    {
      records: [
        { user_id: 'u', churn: 1 },
        { user_id: 'u', churn: 1, observed_at: 1_700_000_000 },
      ],
    },
    400,
    /^body\/records\/1\/observed_at is 1970-01-20T.*, before 2000-01-01T00:00:00Z \(epoch milliseconds, not seconds\)$/,
    'observed_at in seconds',
  ),
  post(
    '/feedback',
    { user_id: 'u', churn: 1, observed_at: '2999-01-01T00:00:00Z' },
    400,
    /^body\/observed_at is 2999-01-01T00:00:00.000Z, more than 1 day after the server's time/,
    'observed_at in the future',
  ),
  post(
    '/feedback',
    { user_id: 'u', churn: 1, observed_at: 1.5 },
    400,
    /body\/observed_at must be string or integer/,
    'fractional epoch',
  ),
  post(
    '/feedback',
    { user_id: 'u', churn: 1, observed_at: true },
    400,
    /body\/observed_at must be string or integer/,
    'observed_at boolean',
  ),
  post(
    '/feedback',
    { user_id: 'u', churn: 1, label: 1 },
    400,
    /unknown field "label"/,
    'unknown feedback field',
  ),
  post('/feedback', { records: [] }, 400, /body\/records must have at least 1/, 'empty feedback batch'),
  post(
    '/feedback',
    { records: [{ user_id: 'u', churn: 1 }, { churn: 0 }] },
    400,
    /body\/records\/1 must have field "prediction_id" or "user_id"/,
    'feedback batch with one keyless item',
  ),
  post(
    '/feedback',
    {
      records: [
        { user_id: 'u', churn: 1 },
        { user_id: 'v', churn: 3 },
      ],
    },
    400,
    /body\/records\/1\/churn/,
    'feedback batch with a bad churn',
  ),
  post(
    '/feedback',
    { records: Array.from({ length: BATCH_LIMIT + 1 }, () => ({ user_id: 'u', churn: 1 })) },
    400,
    /at most 50 items/,
    'feedback batch over the limit',
  ),
  raw(
    '/feedback',
    'user_id=u&churn=1',
    { 'content-type': 'application/x-www-form-urlencoded' },
    415,
    /Unsupported Media Type/,
    'feedback form body',
  ),
  raw('/feedback', '{"churn":1,', json, 400, /not valid JSON/, 'feedback truncated JSON'),
  // --- admin and routing
  {
    name: 'reload without token',
    request: { method: 'POST', url: '/admin/reload' },
    status: 401,
    message: /Authorization: Bearer/,
  },
  {
    name: 'reload with wrong token',
    request: { method: 'POST', url: '/admin/reload', headers: { authorization: 'Bearer wrong' } },
    status: 403,
    message: /token is wrong/,
  },
  {
    name: 'reload with a non-Bearer scheme',
    request: { method: 'POST', url: '/admin/reload', headers: { authorization: `Basic ${TOKEN}` } },
    status: 403,
    message: /token is wrong/,
  },
  {
    name: 'reload with unknown body field',
    request: {
      method: 'POST',
      url: '/admin/reload',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { model: 'x' },
    },
    status: 400,
    message: /unknown field "model"/,
  },
  {
    name: 'GET on /predict',
    request: { method: 'GET', url: '/predict' },
    status: 405,
    message: /GET is not allowed on \/predict; it accepts POST/,
  },
  {
    name: 'unknown route',
    request: { method: 'POST', url: '/predictions', payload: {} },
    status: 404,
    message: /no route POST \/predictions/,
  },
];

for (const backend of BACKENDS) {
  describe(`bad input on ${backend.name}`, () => {
    let dir: string;
    let testStore: TestStore;
    let app: FastifyInstance;

    before(async () => {
      const models = await trainSmallModel();
      dir = await mkdtemp(join(tmpdir(), 'churnwatch-bad-'));
      testStore = await backend.open(dir);
      app = await buildTestApp({
        store: testStore.store,
        model: await loadModel(join(models, 'latest')),
        loadModel,
        config: { adminToken: TOKEN, batchLimit: BATCH_LIMIT, bodyLimit: BODY_LIMIT },
      });
    });
    after(async () => {
      await app?.close();
      await testStore?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it(`rejects ${CASES.length} distinct malformed requests with a clear 4xx`, async () => {
      assert.ok(CASES.length >= 50);
      assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are distinct');
      const failures: string[] = [];
      for (const c of CASES) {
        const res = await app.inject(c.request);
        let body: { statusCode?: number; code?: string; error?: string; message?: string } = {};
        try {
          body = res.json();
        } catch {
          failures.push(`${c.name}: body is not JSON: ${res.body.slice(0, 100)}`);
          continue;
        }
        if (res.statusCode !== c.status)
          failures.push(`${c.name}: status ${res.statusCode}, wanted ${c.status}: ${res.body}`);
        if (
          body.statusCode !== res.statusCode ||
          typeof body.code !== 'string' ||
          typeof body.error !== 'string'
        ) {
          failures.push(`${c.name}: not Fastify's error shape: ${res.body}`);
        }
        if (!c.message.test(body.message ?? ''))
          failures.push(`${c.name}: message "${body.message}" does not match ${c.message}`);
      }
      assert.deepEqual(failures, []);
    });

    it('stays healthy and has written nothing for the rejected requests', async () => {
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      await app.churnwatch.context.writer.flush();
      let rows = 0;
      for await (const page of testStore.store.readPredictions()) rows += page.length;
      assert.equal(rows, 0, 'no prediction stored');
      assert.deepEqual(await testStore.store.countFeedback(), {
        joined: 0,
        pending: 0,
        duplicate: 0,
        conflict: 0,
      });
      const m = parseMetrics((await app.inject({ method: 'GET', url: '/metrics' })).body);
      assert.equal(sumSeries(m, 'churnwatch_predictions_total'), 0);
      assert.equal(sumSeries(m, 'churnwatch_http_requests_total', 'status_code="5'), 0, 'no 5xx');
      // A good request still works after all that.
      const ok = await app.inject({ method: 'POST', url: '/predict', payload: { records: good } });
      assert.equal(ok.statusCode, 200, ok.body);
    });
  });
}
