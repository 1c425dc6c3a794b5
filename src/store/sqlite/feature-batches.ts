/**
 * Feature batches (migration 10, docs/store-format.md): each insert transaction writes its rows'
 * features once, as one BLOB of columns (column-block.ts encodeFeatureColumns) in
 * prediction_feature_batches, and each `predictions` row only its fixed values and where its features
 * are (feature_batch, feature_row). A 26-column row with its feature columns cost about twice the
 * writer's CPU of a narrow row (docs/performance.md). Rows written before keep their features in their
 * own columns (feature_batch NULL) and read as before.
 *
 * Readers select FEATURE_BATCH_COLUMNS after their own columns and pass the rows through a
 * FeatureFiller, which puts the batch's values where the feature columns' would be.
 */
import type Database from 'better-sqlite3';
import { Dictionary } from '../prediction-columns-builder.js';
import type { PredictionRows } from '../prediction-store.js';
import { READ_FIRST_FEATURE, type StoreLayout } from '../store-layout.js';
import { decodeFeatureColumns, type FeatureColumns } from './column-block.js';
import { packedFeatureSlots } from './packed-run.js';

/** Selected after a read's own columns: the row's batch (NULL: features in its columns) and position. */
export const FEATURE_BATCH_COLUMNS = ['feature_batch', 'feature_row'] as const;

/**
 * The registered features (numeric, then categorical, in registration order; missing for those the
 * model lacks) of `rows`, straight from the packed values.
 */
export function featureColumns(layout: StoreLayout, rows: PredictionRows): FeatureColumns {
  const n = rows.count;
  const { numberWidth, textWidth } = layout.rows;
  const { numbers, texts } = rows;
  const slots = packedFeatureSlots(layout);
  if (!slots) throw new TypeError('a registered feature and the row it is packed from differ in kind');
  const numeric = Array.from(slots.numeric, (slot) => {
    const column = new Float64Array(n);
    // Packed numbers hold NaN for a missing value already.
    if (slot < 0) column.fill(Number.NaN);
    else for (let r = 0, at = slot; r < n; r++, at += numberWidth) column[r] = numbers[at]!;
    return column;
  });
  const dictionaries: string[][] = [];
  const categorical = Array.from(slots.categorical, (slot) => {
    const column = new Int32Array(n);
    const dictionary = new Dictionary();
    if (slot < 0) column.fill(-1);
    else for (let r = 0, at = slot; r < n; r++, at += textWidth) column[r] = dictionary.code(texts[at]);
    dictionaries.push(dictionary.values);
    return column;
  });
  return { rowCount: n, numeric, categorical, dictionaries };
}

/**
 * Batches decoded and kept per read: readPredictions pages go through a whole store in key order, which
 * is nearly insertion order, so a few recent batches serve nearly every row; a bound keeps a long read
 * from holding every batch it passed.
 */
const CACHED_BATCHES = 64;

/** Fills, in place, the features of rows whose batch column (at `at`) is set, from their batch. */
export type FeatureFiller = (rows: readonly unknown[][], at: number) => void;

/**
 * A filler for one read (or one seal) in `layout` on `db`: each batch is read and decoded once while
 * it stays among the CACHED_BATCHES used last, never per row.
 */
export function featureFiller(db: Database.Database, layout: StoreLayout): FeatureFiller {
  let select:
    | Database.Statement<
        [number],
        [rowCount: number, numeric: number, categorical: number, data: Buffer, dictionaries: string]
      >
    | undefined;
  const cache = new Map<number, FeatureColumns>();
  const batch = (id: number): FeatureColumns => {
    let columns = cache.get(id);
    if (columns) {
      // Most recently used last, so the oldest is dropped first.
      cache.delete(id);
      cache.set(id, columns);
      return columns;
    }
    select ??= db
      .prepare<[number], [number, number, number, Buffer, string]>(
        `SELECT row_count, numeric_columns, categorical_columns, data, dictionaries
         FROM prediction_feature_batches WHERE id = ?`,
      )
      .raw();
    const stored = select.get(id);
    if (!stored) throw new Error(`feature batch ${id} is missing; the store is inconsistent`);
    const [rowCount, numeric, categorical, data, dictionaries] = stored;
    columns = decodeFeatureColumns(rowCount, { numeric, categorical }, data, dictionaries, layout);
    if (cache.size >= CACHED_BATCHES) cache.delete(cache.keys().next().value!);
    cache.set(id, columns);
    return columns;
  };
  const numericCount = layout.numeric.length;
  const categoricalCount = layout.categorical.length;
  return (rows, at) => {
    for (const row of rows) {
      const id = row[at];
      if (id === null) continue;
      const columns = batch(id as number);
      const r = row[at + 1] as number;
      if (!(r >= 0 && r < columns.rowCount))
        throw new RangeError(`prediction ${row[layout.readId]}: feature row ${r} is outside batch ${id}`);
      let to = READ_FIRST_FEATURE;
      for (let f = 0; f < numericCount; f++, to++) {
        const value = columns.numeric[f]![r]!;
        row[to] = Number.isNaN(value) ? null : value;
      }
      for (let g = 0; g < categoricalCount; g++, to++) {
        const code = columns.categorical[g]![r]!;
        row[to] = code < 0 ? null : columns.dictionaries[g]![code]!;
      }
    }
  };
}
