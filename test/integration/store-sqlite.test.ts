import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { FeatureSpec } from '../../src/data/feature-types.js';
import { EXPRESSO_COLUMNS } from '../../src/store/feature-registry.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/open-store.js';
import {
  describePredictionStore,
  prediction,
  readAll,
  type StorePlace,
} from '../../src/store/prediction-store.contract.js';
import type {
  LoggedPrediction,
  PredictionColumns,
  PredictionRecord,
  PredictionStore,
} from '../../src/store/prediction-store.js';
import { EXPRESSO_FEATURES } from '../../src/store/row-layout.js';
import { encodeBlock, runFromRows } from '../../src/store/sqlite/column-block.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createThreadedSqliteStore } from '../../src/store/sqlite/threaded-sqlite-store.js';
import { insertParameters, toPredictionRows, userKey } from '../../src/store/store-columns.js';
import { expressoLayout } from '../../src/store/store-layout.js';
import { withTempDir } from '../helpers/temp-dir.js';

describePredictionStore('sqlite :memory:', async (features) => {
  const store = createSqliteStore({ path: ':memory:', ...(features ? { features } : {}) });
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

/** A file in its own temporary directory that stores open again and again (schema growth). */
function filePlace(open: (path: string, features: readonly FeatureSpec[]) => PredictionStore) {
  return async (): Promise<StorePlace> => {
    const dir = await mkdtemp(join(tmpdir(), 'churnwatch-place-'));
    return {
      open: (features) => open(join(dir, 'grow.db'), features),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  };
}

// The file sits in a directory openStore must create.
describePredictionStore(
  'sqlite file (WAL), writes on a writer thread',
  (features) =>
    fileStore((dir) =>
      openStore(`sqlite:${join(dir, 'nested', 'churnwatch.db')}`, features ? { features } : {}),
    ),
  filePlace((path, features) => openStore(`sqlite:${path}`, { features })),
);

describePredictionStore(
  'sqlite file (WAL), writes in-thread',
  (features) =>
    fileStore((dir) =>
      openStore(`sqlite:${join(dir, 'churnwatch.db')}`, {
        writerThread: false,
        ...(features ? { features } : {}),
      }),
    ),
  filePlace((path, features) => openStore(`sqlite:${path}`, { features, writerThread: false })),
);

// Tiny column blocks, so every contract test also runs across sealed blocks, blocks whose key ranges
// overlap (shuffled inserts), labels patched into sealed blocks, and the unsealed tail; the schema
// growth cases seal blocks before and after features are added.
describePredictionStore(
  'sqlite file, column blocks of 7',
  (features) =>
    fileStore((dir) =>
      createSqliteStore({ path: join(dir, 'blocks.db'), blockRows: 7, ...(features ? { features } : {}) }),
    ),
  filePlace((path, features) => createSqliteStore({ path, blockRows: 4, features })),
);

describePredictionStore('sqlite :memory:, column blocks of 5', async (features) => {
  const store = createSqliteStore({ path: ':memory:', blockRows: 5, ...(features ? { features } : {}) });
  await store.migrate();
  return store;
});

/** Reads a store both ways; columns and objects must agree on times and labels. Returns the objects. */
async function readBothWays(store: PredictionStore): Promise<LoggedPrediction[]> {
  const rows = await readAll(store);
  const columns = await store.readColumns();
  assert.deepEqual(
    Array.from(columns.createdAt),
    rows.map((r) => r.createdAt),
  );
  assert.deepEqual(
    Array.from(columns.label),
    rows.map((r) => r.label ?? -1),
  );
  return rows;
}

const LAYOUT = expressoLayout();
/** Expresso's features in file order: how readColumns lists them. */
const EXPRESSO_FEATURE_NAMES = EXPRESSO_FEATURES.map((f) => f.name);
const INSERT_COLUMNS = LAYOUT.insertColumns;
const READ_COLUMNS = LAYOUT.readColumns;
const READ_ID = LAYOUT.readId;

/**
 * Migration 1 as databases made before the feature registry ran it: with Expresso's 17 columns (since
 * migration 7 the registry adds feature columns; test/fixtures/store-v6 holds a database made then).
 */
function oldMigration1(db: Database.Database): void {
  db.exec(MIGRATIONS[0]!.sqlite);
  for (const c of EXPRESSO_COLUMNS)
    db.exec(`ALTER TABLE predictions ADD COLUMN ${c.column} ${c.kind === 'numeric' ? 'REAL' : 'TEXT'}`);
}

const shuffledKey = (k: number) => `k${String(k).padStart(2, '0')}`;

/**
 * A database as version `version` left it: migrations 1..version applied, and an insert of records as
 * that version wrote them (with the user key from version 3 on).
 */
function oldDatabase(path: string, version: number) {
  const db = new Database(path);
  db.function('churnwatch_user_key', { deterministic: true }, (id: unknown) =>
    typeof id === 'string' ? userKey(id) : null,
  );
  db.exec(SCHEMA_MIGRATIONS_TABLE);
  for (const m of MIGRATIONS.slice(0, version)) {
    if (m.version === 1) oldMigration1(db);
    else db.exec(m.sqlite);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 'then');
  }
  const insert = db.prepare(
    `INSERT INTO predictions (${INSERT_COLUMNS.join(', ')}, user_key)
     VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')}, churnwatch_user_key(?))`,
  );
  return {
    db,
    /**
     * Inserts `count` predictions out of time order: k = stride·i mod count at rowid i + 1, with id
     * shuffledKey(k) and createdAt 1000 + 10k.
     */
    insertShuffled(count: number, stride: number, extra: Partial<PredictionRecord> = {}) {
      for (let i = 0; i < count; i++) {
        const k = (i * stride) % count;
        const row = insertParameters(prediction(shuffledKey(k), 1000 + k * 10, extra));
        insert.run(...row, row[2]);
      }
    },
    /** Writes rows (READ_COLUMNS up to the id, then the rowid; in key order) as a column block. */
    writeBlock(rows: unknown[][]): number {
      const stored = encodeBlock(runFromRows(rows, LAYOUT));
      const blockId = Number(
        db
          .prepare(
            `INSERT INTO prediction_blocks (row_count, first_created_at, last_created_at, first_id, last_id,
             dictionaries, data, ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            rows.length,
            rows[0]![0],
            rows.at(-1)![0],
            rows[0]![READ_ID],
            rows.at(-1)![READ_ID],
            stored.dictionaries,
            stored.data,
            stored.ids,
          ).lastInsertRowid,
      );
      db.prepare('INSERT INTO prediction_block_labels VALUES (?, ?)').run(blockId, stored.labels);
      return blockId;
    },
  };
}

describe('sqlite store on disk', () => {
  it('keeps predictions, labels and pending feedback across a restart', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'churnwatch.db');
      const first = createSqliteStore({ path });
      await first.migrate();
      await first.insertRows(toPredictionRows([prediction('a', 1000), prediction('b', 2000)]));
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
      await second.insertRows(toPredictionRows([prediction('c', 3000)]));
      assert.deepEqual(
        (await second.joinPending()).outcomes.map((o) => [o.status, o.prediction?.id]),
        [['joined', 'c']],
      );
      await second.close();
    }));

  it('gives a new database 8 KiB pages and leaves an existing file with the page size it has', () =>
    withTempDir(async (dir) => {
      const pageSize = (path: string) => {
        const db = new Database(path, { readonly: true });
        try {
          return db.pragma('page_size', { simple: true });
        } finally {
          db.close();
        }
      };
      const fresh = join(dir, 'fresh.db');
      const store = createSqliteStore({ path: fresh });
      await store.migrate();
      await store.insertRows(toPredictionRows([prediction('a', 1000)]));
      await store.close();
      assert.equal(pageSize(fresh), 8192);

      // A file SQLite made with its default 4 KiB pages (a version-6 database, rows in it) keeps them:
      // SQLite changes the page size of a database with tables only by rebuilding it.
      const old = join(dir, 'old.db');
      const made = oldDatabase(old, 6);
      made.insertShuffled(3, 1);
      made.db.close();
      assert.equal(pageSize(old), 4096);
      const reopened = createSqliteStore({ path: old });
      await reopened.migrate();
      await reopened.insertRows(toPredictionRows([prediction('z', 9000)]));
      assert.deepEqual(
        (await readAll(reopened)).map((r) => r.id),
        ['k00', 'k01', 'k02', 'z'],
      );
      await reopened.close();
      assert.equal(pageSize(old), 4096);
    }));

  it('upgrades a version-1 database: existing rows become column blocks, reads unchanged', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'v1.db');
      const old = new Database(path);
      old.exec(SCHEMA_MIGRATIONS_TABLE);
      oldMigration1(old);
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
      // Rowids 1–25 in order: both blocks are rowid ranges (migration 5), the last 5 rows unsealed.
      assert.deepEqual(
        check.prepare('SELECT first_rowid, last_rowid FROM prediction_blocks ORDER BY id').raw().all(),
        [
          [1, 10],
          [11, 20],
        ],
      );
      assert.equal(check.prepare('SELECT sealed_through FROM prediction_seal_state').pluck().get(), 20);
      assert.equal(check.prepare('SELECT count(*) FROM prediction_block_rows').pluck().get(), 0);
      check.close();
      const rows = await readBothWays(store);
      assert.deepEqual(
        rows.map((r) => r.createdAt),
        Array.from({ length: 25 }, (_, k) => 10_000 - (24 - k) * 10),
      );
      const columns = await store.readColumns();
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
      const v3 = oldDatabase(path, 3);
      const old = v3.db;
      // 30 predictions inserted out of time order: k = 11·i mod 30 at rowid i + 1.
      v3.insertShuffled(30, 11);
      const key = shuffledKey;
      // Version 3 sealed the oldest 7 unsealed rows in key order, marking each row: k00–k27 sealed,
      // k28 (rowid 9) and k29 (rowid 20) not, so sealed rows lie on both sides of the unsealed ones.
      const unsealed = old.prepare(
        `SELECT ${READ_COLUMNS.slice(0, READ_ID + 1).join(', ')}, rowid FROM predictions
         WHERE block_id IS NULL ORDER BY created_at, id LIMIT 7`,
      );
      for (let b = 0; b < 4; b++) {
        const rows = unsealed.raw().all() as unknown[][];
        const blockId = v3.writeBlock(rows);
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
      await store.insertRows(
        toPredictionRows(Array.from({ length: 12 }, (_, i) => prediction(`n${i}`, 2000 + i))),
      );
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

  it('upgrades a version-4 database: listed blocks keep their labels, new blocks are rowid ranges', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'v4.db');
      const v4 = oldDatabase(path, 4);
      const old = v4.db;
      // 13 predictions out of time order (k = 5·i mod 13 at rowid i + 1), all of user "u".
      v4.insertShuffled(13, 5, { userId: 'u' });
      const key = shuffledKey;
      // Version 4 sealed rowids 1–5 and 6–10 into blocks in key order, listing every row.
      for (let b = 0; b < 2; b++) {
        const rows = old
          .prepare(
            `SELECT ${READ_COLUMNS.slice(0, READ_ID + 1).join(', ')}, rowid FROM predictions
             WHERE rowid > ? ORDER BY rowid LIMIT 5`,
          )
          .raw()
          .all(b * 5) as unknown[][];
        rows.sort((x, y) => (x[0] as number) - (y[0] as number));
        const blockId = v4.writeBlock(rows);
        rows.forEach((row, i) => {
          old.prepare('INSERT INTO prediction_block_rows VALUES (?, ?, ?)').run(row.at(-1), blockId, i);
        });
      }
      old.exec('UPDATE prediction_seal_state SET sealed_through = 10');
      old.close();

      const store = createSqliteStore({ path, blockRows: 5 });
      await store.migrate();
      // Labels before and after the upgrade: k01 is in a listed block, k12 in the unsealed rows.
      await store.recordFeedback([
        { predictionId: 'k01', label: 1, observedAt: 9000, receivedAt: 9000 },
        { predictionId: 'k12', label: 1, observedAt: 9000, receivedAt: 9000 },
      ]);
      // 7 new predictions, later than all: with the 3 unsealed rows they make two rowid-range blocks.
      await store.insertRows(
        toPredictionRows(
          Array.from({ length: 7 }, (_, i) => prediction(`n${i}`, 2000 + (6 - i), { userId: 'u' })),
        ),
      );
      const outcomes = await store.recordFeedback([
        { predictionId: 'k07', label: 1, observedAt: 9000, receivedAt: 9000 },
        { predictionId: 'n2', label: 1, observedAt: 9000, receivedAt: 9000 },
        // The user's latest prediction at or before 1075 is k07 (1070), already labelled 1: a duplicate.
        { userId: 'u', label: 1, observedAt: 1075, receivedAt: 9000 },
        // ...and at or before 2003 it is n3 (2003), in a new block.
        { userId: 'u', label: 0, observedAt: 2003, receivedAt: 9000 },
      ]);
      assert.deepEqual(
        outcomes.map((o) => [o.status, o.prediction?.id]),
        [
          ['joined', 'k07'],
          ['joined', 'n2'],
          ['duplicate', 'k07'],
          ['joined', 'n3'],
        ],
      );
      const rows = await readBothWays(store);
      assert.deepEqual(
        rows.map((r) => r.id),
        [...Array.from({ length: 13 }, (_, k) => key(k)), 'n6', 'n5', 'n4', 'n3', 'n2', 'n1', 'n0'],
      );
      assert.deepEqual(
        rows.filter((r) => r.label !== null).map((r) => [r.id, r.label]),
        [
          ['k01', 1],
          ['k07', 1],
          ['k12', 1],
          ['n3', 0],
          ['n2', 1],
        ],
      );
      await store.close();
      const check = new Database(path, { readonly: true });
      assert.deepEqual(
        check
          .prepare('SELECT first_rowid, last_rowid, row_order IS NOT NULL FROM prediction_blocks ORDER BY id')
          .raw()
          .all(),
        [
          [null, null, 0],
          [null, null, 0],
          [11, 15, 1],
          [16, 20, 1],
        ],
      );
      assert.equal(check.prepare('SELECT count(*) FROM prediction_block_rows').pluck().get(), 10);
      check.close();
    }));

  it('upgrades a version-5 database: its blocks join the user index, lookups compare the user id', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'v5.db');
      const v5 = oldDatabase(path, 5);
      const old = v5.db;
      // 12 predictions of user "u" out of time order (k = 5·i mod 12 at rowid i + 1, at 1000 + 10k):
      // rowids 1–4 hold k00 k05 k10 k03, 5–8 k08 k01 k06 k11, 9–12 k04 k09 k02 k07.
      v5.insertShuffled(12, 5, { userId: 'u' });
      // Rowid 13: user "w", the latest of all, with u's key: what a hash collision would look like.
      const collision = insertParameters(prediction('w-late', 1500, { userId: 'w' }));
      old
        .prepare(
          `INSERT INTO predictions (${INSERT_COLUMNS.join(', ')}, user_key)
           VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')}, ?)`,
        )
        .run(...collision, userKey('u'));
      const sealed = (from: number, to: number) => {
        const rows = old
          .prepare(
            `SELECT ${READ_COLUMNS.slice(0, READ_ID + 1).join(', ')}, rowid FROM predictions
             WHERE rowid BETWEEN ? AND ?`,
          )
          .raw()
          .all(from, to) as unknown[][];
        return rows.sort((x, y) => (x[0] as number) - (y[0] as number));
      };
      // Version 4 listed rowids 1–4 one by one; version 5 sealed 5–8 as a rowid range.
      const listed = sealed(1, 4);
      const listedId = v5.writeBlock(listed);
      listed.forEach((row, i) => {
        old.prepare('INSERT INTO prediction_block_rows VALUES (?, ?, ?)').run(row.at(-1), listedId, i);
      });
      const ranged = sealed(5, 8);
      const rowOrder = new Int32Array(4);
      ranged.forEach((row, i) => {
        rowOrder[(row.at(-1) as number) - 5] = i;
      });
      old
        .prepare('UPDATE prediction_blocks SET first_rowid = 5, last_rowid = 8, row_order = ? WHERE id = ?')
        .run(new Uint8Array(rowOrder.buffer), v5.writeBlock(ranged));
      old.exec('UPDATE prediction_seal_state SET sealed_through = 8');
      old.close();

      // Blocks of 6: the 5 unsealed rows (9–13) stay unsealed at migrate().
      const store = createSqliteStore({ path, blockRows: 6 });
      await store.migrate();
      const check = new Database(path, { readonly: true });
      assert.deepEqual(
        check
          .prepare('SELECT block_id, prediction_rowid FROM prediction_user_rows ORDER BY 1, 2')
          .raw()
          .all(),
        [1, 2, 3, 4, 5, 6, 7, 8].map((rowid) => [rowid <= 4 ? 1 : 2, rowid]),
        'the rows of both blocks, under their user key',
      );
      assert.equal(
        check.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'predictions_user_key'").pluck().get(),
        0,
      );
      check.close();
      const byUser = (userId: string, observedAt: number) => ({
        userId,
        label: 1 as const,
        observedAt,
        receivedAt: 9000,
      });
      const first = await store.recordFeedback([
        byUser('u', 1005), // k00, in the listed block
        byUser('u', 1019), // k01, in the range block
        byUser('u', 1025), // k02, unsealed
        byUser('u', 999), // none yet
        byUser('u', 5000), // k11: w-late is later and has u's key, but it is w's prediction
      ]);
      assert.deepEqual(
        first.map((o) => [o.status, o.prediction?.id]),
        [
          ['joined', 'k00'],
          ['joined', 'k01'],
          ['joined', 'k02'],
          ['pending', undefined],
          ['joined', 'k11'],
        ],
      );
      // 8 more of user "u" (k12–k19, at 1120–1190): with the 5 unsealed rows they make two new blocks,
      // indexed when sealed (w-late too, under u's key); k19 stays unsealed.
      await store.insertRows(
        toPredictionRows(
          Array.from({ length: 8 }, (_, i) =>
            prediction(shuffledKey(12 + i), 1120 + i * 10, { userId: 'u' }),
          ),
        ),
      );
      const second = await store.recordFeedback([
        byUser('u', 1035), // k03, in the listed block
        byUser('u', 1045), // k04, in a new block
        byUser('u', 1175), // k17, in a new block
        byUser('u', 1195), // k19, unsealed
        byUser('u', 5000), // k19 again (a duplicate): w-late, now in a block, is still w's
      ]);
      assert.deepEqual(
        second.map((o) => [o.status, o.prediction?.id]),
        [
          ['joined', 'k03'],
          ['joined', 'k04'],
          ['joined', 'k17'],
          ['joined', 'k19'],
          ['duplicate', 'k19'],
        ],
      );
      const rows = await readBothWays(store);
      assert.deepEqual(
        rows.filter((r) => r.label !== null).map((r) => r.id),
        ['k00', 'k01', 'k02', 'k03', 'k04', 'k11', 'k17', 'k19'],
      );
      await store.close();
      const after = new Database(path, { readonly: true });
      assert.equal(after.prepare('SELECT count(*) FROM prediction_blocks').pluck().get(), 4);
      assert.equal(after.prepare('SELECT count(*) FROM prediction_user_rows').pluck().get(), 20);
      assert.equal(after.prepare('SELECT count(*) FROM prediction_block_users').pluck().get(), 4);
      after.close();
    }));

  it('seals right when another process writes or seals the same file, and after skipped duplicates', () =>
    withTempDir(async (dir) => {
      const q = (i: number) =>
        prediction(`q${String(i).padStart(3, '0')}`, 9000 - i * 10, { userId: `u${i % 3}` });
      const qs = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => q(from + i));
      /** Both stores read every prediction once, in columns as in objects, labels included. */
      async function agree(stores: PredictionStore[], count: number): Promise<void> {
        for (const store of stores) {
          assert.deepEqual(
            (await readBothWays(store)).map((r) => r.id),
            qs(0, count)
              .map((r) => r.id)
              .reverse(),
          );
        }
      }
      const open = async (name: string, blockRows: number) => {
        const store = createSqliteStore({ path: join(dir, name), blockRows });
        await store.migrate();
        return store;
      };

      // b writes rowid 3 behind a's back; a's next rows (4–41) seal as rowids 1–40.
      let a = await open('one.db', 40);
      let b = await open('one.db', 40);
      await a.insertRows(toPredictionRows(qs(0, 2)));
      await b.insertRows(toPredictionRows(qs(2, 3)));
      await a.recordFeedback([{ predictionId: 'q001', label: 1, observedAt: 9999, receivedAt: 9999 }]);
      await a.insertRows(toPredictionRows(qs(3, 41)));
      await b.recordFeedback([{ predictionId: 'q002', label: 0, observedAt: 9999, receivedAt: 9999 }]);
      await agree([a, b], 41);

      // b writes rowid 44; then a's 32-row statement skips a duplicate, so its last rowid is the one
      // a expected: only the count of rows inserted tells. 5 more rows complete the block 41–80.
      await a.insertRows(toPredictionRows(qs(41, 43)));
      await b.insertRows(toPredictionRows(qs(43, 44)));
      await a.insertRows(toPredictionRows([...qs(44, 75), q(0), ...qs(75, 80)]));
      await agree([a, b], 80);
      await Promise.all([a.close(), b.close()]);

      // a seals what b holds in memory (smaller blocks, at migrate): b must not seal those rows again.
      a = await open('two.db', 4);
      b = await open('two.db', 40);
      await b.insertRows(toPredictionRows(qs(0, 10)));
      await a.migrate();
      await b.insertRows(toPredictionRows(qs(10, 40)));
      await b.recordFeedback([{ predictionId: 'q005', label: 1, observedAt: 9999, receivedAt: 9999 }]);
      await agree([a, b], 40);
      await Promise.all([a.close(), b.close()]);
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
        await store.insertRows(toPredictionRows([prediction('a', 1000)]));
        assert.equal(writers.length, 1);
        const inFlight = store.insertRows(toPredictionRows([prediction('b', 2000)]));
        await writers[0]!.terminate();
        await assert.rejects(inFlight, (error: Error & { code?: string }) => {
          assert.equal(error.code, 'CW_STORE_WRITER_STOPPED');
          assert.match(error.message, /w\.db/);
          return true;
        });
        // The next call starts a new writer; the caller (the batched writer) retries what failed.
        await store.insertRows(toPredictionRows([prediction('b', 2000), prediction('c', 3000)]));
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

  it('runs a write posted behind another after it, and refuses it unwritten when that one failed', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'after.db');
      const writers: Worker[] = [];
      const store = createThreadedSqliteStore(
        { path, busyTimeoutMs: 5 },
        { onWriterStarted: (w) => writers.push(w) },
      );
      const rowidOrder = () => {
        const db = new Database(path, { readonly: true });
        try {
          return db.prepare('SELECT id FROM predictions ORDER BY rowid').pluck().all();
        } finally {
          db.close();
        }
      };
      try {
        await store.migrate();
        const rows = (id: string, at: number) => toPredictionRows([prediction(id, at)]);
        // Another process holds the write lock: the first write fails, the one behind it is not tried.
        const locker = new Database(path);
        locker.exec('BEGIN IMMEDIATE');
        const first = store.insertRows(rows('a', 1000));
        const behind = store.insertRowsAfter!(rows('b', 2000));
        await assert.rejects(first, /locked|busy/i);
        assert.equal(await behind, false, 'refused: it would have been stored before the write ahead of it');
        locker.exec('ROLLBACK');
        locker.close();
        // Retried in order: both written, the one behind after the first.
        const again = store.insertRows(rows('a', 1000));
        assert.equal(await store.insertRowsAfter!(rows('b', 2000)), true);
        await again;
        assert.deepEqual(rowidOrder(), ['a', 'b']);
        // The writer thread died under the write ahead: the write behind it does not start a new one.
        const lost = store.insertRows(rows('c', 3000));
        await writers[0]!.terminate();
        await assert.rejects(lost, /stopped|failed/);
        assert.equal(await store.insertRowsAfter!(rows('d', 4000)), false);
        assert.equal(writers.length, 1, 'no writer thread started for a write behind a lost one');
        await store.insertRows(rows('c', 3000));
        assert.equal(await store.insertRowsAfter!(rows('d', 4000)), true);
        assert.deepEqual(rowidOrder(), ['a', 'b', 'c', 'd']);
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
      } finally {
        await store.close();
      }
    }));

  it('refuses an in-memory database, which a second thread cannot open', () => {
    assert.throws(() => createThreadedSqliteStore({ path: ':memory:' }), /in-memory/);
  });
});

