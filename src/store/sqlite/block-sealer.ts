/**
 * Sealing: the oldest `blockRows` unsealed predictions, in insertion (rowid) order, become one column
 * block (column-block.ts) holding them in key order, and the seal watermark moves past them
 * (docs/store-format.md). Everything here runs inside the caller's write transaction, except
 * sealBacklog, which makes its own.
 *
 * Why insertion order: the rows sealed are then the rowid range just after the watermark, and
 * marking them costs one block row. Sealing in key order needed an index of unsealed rows and an
 * UPDATE of each 26-column row: 31% of an insert's cost.
 */
import type Database from 'better-sqlite3';
import { yieldToEventLoop } from '../query-range.js';
import { READ_CREATED_AT, READ_LABEL, READ_LABEL_OBSERVED_AT, type StoreLayout } from '../store-layout.js';
import { compareIds } from './assemble-columns.js';
import { type ColumnRun, encodeBlock, F64_CREATED_AT, runFromRows } from './column-block.js';
import { FEATURE_BATCH_COLUMNS, featureFiller } from './feature-batches.js';
import { type PackedSegment, sortedRunFromPacked } from './packed-run.js';
import { sealColumns, sealRowid, sealUserKey, UNSEALED } from './seal-row.js';
import type { StatementCache } from './statement-cache.js';
import { UnsealedTail } from './unsealed-tail.js';
import type { UserIndex } from './user-index.js';

export interface BlockSealer {
  /**
   * Seals one block if `blockRows` predictions are unsealed (`partial`: if any are, up to `blockRows`
   * of them, for retention); returns whether it did.
   */
  sealBlock(partial?: boolean): boolean;
  /** Seals every full block, one write transaction each, yielding to the event loop between them. */
  sealBacklog(): Promise<void>;
  /**
   * The tail inserts extend (loaded when unknown), or undefined when the unsealed rows are not the
   * contiguous rowids after the watermark.
   */
  tail(): UnsealedTail | undefined;
  /** Forgets the tail (a write rolled back, a row was skipped, the schema changed). */
  forgetTail(): void;
}

