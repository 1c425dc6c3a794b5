/**
 * What a newcomer meets first: `GET /` answers (links as JSON, or a redirect to the dashboard for a
 * browser), and a known path asked with the wrong method answers 405 with `Allow`, not 404.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { loadModel } from '../../src/model/model-io.js';
import { openStore } from '../../src/store/open-store.js';
import type { PredictionStore } from '../../src/store/prediction-store.js';
import { CHURNWATCH_VERSION } from '../../src/version.js';
import { buildTestApp } from '../helpers/server-harness.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** [method, url, the Allow header expected]: the server's own routes, the dashboard's and /docs. */
const WRONG_METHODS: readonly (readonly [InjectOptions['method'], string, string])[] = [
  ['GET', '/predict', 'POST'],
  ['HEAD', '/predict', 'POST'],
  ['PUT', '/predict', 'POST'],
  ['GET', '/feedback', 'POST'],
  ['OPTIONS', '/feedback', 'POST'],
  ['GET', '/admin/reload', 'POST'],
  ['DELETE', '/metrics', 'GET, HEAD'],
  ['POST', '/healthz', 'GET, HEAD'],
  ['PUT', '/model', 'GET, HEAD'],
  ['POST', '/', 'GET, HEAD'],
  ['POST', '/dashboard', 'GET, HEAD'],
  ['POST', '/dashboard/data.json?range=1h', 'GET, HEAD'],
  // A parametric route: any asset name has GET.
  ['DELETE', '/dashboard/assets/whatever.js', 'GET, HEAD'],
  ['POST', '/docs', 'GET, HEAD'],
  ['PUT', '/docs/json', 'GET, HEAD'],
];

const UNKNOWN: readonly (readonly [InjectOptions['method'], string])[] = [
  ['GET', '/nope'],
  ['POST', '/predictions'],
  ['GET', '/predict/1'],
  ['DELETE', '/dashboard/nothing'],
  ['GET', '/admin'],
];

describe('routing', () => {
  let store: PredictionStore;
  let app: FastifyInstance;
  let version: string;

  before(async () => {
    const model = await loadModel(join(await trainSmallModel(), 'latest'));
    version = model.info.version;
    store = openStore('sqlite::memory:');
    await store.migrate();
    app = await buildTestApp({ store, model, docs: true });
  });
  after(async () => {
    await app?.close();
    await store?.close();
  });

  it('GET / answers other clients with the name, version, model and links, each of which answers', async () => {
    for (const accept of [undefined, 'application/json', '*/*']) {
      const res = await app.inject({ method: 'GET', url: '/', headers: accept ? { accept } : {} });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /application\/json/);
      assert.equal(res.headers.vary, 'accept');
      const body = res.json() as {
        name: string;
        version: string;
        model: string;
        links: Record<string, string>;
      };
      assert.equal(body.name, 'churnwatch');
      assert.equal(body.version, CHURNWATCH_VERSION);
      assert.equal(body.model, version);
      assert.deepEqual(Object.keys(body.links).sort(), [
        'dashboard',
        'docs',
        'feedback',
        'health',
        'metrics',
        'model',
        'openapi',
        'predict',
        'ready',
      ]);
      for (const [name, url] of Object.entries(body.links)) {
        const method = name === 'predict' || name === 'feedback' ? 'POST' : 'GET';
        const linked = await app.inject({ method, url, payload: method === 'POST' ? {} : undefined });
        assert.ok(
          ![404, 405].includes(linked.statusCode),
          `${name}: ${method} ${url} → ${linked.statusCode}`,
        );
      }
    }
  });

  it('GET / sends a browser to the dashboard', async () => {
    const res = await app.inject({ method: 'GET', url: '/', headers: { accept: BROWSER_ACCEPT } });
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/dashboard');
    assert.equal(res.headers.vary, 'accept');
  });

  it('GET / without /docs does not link to it', async () => {
    const bare = await buildTestApp({ store, docs: false });
    try {
      const body = (await bare.inject({ method: 'GET', url: '/' })).json() as {
        model: null;
        links: Record<string, string>;
      };
      assert.equal(body.model, null);
      assert.equal(body.links.docs, undefined);
      assert.equal(body.links.dashboard, '/dashboard');
    } finally {
      await bare.close();
    }
  });

  it(`answers 405 with Allow on ${WRONG_METHODS.length} known paths asked with the wrong method`, async () => {
    const failures: string[] = [];
    for (const [method, url, allow] of WRONG_METHODS) {
      const res = await app.inject({ method, url });
      const path = url.split('?')[0]!;
      if (res.statusCode !== 405) failures.push(`${method} ${url}: ${res.statusCode}`);
      if (res.headers.allow !== allow)
        failures.push(`${method} ${url}: Allow ${res.headers.allow}, wanted ${allow}`);
      if (method === 'HEAD') continue; // no body
      const expected = {
        statusCode: 405,
        code: 'CW_METHOD_NOT_ALLOWED',
        error: 'Method Not Allowed',
        message: `${method} is not allowed on ${path}; it accepts ${allow}`,
      };
      try {
        assert.deepEqual(res.json(), expected);
      } catch {
        failures.push(`${method} ${url}: body ${res.body}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('keeps 404 for paths no method has', async () => {
    for (const [method, url] of UNKNOWN) {
      const res = await app.inject({ method, url });
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
      assert.equal(res.headers.allow, undefined);
      assert.equal(res.json().code, 'CW_NOT_FOUND');
    }
  });

  it('answers HEAD where GET is routed', async () => {
    for (const url of ['/', '/healthz', '/metrics', '/dashboard']) {
      const res = await app.inject({ method: 'HEAD', url });
      assert.equal(res.statusCode, 200, `HEAD ${url}`);
      assert.equal(res.body, '');
    }
  });
});