/** test/fixtures/store-v6: a database made by the store at schema version 6 and what it read back. */
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'store-v6');

interface Fixture {
  predictions: LoggedPrediction[];
  feedback: { joined: number; pending: number };
  columns: {
    rowCount: number;
    createdAt: number[];
    label: number[];
    features: Record<string, (number | string | null)[]>;
  };
}

/** Columns' features as plain values (null = missing), as the fixture records them. */
function plainFeatures(columns: Awaited<ReturnType<PredictionStore['readColumns']>>) {
  return Object.fromEntries(
    [...columns.features.columns].map(([name, c]) => [
      name,
      c.kind === 'numeric'
        ? Array.from(c.values, (v) => (Number.isNaN(v) ? null : v))
        : Array.from(c.codes, (code) => (code < 0 ? null : c.dictionary[code]!)),
    ]),
  );
}

describe('migration from schema version 6 (before the feature registry)', () => {
  const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as Fixture;

  for (const [how, open] of [
    ['writer thread', (path: string) => openStore(`sqlite:${path}`)],
    ['in-thread, blocks of 50', (path: string) => createSqliteStore({ path, blockRows: 50 })],
  ] as const) {
    it(`reads a version-6 database back identical, then writes and seals on (${how})`, () =>
      withTempDir(async (dir) => {
        const path = join(dir, 'v6.sqlite');
        copyFileSync(join(FIXTURE, 'predictions-v6.sqlite'), path);
        const store = open(path);
        try {
          await store.migrate();
          assert.deepEqual(await readAll(store), expected.predictions);
          const columns = await store.readColumns();
          assert.equal(columns.rowCount, expected.columns.rowCount);
          assert.deepEqual(Array.from(columns.createdAt), expected.columns.createdAt);
          assert.deepEqual(Array.from(columns.label), expected.columns.label);
          assert.deepEqual(columns.features.header, EXPRESSO_FEATURE_NAMES);
          assert.deepEqual(plainFeatures(columns), expected.columns.features);
          const counts = await store.countFeedback();
          assert.deepEqual(
            [counts.joined, counts.pending],
            [expected.feedback.joined, expected.feedback.pending],
          );
          // The old rows and blocks are the same ones: 17 columns registered, no column added.
          const db = new Database(path, { readonly: true });
          try {
            assert.deepEqual(
              db.prepare('SELECT feature, column_name, kind FROM feature_columns ORDER BY position').all(),
              EXPRESSO_COLUMNS.map((c) => ({ feature: c.feature, column_name: c.column, kind: c.kind })),
            );
            assert.deepEqual(
              db.prepare('SELECT DISTINCT numeric_columns, categorical_columns FROM prediction_blocks').all(),
              [{ numeric_columns: 13, categorical_columns: 4 }],
            );
          } finally {
            db.close();
          }
          // Writing goes on: a pending item joins its late prediction, new blocks are sealed.
          const late = ['late-1', 'late-2', 'late-3'].map((id, k) => prediction(id, 1_700_000_500_000 + k));
          const more = Array.from({ length: 60 }, (_, k) => prediction(`more-${k}`, 1_700_000_600_000 + k));
          await store.insertRows(toPredictionRows([...late, ...more]));
          assert.equal((await store.joinPending()).outcomes.length, 3);
          const after = await readBothWays(store);
          assert.equal(after.length, 240 + 63);
          assert.deepEqual(after.slice(0, 240), expected.predictions);
        } finally {
          await store.close();
        }
      }));
  }

  it('opens a version-6 database with another schema: its own columns added, Expresso rows kept', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'v6.sqlite');
      copyFileSync(join(FIXTURE, 'predictions-v6.sqlite'), path);
      const features: FeatureSpec[] = [
        { name: 'tenure', kind: 'numeric' },
        { name: 'Contract', kind: 'categorical' },
      ];
      const store = createSqliteStore({ path, blockRows: 50, features });
      try {
        await store.migrate();
        const record = {
          ...prediction('telco-1', 1_800_000_000_000),
          features: { tenure: 12, Contract: 'One year' },
        };
        await store.insertRows(toPredictionRows([record], store.rowLayout));
        const rows = await readAll(store);
        assert.equal(rows.length, 241);
        const names = ['tenure', 'Contract', ...EXPRESSO_COLUMNS.map((c) => c.feature)];
        assert.deepEqual(Object.keys(rows[0]!.features).sort(), [...names].sort());
        assert.deepEqual(
          rows.slice(0, 240).map((r) => [r.features.tenure, r.features.Contract]),
          expected.predictions.map(() => [null, null]),
        );
        assert.equal(rows[240]!.features.tenure, 12);
        assert.equal(rows[240]!.features.MONTANT, null);
        const columns = await store.readColumns();
        assert.deepEqual(columns.features.header, [
          'tenure',
          'Contract',
          ...EXPRESSO_COLUMNS.map((c) => c.feature),
        ]);
        assert.deepEqual(
          plainFeatures(await store.readColumns({ features: EXPRESSO_FEATURE_NAMES, to: 1_799_000_000_000 })),
          expected.columns.features,
        );
      } finally {
        await store.close();
      }
    }));
});

