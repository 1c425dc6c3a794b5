/**
 * readColumns on SQLite: the column blocks a query's range touches, decoded whole, plus the unsealed
 * rows read row by row, stitched into one PredictionColumns (assemble-columns.ts).
 *
 * It reads on its own connection inside one read transaction, so the blocks and the unsealed rows come
 * from one snapshot (a block sealed meanwhile is neither missed nor read twice) while the writer goes
 * on (WAL). ':memory:' has no second connection: there the read is one synchronous step on the main
 * connection instead.
 */
import type Database from 'better-sqlite3';
import type { PredictionColumns, PredictionQuery } from '../prediction-store.js';
import { DEFAULT_COLUMN_PAGE, yieldToEventLoop } from '../query-range.js';
import type { RowLayout } from '../row-layout.js';
import { type StoreLayout, storeLayout } from '../store-layout.js';
import { readRegistry } from './apply-migrations.js';
import { assembleColumns, type RunFilter } from './assemble-columns.js';
import { type ColumnRun, decodeBlock, runFromRows, runRowColumns } from './column-block.js';
import { FEATURE_BATCH_COLUMNS, featureFiller } from './feature-batches.js';
import { limitStart, rangeConditions } from './range-conditions.js';
import { UNSEALED } from './seal-row.js';
import { IN_MEMORY, openReadConnection } from './sqlite-connection.js';

export interface ColumnReader {
  /** Reads a checked query with a limit other than 0; one read at a time. */
  read(query: PredictionQuery): Promise<PredictionColumns>;
  /** Waits for the read in progress, then closes the reader connection. */
  close(): Promise<void>;
}

interface BlockRow {
  id: number;
  row_count: number;
  first_id: string;
  last_id: string;
  numeric_columns: number;
  categorical_columns: number;
  trimmed_rows: number;
}

/** Between pages of at least `pageSize` rows, lets the event loop run (when `mayYield`). */
function pacer(pageSize: number, mayYield: boolean): (rows: number) => Promise<void> | undefined {
  let since = 0;
  return (rows) => {
    since += rows;
    if (!mayYield || since < pageSize) return undefined;
    since = 0;
    return yieldToEventLoop();
  };
}

/** The blocks holding rows from `lower` (inclusive) up to `to` (exclusive), decoded, in key order. */
async function readBlocks(
  conn: Database.Database,
  layout: StoreLayout,
  lower: number,
  to: number | undefined,
  pace: (rows: number) => Promise<void> | undefined,
): Promise<ColumnRun[]> {
  // Retention trims a block's oldest rows (sqlite/retention.ts): prediction_block_trims then holds its
  // first key kept; a block with none left is kept while it is the newest.
  const first = 'coalesce(t.first_created_at, b.first_created_at)';
  const bounds: string[] = ['coalesce(t.trimmed_rows, 0) < b.row_count'];
  const boundParams: number[] = [];
  if (lower > Number.NEGATIVE_INFINITY) {
    bounds.push('b.last_created_at >= ?');
    boundParams.push(lower);
  }
  if (to !== undefined) {
    bounds.push(`${first} < ?`);
    boundParams.push(to);
  }
  const blocks = conn
    .prepare<number[], BlockRow>(
      `SELECT b.id, b.row_count, coalesce(t.first_id, b.first_id) AS first_id, b.last_id, b.numeric_columns,
         b.categorical_columns, coalesce(t.trimmed_rows, 0) AS trimmed_rows
       FROM prediction_blocks b LEFT JOIN prediction_block_trims t ON t.block_id = b.id
       WHERE ${bounds.join(' AND ')} ORDER BY ${first}, b.id`,
    )
    .all(...boundParams);
  const blockData = conn
    .prepare<[number], [data: Buffer, dictionaries: string]>(
      'SELECT data, dictionaries FROM prediction_blocks WHERE id = ?',
    )
    .raw();
  const blockLabels = conn
    .prepare<[number], Buffer>('SELECT labels FROM prediction_block_labels WHERE block_id = ?')
    .pluck();
  const blockIds = conn.prepare<[number], string>('SELECT ids FROM prediction_blocks WHERE id = ?').pluck();
  const runs: ColumnRun[] = [];
  for (const block of blocks) {
    const [data, dictionaries] = blockData.get(block.id)!;
    const labels = blockLabels.get(block.id);
    if (!labels) throw new Error(`column block ${block.id} has no labels; the store is inconsistent`);
    runs.push(
      decodeBlock(
        block.row_count,
        { numeric: block.numeric_columns, categorical: block.categorical_columns },
        { data, labels, dictionaries, firstId: block.first_id, lastId: block.last_id },
        layout,
        () => blockIds.get(block.id)!,
        block.trimmed_rows,
      ),
    );
    await pace(block.row_count - block.trimmed_rows);
  }
  return runs;
}

