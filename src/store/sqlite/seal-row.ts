/**
 * A prediction as sealing takes it (docs/store-format.md): the columns of a block row (RUN_ROW_COLUMNS),
 * then its rowid, which marks it sealed, and its user key, for the block's user index (user-index.ts).
 */
import type { PredictionRows } from '../prediction-store.js';
import { INSERT_COLUMNS, type InsertValue, insertValue } from '../store-columns.js';
import { RUN_ROW_COLUMNS } from './column-block.js';

export const SEAL_COLUMNS: readonly string[] = [...RUN_ROW_COLUMNS, 'rowid', 'user_key'];
export const SEAL_ROWID = SEAL_COLUMNS.indexOf('rowid');
export const SEAL_USER_KEY = SEAL_COLUMNS.indexOf('user_key');

/**
 * Predictions not in a column block yet: after the watermark (every rowid up to it is sealed) and not
 * listed in prediction_block_rows. The one parameter is the watermark. Queries with it say NOT INDEXED
 * so SQLite seeks the rowid range rather than walk an index of the whole table in key order.
 */
export const UNSEALED = `rowid > ? AND NOT EXISTS
  (SELECT 1 FROM prediction_block_rows b WHERE b.prediction_rowid = predictions.rowid)`;

/** Where each block row column comes from among the INSERT_COLUMNS; -1 for the label columns. */
const FROM_INSERT = RUN_ROW_COLUMNS.map((column) => INSERT_COLUMNS.indexOf(column));

/**
 * Row `r` of `rows` in SEAL_COLUMNS layout, as just inserted (no label yet), with its rowid and its
 * user key as computed for the INSERT (the hash is not worth computing twice per row).
 */
export function sealRow(rows: PredictionRows, r: number, rowid: number, key: InsertValue): unknown[] {
  // Sized once and filled by index: pushing the 26 values (the array growing as it went) made sealRow
  // plus runFromRows of a 10,000-row block 1.5x as slow as a literal of the first six and pushes; sized,
  // 0.65x.
  const out: unknown[] = new Array(SEAL_COLUMNS.length);
  for (let c = 0; c < FROM_INSERT.length; c++) {
    const from = FROM_INSERT[c]!;
    out[c] = from < 0 ? null : insertValue(rows, r, from);
  }
  out[SEAL_ROWID] = rowid;
  out[SEAL_USER_KEY] = key;
  return out;
}
