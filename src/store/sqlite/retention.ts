/**
 * Retention on SQLite (docs/feedback.md, "Retention"): the predictions made before a cutoff go, with
 * the feedback resolved to them and the feature batches (feature-batches.ts) no row left refers to, one
 * small immediate transaction per step so the writer's other work (inserts, joins) runs between steps.
 *
 * Every deletion goes through a column block, so readPredictions (rows) and readColumns (blocks) always
 * agree. A block holds its rows in (created_at, id) order, so its old rows are a prefix: a step deletes
 * up to RETENTION_PAGE of them and records in prediction_block_trims how many rows at the block's
 * start readers skip and the key of the first one kept; the block's own row is never rewritten (its
 * data BLOB would be written again). A block with no row left is deleted. Old rows not sealed yet (an
 * idle store, or predictions logged with old timestamps) are first sealed into a block of their own:
 * deleting them in place would leave another process's unsealed tail (unsealed-tail.ts) stale, while a
 * seal moves the watermark, which it notices.
 *
 * Two things are never deleted, so that an id is never given twice: the prediction written last (its
 * rowid would be reused, and rowids mark what is sealed) and the newest block (its id would be reused,
 * and the user index caches blocks by id). An old prediction written last stays until another is
 * written; a newest block with no row left stays as an empty block until a newer one exists.
 */
import type Database from 'better-sqlite3';
import type { DroppedPredictions } from '../prediction-store.js';
import { RETENTION_PAGE } from '../query-range.js';
import type { BlockSealer } from './block-sealer.js';
import { UNSEALED } from './seal-row.js';
import type { StatementCache } from './statement-cache.js';

/** What one step did; `more` is false once nothing older than the cutoff can be deleted. */
export interface RetentionStep extends DroppedPredictions {
  readonly more: boolean;
}

export interface SqliteRetention {
  /** One step of dropPredictions, in its own immediate transaction. */
  step(createdBefore: number): RetentionStep;
  /**
   * Returns up to VACUUM_PAGES free pages to the file system when the database was made with
   * auto_vacuum=INCREMENTAL and more than FREE_SHARE of it is free; returns whether it did.
   */
  vacuumStep(): boolean;
}

/**
 * Free pages kept for reuse, as a share of the file. Retention frees pages that the next inserts take
 * again, so in a steady state the file neither grows nor shrinks; giving pages back to the file system
 * only to grow the file again would cost writes. Beyond this share (retention switched on or shortened
 * on a large store) the rest is given back.
 */
const FREE_SHARE = 0.1;
/** Pages given back per step: 2,000 pages of 8 KiB, 16 MiB, a few milliseconds of the writer. */
const VACUUM_PAGES = 2_000;
/** auto_vacuum=INCREMENTAL as PRAGMA auto_vacuum reads it. */
const AUTO_VACUUM_INCREMENTAL = 2;

interface Candidate {
  id: number;
  row_count: number;
  trimmed_rows: number;
}

/** A block's created_at column (the first of its data BLOB, native order) as numbers. */
function createdAtColumn(bytes: Uint8Array, rows: number): Float64Array {
  const copy = new Uint8Array(rows * 8);
  copy.set(bytes.subarray(0, rows * 8));
  return new Float64Array(copy.buffer);
}