describe('sqlite store with a very wide schema', () => {
  it('stores 1,500 features: narrow rows, features in their batch, blocks and tail read back', async () => {
    const features: FeatureSpec[] = Array.from({ length: 1500 }, (_, i) => ({
      name: `feature ${i}`,
      kind: i % 3 ? 'numeric' : 'categorical',
    }));
    const store = createSqliteStore({ path: ':memory:', features, blockRows: 30 });
    try {
      await store.migrate();
      const records = Array.from({ length: 70 }, (_, i) => ({
        ...prediction(`w${i}`, 1000 + i),
        features: Object.fromEntries(
          features.map((f, k) => [f.name, f.kind === 'numeric' ? i * 2 + k : `c${(i + k) % 3}`]),
        ),
      }));
      await store.insertRows(toPredictionRows(records, store.rowLayout));
      const columns = await store.readColumns();
      assert.equal(columns.rowCount, 70);
      assert.equal(columns.features.columns.size, 1500);
      const last = columns.features.columns.get('feature 1499');
      assert.ok(last?.kind === 'numeric');
      assert.deepEqual(
        Array.from(last.values),
        records.map((_, i) => i * 2 + 1499),
      );
      const first = columns.features.columns.get('feature 0');
      assert.ok(first?.kind === 'categorical');
      assert.deepEqual(
        Array.from(first.codes, (c) => first.dictionary[c]),
        records.map((_, i) => `c${i % 3}`),
      );
    } finally {
      await store.close();
    }
  });
});

