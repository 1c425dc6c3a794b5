/** SQL conditions for a PredictionQuery's range, shared by keyset paging and the column reader. */
import type Database from 'better-sqlite3';
import type { PredictionQuery } from '../prediction-store.js';

export interface Conditions {
  readonly where: string[];
  readonly params: (string | number)[];
}

/** WHERE conditions and parameters for a time range and model version. */
export function rangeConditions(query: Pick<PredictionQuery, 'from' | 'to' | 'modelVersion'>): Conditions {
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
export function limitStart(query: PredictionQuery, conn: Database.Database): [number, string] | undefined {
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
