/**
 * readPredictions on SQLite: read rows (store-layout.ts) in (created_at, id) order, page by page, each page
 * a keyset query after the last key of the one before, yielding to the event loop between pages. A
 * row's features come from its feature batch when it has one (feature-batches.ts).
 */
import type Database from 'better-sqlite3';
import type { PredictionQuery } from '../prediction-store.js';
import { DEFAULT_OBJECT_PAGE, yieldToEventLoop } from '../query-range.js';
import { READ_CREATED_AT, type StoreLayout } from '../store-layout.js';
import { FEATURE_BATCH_COLUMNS, featureFiller } from './feature-batches.js';
import { limitStart, rangeConditions } from './range-conditions.js';

const AFTER_KEY = '(created_at > ? OR (created_at = ? AND id > ?))';
const FROM_KEY = '(created_at > ? OR (created_at = ? AND id >= ?))';

/** Pages of a checked query; stops after `limit` rows. */
export async function* keysetPages(
  db: Database.Database,
  query: PredictionQuery,
  layout: StoreLayout,
): AsyncGenerator<unknown[][]> {
  if (query.limit === 0) return;
  const pageSize = query.pageSize ?? DEFAULT_OBJECT_PAGE;
  const { where, params } = rangeConditions(query);
  // Only the newest `limit` rows: they start at this key.
  const start = limitStart(query, db);
  if (start) {
    where.push(FROM_KEY);
    params.push(start[0], start[0], start[1]);
  }
  const base = `SELECT ${[...layout.readColumns, ...FEATURE_BATCH_COLUMNS].join(', ')} FROM predictions`;
  // Batches are never changed and their ids never given twice, so one cache serves every page.
  const fill = featureFiller(db, layout);
  const first = db
    .prepare(`${base} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT ?`)
    .raw();
  const next = db
    .prepare(`${base} WHERE ${[...where, AFTER_KEY].join(' AND ')} ORDER BY created_at, id LIMIT ?`)
    .raw();
  let remaining = query.limit ?? Number.POSITIVE_INFINITY;
  let rows = first.all(...params, Math.min(pageSize, remaining)) as unknown[][];
  while (rows.length > 0) {
    fill(rows, layout.readColumns.length);
    remaining -= rows.length;
    yield rows;
    if (rows.length < pageSize || remaining <= 0) return;
    const last = rows.at(-1)!;
    await yieldToEventLoop();
    const createdAt = last[READ_CREATED_AT] as number;
    rows = next.all(
      ...params,
      createdAt,
      createdAt,
      last[layout.readId] as string,
      Math.min(pageSize, remaining),
    ) as unknown[][];
  }
}
