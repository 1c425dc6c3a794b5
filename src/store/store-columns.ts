/**
 * How a prediction maps onto table columns, shared by both backends: one column per feature (lower-case
 * canonical name, numeric REAL/DOUBLE or TEXT) rather than a JSON blob, because the monitor reads
 * millions of rows back and must not parse a document per row.
 */
import { FEATURES, type FeatureName } from '../data/customer-schema.js';
import type { PredictionRecord } from './prediction-store.js';

export interface FeatureColumnSpec {
  readonly feature: FeatureName;
  readonly column: string;
  readonly kind: 'numeric' | 'categorical';
}

/** Numeric features first, then categorical ones, each in file order: the layout of every row we read. */
export const FEATURE_COLUMNS: readonly FeatureColumnSpec[] = [
  ...FEATURES.filter((f) => f.kind === 'numeric'),
  ...FEATURES.filter((f) => f.kind === 'categorical'),
].map((f) => ({ feature: f.name, column: f.name.toLowerCase(), kind: f.kind }));

export const NUMERIC_FEATURE_COLUMNS = FEATURE_COLUMNS.filter((c) => c.kind === 'numeric');
export const CATEGORICAL_FEATURE_COLUMNS = FEATURE_COLUMNS.filter((c) => c.kind === 'categorical');

/** Columns written by insertPredictions, in parameter order. */
export const INSERT_COLUMNS: readonly string[] = [
  'id',
  'created_at',
  'user_id',
  'model_version',
  'score',
  'predicted_class',
  ...FEATURE_COLUMNS.map((c) => c.column),
];

/**
 * Columns read back, in row order. Positions are fixed so readers can use array rows (`.raw()`,
 * `rowMode: 'array'`) without per-row objects. The keyset columns (created_at, id) are included.
 */
export const READ_COLUMNS: readonly string[] = [
  'created_at',
  'score',
  'predicted_class',
  'label',
  'label_observed_at',
  'model_version',
  ...FEATURE_COLUMNS.map((c) => c.column),
  'id',
  'user_id',
];
export const READ_FIRST_FEATURE = 6;
export const READ_ID = READ_FIRST_FEATURE + FEATURE_COLUMNS.length;
export const READ_USER_ID = READ_ID + 1;

function numericValue(record: PredictionRecord, feature: FeatureName): number | null {
  const value = record.features[feature];
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isNaN(value) ? null : value;
  const parsed = value.trim() === '' ? Number.NaN : Number(value);
  if (Number.isNaN(parsed)) {
    throw new TypeError(
      `prediction ${record.id}: feature ${feature} must be a number or null, got "${value}"`,
    );
  }
  return parsed;
}

function categoricalValue(record: PredictionRecord, feature: FeatureName): string | null {
  const value = record.features[feature];
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : String(value);
}

/**
 * A 53-bit hash of a customer id (two 32-bit FNV-1a-style lanes over UTF-16 code units), exact in a
 * double and so in a SQLite INTEGER. Used only as an index key: equal ids give equal keys; lookups
 * still compare the id itself.
 */
export function userKey(userId: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < userId.length; i++) {
    const c = userId.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) >>> 11);
}

/** A prediction as its INSERT_COLUMNS parameters: what the batched writer queues and stores write. */
export type InsertRow = (string | number | null)[];

/** One record as the INSERT_COLUMNS parameter list, validated. */
export function insertParameters(record: PredictionRecord): InsertRow {
  if (typeof record.id !== 'string' || record.id === '')
    throw new TypeError('prediction id must be a non-empty string');
  if (!Number.isFinite(record.createdAt))
    throw new TypeError(`prediction ${record.id}: createdAt must be finite`);
  if (!Number.isFinite(record.score)) throw new TypeError(`prediction ${record.id}: score must be finite`);
  if (record.predictedClass !== 0 && record.predictedClass !== 1) {
    throw new TypeError(`prediction ${record.id}: predictedClass must be 0 or 1`);
  }
  const row: InsertRow = [
    record.id,
    record.createdAt,
    record.userId ?? null,
    record.modelVersion,
    record.score,
    record.predictedClass,
  ];
  for (const c of FEATURE_COLUMNS) {
    row.push(c.kind === 'numeric' ? numericValue(record, c.feature) : categoricalValue(record, c.feature));
  }
  return row;
}
