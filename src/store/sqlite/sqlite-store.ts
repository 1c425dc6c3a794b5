/**
 * The embedded backend: one SQLite file via better-sqlite3 (sqlite-connection.ts). Predictions are
 * written row by row and, every `blockRows` of them, sealed into a column block that readColumns
 * copies whole (docs/store-format.md). better-sqlite3 is synchronous; long reads are paged and yield
 * to the event loop between pages. This module only puts the parts together:
 *
 * - prediction-inserter.ts: insertRows, keeping what it inserted as the sealer's unsealed tail;
 * - block-sealer.ts: sealing blocks and moving the seal watermark;
 * - feedback-writer.ts and block-label-patcher.ts: joins, and labels copied into sealed blocks;
 * - keyset-pages.ts (readPredictions) and column-reader.ts (readColumns);
 * - retention.ts: dropPredictions, a block's oldest rows at a time, and free pages given back;
 * - apply-migrations.ts, statement-cache.ts (statements prepared once the schema exists).
 */
import { statSync } from 'node:fs';
import type { FeatureSpec } from '../../data/feature-types.js';
import { rowToLoggedPrediction } from '../logged-prediction.js';
import { pickFeatures } from '../pick-features.js';
import type {
  DroppedPredictions,
  PredictionColumns,
  PredictionQuery,
  PredictionStore,
  StoreStats,
} from '../prediction-store.js';
import { checkCutoff, checkQuery, yieldToEventLoop } from '../query-range.js';
import { EXPRESSO_FEATURES, rowLayout } from '../row-layout.js';
import { checkWritable, type StoreLayout, storeLayout } from '../store-layout.js';
import { applyMigrations, readRegistry } from './apply-migrations.js';
import { assembleColumns } from './assemble-columns.js';
import { createBlockLabelPatcher } from './block-label-patcher.js';
import { createBlockSealer } from './block-sealer.js';
import { createColumnReader } from './column-reader.js';
import { createFeedbackWriter } from './feedback-writer.js';
import { keysetPages } from './keyset-pages.js';
import { createPredictionInserter } from './prediction-inserter.js';
import { createSqliteRetention, type RetentionStep } from './retention.js';
import { IN_MEMORY, openWriteConnection } from './sqlite-connection.js';
import { createStatementCache } from './statement-cache.js';
import { createUserIndex } from './user-index.js';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for a private in-memory database. */
  readonly path: string;
  /** How long a write waits for another process's lock before failing, ms (default 5,000). */
  readonly busyTimeoutMs?: number;
  /** Predictions per column block (default 10,000); small values exist for tests. */
  readonly blockRows?: number;
  /** The model's features (its schema's); default Expresso's. migrate() gives each a column. */
  readonly features?: readonly FeatureSpec[];
}

/** The SQLite store, with retention's steps for a writer thread to run one request at a time. */
export interface SqliteStore extends PredictionStore {
  /** One transaction of dropPredictions (retention.ts). */
  retentionStep(createdBefore: number): RetentionStep;
  /** Gives some free pages back to the file system (retention.ts); returns whether there were any. */
  vacuumStep(): boolean;
}

/** Bytes of a file, 0 when it does not exist (a WAL before the first write). */
function fileBytes(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}

/**
 * Runs retention's steps until done or `signal` aborts, yielding between them, then gives free pages
 * back; threaded-sqlite-store.ts runs each step as a request of its own.
 */
export async function dropInSteps(
  step: () => RetentionStep | Promise<RetentionStep>,
  vacuumStep: () => boolean | Promise<boolean>,
  signal?: AbortSignal,
): Promise<DroppedPredictions> {
  let predictions = 0;
  let feedback = 0;
  for (;;) {
    if (signal?.aborted) return { predictions, feedback };
    const done = await step();
    predictions += done.predictions;
    feedback += done.feedback;
    if (!done.more) break;
    await yieldToEventLoop();
  }
  while (!signal?.aborted && (await vacuumStep())) await yieldToEventLoop();
  return { predictions, feedback };
}