/**
 * The rows not sealed yet (fewer than blockRows, plus any logged late) in the range, row by row in key
 * order, as runs of up to `pageSize` rows.
 */
async function readUnsealed(
  conn: Database.Database,
  layout: StoreLayout,
  range: Pick<PredictionQuery, 'from' | 'to' | 'modelVersion'>,
  pageSize: number,
  pace: (rows: number) => Promise<void> | undefined,
): Promise<ColumnRun[]> {
  const { where, params } = rangeConditions(range);
  const sealedThrough = conn
    .prepare<[], number>('SELECT sealed_through FROM prediction_seal_state')
    .pluck()
    .get()!;
  const columns = runRowColumns(layout);
  const rows = conn
    .prepare(
      `SELECT ${[...columns, ...FEATURE_BATCH_COLUMNS].join(', ')} FROM predictions NOT INDEXED
       WHERE ${[UNSEALED, ...where].join(' AND ')} ORDER BY created_at, id`,
    )
    .raw();
  const pages: unknown[][][] = [];
  let page: unknown[][] = [];
  for (const row of rows.iterate(sealedThrough, ...params) as IterableIterator<unknown[]>) {
    page.push(row);
    if (page.length >= pageSize) {
      pages.push(page);
      page = [];
      // The iterator holds the reader connection, which nothing else uses meanwhile (one read at a time).
      await pace(pageSize);
    }
  }
  if (page.length > 0) pages.push(page);
  // Features from the rows' feature batches, each read once: only now, as no other statement runs on
  // the connection while the iterator holds it.
  const fill = featureFiller(conn, layout);
  return pages.map((rows) => {
    fill(rows, columns.length);
    return runFromRows(rows, layout);
  });
}

export function createColumnReader(
  db: Database.Database,
  path: string,
  busyTimeoutMs: number,
  rows: RowLayout,
): ColumnReader {
  let reader: Database.Database | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  function connection(): Database.Database {
    if (path === IN_MEMORY) return db;
    reader ??= openReadConnection(path, busyTimeoutMs);
    return reader;
  }

  async function readInSnapshot(query: PredictionQuery): Promise<PredictionColumns> {
    const conn = connection();
    const pageSize = query.pageSize ?? DEFAULT_COLUMN_PAGE;
    const pace = pacer(pageSize, conn !== db);
    let filter: RunFilter = { from: query.from, to: query.to, modelVersion: query.modelVersion };
    const runs: ColumnRun[] = [];
    let layout: StoreLayout | undefined;
    conn.exec('BEGIN');
    try {
      // The registry of this snapshot: features another process added since are read too.
      layout = storeLayout(readRegistry(conn, path), rows);
      if (query.limit !== undefined)
        filter = { ...filter, start: limitStart(query, conn), limit: query.limit };
      const lower = Math.max(
        filter.from ?? Number.NEGATIVE_INFINITY,
        filter.start?.[0] ?? Number.NEGATIVE_INFINITY,
      );
      runs.push(...(await readBlocks(conn, layout, lower, filter.to, pace)));
      const from = lower > Number.NEGATIVE_INFINITY ? lower : undefined;
      runs.push(...(await readUnsealed(conn, layout, { ...filter, from }, pageSize, pace)));
    } finally {
      if (conn.inTransaction) conn.exec('COMMIT');
    }
    return assembleColumns(runs, layout, filter);
  }

  return {
    read(query) {
      // Each read holds a read transaction across yields: they take turns on the reader connection.
      const read = queue.then(() => readInSnapshot(query));
      queue = read.catch(() => undefined);
      return read;
    },
    async close() {
      await queue;
      if (reader?.open) reader.close();
    },
  };
}