describe('sqlite file written by two models at once', () => {
  it('seals every registered column, also when a store with fewer features seals the other rows', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'two.db');
      const small: FeatureSpec[] = [{ name: 'x', kind: 'numeric' }];
      const wide: FeatureSpec[] = [...small, { name: 'y', kind: 'categorical' }];
      const a = createSqliteStore({ path, blockRows: 10, features: small });
      const b = createSqliteStore({ path, blockRows: 10, features: wide });
      try {
        await a.migrate();
        await a.insertRows(
          toPredictionRows([{ ...prediction('a0', 1000), features: { x: 0 } }], a.rowLayout),
        );
        await b.migrate();
        const bRows = Array.from({ length: 6 }, (_, i) => ({
          ...prediction(`b${i}`, 2000 + i),
          features: { x: i, y: `y${i}` },
        }));
        await b.insertRows(toPredictionRows(bRows, b.rowLayout));
        // a seals the first 10 rows, b's among them.
        const aRows = Array.from({ length: 6 }, (_, i) => ({
          ...prediction(`a${i + 1}`, 3000 + i),
          features: { x: 10 + i },
        }));
        await a.insertRows(toPredictionRows(aRows, a.rowLayout));
        const db = new Database(path, { readonly: true });
        try {
          assert.deepEqual(
            db.prepare('SELECT numeric_columns, categorical_columns FROM prediction_blocks').all(),
            [{ numeric_columns: 1, categorical_columns: 1 }],
          );
        } finally {
          db.close();
        }
        for (const store of [a, b]) {
          const columns = await store.readColumns();
          const y = columns.features.columns.get('y');
          assert.ok(y?.kind === 'categorical');
          assert.deepEqual(
            Array.from(y.codes, (c) => (c < 0 ? null : y.dictionary[c])),
            [null, ...bRows.map((r) => r.features.y), ...aRows.map(() => null)],
          );
        }
      } finally {
        await a.close();
        await b.close();
      }
    }));
});