export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const { path } = options;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const blockRows = options.blockRows ?? 10_000;
  if (!Number.isInteger(blockRows) || blockRows < 1)
    throw new RangeError('blockRows must be a positive integer');
  const features = options.features ?? EXPRESSO_FEATURES;
  const rows = rowLayout(features);
  const db = openWriteConnection(path, busyTimeoutMs);
  const statements = createStatementCache(db, path);
  // The registry as migrate() left it (or as found, for a store used without migrate()): what writes
  // and sealing use. Reads take the registry of their own snapshot.
  let writeLayout: StoreLayout | undefined;
  const layout = (): StoreLayout => {
    writeLayout ??= storeLayout(registry(), rows);
    return writeLayout;
  };
  const registry = () => {
    try {
      return readRegistry(db, path);
    } catch (error) {
      if (/no such table/.test((error as Error).message))
        throw new TypeError(`SQLite store ${path} has no schema yet: call migrate() first`);
      throw error;
    }
  };
  // One user index for sealing and joins: it caches the blocks' Bloom filters.
  const users = statements.define(createUserIndex);
  const sealer = createBlockSealer(db, statements, users, blockRows, layout, () => {
    writeLayout = storeLayout(registry(), rows);
  });
  const feedback = createFeedbackWriter(db, statements, users, createBlockLabelPatcher(statements));
  const insert = createPredictionInserter(db, statements, sealer, blockRows, layout, (batch, current) =>
    feedback.wakePending(batch, current.rows),
  );
  const columns = createColumnReader(db, path, busyTimeoutMs, rows);
  // The ids as one JSON array: one statement whatever the batch size.
  const storedIds = statements.define((d) =>
    d
      .prepare<[string], string>('SELECT id FROM predictions WHERE id IN (SELECT value FROM json_each(?))')
      .pluck(),
  );
  const retention = createSqliteRetention(db, statements, sealer);
  const oldestPrediction = statements.define((db) =>
    db.prepare<[], number | null>('SELECT min(created_at) FROM predictions').pluck(),
  );
  const retentionStep = (createdBefore: number) => {
    checkCutoff(createdBefore);
    return retention.step(createdBefore);
  };
  const vacuumStep = () => retention.vacuumStep();

  return {
    kind: 'sqlite',
    rowLayout: rows,

    async migrate() {
      writeLayout = storeLayout(applyMigrations(db, features, path), rows);
      statements.reset();
      sealer.forgetTail();
      // Existing rows (an upgraded database, or rows inserted by an older version) become blocks,
      // one transaction per block so writers from other processes are never held up for long.
      await sealer.sealBacklog();
    },

    async insertRows(batch) {
      if (batch.count === 0) return;
      checkWritable(layout(), path);
      insert(batch);
    },

    async storedIds(ids) {
      if (ids.length === 0) return new Set();
      return new Set(storedIds().all(JSON.stringify(ids)));
    },

    async recordFeedback(items) {
      return feedback.record(items);
    },

    joinPending: () => feedback.joinPending(),

    dropPending: (limits) => feedback.dropPending(limits),

    retentionStep,
    vacuumStep,
    dropPredictions: (createdBefore, signal) =>
      dropInSteps(() => retentionStep(createdBefore), vacuumStep, signal),

    async storeStats(): Promise<StoreStats> {
      const sizeBytes =
        path === IN_MEMORY
          ? (db.pragma('page_count', { simple: true }) as number) *
            (db.pragma('page_size', { simple: true }) as number)
          : fileBytes(path) + fileBytes(`${path}-wal`);
      return { sizeBytes, oldestPredictionAt: oldestPrediction().get() ?? null };
    },

    async *readPredictions(query: PredictionQuery = {}) {
      checkQuery(query);
      statements.prepareAll();
      // The registry as it is now: features another process added since are read too.
      const current = storeLayout(registry(), rows);
      for await (const page of keysetPages(db, query, current))
        yield page.map((row) => rowToLoggedPrediction(current, row));
    },

    async readColumns(query: PredictionQuery = {}): Promise<PredictionColumns> {
      checkQuery(query);
      statements.prepareAll();
      const read =
        query.limit === 0 ? assembleColumns([], storeLayout(registry(), rows)) : await columns.read(query);
      return pickFeatures(read, query.features, path);
    },

    async countPendingFeedback() {
      return feedback.countPending();
    },

    async pendingStats() {
      return feedback.pendingStats();
    },

    async countFeedback() {
      return feedback.counts();
    },

    async ping() {
      // Taking the write lock proves the file is writable and not held by another process.
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
    },

    async close() {
      await columns.close();
      if (db.open) db.close();
    },
  };
}
