/**
 * The server's life: a restart on the same SQLite file keeps predictions and joins feedback to them;
 * /readyz fails while the store is unreachable and recovers by itself; `serve` flushes every
 * acknowledged prediction on graceful shutdown.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { runServe } from '../../src/cli/commands/serve.js';
import { loadModel } from '../../src/model/model-io.js';
import type { ServeConfig } from '../../src/server/config.js';
import { openStore } from '../../src/store/open-store.js';
import { freePort } from '../helpers/free-port.js';
import { serveSmallModel } from '../helpers/serve-process.js';
import { buildTestApp, customerRequests, POSTGRES_URL } from '../helpers/server-harness.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

async function countPredictions(url: string): Promise<number> {
  const store = openStore(url);
  try {
    let n = 0;
    for await (const page of store.readPredictions()) n += page.length;
    return n;
  } finally {
    await store.close();
  }
}

/** A TCP relay to PostgreSQL that the test can cut and restore: the store really loses its server. */
async function startRelay(
  targetPort: number,
): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void> }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  };
  await listen();
  return {
    port,
    async cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
    restore: listen,
  };
}

/** An app on a fresh SQLite file with the given queue settings, and a POST of a batch to /predict. */
async function queueTestApp(
  dir: string,
  config: { maxQueue: number; flushIntervalMs: number; queueWaitMs: number } & Partial<
    Pick<ServeConfig, 'ack' | 'commitTimeout'>
  >,
) {
  const models = await trainSmallModel();
  const url = `sqlite:${join(dir, 'queue.db')}`;
  const store = openStore(url);
  await store.migrate();
  const app = await buildTestApp({ store, model: await loadModel(join(models, 'latest')), config });
  const post = (batch: ReturnType<typeof customerRequests>) =>
    app.inject({ method: 'POST', url: '/predict', payload: { records: batch } });
  return { url, store, app, post };
}

