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
 * - apply-migrations.ts, statement-cache.ts (statements prepared once the schema exists).
 */
import { rowToLoggedPrediction } from '../logged-prediction.js';
import type { PredictionColumns, PredictionQuery, PredictionStore } from '../prediction-store.js';
import { checkQuery } from '../query-range.js';
import { applyMigrations } from './apply-migrations.js';
import { assembleColumns } from './assemble-columns.js';
import { createBlockLabelPatcher } from './block-label-patcher.js';
import { createBlockSealer } from './block-sealer.js';
import { createColumnReader } from './column-reader.js';
import { createFeedbackWriter } from './feedback-writer.js';
import { keysetPages } from './keyset-pages.js';
import { createPredictionInserter } from './prediction-inserter.js';
import { openWriteConnection } from './sqlite-connection.js';
import { createStatementCache } from './statement-cache.js';
import { createUserIndex } from './user-index.js';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for a private in-memory database. */
  readonly path: string;
  /** How long a write waits for another process's lock before failing, ms (default 5,000). */
  readonly busyTimeoutMs?: number;
  /** Predictions per column block (default 10,000); small values exist for tests. */
  readonly blockRows?: number;
}

export function createSqliteStore(options: SqliteStoreOptions): PredictionStore {
  const { path } = options;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const blockRows = options.blockRows ?? 10_000;
  if (!Number.isInteger(blockRows) || blockRows < 1)
    throw new RangeError('blockRows must be a positive integer');
  const db = openWriteConnection(path, busyTimeoutMs);
  const statements = createStatementCache(db, path);
  // One user index for sealing and joins: it caches the blocks' Bloom filters.
  const users = statements.define(createUserIndex);
  const sealer = createBlockSealer(db, statements, users, blockRows);
  const insertRows = createPredictionInserter(db, statements, sealer, blockRows);
  const feedback = createFeedbackWriter(db, statements, users, createBlockLabelPatcher(statements));
  const columns = createColumnReader(db, path, busyTimeoutMs);

  return {
    kind: 'sqlite',

    async migrate() {
      applyMigrations(db);
      statements.reset();
      sealer.forgetTail();
      // Existing rows (an upgraded database, or rows inserted by an older version) become blocks,
      // one transaction per block so writers from other processes are never held up for long.
      await sealer.sealBacklog();
    },

    async insertRows(rows) {
      insertRows(rows);
    },

    async recordFeedback(items) {
      return feedback.record(items);
    },

    joinPending: () => feedback.joinPending(),

    async *readPredictions(query: PredictionQuery = {}) {
      checkQuery(query);
      statements.prepareAll();
      for await (const rows of keysetPages(db, query)) yield rows.map(rowToLoggedPrediction);
    },

    async readColumns(query: PredictionQuery = {}): Promise<PredictionColumns> {
      checkQuery(query);
      statements.prepareAll();
      if (query.limit === 0) return assembleColumns([]);
      return columns.read(query);
    },

    async countPendingFeedback() {
      return feedback.countPending();
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
