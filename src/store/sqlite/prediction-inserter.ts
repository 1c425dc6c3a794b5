/**
 * The write path for predictions: one immediate transaction per batch of PredictionRows, the batch's
 * features as one feature batch (feature-batches.ts), then narrow multi-row INSERT OR IGNORE
 * statements (ids already stored are skipped), the rows kept packed in the sealer's unsealed tail, and
 * the blocks the batch completed sealed before it commits.
 */
import type Database from 'better-sqlite3';
import type { PredictionRows } from '../prediction-store.js';
import { FIXED_INSERT_COLUMNS } from '../row-layout.js';
import { type InsertValue, insertValue, userKey } from '../store-columns.js';
import type { StoreLayout } from '../store-layout.js';
import type { BlockSealer } from './block-sealer.js';
import { encodeFeatureColumns } from './column-block.js';
import { FEATURE_BATCH_COLUMNS, featureColumns } from './feature-batches.js';
import { sealRow } from './seal-row.js';
import type { StatementCache } from './statement-cache.js';
import type { TailPart } from './unsealed-tail.js';

/**
 * Rows per INSERT statement: 32 rows per statement instead of one cut the writer's CPU time per row by
 * about 9% (fewer crossings from JS into SQLite; docs/performance.md). Rows are narrow whatever the
 * schema (their features are in the feature batch), far below SQLite's 32,766 parameters a statement.
 */
const ROWS_PER_INSERT = 32;

/** Where the user id is among a row's insert values (row-layout.ts FIXED_INSERT_COLUMNS). */
const USER_ID_PARAMETER = 2;
/** The columns of a row as inserted: the fixed values, the user key (migration 3), its feature batch. */
const INSERT_COLUMNS = [...FIXED_INSERT_COLUMNS, 'user_key', ...FEATURE_BATCH_COLUMNS];
const FIXED_VALUES = FIXED_INSERT_COLUMNS.length;
/** Parameters per row, and where the user key is among them. */
const ROW_WIDTH = INSERT_COLUMNS.length;
const USER_KEY_PARAMETER = FIXED_VALUES;

/**
 * Copies row `r`'s parameters into `params` from `at`, as the INSERT statements take them: the fixed
 * values, the user key, then its feature batch and its position there.
 */
function rowParameters(
  layout: StoreLayout,
  rows: PredictionRows,
  r: number,
  batch: number,
  params: InsertValue[],
  at: number,
): void {
  const rowLayout = layout.rows;
  for (let c = 0; c < FIXED_VALUES; c++) params[at + c] = insertValue(rowLayout, rows, r, c);
  const userId = params[at + USER_ID_PARAMETER];
  params[at + USER_KEY_PARAMETER] = typeof userId === 'string' ? userKey(userId) : null;
  params[at + FIXED_VALUES + 1] = batch;
  params[at + FIXED_VALUES + 2] = r;
}

/**
 * Returns insertRows: stores a batch in one transaction; a batch of none does nothing. `afterInsert` runs
 * in the same transaction (the feedback writer marks the pending items the batch could match).
 */