describe('server lifecycle', () => {
  it('keeps predictions across a restart on the same SQLite file and joins feedback to them', () =>
    withTempDir(async (dir) => {
      const models = await trainSmallModel();
      const model = await loadModel(join(models, 'latest'));
      const url = `sqlite:${join(dir, 'restart.db')}`;
      const build = async () => {
        const store = openStore(url);
        await store.migrate();
        const app = await buildTestApp({
          store,
          model,
        });
        return { store, app };
      };
      const first = await build();
      const res = await first.app.inject({
        method: 'POST',
        url: '/predict',
        payload: { records: customerRequests(20, 5) },
      });
      assert.equal(res.statusCode, 200);
      const ids = (res.json() as { predictions: { prediction_id: string }[] }).predictions.map(
        (p) => p.prediction_id,
      );
      await first.app.close();
      await first.store.close();

      const second = await build();
      try {
        const fb = await second.app.inject({
          method: 'POST',
          url: '/feedback',
          payload: { prediction_id: ids[7], churn: 1 },
        });
        assert.equal((fb.json() as { status: string }).status, 'joined', fb.body);
      } finally {
        await second.app.close();
        await second.store.close();
      }
      assert.equal(await countPredictions(url), 20);
    }));

  it('reports not ready while another process holds the SQLite write lock, then recovers', () =>
    withTempDir(async (dir) => {
      const models = await trainSmallModel();
      const path = join(dir, 'locked.db');
      const store = openStore(`sqlite:${path}`, { busyTimeoutMs: 50 });
      await store.migrate();
      const app = await buildTestApp({
        store,
        model: await loadModel(join(models, 'latest')),
      });
      const other = new Database(path);
      try {
        assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
        other.exec('BEGIN IMMEDIATE');
        const down = await app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(down.statusCode, 503);
        assert.match((down.json() as { message: string }).message, /sqlite store does not answer/);
        assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still alive');
        other.exec('ROLLBACK');
        assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'recovered');
      } finally {
        other.close();
        await app.close();
        await store.close();
      }
    }));

  it('reports not ready while PostgreSQL is unreachable, then recovers', async () => {
    const models = await trainSmallModel();
    const relay = await startRelay(5432);
    const schema = `cw_ready_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const relayed = new URL(POSTGRES_URL);
    relayed.port = String(relay.port);
    const store = openStore(relayed.toString(), { schema, poolSize: 2 });
    await store.migrate();
    const app = await buildTestApp({
      store,
      model: await loadModel(join(models, 'latest')),
    });
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      await relay.cut();
      const down = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(down.statusCode, 503, down.body);
      assert.match((down.json() as { message: string }).message, /postgres store does not answer/);
      await relay.restore();
      let status = 0;
      for (let i = 0; i < 20 && status !== 200; i++) {
        status = (await app.inject({ method: 'GET', url: '/readyz' })).statusCode;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, 'recovered without a restart');
    } finally {
      await app.close();
      await store.close();
      await relay.cut();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });

  it('reports not ready while the store refuses writes though it answers, then recovers', () =>
    withTempDir(async (dir) => {
      const { url, store, app, post } = await queueTestApp(dir, {
        maxQueue: 100,
        flushIntervalMs: 20,
        queueWaitMs: 0,
      });
      // Another connection makes every insert fail; the store still answers the ping (the write lock
      // can be taken), so only the writer knows.
      const other = new Database(url.slice('sqlite:'.length));
      const ready = async () => app.inject({ method: 'GET', url: '/readyz' });
      try {
        assert.equal((await ready()).statusCode, 200);
        other.exec(
          "CREATE TRIGGER refuse BEFORE INSERT ON predictions BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END",
        );
        assert.equal((await post(customerRequests(3, 31))).statusCode, 200, 'acknowledged, queued');
        let down = await ready();
        for (let i = 0; i < 50 && down.statusCode === 200; i++) {
          await new Promise((r) => setTimeout(r, 20));
          down = await ready();
        }
        assert.equal(down.statusCode, 503, down.body);
        assert.match(
          (down.json() as { message: string }).message,
          /prediction log cannot be written to the sqlite store \(3 predictions queued, retrying\): .*disk quota exceeded/,
        );
        other.exec('DROP TRIGGER refuse');
        await app.churnwatch.context.writer.flush(); // cuts the retry's backoff short
        assert.equal((await ready()).statusCode, 200, 'recovered');
      } finally {
        other.close();
        await app.close();
        await store.close();
      }
      assert.equal(await countPredictions(url), 3);
    }));

  it('reports not ready while the prediction queue is full, ready again once it is written', () =>
    withTempDir(async (dir) => {
      const { store, app, post } = await queueTestApp(dir, {
        maxQueue: 5,
        flushIntervalMs: 60_000,
        queueWaitMs: 0,
      });
      try {
        assert.equal((await post(customerRequests(4, 32))).statusCode, 200);
        assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'room for one');
        assert.equal((await post(customerRequests(1, 33))).statusCode, 200);
        const full = await app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(full.statusCode, 503, full.body);
        assert.equal((full.json() as { code: string }).code, 'CW_NOT_READY');
        assert.match((full.json() as { message: string }).message, /queue is full \(5 predictions waiting/);
        await app.churnwatch.context.writer.flush();
        assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      } finally {
        await app.close();
        await store.close();
      }
    }));

  it('answers 503 with Retry-After when the prediction queue is full, and stores only what it accepted', () =>
    withTempDir(async (dir) => {
      // Room for 5 predictions and no flush during the test: the queue stays as the requests leave it.
      const { url, store, app, post } = await queueTestApp(dir, {
        maxQueue: 5,
        flushIntervalMs: 60_000,
        queueWaitMs: 50,
      });
      try {
        const records = customerRequests(6, 21);
        assert.equal((await post(records.slice(0, 3))).statusCode, 200);
        const refused = await post(records.slice(3, 6));
        assert.equal(refused.statusCode, 503, refused.body);
        assert.equal(refused.headers['retry-after'], '1');
        const body = refused.json() as { code: string; message: string };
        assert.equal(body.code, 'CW_STORE_QUEUE_FULL');
        assert.match(body.message, /3 predictions queued/);
        assert.equal((await post(records.slice(3, 5))).statusCode, 200, 'what fits is still accepted');
        // Full now: refused before the body is read, so even a malformed one gets 503, not 400.
        const early = await app.inject({
          method: 'POST',
          url: '/predict',
          headers: { 'content-type': 'application/json' },
          payload: '{"MONTANT": ',
        });
        assert.equal(early.statusCode, 503, early.body);
        assert.equal(early.headers['retry-after'], '1');
      } finally {
        await app.close();
        await store.close();
      }
      assert.equal(await countPredictions(url), 5);
    }));

  it('makes a request wait for room in a full queue, and answers it once a write frees some', () =>
    withTempDir(async (dir) => {
      // The queue is full after 5; the next write starts 300 ms after the first prediction.
      const { url, store, app, post } = await queueTestApp(dir, {
        maxQueue: 5,
        flushIntervalMs: 300,
        queueWaitMs: 10_000,
      });
      try {
        const records = customerRequests(8, 22);
        const started = performance.now();
        assert.equal((await post(records.slice(0, 5))).statusCode, 200);
        const waited = await post(records.slice(5, 8));
        assert.equal(waited.statusCode, 200, waited.body);
        const ms = performance.now() - started;
        assert.ok(ms >= 250, `answered after the write (${ms.toFixed(0)} ms), not before`);
      } finally {
        await app.close();
        await store.close();
      }
      assert.equal(await countPredictions(url), 8);
    }));

  it('with --ack commit answers /predict and /log once stored, not after the flush interval', () =>
    withTempDir(async (dir) => {
      // A minute's flush interval: only the commit wait can have written them before the answer.
      const { store, app, post } = await queueTestApp(dir, {
        maxQueue: 100,
        flushIntervalMs: 60_000,
        queueWaitMs: 0,
        ack: 'commit',
      });
      try {
        const res = await post(customerRequests(3, 34));
        assert.equal(res.statusCode, 200, res.body);
        const ids = (res.json() as { predictions: { prediction_id: string }[] }).predictions.map(
          (p) => p.prediction_id,
        );
        const logged = await app.inject({
          method: 'POST',
          url: '/log',
          payload: { ...customerRequests(1, 35)[0], score: 0.4, prediction_id: 'ext-1' },
        });
        assert.equal(logged.statusCode, 200, logged.body);
        const stored: string[] = [];
        for await (const page of store.readPredictions()) for (const p of page) stored.push(p.id);
        assert.deepEqual(stored.sort(), [...ids, 'ext-1'].sort(), 'in the store when answered');
      } finally {
        await app.close();
        await store.close();
      }
    }));

  it('with --ack commit answers 503 CW_STORE_COMMIT_TIMEOUT while writes fail; the predictions stay queued and are stored later', () =>
    withTempDir(async (dir) => {
      const { url, store, app, post } = await queueTestApp(dir, {
        maxQueue: 100,
        flushIntervalMs: 60_000,
        queueWaitMs: 0,
        ack: 'commit',
        commitTimeout: 300,
      });
      const other = new Database(url.slice('sqlite:'.length));
      try {
        other.exec(
          "CREATE TRIGGER refuse BEFORE INSERT ON predictions BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END",
        );
        const started = performance.now();
        const refused = await post(customerRequests(2, 36));
        const waited = performance.now() - started;
        assert.equal(refused.statusCode, 503, refused.body);
        assert.equal(refused.headers['retry-after'], '1');
        const body = refused.json() as { code: string; message: string };
        assert.equal(body.code, 'CW_STORE_COMMIT_TIMEOUT');
        assert.match(
          body.message,
          /did not commit these 2 predictions within 300 ms \(2 queued; .*not known to be stored, though still queued/,
        );
        assert.ok(waited >= 250, `answered after the timeout (${waited.toFixed(0)} ms)`);
        // A client of /log resends with the same id: the store keeps one record of it.
        const log = () =>
          app.inject({
            method: 'POST',
            url: '/log',
            payload: { ...customerRequests(1, 37)[0], score: 0.7, prediction_id: 'ext-retry' },
          });
        assert.equal((await log()).statusCode, 503);
        other.exec('DROP TRIGGER refuse');
        await app.churnwatch.context.writer.flush(); // cuts the retry's backoff short
        const retried = await log();
        assert.equal(retried.statusCode, 200, retried.body);
      } finally {
        other.close();
        await app.close();
        await store.close();
      }
      // The refused /predict's two, and the /log record once though it was queued twice.
      assert.equal(await countPredictions(url), 3);
    }));

  it('serve answers over real HTTP and writes every acknowledged prediction on shutdown', () =>
    withTempDir(async (dir) => {
      const models = await trainSmallModel();
      const url = `sqlite:${join(dir, 'serve.db')}`;
      const server = await runServe({
        port: String(await freePort()),
        host: '127.0.0.1',
        modelPath: join(models, 'latest'),
        storeUrl: url,
        env: { CHURNWATCH_FLUSH_INTERVAL_MS: '60000', CHURNWATCH_LOG_LEVEL: 'warn' },
      });
      let acknowledged = 0;
      try {
        const records = customerRequests(50, 8);
        const responses = await Promise.all(
          records.map((r) =>
            fetch(`${server.url}/predict`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(r),
            }),
          ),
        );
        for (const res of responses) if (res.status === 200) acknowledged++;
        assert.equal(acknowledged, 50);
        const docs = await fetch(`${server.url}/docs/json`);
        assert.equal(docs.status, 200);
        const spec = (await docs.json()) as { paths: Record<string, unknown> };
        assert.ok(spec.paths['/predict'] && spec.paths['/feedback']);
        // The Swagger UI page and its assets come through @fastify/static (pinned in package.json's
        // overrides to a release that runs on Node 20 without engine warnings).
        const page = await fetch(`${server.url}/docs/static/index.html`);
        assert.equal(page.status, 200);
        assert.match(await page.text(), /swagger/i);
        const css = await fetch(`${server.url}/docs/static/swagger-ui.css`);
        assert.equal(css.status, 200);
        assert.match(css.headers.get('content-type') ?? '', /text\/css/);
        // Read to the end: a response left unread keeps its connection busy, and close() waits for it.
        assert.ok((await css.text()).length > 1000);
      } finally {
        // The flush interval is a minute: only the graceful close can have written them.
        await server.close();
      }
      assert.equal(await countPredictions(url), acknowledged);
    }));

  it('a SIGTERM while a client leaves its answer unread stores what was acknowledged and ends at --shutdown-timeout', () =>
    withTempDir(async (dir) => {
      const url = `sqlite:${join(dir, 'shutdown.db')}`;
      // A minute between writes: only the stop can have written the predictions.
      const server = await serveSmallModel(url, ['--shutdown-timeout', '1s'], {
        ...process.env,
        CHURNWATCH_FLUSH_INTERVAL_MS: '60000',
        CHURNWATCH_LOG_LEVEL: 'warn',
      });
      await server.serving();
      const base = `http://127.0.0.1:${server.port}`;
      let acknowledged = 0;
      for (const record of customerRequests(30, 9)) {
        const res = await fetch(`${base}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(record),
        });
        if (res.status === 200) acknowledged++;
        await res.arrayBuffer();
      }
      assert.equal(acknowledged, 30);
      // A request whose body is still arriving keeps its connection busy: without the shutdown timeout
      // the stop waited for the request timeout (30 s) before it wrote anything.
      const slow = connect(server.port, '127.0.0.1');
      await once(slow, 'connect');
      slow.on('error', () => undefined);
      slow.write(
        `POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"user_id":`,
      );
      const stoppedAt = Date.now();
      server.child.kill('SIGTERM');
      const exit = await server.exited;
      const seconds = (Date.now() - stoppedAt) / 1000;
      assert.equal(exit.code, 0, exit.stderr);
      assert.ok(seconds < 15, `the stop took ${seconds} s`);
      assert.match(exit.stdout + exit.stderr, /closing connections still busy at the shutdown timeout/);
      slow.destroy();
      assert.equal(await countPredictions(url), acknowledged);
    }));
});
