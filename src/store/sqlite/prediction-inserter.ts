/**
 * The write path for predictions: one immediate transaction per batch of PredictionRows, multi-row
 * INSERT OR IGNORE statements (ids already stored are skipped), the rows kept packed in the sealer's
 * unsealed tail, and the blocks the batch completed sealed before it commits.
 */
import type Database from 'better-sqlite3';
import type { PredictionRows } from '../prediction-store.js';
import { type InsertValue, insertValue, userKey } from '../store-columns.js';
import type { StoreLayout } from '../store-layout.js';
import type { BlockSealer } from './block-sealer.js';
import { sealRow } from './seal-row.js';
import type { StatementCache } from './statement-cache.js';
import type { TailPart } from './unsealed-tail.js';

/**
 * Rows per INSERT statement: 32 rows per statement instead of one cut the writer's CPU time per row by
 * about 9% (fewer crossings from JS into SQLite; docs/performance.md). Fewer for a wide schema: a
 * statement takes at most SQLITE_MAX_VARIABLE_NUMBER (32,766) parameters.
 */
const ROWS_PER_INSERT = 32;
const MAX_PARAMETERS = 32_766;

/** Rows per multi-row INSERT for rows of `width` parameters. */
function rowsPerInsert(width: number): number {
  return Math.max(1, Math.min(ROWS_PER_INSERT, Math.floor(MAX_PARAMETERS / width)));
}

/** Where the user id is among a row's insert values (store-columns.ts FIXED_INSERT_COLUMNS). */
const USER_ID_PARAMETER = 2;

/**
 * Copies row `r`'s parameters and user key into `params` from `at`, as the INSERT statements take them:
 * the layout's insert values, then the user key (migration 3).
 */
function rowParameters(
  layout: StoreLayout,
  rows: PredictionRows,
  r: number,
  params: InsertValue[],
  at: number,
): void {
  const values = layout.insertColumns.length;
  const rowLayout = layout.rows;
  for (let c = 0; c < values; c++) params[at + c] = insertValue(rowLayout, rows, r, c);
  const userId = params[at + USER_ID_PARAMETER];
  params[at + values] = typeof userId === 'string' ? userKey(userId) : null;
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
    const columns = layout().insertColumns;
    const row = `(${columns.map(() => '?').join(', ')}, ?)`;
    const insert = (rows: number) =>
      db.prepare(
        `INSERT OR IGNORE INTO predictions (${columns.join(', ')}, user_key) VALUES ${Array(rows).fill(row).join(', ')}`,
      );
    const many = rowsPerInsert(columns.length + 1);
    return { insertOne: insert(1), insertMany: insert(many), many };
  });

  const insertBatch = db.transaction((rows: PredictionRows) => {
    const s = statements();
    const current = layout();
    // Parameters per row: the insert values, then the user key.
    const rowWidth = current.insertColumns.length + 1;
    const userKeyParameter = current.insertColumns.length;
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
      for (let k = 0; k < perInsert; k++) rowParameters(current, rows, r + k, many, k * rowWidth);
      inserted(r, perInsert, many, s.insertMany.run(many));
    }
    for (; r < rows.count; r++) {
      rowParameters(current, rows, r, one, 0);
      inserted(r, 1, one, s.insertOne.run(one));
    }
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
