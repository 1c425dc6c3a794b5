/**
 * The embedded backend: one SQLite file via better-sqlite3, in WAL mode so readers (the monitor) never
 * block the writer, synchronous=NORMAL (a committed batch survives a process crash; a power loss may
 * lose the last transactions, see docs/feedback.md), and a busy timeout for other processes on the file.
 * better-sqlite3 is synchronous; long reads are paged and yield to the event loop between pages.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ChurnwatchError } from '../../errors.js';
import {
  checkFeedbackInput,
  decideJoins,
  type JoinItem,
  type JoinTarget,
  toOutcome,
} from '../feedback-join.js';
import { rowToLoggedPrediction } from '../logged-prediction.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from '../migrations.js';
import type {
  FeedbackCounts,
  FeedbackInput,
  FeedbackOutcome,
  LoggedPrediction,
  PredictionColumns,
  PredictionQuery,
  PredictionRows,
  PredictionStore,
} from '../prediction-store.js';
import {
  checkQuery,
  DEFAULT_COLUMN_PAGE,
  DEFAULT_OBJECT_PAGE,
  JOIN_PENDING_PAGE,
  yieldToEventLoop,
} from '../query-range.js';
import {
  INSERT_COLUMNS,
  type InsertValue,
  insertValue,
  READ_COLUMNS,
  READ_ID,
  userKey,
} from '../store-columns.js';

const ID_INDEX = INSERT_COLUMNS.indexOf('id');
const CREATED_AT_INDEX = INSERT_COLUMNS.indexOf('created_at');
const USER_ID_INDEX = INSERT_COLUMNS.indexOf('user_id');
const MODEL_VERSION_INDEX = INSERT_COLUMNS.indexOf('model_version');
const SCORE_INDEX = INSERT_COLUMNS.indexOf('score');
const PREDICTED_CLASS_INDEX = INSERT_COLUMNS.indexOf('predicted_class');
const INSERT_FIRST_FEATURE = PREDICTED_CLASS_INDEX + 1;

/**
 * Rows per INSERT statement: 32 rows per statement instead of one cut the writer's CPU time per row by
 * about 9% (fewer crossings from JS into SQLite; docs/performance.md).
 */
const ROWS_PER_INSERT = 32;

/**
 * Row `r` of `rows` as the SEAL_COLUMNS row sealing reads back (no label yet), with its rowid and its
 * user key as computed for the INSERT (the hash is not worth computing twice per row).
 */
function sealRow(rows: PredictionRows, r: number, rowid: number, key: InsertValue): unknown[] {
  const out: unknown[] = [
    insertValue(rows, r, CREATED_AT_INDEX),
    insertValue(rows, r, SCORE_INDEX),
    insertValue(rows, r, PREDICTED_CLASS_INDEX),
    null,
    null,
    insertValue(rows, r, MODEL_VERSION_INDEX),
  ];
  for (let c = INSERT_FIRST_FEATURE; c < INSERT_COLUMNS.length; c++) out.push(insertValue(rows, r, c));
  out.push(insertValue(rows, r, ID_INDEX), rowid, key);
  return out;
}

/** Copies row `r`'s parameters and user key into `params` from `at`, as the INSERT statements take them. */
function rowParameters(rows: PredictionRows, r: number, params: InsertValue[], at: number): void {
  for (let c = 0; c < INSERT_COLUMNS.length; c++) params[at + c] = insertValue(rows, r, c);
  const userId = params[at + USER_ID_INDEX];
  params[at + INSERT_COLUMNS.length] = typeof userId === 'string' ? userKey(userId) : null;
}

/**
 * Page cache per connection, KiB. The writer's cache holds the hot ends of the indexes; the reader
 * streams column blocks and needs little. Caches are part of the server's memory: 64 MiB each took the
 * serving process from 274 to 336 MB RSS under batch load with no measurable gain in insert rate.
 */
const WRITE_CACHE_KIB = 32_768;

/**
 * WAL size between automatic checkpoints, bytes (SQLite counts it in pages of the file's size). A
 * checkpoint copies the WAL into the database and syncs both files (synchronous=NORMAL syncs nowhere
 * else); SQLite's default of 1,000 pages (4 MiB of 4 KiB pages) meant two fsyncs every few thousand
 * predictions. 32 MiB took the writer from 128k to 164k rows/s; 80 MiB gained nothing more
 * (docs/performance.md). Durability is unchanged: a committed batch is in the WAL either way.
 */
const WAL_CHECKPOINT_BYTES = 32 * 1024 * 1024;
const READ_CACHE_KIB = 16_384;