describe('sqlite retention', () => {
  /** Block ids, row counts and rows trimmed, in id order. */
  function blocks(path: string): [id: number, rows: number, trimmed: number][] {
    const db = new Database(path, { readonly: true });
    try {
      return db
        .prepare(
          `SELECT b.id, b.row_count, coalesce(t.trimmed_rows, 0) FROM prediction_blocks b
           LEFT JOIN prediction_block_trims t ON t.block_id = b.id ORDER BY b.id`,
        )
        .raw()
        .all() as [number, number, number][];
    } finally {
      db.close();
    }
  }

  it('never deletes the prediction written last nor the newest block, so no id is given twice', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'last.db');
      const store = createSqliteStore({ path, blockRows: 10 });
      await store.migrate();
      const T = 1_700_000_000_000;
      try {
        await store.insertRows(
          toPredictionRows(Array.from({ length: 20 }, (_, k) => prediction(`r${k}`, T + k))),
        );
        // Written last, made among the others: nothing is written for longer than the span.
        await store.insertRows(toPredictionRows([prediction('last', T + 5)]));
        assert.deepEqual(await store.dropPredictions(T + 1000), { predictions: 20, feedback: 0 });
        assert.deepEqual(
          (await readBothWays(store)).map((r) => r.id),
          ['last'],
        );
        // It was sealed into a block of its own; both full blocks are gone.
        assert.deepEqual(blocks(path), [[3, 1, 0]]);

        // Written since: rows get new rowids and blocks new ids, and 'last' may go now.
        const users = Array.from({ length: 12 }, (_, k) =>
          prediction(`n${k}`, T + 2000 + k, { userId: `nu${k % 3}` }),
        );
        await store.insertRows(toPredictionRows(users));
        assert.deepEqual(await store.dropPredictions(T + 1000), { predictions: 1, feedback: 0 });
        assert.deepEqual(blocks(path), [[4, 10, 0]]);
        assert.deepEqual(
          (await readBothWays(store)).map((r) => r.id),
          users.map((r) => r.id),
        );

        // The newest block loses every row: it stays, empty, until a newer block exists.
        assert.deepEqual(await store.dropPredictions(T + 2010), { predictions: 10, feedback: 0 });
        assert.deepEqual(blocks(path), [[4, 10, 10]]);
        assert.deepEqual(
          (await readBothWays(store)).map((r) => r.id),
          ['n10', 'n11'],
        );
        const more = Array.from({ length: 10 }, (_, k) =>
          prediction(`m${k}`, T + 3000 + k, { userId: 'nu1' }),
        );
        await store.insertRows(toPredictionRows(more));
        assert.deepEqual(await store.dropPredictions(T + 2010), { predictions: 0, feedback: 0 });
        assert.deepEqual(blocks(path), [[5, 10, 0]]);
        // Joins by user find the new blocks (the user index forgot the deleted ones).
        const [a, b] = await store.recordFeedback([
          { userId: 'nu1', label: 1, observedAt: T + 3005, receivedAt: 1 },
          { userId: 'nu2', label: 0, observedAt: T + 3005, receivedAt: 1 },
        ]);
        assert.equal(a?.prediction?.id, 'm5');
        assert.equal(b?.prediction?.id, 'n11');
        const rows = await readBothWays(store);
        assert.deepEqual(
          rows.filter((r) => r.label !== null).map((r) => [r.id, r.label]),
          [
            ['n11', 0],
            ['m5', 1],
          ],
        );
      } finally {
        await store.close();
      }
    }));

  it("seals another process's old unsealed rows before deleting them, and that process notices", () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'two.db');
      const writer = createSqliteStore({ path, blockRows: 10 });
      const keeper = createSqliteStore({ path, blockRows: 10 });
      try {
        await writer.migrate();
        await keeper.migrate();
        // Unsealed, in the writer's tail; the newest is written last.
        await writer.insertRows(
          toPredictionRows(Array.from({ length: 6 }, (_, k) => prediction(`old${k}`, 1000 + k))),
        );
        await writer.insertRows(toPredictionRows([prediction('new0', 9000)]));
        assert.deepEqual(await keeper.dropPredictions(5000), { predictions: 6, feedback: 0 });
        // The writer goes on: its tail is stale (the watermark moved), so it reads the rows back.
        const next = Array.from({ length: 12 }, (_, k) => prediction(`new${k + 1}`, 9001 + k));
        await writer.insertRows(toPredictionRows(next));
        for (const store of [writer, keeper]) {
          assert.deepEqual(
            (await readBothWays(store)).map((r) => r.id),
            ['new0', ...next.map((r) => r.id)],
          );
        }
      } finally {
        await writer.close();
        await keeper.close();
      }
    }));

  it('keeps the file flat: freed pages are reused (an older file) or given back (a new one)', () =>
    withTempDir(async (dir) => {
      const older = join(dir, 'older.db');
      // A file made before auto_vacuum was set: SQLite keeps it at NONE.
      const made = new Database(older);
      made.pragma('page_size = 8192');
      made.pragma('journal_mode = WAL');
      made.exec('CREATE TABLE made_before (x); DROP TABLE made_before;');
      made.close();
      const DAY = 86_400_000;
      const PER_DAY = 8000;
      for (const [name, path, mode] of [
        ['new', join(dir, 'new.db'), 2],
        ['older', older, 0],
      ] as const) {
        const store = openStore(`sqlite:${path}`);
        await store.migrate();
        const pages = () => {
          const db = new Database(path, { readonly: true });
          try {
            return {
              mode: db.pragma('auto_vacuum', { simple: true }) as number,
              pages: db.pragma('page_count', { simple: true }) as number,
              free: db.pragma('freelist_count', { simple: true }) as number,
            };
          } finally {
            db.close();
          }
        };
        try {
          assert.equal(pages().mode, mode, name);
          // Seven simulated days, a day at a time; retention keeps a day and a half.
          const peaks: number[] = [];
          for (let day = 0; day < 7; day++) {
            for (let i = 0; i < PER_DAY; i += 2000) {
              const batch = Array.from({ length: 2000 }, (_, k) =>
                prediction(`d${day}-${i + k}`, day * DAY + ((i + k) * DAY) / PER_DAY),
              );
              await store.insertRows(toPredictionRows(batch));
            }
            peaks.push(pages().pages);
            await store.dropPredictions((day + 1) * DAY - 1.5 * DAY);
          }
          // From day 2 on the store holds 2.5 days at its peak: so does the file.
          const steady = peaks[2]!;
          for (const peak of peaks.slice(3))
            assert.ok(peak <= steady * 1.1, `${name}: peaks ${peaks.join(', ')} pages, not flat`);
          // Day 0 is 8,000 unsealed rows (narrow, their features in feature batches); a steady day holds
          // 2.5 days, most of them sealed: rows and blocks (3.9x day 0 before feature batches, 4.1x after).
          assert.ok(peaks[6]! < peaks[0]! * 4.5, `${name}: peaks ${peaks.join(', ')}`);
          // Shortened to the last tenth of a day: a new file gives the pages back, an older one keeps them free.
          const before = pages();
          await store.dropPredictions(7 * DAY - 0.1 * DAY);
          const after = pages();
          if (mode === 2) {
            assert.ok(after.pages < before.pages * 0.5, `${name}: ${before.pages} → ${after.pages} pages`);
            assert.ok(after.free <= after.pages * 0.1 + 1, `${name}: ${after.free} of ${after.pages} free`);
          } else {
            assert.equal(after.pages, before.pages, name);
            assert.ok(after.free > before.pages * 0.5, `${name}: ${after.free} of ${after.pages} free`);
          }
          assert.equal((await readAll(store)).length, PER_DAY / 10);
        } finally {
          await store.close();
        }
      }
    }));
});

