/**
 * Client authentication and rate limits of the client routes, through Fastify's inject on a real
 * SQLite store and a real model: Bearer tokens (two, for rotation) and per-client limits keyed by
 * token or IP address; the operational routes stay open, and a server with neither configured
 * answers as before with no trace of either.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { loadModel } from '../../src/model/model-io.js';
import type { ServeConfig } from '../../src/server/config.js';
import { postHeaders } from '../../src/simulate/api-client.js';
import {
  BACKENDS,
  buildTestApp,
  customerRequests,
  parseMetrics,
  sumSeries,
  type TestStore,
} from '../helpers/server-harness.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const TOKEN_A = 'client-a-0123456789abcdef';
const TOKEN_B = 'client-b-fedcba9876543210';
const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;

describe('client authentication and rate limits', () => {
  let model: ChurnModel;
  let dir: string;
  const stores: TestStore[] = [];
  const apps: FastifyInstance[] = [];

  before(async () => {
    model = await loadModel(join(await trainSmallModel(), 'latest'));
    dir = await mkdtemp(join(tmpdir(), 'churnwatch-auth-'));
  });
  after(async () => {
    for (const app of apps) await app.close();
    for (const store of stores) await store.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(config: Partial<ServeConfig>, docs = false): Promise<FastifyInstance> {
    const testStore = await sqlite.open(dir);
    stores.push(testStore);
    const app = await buildTestApp({ store: testStore.store, model, config, docs });
    apps.push(app);
    return app;
  }

  const [record] = customerRequests(1, 5);
  const predict = (token?: string, extra: Partial<InjectOptions> = {}): InjectOptions => ({
    method: 'POST',
    url: '/predict',
    payload: record!,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    ...extra,
  });

  describe('with two API tokens', () => {
    let app: FastifyInstance;
    before(async () => {
      app = await serve({ apiTokens: [TOKEN_A, TOKEN_B] }, true);
    });

    it('refuses /predict, /feedback and /log without a token or with a wrong one: 401, WWW-Authenticate: Bearer', async () => {
      const cases: [string, Record<string, string>][] = [
        ['no header', {}],
        ['wrong token', { authorization: `Bearer ${TOKEN_A}x` }],
        ['a prefix of a token', { authorization: `Bearer ${TOKEN_A.slice(0, -1)}` }],
        ['another scheme', { authorization: `Basic ${TOKEN_A}` }],
        ['no token after Bearer', { authorization: 'Bearer ' }],
      ];
      for (const url of ['/predict', '/feedback', '/log']) {
        for (const [what, headers] of cases) {
          const res = await app.inject({ method: 'POST', url, payload: {}, headers });
          assert.equal(res.statusCode, 401, `${url}, ${what}: ${res.body}`);
          assert.match(String(res.headers['www-authenticate']), /^Bearer\b/, `${url}, ${what}`);
          const body = res.json() as { code: string; error: string };
          assert.equal(body.code, 'CW_CLIENT_UNAUTHORIZED');
          assert.equal(body.error, 'Unauthorized');
        }
      }
    });

    it('accepts each of the two tokens', async () => {
      for (const token of [TOKEN_A, TOKEN_B]) {
        const res = await app.inject(predict(token));
        assert.equal(res.statusCode, 200, res.body);
        const { prediction_id } = res.json() as { prediction_id: string };
        const feedback = await app.inject({
          method: 'POST',
          url: '/feedback',
          payload: { prediction_id, churn: 1 },
          headers: { authorization: `bearer ${token}` },
        });
        assert.equal(feedback.statusCode, 200, feedback.body);
      }
    });

    it('leaves /metrics, /healthz, /readyz, /model, /docs and /dashboard open, and counts the 401s', async () => {
      for (const url of ['/healthz', '/readyz', '/model', '/docs/json', '/dashboard']) {
        const res = await app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`);
      }
      await app.inject(predict());
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      const refused = sumSeries(
        parseMetrics(res.body),
        'churnwatch_http_requests_total',
        'route="/predict"',
        'status_code="401"',
      );
      assert.ok(refused >= 6, `401s counted: ${refused}`);
    });

    it('protects every POST route of the OpenAPI document (the admin route has its own token)', async () => {
      const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
        paths: Record<string, Record<string, { security?: unknown }>>;
      };
      const posts = Object.entries(doc.paths).filter(([path, ops]) => ops.post && path !== '/admin/reload');
      assert.ok(posts.length >= 2);
      for (const [path, ops] of posts) {
        assert.deepEqual(ops.post!.security, [{ bearerAuth: [] }], `${path} is marked in /docs`);
        const res = await app.inject({ method: 'POST', url: path, payload: {} });
        assert.equal(res.statusCode, 401, `POST ${path} without a token: ${res.body}`);
      }
    });
  });

  describe('with a rate limit', () => {
    it('answers 429 with Retry-After after N requests of one token; the other token is unaffected', async () => {
      const app = await serve({ apiTokens: [TOKEN_A, TOKEN_B], rateLimit: { max: 3, windowMs: 60_000 } });
      // Refused tokens do not use a client's budget (authentication comes first).
      for (let i = 0; i < 5; i++)
        assert.equal((await app.inject(predict('wrong-token-0123456789'))).statusCode, 401);
      for (let i = 0; i < 3; i++) {
        const res = await app.inject(predict(TOKEN_A));
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.headers['x-ratelimit-limit'], '3');
      }
      const limited = await app.inject(predict(TOKEN_A));
      assert.equal(limited.statusCode, 429, limited.body);
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After: ${limited.headers['retry-after']}`);
      const body = limited.json() as { code: string; error: string; message: string };
      assert.equal(body.code, 'CW_CLIENT_RATE_LIMITED');
      assert.equal(body.error, 'Too Many Requests');
      assert.match(body.message, /3 requests per 1 min/);
      // Feedback shares the client's budget.
      const feedback = await app.inject({
        method: 'POST',
        url: '/feedback',
        payload: { user_id: 'u1', churn: 0 },
        headers: { authorization: `Bearer ${TOKEN_A}` },
      });
      assert.equal(feedback.statusCode, 429);
      assert.equal((await app.inject(predict(TOKEN_B))).statusCode, 200);
      // Operational routes are never limited.
      for (let i = 0; i < 5; i++)
        assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
      const metrics = parseMetrics((await app.inject({ method: 'GET', url: '/metrics' })).body);
      assert.equal(
        sumSeries(metrics, 'churnwatch_http_requests_total', 'route="/predict"', 'status_code="429"'),
        1,
      );
    });

    it('keys the limit by client IP address without tokens', async () => {
      const app = await serve({ rateLimit: { max: 2, windowMs: 10_000 } });
      const from = (ip: string) => predict(undefined, { remoteAddress: ip });
      assert.equal((await app.inject(from('10.0.0.1'))).statusCode, 200);
      assert.equal((await app.inject(from('10.0.0.1'))).statusCode, 200);
      assert.equal((await app.inject(from('10.0.0.1'))).statusCode, 429);
      assert.equal((await app.inject(from('10.0.0.2'))).statusCode, 200);
    });
  });

  it('with nothing configured, needs no token and adds no rate-limit header', async () => {
    const app = await serve({});
    const res = await app.inject(predict());
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['x-ratelimit-limit'], undefined);
    assert.equal(app.hasDecorator('rateLimit'), false);
  });

  it('the simulators send CHURNWATCH_API_TOKEN as a Bearer token', async () => {
    const app = await serve({ apiTokens: [TOKEN_A] });
    const post = (env: NodeJS.ProcessEnv) =>
      app.inject({ method: 'POST', url: '/predict', payload: record!, headers: postHeaders(env) });
    assert.equal((await post({})).statusCode, 401);
    assert.equal((await post({ CHURNWATCH_API_TOKEN: TOKEN_B })).statusCode, 401);
    assert.equal((await post({ CHURNWATCH_API_TOKEN: ` ${TOKEN_A}\n` })).statusCode, 200);
  });
});
