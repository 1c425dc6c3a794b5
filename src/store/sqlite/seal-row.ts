/**
 * A prediction as sealing takes it (docs/store-format.md): the columns of a block row (runRowColumns),
 * then its rowid, which marks it sealed, and its user key, for the block's user index (user-index.ts).
 */
import type { PredictionRows } from '../prediction-store.js';
import { type InsertValue, insertValue } from '../store-columns.js';
import type { StoreLayout } from '../store-layout.js';
import { runRowColumns } from './column-block.js';

/** The columns of a seal row in `layout`. */
export function sealColumns(layout: StoreLayout): readonly string[] {
  return [...runRowColumns(layout), 'rowid', 'user_key'];
}
/** Positions of the rowid and the user key in a seal row: after the block row's columns. */
export const sealRowid = (layout: StoreLayout): number => layout.readId + 1;
export const sealUserKey = (layout: StoreLayout): number => layout.readId + 2;

/**
 * Predictions not in a column block yet: after the watermark (every rowid up to it is sealed) and not
 * listed in prediction_block_rows. The one parameter is the watermark. Queries with it say NOT INDEXED
 * so SQLite seeks the rowid range rather than walk an index of the whole table in key order.
 */
export const UNSEALED = `rowid > ? AND NOT EXISTS
  (SELECT 1 FROM prediction_block_rows b WHERE b.prediction_rowid = predictions.rowid)`;

/**
 * Row `r` of `rows` as a seal row of `layout`, as just inserted (no label yet; null for registered
 * features the model lacks), with its rowid and its user key as computed for the INSERT (the hash is
 * not worth computing twice per row).
 */
export function sealRow(
  layout: StoreLayout,
  rows: PredictionRows,
  r: number,
  rowid: number,
  key: InsertValue,
): unknown[] {
  // Sized once and filled by index: pushing the 26 values (the array growing as it went) made sealRow
  // plus runFromRows of a 10,000-row block 1.5x as slow as a literal of the first six and pushes; sized,
  // 0.65x.
  const fromInsert = layout.readFromInsert;
  const out: unknown[] = new Array(layout.readId + 3);
  for (let c = 0; c < fromInsert.length; c++) {
    const from = fromInsert[c]!;
    out[c] = from < 0 ? null : insertValue(layout.rows, rows, r, from);
  }
  out[layout.readId + 1] = rowid;
  out[layout.readId + 2] = key;
  return out;
}