describe('sqlite feature batches (migration 10)', () => {
  /** A prediction whose features vary with `i`: some missing, categories of several values. */
  function varied(id: string, createdAt: number, i: number): PredictionRecord {
    const base = prediction(id, createdAt);
    return {
      ...base,
      score: (i % 10) / 10,
      features: {
        ...base.features,
        MONTANT: i % 3 === 0 ? null : i * 1.5,
        REVENUE: -i - 0.5,
        REGION: i % 2 ? 'THIES' : null,
        TOP_PACK: `pack ${i % 4}`,
      },
    };
  }

  /** A read row's features in readColumns' columns at row i. */
  function columnFeatures(columns: PredictionColumns, names: readonly string[], i: number) {
    return Object.fromEntries(
      names.map((name) => {
        const c = columns.features.columns.get(name);
        assert.ok(c, name);
        if (c.kind === 'numeric') return [name, Number.isNaN(c.values[i]!) ? null : c.values[i]];
        return [name, c.codes[i]! < 0 ? null : c.dictionary[c.codes[i]!]];
      }),
    );
  }

  /** readPredictions and readColumns both hold exactly `records`, each with its own features. */
  async function assertReadsBack(store: PredictionStore, records: readonly PredictionRecord[]) {
    const want = new Map(
      records.map((r) => [
        r.id,
        Object.fromEntries(EXPRESSO_FEATURE_NAMES.map((name) => [name, r.features[name] ?? null])),
      ]),
    );
    const rows = await readBothWays(store);
    assert.deepEqual(rows.map((r) => r.id).sort(), [...want.keys()].sort());
    for (const row of rows) {
      assert.deepEqual(row.features, want.get(row.id), row.id);
      const record = records.find((r) => r.id === row.id)!;
      assert.deepEqual(
        [row.createdAt, row.score, row.userId],
        [record.createdAt, record.score, record.userId],
      );
    }
    const columns = await store.readColumns();
    rows.forEach((row, i) => {
      assert.deepEqual(columnFeatures(columns, EXPRESSO_FEATURE_NAMES, i), row.features, row.id);
    });
  }

  /** Rows by where their features are: [in their own columns, in a feature batch]. */
  function whereFeatures(path: string): [number, number] {
    const db = new Database(path, { readonly: true });
    try {
      const own = db.prepare('SELECT count(*) FROM predictions WHERE feature_batch IS NULL').pluck().get();
      const batched = db
        .prepare('SELECT count(*) FROM predictions WHERE feature_batch IS NOT NULL AND montant IS NULL')
        .pluck()
        .get();
      return [own as number, batched as number];
    } finally {
      db.close();
    }
  }

  it('reads rows written before it and after it alike, unsealed, sealed, and sealed from the table after a restart', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'v9.db');
      const v9 = oldDatabase(path, 9);
      const old = Array.from({ length: 8 }, (_, i) => varied(`o${i}`, 1000 + ((i * 3) % 8) * 10, i));
      const insertOld = v9.db.prepare(
        `INSERT INTO predictions (${INSERT_COLUMNS.join(', ')}, user_key)
         VALUES (${INSERT_COLUMNS.map(() => '?').join(', ')}, churnwatch_user_key(?))`,
      );
      for (const record of old) {
        const row = insertParameters(record);
        insertOld.run(...row, row[2]);
      }
      v9.db.close();

      const first = createSqliteStore({ path, blockRows: 5 });
      await first.migrate();
      // migrate() sealed 5 old rows from the table; 3 stay unsealed.
      const before = Array.from({ length: 6 }, (_, i) => varied(`n${i}`, 2000 + (i % 3) * 7, 10 + i));
      await first.insertRows(toPredictionRows(before));
      assert.deepEqual(whereFeatures(path), [8, 6]);
      await assertReadsBack(first, [...old, ...before]);
      await first.close();

      // A fresh start has no tail: the 4 unsealed rows (narrow, their features in a batch) are read from
      // the table, by readColumns and, once the next insert completes a block, by sealing.
      const second = createSqliteStore({ path, blockRows: 5 });
      await second.migrate();
      await assertReadsBack(second, [...old, ...before]);
      const after = Array.from({ length: 3 }, (_, i) => varied(`m${i}`, 1500 + i, 20 + i));
      await second.insertRows(toPredictionRows(after));
      const check = new Database(path, { readonly: true });
      assert.equal(check.prepare('SELECT count(*) FROM prediction_blocks').pluck().get(), 3);
      check.close();
      await assertReadsBack(second, [...old, ...before, ...after]);
      await second.close();
    }));

  it('leaves the places of skipped duplicates unused and reads the rest from theirs', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'dup.db');
      const store = createSqliteStore({ path, blockRows: 4 });
      await store.migrate();
      const kept = [varied('a', 1000, 1), varied('b', 1001, 2)];
      await store.insertRows(toPredictionRows(kept));
      // a, b and a second x are skipped: the tail is dropped, and sealing reads the rows back.
      const batch = [
        varied('x', 1100, 3),
        varied('a', 1101, 4),
        varied('y', 1102, 5),
        varied('b', 1103, 6),
        varied('x', 1104, 7),
        varied('z', 1105, 8),
      ];
      await store.insertRows(toPredictionRows(batch));
      // Only duplicates: no batch is left behind.
      await store.insertRows(toPredictionRows([varied('a', 1200, 9), varied('z', 1201, 10)]));
      const db = new Database(path, { readonly: true });
      try {
        assert.deepEqual(
          db.prepare('SELECT id, feature_batch, feature_row FROM predictions ORDER BY rowid').raw().all(),
          [
            ['a', 1, 0],
            ['b', 1, 1],
            ['x', 2, 0],
            ['y', 2, 2],
            ['z', 2, 5],
          ],
        );
        assert.deepEqual(
          db.prepare('SELECT id, row_count, first_rowid FROM prediction_feature_batches').raw().all(),
          [
            [1, 2, 1],
            [2, 6, 3],
          ],
        );
        assert.equal(db.prepare('SELECT count(*) FROM prediction_blocks').pluck().get(), 1);
      } finally {
        db.close();
      }
      await assertReadsBack(store, [...kept, batch[0]!, batch[2]!, batch[5]!]);
      await store.close();
    }));

  it('deletes a feature batch with the last of its rows', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'retention.db');
      const store = createSqliteStore({ path, blockRows: 3 });
      await store.migrate();
      const batches = [[1000, 1001, 1002, 1003], [2000, 2001, 2600, 2601], [3000, 3001, 3002], [9000]].map(
        (times, b) => times.map((t, i) => varied(`b${b}-${i}`, t, b * 10 + i)),
      );
      for (const batch of batches) await store.insertRows(toPredictionRows(batch));
      const stored = () => {
        const db = new Database(path, { readonly: true });
        try {
          return [
            db.prepare('SELECT id FROM prediction_feature_batches ORDER BY id').pluck().all(),
            db.prepare('SELECT DISTINCT feature_batch FROM predictions ORDER BY 1').pluck().all(),
          ];
        } finally {
          db.close();
        }
      };
      assert.deepEqual(stored(), [
        [1, 2, 3, 4],
        [1, 2, 3, 4],
      ]);
      // Half of batch 2 goes: it stays, for the rows it still holds.
      assert.equal((await store.dropPredictions(2500)).predictions, 6);
      assert.deepEqual(stored(), [
        [2, 3, 4],
        [2, 3, 4],
      ]);
      await assertReadsBack(store, [...batches[1]!.slice(2), ...batches[2]!, ...batches[3]!]);
      assert.equal((await store.dropPredictions(3001.5)).predictions, 4);
      assert.deepEqual(stored(), [
        [3, 4],
        [3, 4],
      ]);
      await assertReadsBack(store, [batches[2]![2]!, ...batches[3]!]);
      await store.close();
    }));

  it('reads features registered after a batch was written as missing, unsealed and sealed', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'grown.db');
      const small: FeatureSpec[] = [
        { name: 'x', kind: 'numeric' },
        { name: 'c', kind: 'categorical' },
      ];
      const wide: FeatureSpec[] = [
        ...small,
        { name: 'y', kind: 'numeric' },
        { name: 'd', kind: 'categorical' },
      ];
      const names = ['x', 'c', 'y', 'd'];
      const a = createSqliteStore({ path, blockRows: 100, features: small });
      await a.migrate();
      const aRows = [0, 1, 2].map((i) => ({
        ...prediction(`a${i}`, 1000 + i),
        features: { x: i, c: i ? `c${i}` : null },
      }));
      await a.insertRows(toPredictionRows(aRows, a.rowLayout));
      const b = createSqliteStore({ path, blockRows: 100, features: wide });
      await b.migrate();
      const bRows = [0, 1].map((i) => ({
        ...prediction(`b${i}`, 2000 + i),
        features: { x: 10 + i, c: 'cb', y: i ? 0.5 : null, d: `d${i}` },
      }));
      await b.insertRows(toPredictionRows(bRows, b.rowLayout));
      const want = [
        ...aRows.map((r) => ({ ...r.features, y: null, d: null })),
        ...bRows.map((r) => r.features),
      ];
      const check = async (store: PredictionStore, what: string) => {
        const rows = await readAll(store);
        assert.deepEqual(
          rows.map((r) => r.features),
          want,
          what,
        );
        const columns = await store.readColumns();
        assert.deepEqual(
          rows.map((_, i) => columnFeatures(columns, names, i)),
          want,
          what,
        );
      };
      // a reads with the registry as it now is: b's features too.
      await check(a, 'unsealed, read by the store with fewer features');
      await check(b, 'unsealed, read by the store with more');
      await a.close();
      await b.close();
      // Sealed from the table by a store with the small schema: the registry's columns, all of them.
      const sealer = createSqliteStore({ path, blockRows: 2, features: small });
      await sealer.migrate();
      await check(sealer, 'sealed');
      await sealer.close();
    }));
});