export function createBlockSealer(
  db: Database.Database,
  cache: StatementCache,
  users: () => UserIndex,
  blockRows: number,
  layout: () => StoreLayout,
  reloadLayout: () => void,
): BlockSealer {
  const statements = cache.define((db) => ({
    sealedThrough: db.prepare<[], number>('SELECT sealed_through FROM prediction_seal_state').pluck(),
    setSealedThrough: db.prepare('UPDATE prediction_seal_state SET sealed_through = ?'),
    maxRowid: db.prepare<[], number | null>('SELECT max(rowid) FROM predictions').pluck(),
    unsealedCount: db
      .prepare<[number, number], number>(
        `SELECT count(*) FROM (SELECT 1 FROM predictions NOT INDEXED WHERE ${UNSEALED} LIMIT ?)`,
      )
      .pluck(),
    registered: db.prepare<[], number>('SELECT count(*) FROM feature_columns').pluck(),
    firstUnsealed: db
      .prepare<[number], number | null>(`SELECT min(rowid) FROM predictions NOT INDEXED WHERE ${UNSEALED}`)
      .pluck(),
    labelsInRange: db
      .prepare<[number, number], [rowid: number, label: number, observedAt: number | null]>(
        `SELECT rowid, label, label_observed_at FROM predictions
         WHERE rowid > ? AND rowid <= ? AND label IS NOT NULL`,
      )
      .raw(),
    insertBlock: db.prepare(
      `INSERT INTO prediction_blocks
       (row_count, first_created_at, last_created_at, first_id, last_id, dictionaries, data, ids,
        first_rowid, last_rowid, row_order, numeric_columns, categorical_columns)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertBlockLabels: db.prepare('INSERT INTO prediction_block_labels (block_id, labels) VALUES (?, ?)'),
    insertBlockRow: db.prepare(
      'INSERT INTO prediction_block_rows (prediction_rowid, block_id, block_row) VALUES (?, ?, ?)',
    ),
  }));

  let tail: UnsealedTail | undefined;

  // The unsealed rows as seal rows of the current layout, prepared again when it changes; their
  // features read from their feature batches where they have one.
  let unsealed: { layout: StoreLayout; statement: Database.Statement; batchAt: number } | undefined;
  function unsealedRows(through: number): unknown[][] {
    const current = layout();
    if (unsealed?.layout !== current) {
      const columns = sealColumns(current);
      unsealed = {
        layout: current,
        statement: db
          .prepare(
            `SELECT ${[...columns, ...FEATURE_BATCH_COLUMNS].join(', ')} FROM predictions NOT INDEXED
             WHERE ${UNSEALED} ORDER BY rowid LIMIT ?`,
          )
          .raw(),
        batchAt: columns.length,
      };
    }
    const rows = unsealed.statement.all(through, blockRows) as unknown[][];
    featureFiller(db, current)(rows, unsealed.batchAt);
    return rows;
  }

  /** The unsealed rows as a tail, when they are the contiguous rowids after the watermark. */
  function loadTail(): UnsealedTail | undefined {
    const s = statements();
    const through = s.sealedThrough.get()!;
    const rows = unsealedRows(through);
    // As many unsealed rows as rowids after the watermark: they are all of them, in order.
    if (rows.length >= blockRows || (s.maxRowid.get() ?? 0) !== through + rows.length) return undefined;
    const loaded = new UnsealedTail(through);
    const part = { count: 0, row: (k: number) => rows[k]! };
    loaded.append(part);
    loaded.grow(part, rows.length);
    return loaded;
  }

  /**
   * Writes one column block of `rows` (seal rows of the layout, rowid order, all unsealed) in key order
   * and moves the watermark. Rows that are the contiguous rowids after the watermark (the normal
   * case) are recorded as that range; others are listed one by one in prediction_block_rows.
   */
  function writeBlock(rows: unknown[][], through: number): void {
    const current = layout();
    const readId = current.readId;
    const rowidAt = sealRowid(current);
    const userKeyAt = sealUserKey(current);
    const lastRowid = rows.at(-1)![rowidAt] as number;
    // Contiguous rowids after the watermark move it to the last one sealed; a gap (rows sealed before
    // the watermark existed, or deleted) makes it the first still unsealed.
    const contiguous = lastRowid - through === rows.length;
    const order = rows.map((_, i) => i);
    order.sort((i, j) => {
      const a = rows[i]!;
      const b = rows[j]!;
      return (
        (a[READ_CREATED_AT] as number) - (b[READ_CREATED_AT] as number) ||
        compareIds(a[readId] as string, b[readId] as string)
      );
    });
    const sorted = order.map((i) => rows[i]!);
    let rowOrder: Int32Array | null = null;
    if (contiguous && order.some((i, k) => i !== k)) {
      rowOrder = new Int32Array(rows.length);
      order.forEach((i, k) => {
        rowOrder![i] = k;
      });
    }
    storeBlock(
      runFromRows(sorted, current),
      sorted.map((row) => row[rowidAt] as number),
      sorted.map((row) => row[userKeyAt] as number | null),
      rowOrder,
      through,
      contiguous,
      lastRowid,
    );
  }

  /**
   * Stores a run (key order) as a block: its row, labels and user index, and moves the watermark (see
   * writeBlock). `rowids` and `keys` are per sorted row; `rowOrder` maps rowid order to it, if moved.
   */
  function storeBlock(
    run: ColumnRun,
    rowids: ArrayLike<number>,
    keys: readonly (number | null)[],
    rowOrder: Int32Array | null,
    through: number,
    contiguous: boolean,
    lastRowid: number,
  ): void {
    const s = statements();
    const current = layout();
    const n = run.rowCount;
    const stored = encodeBlock(run);
    const createdAt = run.f64[F64_CREATED_AT]!;
    const blockId = Number(
      s.insertBlock.run(
        n,
        createdAt[0],
        createdAt[n - 1],
        run.id(0),
        run.id(n - 1),
        stored.dictionaries,
        stored.data,
        stored.ids,
        contiguous ? through + 1 : null,
        contiguous ? lastRowid : null,
        rowOrder ? new Uint8Array(rowOrder.buffer) : null,
        current.numeric.length,
        current.categorical.length,
      ).lastInsertRowid,
    );
    s.insertBlockLabels.run(blockId, stored.labels);
    users().indexBlock(blockId, keys, rowids);
    if (contiguous) {
      s.setSealedThrough.run(lastRowid);
      return;
    }
    for (let i = 0; i < n; i++) s.insertBlockRow.run(rowids[i], blockId, i);
    s.setSealedThrough.run((s.firstUnsealed.get(through) ?? lastRowid + 1) - 1);
  }

  /**
   * Seals the first `n` tail rows straight from the packed rows they were inserted from, when they all
   * are (the normal case); false when they are not, and nothing was written.
   */
  function sealPacked(from: UnsealedTail, n: number): boolean {
    const segments: PackedSegment[] = [];
    for (const { part, from: at, count } of from.segments(n)) {
      if (!part.packed) return false;
      segments.push({ packed: part.packed, from: at, count });
    }
    const { through } = from;
    // Labels a join set since the insert, by position in the tail.
    const labels = new Map<number, readonly [number, number | null]>();
    for (const [rowid, label, observedAt] of statements().labelsInRange.all(through, through + n))
      labels.set(rowid - through - 1, [label, observedAt]);
    const sorted = sortedRunFromPacked(segments, layout(), labels);
    if (!sorted) return false;
    storeBlock(sorted.run, sorted.rowids, sorted.keys, sorted.rowOrder, through, true, through + n);
    return true;
  }

  function sealBlock(partial = false): boolean {
    const s = statements();
    // Another process may have registered features (a model with more): its rows hold them, so blocks
    // take every registered column. The tail (rows in this store's layout) is then read back instead.
    if (s.registered.get() !== layout().features.length) {
      reloadLayout();
      tail = undefined;
    }
    if (tail && s.sealedThrough.get() !== tail.through) tail = undefined;
    const least = partial ? 1 : blockRows;
    if (tail) {
      if (tail.count < least) return false;
      const { through } = tail;
      const n = Math.min(tail.count, blockRows);
      if (sealPacked(tail, n)) {
        tail.drop(n);
        return true;
      }
      const rows = tail.peek(n);
      for (const [rowid, label, observedAt] of s.labelsInRange.all(through, through + rows.length)) {
        const row = rows[rowid - through - 1]!;
        row[READ_LABEL] = label;
        row[READ_LABEL_OBSERVED_AT] = observedAt;
      }
      writeBlock(rows, through);
      tail.drop(rows.length);
      return true;
    }
    const through = s.sealedThrough.get()!;
    if (s.unsealedCount.get(through, blockRows)! < least) return false;
    writeBlock(unsealedRows(through), through);
    return true;
  }

  const sealOne = db.transaction(() => sealBlock());

  return {
    sealBlock,
    async sealBacklog() {
      while (sealOne.immediate()) await yieldToEventLoop();
    },
    tail() {
      tail ??= loadTail();
      return tail;
    },
    forgetTail() {
      tail = undefined;
    },
  };
}
