/**
 * The store contract on a real PostgreSQL (127.0.0.1:5432, database `test`, trust auth; override with
 * CHURNWATCH_TEST_POSTGRES_URL). Every store gets its own schema, dropped on close, so parallel runs
 * never collide. Unreachable PostgreSQL fails under CI=true and skips with the reason elsewhere.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createBatchedWriter } from '../../src/store/batched-writer.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { createPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { describePredictionStore, prediction, readAll } from '../../src/store/prediction-store.contract.js';
import type { FeedbackInput, PredictionStore } from '../../src/store/prediction-store.js';
import { toPredictionRows } from '../../src/store/store-columns.js';
import { waitFor } from '../helpers/wait-for.js';

const url =
  process.env.CHURNWATCH_TEST_POSTGRES_URL ??
  `postgres://${process.env.PGUSER ?? 'postgres'}@127.0.0.1:5432/test`;

async function reachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${url} is unreachable: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => {});
  }
}

const unreachable = await reachable();
if (unreachable && process.env.CI === 'true') throw new Error(`${unreachable} (CI must provide it)`);
const skip = unreachable ?? false;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh schema and a store bound to it; closing the store drops the schema. */
async function freshSchema(): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = `cw_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE SCHEMA ${schema}`));
  return {
    schema,
    drop: () => admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => {}),
  };
}

async function freshStore(poolSize = 4): Promise<PredictionStore> {
  const { schema, drop } = await freshSchema();
  const store = createPostgresStore({ connectionString: url, poolSize, schema });
  await store.migrate();
  return {
    ...store,
    close: async () => {
      await store.close();
      await drop();
    },
  };
}

if (skip) {
  describe('PredictionStore contract: postgres', { skip }, () => {
    it('needs PostgreSQL', () => {});
  });
} else {
  describePredictionStore('postgres', () => freshStore());

  describe('postgres store with several replicas', () => {
    let schema: string;
    let drop: () => Promise<void>;
    let replicas: PredictionStore[] = [];

    before(async () => {
      ({ schema, drop } = await freshSchema());
    });
    after(async () => {
      await Promise.all(replicas.map((r) => r.close()));
      await drop();
    });

    it('migrates once when replicas start together', async () => {
      replicas = Array.from({ length: 4 }, () =>
        createPostgresStore({ connectionString: url, poolSize: 4, schema }),
      );
      await Promise.all(replicas.map((r) => r.migrate()));
      const versions = await admin((c) =>
        c.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`),
      );
      // Each migration recorded exactly once, however many replicas raced to apply it.
      assert.deepEqual(
        versions.rows.map((r) => r.version),
        MIGRATIONS.map((m) => m.version),
      );
    });

    it('never double-joins when two replicas record and join feedback at once', async () => {
      const [a, b] = replicas as [PredictionStore, PredictionStore];
      const n = 300;
      const records = Array.from({ length: n }, (_, i) =>
        prediction(`c${i}`, 1000 + i, { userId: `cu${i}` }),
      );
      await a.insertRows(toPredictionRows(records.slice(0, n / 2)));
      // Each prediction gets label 1 from replica a and label 0 from replica b, in batches, concurrently;
      // half the predictions are not stored yet, so their feedback is pending until both join them.
      const feedback = (label: 0 | 1): FeedbackInput[] =>
        records.map((r, i) =>
          i % 2 === 0
            ? { predictionId: r.id, label, observedAt: 5000, receivedAt: 5000 + label }
            : { userId: r.userId!, label, observedAt: 5000, receivedAt: 5000 + label },
        );
      const batches = (items: FeedbackInput[]) =>
        Array.from({ length: 6 }, (_, k) => items.slice(k * 50, k * 50 + 50));
      const outcomes = (
        await Promise.all([
          ...batches(feedback(1)).map((items) => a.recordFeedback(items)),
          ...batches(feedback(0)).map((items) => b.recordFeedback(items)),
        ])
      ).flat();
      assert.equal(outcomes.filter((o) => o.status === 'joined').length, n / 2);
      assert.equal(outcomes.filter((o) => o.status === 'conflict').length, n / 2);
      assert.equal(outcomes.filter((o) => o.status === 'pending').length, n);

      await a.insertRows(toPredictionRows(records.slice(n / 2)));
      const joins = (
        await Promise.all([a.joinPending(), b.joinPending(), a.joinPending(), b.joinPending()])
      ).flat();
      assert.equal(
        joins.filter((o) => o.status === 'joined').length,
        n / 2,
        'each late prediction joins once',
      );
      assert.equal(joins.filter((o) => o.status === 'conflict').length, n / 2);
      assert.deepEqual(await a.countFeedback(), { joined: n, pending: 0, duplicate: 0, conflict: n });
      const joinedIds = [...outcomes, ...joins]
        .filter((o) => o.status === 'joined')
        .map((o) => o.prediction?.id);
      assert.equal(new Set(joinedIds).size, n, 'no prediction joined twice');
      const rows = await readAll(b);
      assert.equal(rows.filter((r) => r.label !== null).length, n);
      const stored = await admin((c) =>
        c.query(`SELECT count(*)::int AS n FROM ${schema}.feedback WHERE status = 'joined'`),
      );
      assert.equal(stored.rows[0].n, n);
    });
  });

  describe('batched writer on postgres', () => {
    it('keeps records through an outage (table gone) and drains when it is back', async () => {
      const { schema, drop } = await freshSchema();
      const store = createPostgresStore({ connectionString: url, poolSize: 2, schema });
      await store.migrate();
      const errors: unknown[] = [];
      const writer = createBatchedWriter(store, {
        maxQueue: 100,
        maxBatch: 10,
        flushIntervalMs: 2,
        retryBaseMs: 5,
        retryMaxMs: 20,
        onError: (e) => errors.push(e),
      });
      try {
        await admin((c) => c.query(`ALTER TABLE ${schema}.predictions RENAME TO predictions_away`));
        assert.equal(writer.enqueue(Array.from({ length: 60 }, (_, i) => prediction(`o${i}`, i))), true);
        await waitFor(() => errors.length >= 3, {
          what: 'three failed writes while the predictions table is away',
          timeoutMs: 10_000,
          intervalMs: 10,
          describe: () => `errors so far: ${errors.map(String).join('; ') || 'none'}`,
        });
        assert.equal(writer.size, 60, 'nothing dropped while the store is down');
        assert.equal(writer.enqueue(Array.from({ length: 41 }, (_, i) => prediction(`x${i}`, i))), false);
        await admin((c) => c.query(`ALTER TABLE ${schema}.predictions_away RENAME TO predictions`));
        await writer.flush();
        assert.equal(writer.size, 0);
        assert.equal((await readAll(store)).length, 60);
      } finally {
        await writer.close();
        await store.close();
        await drop();
      }
    });
  });
}