/**
 * Page size of a new database, bytes (an existing file keeps its own). SQLite writes every WAL frame, one
 * page, with system calls of its own: with 4 KiB pages a batch of 1,000 predictions cost about 190
 * frames and 376 pwrite calls, a large part of the writer's time where system calls are dear (a
 * virtual machine). 8 KiB pages took the writer alone from 66–67k to 70–74k rows/s; 16 KiB gained
 * about as much more but wrote twice the bytes for every small transaction (one transaction per row:
 * 5–7k against 10–12k rows/s), which single feedback items are (docs/performance.md).
 */
const PAGE_SIZE = 8192;

import { assembleColumns, compareIds, type RunFilter } from './assemble-columns.js';
import {
  type ColumnRun,
  decodeBlock,
  decodeLabels,
  encodeBlock,
  encodeLabels,
  runFromRows,
} from './column-block.js';
import { createUserIndex, TARGET_COLUMNS, type TargetRow } from './user-index.js';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for a private in-memory database. */
  readonly path: string;
  /** How long a write waits for another process's lock before failing, ms (default 5,000). */
  readonly busyTimeoutMs?: number;
  /** Predictions per column block (default 10,000); small values exist for tests. */
  readonly blockRows?: number;
}

/**
 * Columns a column block is made from: READ_COLUMNS up to the id, then the rowid to mark them and the
 * user key for the block's user index (user-index.ts).
 */
const SEAL_COLUMNS = [...READ_COLUMNS.slice(0, READ_ID + 1), 'rowid', 'user_key'];
const SEAL_ROWID = READ_ID + 1;
const SEAL_USER_KEY = READ_ID + 2;

/**
 * Predictions not in a column block yet: after the watermark (every rowid up to it is sealed) and not
 * listed in prediction_block_rows. The one parameter is the watermark. Queries with it say NOT INDEXED
 * so SQLite seeks the rowid range rather than walk an index of the whole table in key order.
 */
const UNSEALED = `rowid > ? AND NOT EXISTS
  (SELECT 1 FROM prediction_block_rows b WHERE b.prediction_rowid = predictions.rowid)`;

interface BlockRow {
  id: number;
  row_count: number;
  first_id: string;
  last_id: string;
}

function toTarget(row: TargetRow | undefined): JoinTarget | undefined {
  if (!row) return undefined;
  return {
    id: row.id,
    createdAt: row.created_at,
    modelVersion: row.model_version,
    score: row.score,
    predictedClass: row.predicted_class as 0 | 1,
    label: row.label as 0 | 1 | null,
  };
}

/** Consecutive tail rows: read back as arrays, or still packed as inserted (made into arrays on demand). */
interface TailPart {
  count: number;
  /** Row k of the part in SEAL_COLUMNS layout (a fresh array for packed rows). */
  row(k: number): unknown[];
}

/** The unsealed rows after `through`, as parts in rowid order; the first `skip` rows of parts[0] are sealed. */
interface Tail {
  through: number;
  count: number;
  skip: number;
  parts: TailPart[];
}

/** The first `n` rows of the tail as SEAL_COLUMNS arrays; the tail is left as it is. */
function peekTail(tail: Tail, n: number): unknown[][] {
  const out: unknown[][] = new Array(n);
  let k = 0;
  let skip = tail.skip;
  for (const part of tail.parts) {
    while (skip < part.count && k < n) out[k++] = part.row(skip++);
    if (k === n) break;
    skip = 0;
  }
  return out;
}

/** Removes the first `n` rows (just sealed) from the tail and moves its watermark past them. */
function dropTail(tail: Tail, n: number): void {
  tail.through += n;
  tail.count -= n;
  let left = n;
  while (left > 0) {
    const part = tail.parts[0]!;
    const take = Math.min(left, part.count - tail.skip);
    tail.skip += take;
    left -= take;
    if (tail.skip === part.count) {
      tail.parts.shift();
      tail.skip = 0;
    }
  }
}

