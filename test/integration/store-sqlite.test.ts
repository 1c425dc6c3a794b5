import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/open-store.js';
import { describePredictionStore, prediction, readAll } from '../../src/store/prediction-store.contract.js';
import type { PredictionStore } from '../../src/store/prediction-store.js';
import { encodeBlock, runFromRows } from '../../src/store/sqlite/column-block.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createThreadedSqliteStore } from '../../src/store/sqlite/threaded-sqlite-store.js';
import {
  INSERT_COLUMNS,
  insertParameters,
  READ_COLUMNS,
  READ_ID,
  userKey,
} from '../../src/store/store-columns.js';
import { withTempDir } from '../helpers/temp-dir.js';

describePredictionStore('sqlite :memory:', async () => {
  const store = createSqliteStore({ path: ':memory:' });
  await store.migrate();
  return store;
});

/** A migrated store on a file in its own temporary directory, which closing removes. */
async function fileStore(open: (dir: string) => PredictionStore): Promise<PredictionStore> {
  const dir = await mkdtemp(join(tmpdir(), 'churnwatch-store-'));
  const store = open(dir);
  await store.migrate();
  return {
    ...store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// The file sits in a directory openStore must create.
describePredictionStore('sqlite file (WAL), writes on a writer thread', () =>
  fileStore((dir) => openStore(`sqlite:${join(dir, 'nested', 'churnwatch.db')}`)),
);

describePredictionStore('sqlite file (WAL), writes in-thread', () =>
  fileStore((dir) => openStore(`sqlite:${join(dir, 'churnwatch.db')}`, { writerThread: false })),
);

// Tiny column blocks, so every contract test also runs across sealed blocks, blocks whose key ranges
// overlap (shuffled inserts), labels patched into sealed blocks, and the unsealed tail.
describePredictionStore('sqlite file, column blocks of 7', () =>
  fileStore((dir) => createSqliteStore({ path: join(dir, 'blocks.db'), blockRows: 7 })),
);

describePredictionStore('sqlite :memory:, column blocks of 5', async () => {
  const store = createSqliteStore({ path: ':memory:', blockRows: 5 });
  await store.migrate();
  return store;
});

describe('sqlite store on disk', () => {
  it('keeps predictions, labels and pending feedback across a restart', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'churnwatch.db');
      const first = createSqliteStore({ path });
      await first.migrate();
      await first.insertPredictions([prediction('a', 1000), prediction('b', 2000)]);
      await first.recordFeedback([
        { predictionId: 'a', label: 1, observedAt: 1500, receivedAt: 1500 },
        { predictionId: 'c', label: 0, observedAt: 3500, receivedAt: 3500 },
      ]);
      await first.close();

      const second = createSqliteStore({ path });
      await second.migrate();
      assert.deepEqual(await second.countFeedback(), { joined: 1, pending: 1, duplicate: 0, conflict: 0 });
      assert.deepEqual(
        (await readAll(second)).map((r) => [r.id, r.label]),
        [
          ['a', 1],
          ['b', null],
        ],
      );
      await second.insertPredictions([prediction('c', 3000)]);
      assert.deepEqual(
        (await second.joinPending()).map((o) => [o.status, o.prediction?.id]),
        [['joined', 'c']],
      );
      await second.close();
    }));

  it('upgrades a version-1 database: existing rows become column blocks, reads unchanged', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'v1.db');
      const old = new Database(path);
      old.exec(SCHEMA_MIGRATIONS_TABLE);
      old.exec(MIGRATIONS[0]!.sqlite);
      old.prepare('INSERT INTO schema_migrations VALUES (1, ?, ?)').run(MIGRATIONS[0]!.name, 'then');
      const insert = old.prepare(
        `INSERT INTO predictions (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')})`,
      );
      // 25 rows written out of time order, 8 of them labelled, as version 1 stored them.
      for (let i = 0; i < 25; i++)
        insert.run(insertParameters(prediction(`o${i}`, 10_000 - ((i * 7) % 25) * 10)));
      old.exec('UPDATE predictions SET label = 1, label_observed_at = created_at + 5 WHERE rowid % 3 = 0');
      old.close();

      const store = createSqliteStore({ path, blockRows: 10 });
      await store.migrate();
      const check = new Database(path, { readonly: true });
      assert.equal(check.prepare('SELECT count(*) FROM prediction_blocks').pluck().get(), 2);
      assert.equal(
        check
          .prepare(
            'SELECT count(*) FROM predictions WHERE rowid NOT IN (SELECT prediction_rowid FROM prediction_block_rows)',
          )
          .pluck()
          .get(),
        5,
      );
      check.close();
      const rows = await readAll(store);
      assert.deepEqual(
        rows.map((r) => r.createdAt),
        Array.from({ length: 25 }, (_, k) => 10_000 - (24 - k) * 10),
      );
      const columns = await store.readColumns();
      assert.deepEqual(
        Array.from(columns.createdAt),
        rows.map((r) => r.createdAt),
      );
      assert.deepEqual(
        Array.from(columns.label),
        rows.map((r) => r.label ?? -1),
      );
      assert.equal(Array.from(columns.label).filter((l) => l === 1).length, 8);
      assert.deepEqual(
        Array.from(columns.labelObservedAt).map((t) => (Number.isNaN(t) ? null : t)),
        rows.map((r) => r.labelObservedAt),
      );
      await store.close();
    }));

  it('upgrades a version-3 database sealed in key order: gaps under the watermark, labels, new blocks', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'v3.db');
      const old = new Database(path);
      old.function('churnwatch_user_key', { deterministic: true }, (id: unknown) =>
        typeof id === 'string' ? userKey(id) : null,
      );
      old.exec(SCHEMA_MIGRATIONS_TABLE);
      for (const m of MIGRATIONS.slice(0, 3)) {
        old.exec(m.sqlite);
        old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 'then');
      }
      const insert = old.prepare(
        `INSERT INTO predictions (${INSERT_COLUMNS.join(', ')}, user_key)
         VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')}, churnwatch_user_key(?))`,
      );
      // 30 predictions inserted out of time order: k = 11·i mod 30 at rowid i + 1.
      const key = (k: number) => `k${String(k).padStart(2, '0')}`;
      for (let i = 0; i < 30; i++) {
        const k = (i * 11) % 30;
        const row = insertParameters(prediction(key(k), 1000 + k * 10));
        insert.run(...row, row[2]);
      }
      // Version 3 sealed the oldest 7 unsealed rows in key order, marking each row: k00–k27 sealed,
      // k28 (rowid 9) and k29 (rowid 20) not, so sealed rows lie on both sides of the unsealed ones.
      const unsealed = old.prepare(
        `SELECT ${READ_COLUMNS.slice(0, READ_ID + 1).join(', ')}, rowid FROM predictions
         WHERE block_id IS NULL ORDER BY created_at, id LIMIT 7`,
      );
      for (let b = 0; b < 4; b++) {
        const rows = unsealed.raw().all() as unknown[][];
        const stored = encodeBlock(runFromRows(rows));
        const blockId = Number(
          old
            .prepare(
              `INSERT INTO prediction_blocks (row_count, first_created_at, last_created_at, first_id, last_id,
               dictionaries, data, ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              7,
              rows[0]![0],
              rows[6]![0],
              rows[0]![READ_ID],
              rows[6]![READ_ID],
              stored.dictionaries,
              stored.data,
              stored.ids,
            ).lastInsertRowid,
        );
        old.prepare('INSERT INTO prediction_block_labels VALUES (?, ?)').run(blockId, stored.labels);
        rows.forEach((row, i) => {
          old
            .prepare('UPDATE predictions SET block_id = ?, block_row = ? WHERE rowid = ?')
            .run(blockId, i, row.at(-1));
        });
      }
      old.close();

      const store = createSqliteStore({ path, blockRows: 7 });
      await store.migrate();
      const all = Array.from({ length: 30 }, (_, k) => key(k));
      assert.deepEqual(
        (await readAll(store)).map((r) => r.id),
        all,
      );
      assert.deepEqual(
        Array.from((await store.readColumns()).createdAt),
        all.map((_, k) => 1000 + k * 10),
      );
      // 12 new predictions: with k28 and k29 they make two new blocks of 7.
      await store.insertPredictions(Array.from({ length: 12 }, (_, i) => prediction(`n${i}`, 2000 + i)));
      const outcomes = await store.recordFeedback([
        { predictionId: 'k03', label: 1, observedAt: 5000, receivedAt: 5000 },
        { predictionId: 'k29', label: 1, observedAt: 5000, receivedAt: 5000 },
        { predictionId: 'n1', label: 1, observedAt: 5000, receivedAt: 5000 },
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['joined', 'joined', 'joined'],
      );
      const columns = await store.readColumns();
      assert.equal(columns.rowCount, 42);
      const rows = await readAll(store);
      assert.deepEqual(
        Array.from(columns.label),
        rows.map((r) => r.label ?? -1),
      );
      assert.deepEqual(
        rows.filter((r) => r.label === 1).map((r) => r.id),
        ['k03', 'k29', 'n1'],
      );
      await store.close();
      const check = new Database(path, { readonly: true });
      assert.equal(check.prepare('SELECT count(*) FROM prediction_blocks').pluck().get(), 6);
      assert.equal(check.prepare('SELECT sealed_through FROM prediction_seal_state').pluck().get(), 42);
      check.close();
    }));

  it('fails ping while another connection holds the write lock, and recovers', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'locked.db');
      const store = createSqliteStore({ path, busyTimeoutMs: 20 });
      await store.migrate();
      const locker = new Database(path);
      locker.exec('BEGIN IMMEDIATE');
      await assert.rejects(store.ping(), /locked|busy/i);
      locker.exec('ROLLBACK');
      locker.close();
      await store.ping();
      await store.close();
    }));
});

describe('openStore', () => {
  it('rejects unsupported URLs with a clear error and masks passwords', () => {
    assert.throws(
      () => openStore('mysql://root:secret@db/x'),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'CW_STORE_URL_INVALID');
        assert.match(error.message, /unsupported scheme "mysql:"/);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
    assert.throws(() => openStore('data/churnwatch.db'), /has no scheme/);
    assert.throws(() => openStore('sqlite:'), /names no SQLite file/);
  });

  it('opens sqlite and postgres URLs as the right backend without connecting', async () => {
    const memory = openStore('sqlite::memory:');
    assert.equal(memory.kind, 'sqlite');
    await memory.close();
    for (const url of ['postgres://u@127.0.0.1:1/x', 'postgresql://u@127.0.0.1:1/x']) {
      const store = openStore(url);
      assert.equal(store.kind, 'postgres');
      await store.close();
    }
  });
});

describe('sqlite writer thread', () => {
  it('fails calls in flight when the writer thread dies, then starts a new one and loses nothing acknowledged', () =>
    withTempDir(async (dir) => {
      const writers: Worker[] = [];
      const store = createThreadedSqliteStore(
        { path: join(dir, 'w.db') },
        { onWriterStarted: (w) => writers.push(w) },
      );
      try {
        await store.migrate();
        await store.insertPredictions([prediction('a', 1000)]);
        assert.equal(writers.length, 1);
        const inFlight = store.insertPredictions([prediction('b', 2000)]);
        await writers[0]!.terminate();
        await assert.rejects(inFlight, (error: Error & { code?: string }) => {
          assert.equal(error.code, 'CW_STORE_WRITER_STOPPED');
          assert.match(error.message, /w\.db/);
          return true;
        });
        // The next call starts a new writer; the caller (the batched writer) retries what failed.
        await store.insertPredictions([prediction('b', 2000), prediction('c', 3000)]);
        assert.equal(writers.length, 2);
        assert.deepEqual(
          (await readAll(store)).map((r) => r.id),
          ['a', 'b', 'c'],
        );
        await store.ping();
      } finally {
        await store.close();
      }
    }));

  it('rebuilds errors from the writer thread with their code and message', () =>
    withTempDir(async (dir) => {
      const store = createThreadedSqliteStore({ path: join(dir, 'e.db') });
      try {
        await store.migrate();
        await assert.rejects(
          store.recordFeedback([{ predictionId: 'p', label: 2 as 0, observedAt: 1, receivedAt: 1 }]),
          /label/,
        );
        await assert.rejects(store.insertPredictions([prediction('', 1)]), /id must be a non-empty string/);
      } finally {
        await store.close();
      }
    }));

  it('refuses an in-memory database, which a second thread cannot open', () => {
    assert.throws(() => createThreadedSqliteStore({ path: ':memory:' }), /in-memory/);
  });
});