export function createPredictionInserter(
  db: Database.Database,
  cache: StatementCache,
  sealer: BlockSealer,
  blockRows: number,
  layout: () => StoreLayout,
  afterInsert: (rows: PredictionRows, layout: StoreLayout) => void,
): (rows: PredictionRows) => void {
  const statements = cache.define((db) => {
    const row = `(${INSERT_COLUMNS.map(() => '?').join(', ')})`;
    const insert = (rows: number) =>
      db.prepare(
        `INSERT OR IGNORE INTO predictions (${INSERT_COLUMNS.join(', ')}) VALUES ${Array(rows).fill(row).join(', ')}`,
      );
    const many = ROWS_PER_INSERT;
    return {
      insertOne: insert(1),
      insertMany: insert(many),
      many,
      maxRowid: db.prepare<[], number>('SELECT coalesce(max(rowid), 0) FROM predictions').pluck(),
      insertBatch: db.prepare(
        `INSERT INTO prediction_feature_batches
         (first_rowid, row_count, numeric_columns, categorical_columns, dictionaries, data)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      dropBatch: db.prepare<[number]>('DELETE FROM prediction_feature_batches WHERE id = ?'),
    };
  });

  const insertBatch = db.transaction((rows: PredictionRows) => {
    const s = statements();
    const current = layout();
    const rowWidth = ROW_WIDTH;
    const userKeyParameter = USER_KEY_PARAMETER;
    // The features first, once for the batch: each row then names its place in it. Rows skipped as
    // duplicates leave their place unused. The batch's rows get the rowids after the largest (this
    // transaction holds the write lock), so first_rowid is where they start.
    const features = featureColumns(current, rows);
    const batch = Number(
      s.insertBatch.run(
        s.maxRowid.get()! + 1,
        rows.count,
        current.numeric.length,
        current.categorical.length,
        JSON.stringify(features.dictionaries),
        encodeFeatureColumns(features),
      ).lastInsertRowid,
    );
    let stored = 0;
    let tail = sealer.tail();
    // s.many rows per statement while they last, then one at a time.
    const perInsert = s.many;
    const many: InsertValue[] = new Array(rowWidth * perInsert);
    const one: InsertValue[] = new Array(rowWidth);
    // This batch's rows join the tail as one packed part, with the user keys computed for the INSERT.
    // The part holds its own copy of the numbers: a caller may release its buffers once the insert is
    // done (batched-writer.ts does), and one memcpy per batch is nothing next to the inserts.
    const keys = new Float64Array(rows.count);
    const firstRowid = tail ? tail.nextRowid : 0;
    const kept: PredictionRows = { count: rows.count, numbers: rows.numbers.slice(), texts: rows.texts };
    const part: TailPart = {
      count: 0,
      row: (k) => sealRow(current, kept, k, firstRowid + k, Number.isNaN(keys[k]!) ? null : keys[k]!),
      packed: { layout: current, rows: kept, keys, firstRowid },
    };
    tail?.append(part);
    const inserted = (from: number, count: number, params: InsertValue[], info: Database.RunResult) => {
      stored += info.changes;
      if (!tail) return;
      // Every row inserted, at the next rowids: they join the tail. Otherwise it is no longer known.
      if (info.changes !== count || Number(info.lastInsertRowid) !== tail.nextRowid + count - 1) {
        tail = undefined;
        sealer.forgetTail();
        return;
      }
      for (let k = 0; k < count; k++) {
        const key = params[k * rowWidth + userKeyParameter];
        keys[from + k] = typeof key === 'number' ? key : Number.NaN;
      }
      tail.grow(part, count);
    };
    let r = 0;
    for (; r + perInsert <= rows.count; r += perInsert) {
      for (let k = 0; k < perInsert; k++) rowParameters(current, rows, r + k, batch, many, k * rowWidth);
      inserted(r, perInsert, many, s.insertMany.run(many));
    }
    for (; r < rows.count; r++) {
      rowParameters(current, rows, r, batch, one, 0);
      inserted(r, 1, one, s.insertOne.run(one));
    }
    // Every id was stored already: no row refers to the batch, which retention would never find.
    if (stored === 0) s.dropBatch.run(batch);
    afterInsert(rows, current);
    // Seal what this batch completed (normally at most one block), so the unsealed tail that
    // readColumns reads row by row stays under blockRows.
    for (let i = 0; i <= Math.ceil(rows.count / blockRows); i++) if (!sealer.sealBlock()) break;
  });

  return (rows) => {
    if (rows.count === 0) return;
    try {
      insertBatch.immediate(rows);
    } catch (error) {
      // Rolled back: the rows the tail gained are not stored.
      sealer.forgetTail();
      throw error;
    }
  };
}
