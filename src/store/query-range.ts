/** Shared validation of a PredictionQuery and the page sizes both backends use. */
import type { PredictionQuery } from './prediction-store.js';

export const DEFAULT_OBJECT_PAGE = 1_000;
export const DEFAULT_COLUMN_PAGE = 50_000;
export const JOIN_PENDING_PAGE = 1_000;
/** Pending items deleted per statement by dropPending: short transactions between other writes. */
export const DROP_PENDING_PAGE = 1_000;
/**
 * Predictions deleted per transaction by retention (dropPredictions), with their feedback: a few
 * milliseconds of the writer, so inserts and joins run between pages.
 */
export const RETENTION_PAGE = 2_000;

export function checkQuery(query: PredictionQuery): void {
  if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 0)) {
    throw new RangeError('query limit must be a non-negative integer');
  }
  if (query.pageSize !== undefined && (!Number.isInteger(query.pageSize) || query.pageSize < 1)) {
    throw new RangeError('query pageSize must be a positive integer');
  }
  for (const key of ['from', 'to'] as const) {
    const value = query[key];
    if (value !== undefined && !Number.isFinite(value))
      throw new RangeError(`query ${key} must be a finite number`);
  }
}

/** A retention cutoff (ms since the epoch) must be a finite number. */
export function checkCutoff(createdBefore: number): void {
  if (!Number.isFinite(createdBefore))
    throw new RangeError(`retention cutoff must be a finite number of ms, got ${createdBefore}`);
}

/** Lets the event loop run between pages, so a long read never starves a server's requests. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
