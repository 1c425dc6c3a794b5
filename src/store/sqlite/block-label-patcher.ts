/**
 * Labels joined after a prediction was sealed are copied into its block's labels BLOB, in the join's
 * write transaction, so readColumns sees them without reading the predictions table
 * (docs/store-format.md). Unsealed predictions need nothing: sealing reads their labels.
 */
import { decodeLabels, encodeLabels, LABEL_BYTES_PER_ROW } from './column-block.js';
import type { StatementCache } from './statement-cache.js';

/** A label just set on a stored prediction. */
export interface LabelJoin {
  readonly predictionId: string;
  readonly label: 0 | 1;
  readonly observedAt: number;
}

/** Returns patchBlockLabels, which runs inside the caller's write transaction. */
export function createBlockLabelPatcher(cache: StatementCache): (joins: readonly LabelJoin[]) => void {
  const statements = cache.define((db) => ({
    rowidOf: db.prepare<[string], number>('SELECT rowid FROM predictions WHERE id = ?').pluck(),
    listedBlockRow: db
      .prepare<[number], [blockId: number, blockRow: number]>(
        'SELECT block_id, block_row FROM prediction_block_rows WHERE prediction_rowid = ?',
      )
      .raw(),
    rangeBlock: db
      .prepare<[number], [blockId: number, firstRowid: number, lastRowid: number, rowOrder: Buffer | null]>(
        `SELECT id, first_rowid, last_rowid, row_order FROM prediction_blocks
         WHERE first_rowid <= ? ORDER BY first_rowid DESC LIMIT 1`,
      )
      .raw(),
    blockLabels: db
      .prepare<[number], Buffer>('SELECT labels FROM prediction_block_labels WHERE block_id = ?')
      .pluck(),
    setBlockLabels: db.prepare('UPDATE prediction_block_labels SET labels = ? WHERE block_id = ?'),
  }));

  /** Where a stored prediction sits in the column blocks, or undefined while it is unsealed. */
  function blockOf(predictionId: string): [blockId: number, row: number] | undefined {
    const s = statements();
    const rowid = s.rowidOf.get(predictionId);
    if (rowid === undefined) return undefined;
    const listed = s.listedBlockRow.get(rowid);
    if (listed) return listed;
    const range = s.rangeBlock.get(rowid);
    if (!range) return undefined;
    const [blockId, firstRowid, lastRowid, rowOrder] = range;
    if (lastRowid < rowid) return undefined;
    const k = rowid - firstRowid;
    if (!rowOrder) return [blockId, k];
    const { buffer, byteOffset, byteLength } = rowOrder;
    // A Buffer from SQLite may start anywhere: copy when its offset does not suit an Int32Array.
    const order =
      byteOffset % 4 === 0
        ? new Int32Array(buffer, byteOffset, byteLength / 4)
        : new Int32Array(Uint8Array.prototype.slice.call(rowOrder).buffer);
    return [blockId, order[k]!];
  }

  return (joins) => {
    const s = statements();
    const byBlock = new Map<number, { row: number; label: 0 | 1; observedAt: number }[]>();
    for (const join of joins) {
      const at = blockOf(join.predictionId);
      if (!at) continue;
      const [blockId, row] = at;
      let patches = byBlock.get(blockId);
      if (!patches) {
        patches = [];
        byBlock.set(blockId, patches);
      }
      patches.push({ row, label: join.label, observedAt: join.observedAt });
    }
    for (const [blockId, patches] of byBlock) {
      const bytes = s.blockLabels.get(blockId);
      if (!bytes) throw new Error(`column block ${blockId} has no labels; the store is inconsistent`);
      const labels = decodeLabels(bytes, bytes.length / LABEL_BYTES_PER_ROW);
      for (const p of patches) {
        labels.label[p.row] = p.label;
        labels.labelObservedAt[p.row] = p.observedAt;
      }
      s.setBlockLabels.run(encodeLabels(labels.label, labels.labelObservedAt), blockId);
    }
  };
}
