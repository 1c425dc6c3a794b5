/**
 * How a prediction maps onto table columns, shared by both backends: one column per feature (lower-case
 * canonical name, numeric REAL/DOUBLE or TEXT) rather than a JSON blob, because the monitor reads
 * millions of rows back and must not parse a document per row.
 */
import { FEATURES, type FeatureName } from '../data/customer-schema.js';
import type { PredictionRecord, PredictionRows } from './prediction-store.js';

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

/** Columns written by insertRows, in parameter order. */
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

/** Positions in a READ_COLUMNS row. */
export const READ_CREATED_AT = READ_COLUMNS.indexOf('created_at');
export const READ_SCORE = READ_COLUMNS.indexOf('score');
export const READ_PREDICTED_CLASS = READ_COLUMNS.indexOf('predicted_class');
export const READ_LABEL = READ_COLUMNS.indexOf('label');
export const READ_LABEL_OBSERVED_AT = READ_COLUMNS.indexOf('label_observed_at');
export const READ_MODEL_VERSION = READ_COLUMNS.indexOf('model_version');
/** The first feature; the features follow in FEATURE_COLUMNS order. */
export const READ_FIRST_FEATURE = READ_MODEL_VERSION + 1;
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

/** One INSERT_COLUMNS parameter: a number, a text, or null. */
export type InsertValue = string | number | null;

/** Where each INSERT_COLUMNS value lives in PredictionRows: its array and its place in a row. */
const INSERT_SLOTS: readonly { readonly text: boolean; readonly at: number }[] = (() => {
  let numbers = 0;
  let texts = 0;
  return INSERT_COLUMNS.map((column) => {
    const spec = FEATURE_COLUMNS.find((c) => c.column === column);
    const text = spec ? spec.kind === 'categorical' : ['id', 'user_id', 'model_version'].includes(column);
    return { text, at: text ? texts++ : numbers++ };
  });
})();
const slotOf = (column: string) => INSERT_SLOTS[INSERT_COLUMNS.indexOf(column)]!.at;
const ID_SLOT = slotOf('id');
const USER_ID_SLOT = slotOf('user_id');
const MODEL_VERSION_SLOT = slotOf('model_version');
const CREATED_AT_SLOT = slotOf('created_at');
const SCORE_SLOT = slotOf('score');
const PREDICTED_CLASS_SLOT = slotOf('predicted_class');
const FEATURE_SLOTS = FEATURE_COLUMNS.map((c) => slotOf(c.column));
const NUMBER_WIDTH = INSERT_SLOTS.filter((slot) => !slot.text).length;
const TEXT_WIDTH = INSERT_SLOTS.length - NUMBER_WIDTH;

/** Records as PredictionRows, validated: a bad record throws and nothing is returned. */
export function toPredictionRows(records: readonly PredictionRecord[]): PredictionRows {
  const numbers = new Float64Array(records.length * NUMBER_WIDTH);
  const texts: (string | null)[] = new Array(records.length * TEXT_WIDTH);
  records.forEach((record, r) => {
    if (typeof record.id !== 'string' || record.id === '')
      throw new TypeError('prediction id must be a non-empty string');
    if (!Number.isFinite(record.createdAt))
      throw new TypeError(`prediction ${record.id}: createdAt must be finite`);
    if (!Number.isFinite(record.score)) throw new TypeError(`prediction ${record.id}: score must be finite`);
    if (record.predictedClass !== 0 && record.predictedClass !== 1) {
      throw new TypeError(`prediction ${record.id}: predictedClass must be 0 or 1`);
    }
    const n = r * NUMBER_WIDTH;
    const t = r * TEXT_WIDTH;
    texts[t + ID_SLOT] = record.id;
    texts[t + USER_ID_SLOT] = record.userId ?? null;
    texts[t + MODEL_VERSION_SLOT] = record.modelVersion;
    numbers[n + CREATED_AT_SLOT] = record.createdAt;
    numbers[n + SCORE_SLOT] = record.score;
    numbers[n + PREDICTED_CLASS_SLOT] = record.predictedClass;
    for (let f = 0; f < FEATURE_COLUMNS.length; f++) {
      const c = FEATURE_COLUMNS[f]!;
      if (c.kind === 'numeric')
        numbers[n + FEATURE_SLOTS[f]!] = numericValue(record, c.feature) ?? Number.NaN;
      else texts[t + FEATURE_SLOTS[f]!] = categoricalValue(record, c.feature);
    }
  });
  return { count: records.length, numbers, texts };
}

/** The INSERT_COLUMNS parameter `c` of row `r`. */
export function insertValue(rows: PredictionRows, r: number, c: number): InsertValue {
  const slot = INSERT_SLOTS[c]!;
  if (slot.text) return rows.texts[r * TEXT_WIDTH + slot.at] ?? null;
  const value = rows.numbers[r * NUMBER_WIDTH + slot.at]!;
  return Number.isNaN(value) ? null : value;
}

/** Rows [from, to) as their own PredictionRows (the numbers are copied). */
export function sliceRows(rows: PredictionRows, from: number, to: number): PredictionRows {
  return {
    count: to - from,
    numbers: rows.numbers.slice(from * NUMBER_WIDTH, to * NUMBER_WIDTH),
    texts: rows.texts.slice(from * TEXT_WIDTH, to * TEXT_WIDTH),
  };
}

/** Several PredictionRows as one, in order. */
export function concatRows(parts: readonly PredictionRows[]): PredictionRows {
  if (parts.length === 1) return parts[0]!;
  let count = 0;
  for (const part of parts) count += part.count;
  const numbers = new Float64Array(count * NUMBER_WIDTH);
  // Sized once: pushing tens of thousands of texts one by one grew the array a dozen times.
  const texts: (string | null)[] = new Array(count * TEXT_WIDTH);
  let at = 0;
  let t = 0;
  for (const part of parts) {
    numbers.set(part.numbers, at);
    at += part.numbers.length;
    const partTexts = part.texts;
    for (let i = 0; i < partTexts.length; i++) texts[t++] = partTexts[i]!;
  }
  return { count, numbers, texts };
}

/** One record as its INSERT_COLUMNS parameter list, validated (for tests writing rows by hand). */
export function insertParameters(record: PredictionRecord): InsertValue[] {
  const rows = toPredictionRows([record]);
  return INSERT_COLUMNS.map((_, c) => insertValue(rows, 0, c));
}