export function createSqliteRetention(
  db: Database.Database,
  cache: StatementCache,
  sealer: BlockSealer,
): SqliteRetention {
  const statements = cache.define((db) => ({
    oldest: db.prepare<[], number | null>('SELECT min(created_at) FROM predictions').pluck(),
    sealedThrough: db.prepare<[], number>('SELECT sealed_through FROM prediction_seal_state').pluck(),
    oldUnsealed: db
      .prepare<[number, number], number>(
        `SELECT EXISTS (SELECT 1 FROM predictions NOT INDEXED WHERE ${UNSEALED} AND created_at < ?)`,
      )
      .pluck(),
    // The block whose oldest row kept is oldest, by the range index: a trimmed block's first row kept
    // is later than its first_created_at, so it may be passed over for one after it.
    oldestBlock: db.prepare<[number, number, number], Candidate>(
      `SELECT b.id, b.row_count, coalesce(t.trimmed_rows, 0) AS trimmed_rows
       FROM prediction_blocks b LEFT JOIN prediction_block_trims t ON t.block_id = b.id
       WHERE b.first_created_at < ? AND coalesce(t.first_created_at, b.first_created_at) < ?
         AND coalesce(t.trimmed_rows, 0) < b.row_count
       ORDER BY b.first_created_at LIMIT 1 OFFSET ?`,
    ),
    blockKeys: db
      .prepare<[number], [createdAt: Buffer, ids: string]>(
        'SELECT substr(data, 1, row_count * 8), ids FROM prediction_blocks WHERE id = ?',
      )
      .raw(),
    newestBlock: db.prepare<[], number | null>('SELECT max(id) FROM prediction_blocks').pluck(),
    emptied: db
      .prepare<[number], number>(
        `SELECT t.block_id FROM prediction_block_trims t JOIN prediction_blocks b ON b.id = t.block_id
         WHERE t.trimmed_rows >= b.row_count AND t.block_id < ?`,
      )
      .pluck(),
    lastWritten: db.prepare<[], string>('SELECT id FROM predictions ORDER BY rowid DESC LIMIT 1').pluck(),
    // By feedback_joined_prediction (migration 9); pending items have no joined_prediction_id.
    dropFeedback: db.prepare<[string]>(
      'DELETE FROM feedback WHERE joined_prediction_id IN (SELECT value FROM json_each(?))',
    ),
    unlistRows: db.prepare<[string]>(
      `DELETE FROM prediction_block_rows WHERE prediction_rowid IN
         (SELECT rowid FROM predictions WHERE id IN (SELECT value FROM json_each(?)))`,
    ),
    dropPredictions: db.prepare<[string]>(
      'DELETE FROM predictions WHERE id IN (SELECT value FROM json_each(?))',
    ),
    featureBatches: db
      .prepare<[string], number>(
        `SELECT DISTINCT feature_batch FROM predictions
         WHERE id IN (SELECT value FROM json_each(?)) AND feature_batch IS NOT NULL`,
      )
      .pluck(),
    // A batch's rows got the rowids from first_rowid on, with no other row among them, and rowids are
    // never given twice: the first row left from first_rowid on is the batch's while it has any.
    dropFeatureBatch: db.prepare<[number]>(
      `DELETE FROM prediction_feature_batches AS b WHERE b.id = ? AND coalesce((SELECT p.feature_batch
         FROM predictions p WHERE p.rowid >= b.first_rowid ORDER BY p.rowid LIMIT 1), -1) <> b.id`,
    ),
    trim: db.prepare<[number, number, number, string]>(
      `INSERT INTO prediction_block_trims (block_id, trimmed_rows, first_created_at, first_id)
       VALUES (?, ?, ?, ?) ON CONFLICT (block_id) DO UPDATE SET trimmed_rows = excluded.trimmed_rows,
         first_created_at = excluded.first_created_at, first_id = excluded.first_id`,
    ),
    dropBlock: [
      'DELETE FROM prediction_user_rows WHERE block_id = ?',
      'DELETE FROM prediction_block_users WHERE block_id = ?',
      'DELETE FROM prediction_block_labels WHERE block_id = ?',
      'DELETE FROM prediction_block_trims WHERE block_id = ?',
      'DELETE FROM prediction_blocks WHERE id = ?',
    ].map((sql) => db.prepare<[number]>(sql)),
  }));

  const done: RetentionStep = { predictions: 0, feedback: 0, more: false };

  function dropBlock(id: number): void {
    for (const statement of statements().dropBlock) statement.run(id);
  }

  /**
   * Deletes up to RETENTION_PAGE of `block`'s rows made before the cutoff, from its first one kept;
   * undefined when the prediction written last comes first among them.
   */
  function trimBlock(block: Candidate, createdBefore: number): RetentionStep | undefined {
    const s = statements();
    const [bytes, idsJson] = s.blockKeys.get(block.id)!;
    const createdAt = createdAtColumn(bytes, block.row_count);
    const ids = JSON.parse(idsJson) as string[];
    const start = block.trimmed_rows;
    const limit = Math.min(block.row_count, start + RETENTION_PAGE);
    let end = start;
    while (end < limit && createdAt[end]! < createdBefore) end++;
    const last = ids.indexOf(s.lastWritten.get()!, start);
    if (last >= 0 && last < end) end = last;
    if (end === start) return undefined;
    const doomed = JSON.stringify(ids.slice(start, end));
    const feedback = s.dropFeedback.run(doomed).changes;
    s.unlistRows.run(doomed);
    const batches = s.featureBatches.all(doomed);
    const predictions = s.dropPredictions.run(doomed).changes;
    for (const batch of batches) s.dropFeatureBatch.run(batch);
    if (end < block.row_count) s.trim.run(block.id, end, createdAt[end]!, ids[end]!);
    else if (block.id < s.newestBlock.get()!) dropBlock(block.id);
    else s.trim.run(block.id, end, createdAt[end - 1]!, ids[end - 1]!);
    return { predictions, feedback, more: true };
  }

  const step = db.transaction((createdBefore: number): RetentionStep => {
    const s = statements();
    // Emptied blocks that are no longer the newest go first (they hold no rows, only pages).
    const newest = s.newestBlock.get() ?? null;
    if (newest !== null) for (const id of s.emptied.all(newest)) dropBlock(id);
    const oldest = s.oldest.get() ?? null;
    if (oldest === null || oldest >= createdBefore) return done;
    if (s.oldUnsealed.get(s.sealedThrough.get()!, createdBefore)) {
      return { predictions: 0, feedback: 0, more: sealer.sealBlock(true) };
    }
    // The prediction written last stops its block: the next one goes on (it is in one block only).
    for (let skip = 0; skip < 2; skip++) {
      const block = s.oldestBlock.get(createdBefore, createdBefore, skip);
      if (!block) return done;
      const trimmed = trimBlock(block, createdBefore);
      if (trimmed) return trimmed;
    }
    return done;
  });

  const pragma = (name: string) => db.pragma(name, { simple: true }) as number;

  return {
    step: (createdBefore) => step.immediate(createdBefore),
    vacuumStep() {
      if (pragma('auto_vacuum') !== AUTO_VACUUM_INCREMENTAL) return false;
      const excess = pragma('freelist_count') - Math.floor(pragma('page_count') * FREE_SHARE);
      if (excess <= 0) return false;
      db.pragma(`incremental_vacuum(${Math.min(excess, VACUUM_PAGES)})`);
      return true;
    },
  };
}