export function createSqliteStore(options: SqliteStoreOptions): PredictionStore {
  const { path } = options;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const blockRows = options.blockRows ?? 10_000;
  if (!Number.isInteger(blockRows) || blockRows < 1)
    throw new RangeError('blockRows must be a positive integer');
  let db: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: busyTimeoutMs });
    if (path !== ':memory:') {
      // Before WAL mode: a database in WAL mode keeps the page size it has.
      db.pragma(`page_size = ${PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.round(WAL_CHECKPOINT_BYTES / pageSize))}`);
    }
    db.pragma('synchronous = NORMAL');
    db.pragma(`cache_size = -${WRITE_CACHE_KIB}`);
    // Migration 3 fills user_key for existing rows in SQL with the same function inserts use in JS.
    db.function('churnwatch_user_key', { deterministic: true }, (id: unknown) =>
      typeof id === 'string' ? userKey(id) : null,
    );
  } catch (error) {
    throw new ChurnwatchError(
      'CW_STORE_OPEN_FAILED',
      `cannot open SQLite database ${path}: ${(error as Error).message}`,
      {
        hint: 'check that the directory exists and is writable, and that the file is a SQLite database',
        cause: error,
      },
    );
  }

  // Statements are prepared on first use: the tables exist only after migrate().
  let prepared: ReturnType<typeof prepare> | undefined;
  function prepare() {
    const row = `(${INSERT_COLUMNS.map(() => '?').join(', ')}, ?)`;
    const insert = (rows: number) =>
      db.prepare(
        `INSERT OR IGNORE INTO predictions (${INSERT_COLUMNS.join(', ')}, user_key) VALUES ${Array(rows).fill(row).join(', ')}`,
      );
    return {
      insertPrediction: insert(1),
      insertPredictions: insert(ROWS_PER_INSERT),
      byId: db.prepare<[string], TargetRow>(`SELECT ${TARGET_COLUMNS} FROM predictions WHERE id = ?`),
      users: createUserIndex(db),
      setLabel: db.prepare(
        `UPDATE predictions SET label = ?, label_observed_at = ?, label_feedback_id = ?
         WHERE id = ? AND label IS NULL`,
      ),
      insertFeedback: db.prepare(
        `INSERT INTO feedback (id, prediction_id, user_id, label, observed_at, received_at, status, joined_prediction_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      pendingPage: db.prepare<[number, number, string, number], PendingRow>(
        `SELECT id, prediction_id, user_id, label, observed_at, received_at FROM feedback
         WHERE status = 'pending' AND (received_at > ? OR (received_at = ? AND id > ?))
         ORDER BY received_at, id LIMIT ?`,
      ),
      resolvePending: db.prepare(
        `UPDATE feedback SET status = ?, joined_prediction_id = ? WHERE id = ? AND status = 'pending'`,
      ),
      countPending: db.prepare<[], number>("SELECT count(*) FROM feedback WHERE status = 'pending'").pluck(),
      counts: db.prepare<[], { status: string; n: number }>(
        'SELECT status, COUNT(*) AS n FROM feedback GROUP BY status',
      ),
      sealedThrough: db.prepare<[], number>('SELECT sealed_through FROM prediction_seal_state').pluck(),
      setSealedThrough: db.prepare('UPDATE prediction_seal_state SET sealed_through = ?'),
      unsealedCount: db
        .prepare<[number, number], number>(
          `SELECT count(*) FROM (SELECT 1 FROM predictions NOT INDEXED WHERE ${UNSEALED} LIMIT ?)`,
        )
        .pluck(),
      unsealedRows: db
        .prepare(
          `SELECT ${SEAL_COLUMNS.join(', ')} FROM predictions NOT INDEXED WHERE ${UNSEALED} ORDER BY rowid LIMIT ?`,
        )
        .raw(),
      firstUnsealed: db
        .prepare<[number], number | null>(`SELECT min(rowid) FROM predictions NOT INDEXED WHERE ${UNSEALED}`)
        .pluck(),
      insertBlock: db.prepare(
        `INSERT INTO prediction_blocks
         (row_count, first_created_at, last_created_at, first_id, last_id, dictionaries, data, ids,
          first_rowid, last_rowid, row_order)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      maxRowid: db.prepare<[], number | null>('SELECT max(rowid) FROM predictions').pluck(),
      labelsInRange: db
        .prepare<[number, number], [number, number, number | null]>(
          `SELECT rowid, label, label_observed_at FROM predictions
           WHERE rowid > ? AND rowid <= ? AND label IS NOT NULL`,
        )
        .raw(),
      insertBlockLabels: db.prepare('INSERT INTO prediction_block_labels (block_id, labels) VALUES (?, ?)'),
      insertBlockRow: db.prepare(
        'INSERT INTO prediction_block_rows (prediction_rowid, block_id, block_row) VALUES (?, ?, ?)',
      ),
      rowidOf: db.prepare<[string], number>('SELECT rowid FROM predictions WHERE id = ?').pluck(),
      listedBlockRow: db
        .prepare<[number], [number, number]>(
          'SELECT block_id, block_row FROM prediction_block_rows WHERE prediction_rowid = ?',
        )
        .raw(),
      rangeBlock: db
        .prepare<[number], [number, number, number, Buffer | null]>(
          `SELECT id, first_rowid, last_rowid, row_order FROM prediction_blocks
           WHERE first_rowid <= ? ORDER BY first_rowid DESC LIMIT 1`,
        )
        .raw(),
      blockLabels: db
        .prepare<[number], Buffer>('SELECT labels FROM prediction_block_labels WHERE block_id = ?')
        .pluck(),
      setBlockLabels: db.prepare('UPDATE prediction_block_labels SET labels = ? WHERE block_id = ?'),
    };
  }
  function statements() {
    if (!prepared) {
      try {
        prepared = prepare();
      } catch (error) {
        if (/no such (table|column)/.test((error as Error).message)) {
          throw new TypeError(`SQLite store ${path} has no schema yet: call migrate() first`);
        }
        throw error;
      }
    }
    return prepared;
  }

  interface PendingRow {
    id: string;
    prediction_id: string | null;
    user_id: string | null;
    label: number;
    observed_at: number;
    received_at: number;
  }

  /** Each item's prediction, undefined when none matched yet; inside the caller's write transaction. */
  function resolveTargets(
    items: readonly { predictionId: string | null; userId: string | null; observedAt: number }[],
  ): (JoinTarget | undefined)[] {
    const s = statements();
    const byUser = s.users.batch(
      items.flatMap((item) => (!item.predictionId && item.userId ? [item.userId] : [])),
    );
    return items.map(({ predictionId, userId, observedAt }) => {
      // A named prediction that is not stored yet stays pending: falling back to the user's older
      // prediction would label the wrong row while the named one is still in a writer's queue.
      if (predictionId) return toTarget(s.byId.get(predictionId));
      if (userId) return toTarget(byUser(userId, observedAt));
      return undefined;
    });
  }

  /**
   * Rows this connection inserted after the seal watermark, in rowid order, while they are known to be
   * exactly rowids through+1 .. through+count. Sealing then takes them from here instead of reading
   * them back (their labels are read back, a join may have set some). Undefined when that is not known
   * (at open, after a duplicate was skipped or a write failed, after another process wrote or sealed):
   * sealing then reads the rows back.
   *
   * Rows stay in the packed PredictionRows they were inserted from and become SEAL_COLUMNS arrays only
   * when their block is sealed: a 28-value array per row held for a whole block lived through several
   * scavenges and into the old generation, most of the writer thread's time in GC (docs/performance.md).
   */
  let tail: Tail | undefined;

  /** The unsealed rows as a tail, when they are the contiguous rowids after the watermark. */
  function loadTail(): Tail | undefined {
    const s = statements();
    const through = s.sealedThrough.get()!;
    const rows = s.unsealedRows.all(through, blockRows) as unknown[][];
    // As many unsealed rows as rowids after the watermark: they are all of them, in order.
    if (rows.length >= blockRows || (s.maxRowid.get() ?? 0) !== through + rows.length) return undefined;
    return { through, count: rows.length, skip: 0, parts: [{ count: rows.length, row: (k) => rows[k]! }] };
  }

  /**
   * Writes one column block of `rows` (SEAL_COLUMNS layout, rowid order, all unsealed) in key order
   * and moves the watermark. Rows that are the contiguous rowids after the watermark (the normal
   * case) are recorded as that range; others are listed one by one in prediction_block_rows.
   * Runs inside the caller's write transaction.
   *
   * Why insertion order: the rows sealed are then the rowid range just after the watermark, and
   * marking them costs one block row. Sealing in key order needed an index of unsealed rows and an
   * UPDATE of each 26-column row: 31% of an insert's cost.
   */
  function writeBlock(rows: unknown[][], through: number): void {
    const s = statements();
    const lastRowid = rows.at(-1)![SEAL_ROWID] as number;
    // Contiguous rowids after the watermark move it to the last one sealed; a gap (rows sealed before
    // the watermark existed, or deleted) makes it the first still unsealed.
    const contiguous = lastRowid - through === rows.length;
    const order = rows.map((_, i) => i);
    order.sort((i, j) => {
      const a = rows[i]!;
      const b = rows[j]!;
      return (a[0] as number) - (b[0] as number) || compareIds(a[READ_ID] as string, b[READ_ID] as string);
    });
    const sorted = order.map((i) => rows[i]!);
    let rowOrder: Int32Array | null = null;
    if (contiguous && order.some((i, k) => i !== k)) {
      rowOrder = new Int32Array(rows.length);
      order.forEach((i, k) => {
        rowOrder![i] = k;
      });
    }
    const stored = encodeBlock(runFromRows(sorted));
    const first = sorted[0]!;
    const last = sorted.at(-1)!;
    const blockId = Number(
      s.insertBlock.run(
        rows.length,
        first[0],
        last[0],
        first[READ_ID],
        last[READ_ID],
        stored.dictionaries,
        stored.data,
        stored.ids,
        contiguous ? through + 1 : null,
        contiguous ? lastRowid : null,
        rowOrder ? new Uint8Array(rowOrder.buffer) : null,
      ).lastInsertRowid,
    );
    s.insertBlockLabels.run(blockId, stored.labels);
    s.users.indexBlock(
      blockId,
      sorted.map((row) => row[SEAL_USER_KEY] as number | null),
      sorted.map((row) => row[SEAL_ROWID] as number),
    );
    if (contiguous) {
      s.setSealedThrough.run(lastRowid);
      return;
    }
    sorted.forEach((row, i) => {
      s.insertBlockRow.run(row[SEAL_ROWID], blockId, i);
    });
    s.setSealedThrough.run((s.firstUnsealed.get(through) ?? lastRowid + 1) - 1);
  }

  /**
   * Seals the first `blockRows` unsealed predictions in insertion (rowid) order into a column block, if
   * there are that many; the block holds them in key order. Runs inside the caller's write transaction.
   * Returns whether a block was written.
   */
  function sealBlock(): boolean {
    const s = statements();
    if (tail && s.sealedThrough.get() !== tail.through) tail = undefined;
    if (tail) {
      if (tail.count < blockRows) return false;
      const { through } = tail;
      const rows = peekTail(tail, blockRows);
      for (const [rowid, label, observedAt] of s.labelsInRange.all(through, through + rows.length)) {
        const row = rows[rowid - through - 1]!;
        row[3] = label;
        row[4] = observedAt;
      }
      writeBlock(rows, through);
      dropTail(tail, blockRows);
      return true;
    }
    const through = s.sealedThrough.get()!;
    if (s.unsealedCount.get(through, blockRows)! < blockRows) return false;
    writeBlock(s.unsealedRows.all(through, blockRows) as unknown[][], through);
    return true;
  }

  /** Where a stored prediction sits in the column blocks, or undefined while it is unsealed. */
  function blockOf(predictionId: string): [blockId: number, row: number] | undefined {
    const s = statements();
    const rowid = s.rowidOf.get(predictionId);
    if (rowid === undefined) return undefined;
    const listed = s.listedBlockRow.get(rowid);
    if (listed) return listed;
    const range = s.rangeBlock.get(rowid);
    if (!range || range[2] < rowid) return undefined;
    const [blockId, firstRowid, , rowOrder] = range;
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

  /** Copies joined labels into the blocks holding their predictions, within the join's transaction. */
  function patchBlockLabels(joins: readonly { predictionId: string; label: 0 | 1; observedAt: number }[]) {
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
      const labels = decodeLabels(bytes, bytes.length / 9);
      for (const p of patches) {
        labels.label[p.row] = p.label;
        labels.labelObservedAt[p.row] = p.observedAt;
      }
      s.setBlockLabels.run(encodeLabels(labels.label, labels.labelObservedAt), blockId);
    }
  }

  const insertBatch = db.transaction((rows: PredictionRows) => {
    const s = statements();
    tail ??= loadTail();
    // ROWS_PER_INSERT rows per statement while they last, then one at a time. Each row's parameters
    // are its columns, then its user key (migration 3).
    const width = INSERT_COLUMNS.length + 1;
    const many: InsertValue[] = new Array(width * ROWS_PER_INSERT);
    const one: InsertValue[] = new Array(width);
    // This batch's rows join the tail as one packed part, with the user keys computed for the INSERT.
    // The part holds its own copy of the numbers: a caller may release its buffers once the insert is
    // done (batched-writer.ts does), and one memcpy per batch is nothing next to the inserts.
    const keys = new Float64Array(rows.count);
    const firstRowid = tail ? tail.through + tail.count + 1 : 0;
    const kept: PredictionRows = { count: rows.count, numbers: rows.numbers.slice(), texts: rows.texts };
    const part: TailPart = {
      count: 0,
      row: (k) => sealRow(kept, k, firstRowid + k, Number.isNaN(keys[k]!) ? null : keys[k]!),
    };
    if (tail) tail.parts.push(part);
    const inserted = (from: number, count: number, params: InsertValue[], info: Database.RunResult) => {
      if (!tail) return;
      const next = tail.through + tail.count + count;
      // Every row inserted, at the next rowids: they join the tail. Otherwise it is no longer known.
      if (info.changes !== count || Number(info.lastInsertRowid) !== next) {
        tail = undefined;
        return;
      }
      for (let k = 0; k < count; k++) {
        const key = params[k * width + INSERT_COLUMNS.length];
        keys[from + k] = typeof key === 'number' ? key : Number.NaN;
      }
      part.count += count;
      tail.count += count;
    };
    let r = 0;
    for (; r + ROWS_PER_INSERT <= rows.count; r += ROWS_PER_INSERT) {
      for (let k = 0; k < ROWS_PER_INSERT; k++) rowParameters(rows, r + k, many, k * width);
      inserted(r, ROWS_PER_INSERT, many, s.insertPredictions.run(many));
    }
    for (; r < rows.count; r++) {
      rowParameters(rows, r, one, 0);
      inserted(r, 1, one, s.insertPrediction.run(one));
    }
    // Seal what this batch completed (normally at most one block), so the unsealed tail that
    // readColumns reads row by row stays under blockRows.
    for (let i = 0; i <= Math.ceil(rows.count / blockRows); i++) if (!sealBlock()) break;
  });

  const sealOne = db.transaction(sealBlock);

  function insertRows(rows: PredictionRows): void {
    if (rows.count === 0) return;
    try {
      insertBatch.immediate(rows);
    } catch (error) {
      // Rolled back: the rows the tail gained are not stored.
      tail = undefined;
      throw error;
    }
  }

  const recordBatch = db.transaction((items: readonly FeedbackInput[]): FeedbackOutcome[] => {
    const s = statements();
    const joinItems: JoinItem[] = items.map((item) => ({
      feedbackId: randomUUID(),
      label: item.label,
      observedAt: item.observedAt,
    }));
    const targets = resolveTargets(
      items.map((item) => ({
        predictionId: item.predictionId ?? null,
        userId: item.userId ?? null,
        observedAt: item.observedAt,
      })),
    );
    const decisions = decideJoins(joinItems, targets);
    const joins: { predictionId: string; label: 0 | 1; observedAt: number }[] = [];
    const outcomes = items.map((item, i) => {
      const joinItem = joinItems[i]!;
      const decision = decisions[i]!;
      if (decision.status === 'joined') {
        s.setLabel.run(item.label, item.observedAt, joinItem.feedbackId, decision.target!.id);
        joins.push({ predictionId: decision.target!.id, label: item.label, observedAt: item.observedAt });
      }
      s.insertFeedback.run(
        joinItem.feedbackId,
        item.predictionId ?? null,
        item.userId ?? null,
        item.label,
        item.observedAt,
        item.receivedAt,
        decision.status,
        decision.target?.id ?? null,
      );
      return toOutcome(joinItem, decision);
    });
    patchBlockLabels(joins);
    return outcomes;
  });

  const joinPage = db.transaction((after: { receivedAt: number; id: string }) => {
    const s = statements();
    const rows = s.pendingPage.all(after.receivedAt, after.receivedAt, after.id, JOIN_PENDING_PAGE);
    const joinItems: JoinItem[] = rows.map((r) => ({
      feedbackId: r.id,
      label: r.label as 0 | 1,
      observedAt: r.observed_at,
    }));
    const decisions = decideJoins(
      joinItems,
      resolveTargets(
        rows.map((r) => ({ predictionId: r.prediction_id, userId: r.user_id, observedAt: r.observed_at })),
      ),
    );
    const outcomes: FeedbackOutcome[] = [];
    const joins: { predictionId: string; label: 0 | 1; observedAt: number }[] = [];
    rows.forEach((row, i) => {
      const decision = decisions[i]!;
      if (decision.status === 'pending') return;
      if (decision.status === 'joined') {
        s.setLabel.run(row.label, row.observed_at, row.id, decision.target!.id);
        joins.push({
          predictionId: decision.target!.id,
          label: row.label as 0 | 1,
          observedAt: row.observed_at,
        });
      }
      s.resolvePending.run(decision.status, decision.target!.id, row.id);
      outcomes.push(toOutcome(joinItems[i]!, decision));
    });
    patchBlockLabels(joins);
    const last = rows.at(-1);
    return { outcomes, next: last ? { receivedAt: last.received_at, id: last.id } : undefined };
  });

  /** WHERE conditions and parameters for a query's time range and model version. */
  function rangeConditions(query: PredictionQuery): { where: string[]; params: (string | number)[] } {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.from !== undefined) {
      where.push('created_at >= ?');
      params.push(query.from);
    }
    if (query.to !== undefined) {
      where.push('created_at < ?');
      params.push(query.to);
    }
    if (query.modelVersion !== undefined) {
      where.push('model_version = ?');
      params.push(query.modelVersion);
    }
    return { where, params };
  }

  /** The (created_at, id) key of the oldest of the newest `limit` rows; undefined when there are fewer. */
  function limitStart(query: PredictionQuery, conn: Database.Database): [number, string] | undefined {
    if (query.limit === undefined || query.limit <= 0) return undefined;
    const { where, params } = rangeConditions(query);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return conn
      .prepare(
        `SELECT created_at, id FROM predictions ${clause} ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?`,
      )
      .raw()
      .get(...params, query.limit - 1) as [number, string] | undefined;
  }

  /** WHERE conditions for a query, including the start key when only the newest `limit` are wanted. */
  function rangeOf(query: PredictionQuery): { where: string[]; params: (string | number)[] } {
    const { where, params } = rangeConditions(query);
    const start = limitStart(query, db);
    if (start) {
      where.push('(created_at > ? OR (created_at = ? AND id >= ?))');
      params.push(start[0], start[0], start[1]);
    }
    return { where, params };
  }

  // readColumns reads on its own connection inside one read transaction, so the column blocks and the
  // unsealed rows come from one snapshot (a block sealed meanwhile is neither missed nor read twice)
  // while the writer goes on (WAL). ':memory:' has no second connection: there the read is one
  // synchronous step on the main connection instead.
  let reader: Database.Database | undefined;
  let readQueue: Promise<unknown> = Promise.resolve();
  function readerConnection(): Database.Database {
    if (path === ':memory:') return db;
    if (!reader) {
      reader = new Database(path, { readonly: true, timeout: busyTimeoutMs });
      reader.pragma(`cache_size = -${READ_CACHE_KIB}`);
    }
    return reader;
  }

  async function readColumnsInSnapshot(query: PredictionQuery): Promise<PredictionColumns> {
    const conn = readerConnection();
    const mayYield = conn !== db;
    const pageSize = query.pageSize ?? DEFAULT_COLUMN_PAGE;
    const runs: ColumnRun[] = [];
    let filter: RunFilter = { from: query.from, to: query.to, modelVersion: query.modelVersion };
    conn.exec('BEGIN');
    try {
      if (query.limit !== undefined)
        filter = { ...filter, start: limitStart(query, conn), limit: query.limit };
      const lower = Math.max(
        filter.from ?? Number.NEGATIVE_INFINITY,
        filter.start?.[0] ?? Number.NEGATIVE_INFINITY,
      );
      const bounds: string[] = [];
      const boundParams: number[] = [];
      if (lower > Number.NEGATIVE_INFINITY) {
        bounds.push('last_created_at >= ?');
        boundParams.push(lower);
      }
      if (filter.to !== undefined) {
        bounds.push('first_created_at < ?');
        boundParams.push(filter.to);
      }
      const blocks = conn
        .prepare<number[], BlockRow>(
          `SELECT id, row_count, first_id, last_id FROM prediction_blocks
           ${bounds.length ? `WHERE ${bounds.join(' AND ')}` : ''} ORDER BY first_created_at, id`,
        )
        .all(...boundParams);
      const blockData = conn.prepare<[number], [Buffer, string]>(
        'SELECT data, dictionaries FROM prediction_blocks WHERE id = ?',
      );
      const blockLabels = conn
        .prepare<[number], Buffer>('SELECT labels FROM prediction_block_labels WHERE block_id = ?')
        .pluck();
      const blockIds = conn
        .prepare<[number], string>('SELECT ids FROM prediction_blocks WHERE id = ?')
        .pluck();
      let sinceYield = 0;
      for (const block of blocks) {
        const [data, dictionaries] = blockData.raw().get(block.id)!;
        const labels = blockLabels.get(block.id);
        if (!labels) throw new Error(`column block ${block.id} has no labels; the store is inconsistent`);
        runs.push(
          decodeBlock(
            block.row_count,
            { data, labels, dictionaries, firstId: block.first_id, lastId: block.last_id },
            () => blockIds.get(block.id)!,
          ),
        );
        sinceYield += block.row_count;
        if (mayYield && sinceYield >= pageSize) {
          sinceYield = 0;
          await yieldToEventLoop();
        }
      }
      // Rows not sealed yet (fewer than blockRows, plus any logged late), row by row, in key order.
      const tailWhere = [UNSEALED];
      const tailParams: (string | number)[] = [
        conn.prepare<[], number>('SELECT sealed_through FROM prediction_seal_state').pluck().get()!,
      ];
      if (lower > Number.NEGATIVE_INFINITY) {
        tailWhere.push('created_at >= ?');
        tailParams.push(lower);
      }
      if (filter.to !== undefined) {
        tailWhere.push('created_at < ?');
        tailParams.push(filter.to);
      }
      if (filter.modelVersion !== undefined) {
        tailWhere.push('model_version = ?');
        tailParams.push(filter.modelVersion);
      }
      const tail = conn
        .prepare(
          `SELECT ${READ_COLUMNS.slice(0, READ_ID + 1).join(', ')} FROM predictions NOT INDEXED
           WHERE ${tailWhere.join(' AND ')} ORDER BY created_at, id`,
        )
        .raw();
      let page: unknown[][] = [];
      for (const row of tail.iterate(...tailParams) as IterableIterator<unknown[]>) {
        page.push(row);
        if (page.length >= pageSize) {
          runs.push(runFromRows(page));
          page = [];
          // The iterator holds the reader connection, which nothing else uses meanwhile (readQueue).
          if (mayYield) await yieldToEventLoop();
        }
      }
      if (page.length > 0) runs.push(runFromRows(page));
    } finally {
      if (conn.inTransaction) conn.exec('COMMIT');
    }
    return assembleColumns(runs, filter);
  }

  /** Array rows in (created_at, id) order, page by page, by keyset; stops after `limit` rows. */
  async function* pages(query: PredictionQuery, defaultPage: number): AsyncGenerator<unknown[][]> {
    checkQuery(query);
    statements();
    if (query.limit === 0) return;
    const pageSize = query.pageSize ?? defaultPage;
    const { where, params } = rangeOf(query);
    const base = `SELECT ${READ_COLUMNS.join(', ')} FROM predictions`;
    const first = db
      .prepare(
        `${base} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT ?`,
      )
      .raw();
    const next = db
      .prepare(
        `${base} WHERE ${[...where, '(created_at > ? OR (created_at = ? AND id > ?))'].join(' AND ')}
         ORDER BY created_at, id LIMIT ?`,
      )
      .raw();
    let remaining = query.limit ?? Number.POSITIVE_INFINITY;
    let rows = first.all(...params, Math.min(pageSize, remaining)) as unknown[][];
    while (rows.length > 0) {
      remaining -= rows.length;
      yield rows;
      if (rows.length < pageSize || remaining <= 0) return;
      const last = rows.at(-1)!;
      await yieldToEventLoop();
      rows = next.all(
        ...params,
        last[0],
        last[0],
        last[READ_ID],
        Math.min(pageSize, remaining),
      ) as unknown[][];
    }
  }

  return {
    kind: 'sqlite',

    async migrate() {
      db.transaction(() => {
        db.exec(SCHEMA_MIGRATIONS_TABLE);
        const done = new Set(
          db
            .prepare('SELECT version FROM schema_migrations')
            .pluck()
            .all()
            .map((v) => Number(v)),
        );
        const record = db.prepare(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
        );
        for (const m of MIGRATIONS) {
          if (done.has(m.version)) continue;
          db.exec(m.sqlite);
          record.run(m.version, m.name, new Date().toISOString());
        }
      }).immediate();
      prepared = undefined;
      tail = undefined;
      // Existing rows (an upgraded database, or rows inserted by an older version) become blocks,
      // one transaction per block so writers from other processes are never held up for long.
      while (sealOne.immediate()) await yieldToEventLoop();
    },

    async insertRows(rows) {
      insertRows(rows);
    },

    async recordFeedback(items: readonly FeedbackInput[]) {
      items.forEach(checkFeedbackInput);
      if (items.length === 0) return [];
      return recordBatch.immediate(items);
    },

    async joinPending() {
      const outcomes: FeedbackOutcome[] = [];
      type Key = { receivedAt: number; id: string };
      let after: Key | undefined = { receivedAt: Number.NEGATIVE_INFINITY, id: '' };
      while (after) {
        const page: { outcomes: FeedbackOutcome[]; next: Key | undefined } = joinPage.immediate(after);
        outcomes.push(...page.outcomes);
        after = page.next;
        if (after) await yieldToEventLoop();
      }
      return outcomes;
    },

    async *readPredictions(query: PredictionQuery = {}): AsyncIterable<LoggedPrediction[]> {
      for await (const rows of pages(query, DEFAULT_OBJECT_PAGE)) yield rows.map(rowToLoggedPrediction);
    },

    async readColumns(query: PredictionQuery = {}): Promise<PredictionColumns> {
      checkQuery(query);
      statements();
      if (query.limit === 0) return assembleColumns([]);
      // One read at a time on the reader connection: each holds a read transaction across yields.
      const read = readQueue.then(() => readColumnsInSnapshot(query));
      readQueue = read.catch(() => undefined);
      return read;
    },

    async countPendingFeedback(): Promise<number> {
      return statements().countPending.get()!;
    },

    async countFeedback(): Promise<FeedbackCounts> {
      const counts = { joined: 0, pending: 0, duplicate: 0, conflict: 0 };
      for (const { status, n } of statements().counts.all()) counts[status as keyof FeedbackCounts] = n;
      return counts;
    },

    async ping() {
      // Taking the write lock proves the file is writable and not held by another process.
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
    },

    async close() {
      await readQueue;
      if (reader?.open) reader.close();
      if (db.open) db.close();
    },
  };
}
