/**
 * The store contract on a real PostgreSQL (127.0.0.1:5432, database `test`, trust auth; override with
 * CHURNWATCH_TEST_POSTGRES_URL). Every store gets its own schema, dropped on close, so parallel runs
 * never collide. Unreachable PostgreSQL fails under CI=true and skips with the reason elsewhere.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { NumericColumn } from '../../src/data/columnar-table.js';
import type { FeatureSpec } from '../../src/data/feature-types.js';
import { createBatchedWriter } from '../../src/store/batched-writer.js';
import { EXPRESSO_COLUMNS } from '../../src/store/feature-registry.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { createPostgresStore } from '../../src/store/postgres/postgres-store.js';
import {
  AWKWARD_FEATURES,
  describePredictionStore,
  fullFeatures,
  prediction,
  readAll,
  type StorePlace,
} from '../../src/store/prediction-store.contract.js';
import type { FeedbackInput, PredictionStore } from '../../src/store/prediction-store.js';
import { FIXED_INSERT_COLUMNS } from '../../src/store/row-layout.js';
import { EXPRESSO_FEATURES, insertParameters, toPredictionRows } from '../../src/store/store-columns.js';
import { postgresSkip } from '../helpers/postgres-reachable.js';
import { waitFor } from '../helpers/wait-for.js';

const url =
  process.env.CHURNWATCH_TEST_POSTGRES_URL ??
  `postgres://${process.env.PGUSER ?? 'postgres'}@127.0.0.1:5432/test`;

const skip = await postgresSkip(url);

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

async function freshStore(poolSize = 4, features?: readonly FeatureSpec[]): Promise<PredictionStore> {
  const { schema, drop } = await freshSchema();
  const store = createPostgresStore({
    connectionString: url,
    poolSize,
    schema,
    ...(features ? { features } : {}),
  });
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
  describePredictionStore(
    'postgres',
    (features) => freshStore(4, features),
    async (): Promise<StorePlace> => {
      const { schema, drop } = await freshSchema();
      return {
        open: (features) => createPostgresStore({ connectionString: url, poolSize: 2, schema, features }),
        dispose: drop,
      };
    },
  );

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

    it('adds each new feature column once when replicas of a new model start together', async () => {
      const { schema: own, drop: dropOwn } = await freshSchema();
      const starting = Array.from({ length: 4 }, () =>
        createPostgresStore({ connectionString: url, poolSize: 2, schema: own, features: AWKWARD_FEATURES }),
      );
      try {
        await Promise.all(starting.map((r) => r.migrate()));
        const registry = await admin((c) =>
          c.query(`SELECT feature FROM ${own}.feature_columns ORDER BY position`),
        );
        assert.deepEqual(
          registry.rows.map((r) => r.feature),
          AWKWARD_FEATURES.map((f) => f.name),
        );
        await starting[0]!.insertRows(
          toPredictionRows(
            [{ ...prediction('g', 1), features: { Score: 1, id: 'x' } }],
            starting[0]!.rowLayout,
          ),
        );
        const [row] = await readAll(starting[3]!);
        assert.equal(row!.features.Score, 1);
        assert.equal(row!.features.id, 'x');
      } finally {
        await Promise.all(starting.map((r) => r.close()));
        await dropOwn();
      }
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
      ).flatMap((j) => j.outcomes);
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

  describe('retention on postgres with several replicas', () => {
    it('shares the rows when replicas run it at once, while feedback joins the old predictions', async () => {
      const { schema, drop } = await freshSchema();
      const [a, b, c] = Array.from({ length: 3 }, () =>
        createPostgresStore({ connectionString: url, poolSize: 4, schema }),
      ) as [PredictionStore, PredictionStore, PredictionStore];
      try {
        await Promise.all([a.migrate(), b.migrate(), c.migrate()]);
        // 9,000 old predictions (more than four pages each), 300 kept ones.
        const old = Array.from({ length: 9000 }, (_, i) => prediction(`o${i}`, 1000 + i));
        const kept = Array.from({ length: 300 }, (_, i) => prediction(`k${i}`, 100_000 + i));
        for (let i = 0; i < old.length; i += 1500)
          await a.insertRows(toPredictionRows(old.slice(i, i + 1500)));
        await a.insertRows(toPredictionRows(kept));
        // Replica c labels old and kept predictions while a and b delete: a join that holds an old
        // row makes retention pass it over, and retention holding one makes the join's item pending.
        const labels = [...old.filter((_, i) => i % 10 === 0), ...kept].map((r) => ({
          predictionId: r.id,
          label: 1 as const,
          observedAt: r.createdAt,
          receivedAt: 1,
        }));
        const joining = (async () => {
          const outcomes = [];
          for (let i = 0; i < labels.length; i += 50)
            outcomes.push(...(await c.recordFeedback(labels.slice(i, i + 50))));
          return outcomes;
        })();
        const passes = await Promise.all([a.dropPredictions(50_000), b.dropPredictions(50_000), joining]);
        // A row passed over (held by a join) is taken by a later pass.
        const last = await a.dropPredictions(50_000);
        const dropped = passes[0].predictions + passes[1].predictions + last.predictions;
        assert.equal(dropped, 9000, 'every old prediction deleted exactly once');
        assert.deepEqual(
          (await readAll(c)).map((r) => r.id),
          kept.map((r) => r.id),
        );
        const outcomes = passes[2];
        const pending = outcomes.filter((o) => o.status === 'pending').length;
        const joinedOld = outcomes.filter(
          (o) => o.status === 'joined' && o.prediction!.id.startsWith('o'),
        ).length;
        assert.equal(pending + joinedOld, 900, 'an old item joins or, its prediction gone, waits');
        assert.equal(passes[0].feedback + passes[1].feedback + last.feedback, joinedOld);
        const orphans = await admin((client) =>
          client.query(
            `SELECT count(*)::int AS n FROM ${schema}.feedback f WHERE f.joined_prediction_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM ${schema}.predictions p WHERE p.id = f.joined_prediction_id)`,
          ),
        );
        assert.equal(orphans.rows[0].n, 0, 'no feedback left resolved to a deleted prediction');
        assert.deepEqual(await c.countFeedback(), { joined: 300, pending, duplicate: 0, conflict: 0 });
        const stats = await b.storeStats();
        assert.equal(stats.oldestPredictionAt, 100_000);
        assert.ok(stats.sizeBytes > 100_000, `size ${stats.sizeBytes}`);
      } finally {
        await Promise.all([a.close(), b.close(), c.close()]);
        await drop();
      }
    });
  });

  describe('retention on postgres: size on disk', () => {
    it('keeps the tables flat where autovacuum is off: the pass vacuums them itself', async () => {
      const { schema, drop } = await freshSchema();
      const store = createPostgresStore({ connectionString: url, poolSize: 2, schema, vacuumEveryMs: 0 });
      try {
        await store.migrate();
        // Off for these tables whatever the server's setting: the pass must vacuum them itself.
        await admin(async (c) => {
          for (const table of ['predictions', 'feedback'])
            await c.query(`ALTER TABLE ${schema}.${table} SET (autovacuum_enabled = false)`);
        });
        const DAY = 86_400_000;
        const PER_DAY = 6000;
        // Seven simulated days, a day at a time, a label for every other prediction; retention keeps a
        // day and a half, so from day 2 on the tables hold 2.5 days at their peak.
        const peaks: number[] = [];
        for (let day = 0; day < 7; day++) {
          const records = Array.from({ length: PER_DAY }, (_, k) =>
            prediction(`d${day}-${k}`, day * DAY + (k * DAY) / PER_DAY),
          );
          for (let i = 0; i < PER_DAY; i += 2000)
            await store.insertRows(toPredictionRows(records.slice(i, i + 2000)));
          await store.recordFeedback(
            records
              .filter((_, k) => k % 2 === 0)
              .map((r) => ({
                predictionId: r.id,
                label: 1,
                observedAt: r.createdAt,
                receivedAt: r.createdAt,
              })),
          );
          peaks.push((await store.storeStats()).sizeBytes);
          await store.dropPredictions((day + 1) * DAY - 1.5 * DAY);
        }
        const steady = peaks[2]!;
        for (const peak of peaks.slice(3))
          assert.ok(
            peak <= steady * 1.15,
            `peaks ${peaks.map((p) => (p / 1e6).toFixed(1)).join(', ')} MB, not flat`,
          );
        assert.equal((await readAll(store)).length, 1.5 * PER_DAY);
      } finally {
        await store.close();
        await drop();
      }
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

  describe('migration from schema version 6 (before the feature registry)', () => {
    it('registers the existing Expresso columns, reads old rows back identical, then writes on', async () => {
      const { schema, drop } = await freshSchema();
      // The tables as that version made them (its migrations verbatim), and rows written into them.
      const ddl = readFileSync(
        join(import.meta.dirname, '..', 'fixtures', 'store-v6', 'postgres-v6.sql'),
        'utf8',
      );
      const records = Array.from({ length: 300 }, (_, i) =>
        prediction(`old-${i}`, 1000 + ((i * 37) % 300) * 10, {
          features: i % 4 === 0 ? { MONTANT: i, REGION: null } : fullFeatures(i),
          userId: i % 9 === 0 ? null : `u${i % 40}`,
        }),
      );
      const labelled = new Set(records.filter((_, i) => i % 3 === 0).map((r) => r.id));
      const columns = [...FIXED_INSERT_COLUMNS, ...EXPRESSO_COLUMNS.map((c) => c.column)];
      await admin(async (c) => {
        await c.query(`SET search_path = ${schema}`);
        await c.query(ddl);
        for (const r of records) {
          const values = insertParameters(r);
          await c.query(
            `INSERT INTO predictions (${columns.join(', ')}, label, label_observed_at)
             VALUES (${values.map((_, k) => `$${k + 1}`).join(', ')}, $${values.length + 1}, $${values.length + 2})`,
            [...values, labelled.has(r.id) ? 1 : null, labelled.has(r.id) ? r.createdAt + 7 : null],
          );
        }
      });
      const store = createPostgresStore({ connectionString: url, poolSize: 2, schema });
      try {
        await store.migrate();
        const expected = [...records]
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
          .map((r) => ({
            ...r,
            features: Object.fromEntries(
              EXPRESSO_COLUMNS.map((c) => [c.feature, r.features[c.feature] ?? null]),
            ),
            label: labelled.has(r.id) ? 1 : null,
            labelObservedAt: labelled.has(r.id) ? r.createdAt + 7 : null,
          }));
        const rows = await readAll(store);
        assert.deepEqual(rows, expected);
        const read = await store.readColumns();
        assert.deepEqual(
          read.features.header,
          EXPRESSO_FEATURES.map((f) => f.name),
        );
        assert.deepEqual(
          Array.from((read.features.columns.get('MONTANT') as NumericColumn).values, (v) =>
            Number.isNaN(v) ? null : v,
          ),
          expected.map((r) => r.features.MONTANT),
        );
        const registry = await admin((c) =>
          c.query(`SELECT feature, column_name, kind FROM ${schema}.feature_columns ORDER BY position`),
        );
        assert.deepEqual(
          registry.rows,
          EXPRESSO_COLUMNS.map((c) => ({ feature: c.feature, column_name: c.column, kind: c.kind })),
        );
        await store.insertRows(toPredictionRows([prediction('new-1', 99_999)]));
        const [joined] = await store.recordFeedback([
          { predictionId: 'new-1', label: 0, observedAt: 100_000, receivedAt: 100_001 },
        ]);
        assert.equal(joined?.status, 'joined');
        assert.equal((await readAll(store)).length, 301);
      } finally {
        await store.close();
        await drop();
      }
    });
  });
}
