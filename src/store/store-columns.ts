/**
 * How a prediction is packed for writing, shared by both backends: records become PredictionRows in a
 * store's RowLayout (row-layout.ts: the model's features). Which SQL column a feature is stored in is
 * the database's business (store-layout.ts, feature-registry.ts).
 */
import type { FeatureValue } from '../data/feature-types.js';
import type { RecordColumns } from '../data/record-columns.js';
import type { PredictionRecord, PredictionRows, ScoredPrediction } from './prediction-store.js';
import {
  CREATED_AT_SLOT,
  EXPRESSO_ROWS,
  FIRST_FEATURE_SLOT,
  ID_SLOT,
  MODEL_VERSION_SLOT,
  PREDICTED_CLASS_SLOT,
  type RowLayout,
  SCORE_SLOT,
  USER_ID_SLOT,
} from './row-layout.js';

export { EXPRESSO_FEATURES, EXPRESSO_ROWS, type RowLayout, rowLayout } from './row-layout.js';

/** A numeric feature's value as stored: null when missing; text parsed, refused when it is no number. */
function storedNumber(value: FeatureValue, id: string, feature: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isNaN(value) ? null : value;
  const parsed = value.trim() === '' ? Number.NaN : Number(value);
  if (Number.isNaN(parsed)) {
    throw new TypeError(`prediction ${id}: feature ${feature} must be a number or null, got "${value}"`);
  }
  return parsed;
}

function storedText(value: FeatureValue): string | null {
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

/** One insert value: a number, a text, or null. */
export type InsertValue = string | number | null;

/**
 * PredictionRows for `records` with their fixed values written (the features left to the caller),
 * validated: a bad record throws and nothing is returned.
 */
function fixedRows(
  records: readonly ScoredPrediction[],
  layout: RowLayout,
): { count: number; numbers: Float64Array; texts: (string | null)[] } {
  const { numberWidth, textWidth } = layout;
  const numbers = new Float64Array(records.length * numberWidth);
  const texts: (string | null)[] = new Array(records.length * textWidth);
  for (let r = 0; r < records.length; r++) {
    const record = records[r]!;
    if (typeof record.id !== 'string' || record.id === '')
      throw new TypeError('prediction id must be a non-empty string');
    if (!Number.isFinite(record.createdAt))
      throw new TypeError(`prediction ${record.id}: createdAt must be finite`);
    if (!Number.isFinite(record.score)) throw new TypeError(`prediction ${record.id}: score must be finite`);
    if (record.predictedClass !== 0 && record.predictedClass !== 1) {
      throw new TypeError(`prediction ${record.id}: predictedClass must be 0 or 1`);
    }
    const n = r * numberWidth;
    const t = r * textWidth;
    texts[t + ID_SLOT] = record.id;
    texts[t + USER_ID_SLOT] = record.userId ?? null;
    texts[t + MODEL_VERSION_SLOT] = record.modelVersion;
    numbers[n + CREATED_AT_SLOT] = record.createdAt;
    numbers[n + SCORE_SLOT] = record.score;
    numbers[n + PREDICTED_CLASS_SLOT] = record.predictedClass;
  }
  return { count: records.length, numbers, texts };
}

/** Records as PredictionRows in `layout`, validated: a bad record throws and nothing is returned. */
export function toPredictionRows(
  records: readonly PredictionRecord[],
  layout: RowLayout = EXPRESSO_ROWS,
): PredictionRows {
  const { numberWidth, textWidth, numericNames, categoricalNames } = layout;
  const rows = fixedRows(records, layout);
  const { numbers, texts } = rows;
  for (let r = 0; r < records.length; r++) {
    const { id, features } = records[r]!;
    const n = r * numberWidth + FIRST_FEATURE_SLOT;
    const t = r * textWidth + FIRST_FEATURE_SLOT;
    for (let f = 0; f < numericNames.length; f++)
      numbers[n + f] = storedNumber(features[numericNames[f]!], id, numericNames[f]!) ?? Number.NaN;
    for (let f = 0; f < categoricalNames.length; f++)
      texts[t + f] = storedText(features[categoricalNames[f]!]);
  }
  return rows;
}

/**
 * toPredictionRows of the records whose features `columns` holds (row r of the columns is records[r]),
 * value for value, read a column at a time.
 */
export function columnsToPredictionRows(
  records: readonly ScoredPrediction[],
  columns: RecordColumns,
  layout: RowLayout = EXPRESSO_ROWS,
): PredictionRows {
  const { numberWidth, textWidth, numericNames, categoricalNames } = layout;
  const { table, offType } = columns;
  if (table.rowCount !== records.length)
    throw new RangeError(`${records.length} predictions given with columns of ${table.rowCount} rows`);
  const rows = fixedRows(records, layout);
  const { numbers, texts } = rows;
  const count = records.length;
  for (let f = 0; f < numericNames.length; f++) {
    const name = numericNames[f]!;
    const column = table.columns.get(name);
    const at = FIRST_FEATURE_SLOT + f;
    // The store's layout and the request's columns are both the model's schema: their kinds agree.
    // fixedRows left the feature slots 0: a feature the columns lack is missing.
    if (column?.kind !== 'numeric') {
      if (column)
        throw new TypeError(`feature ${name} is numeric in the store and categorical in the request`);
      for (let r = 0; r < count; r++) numbers[r * numberWidth + at] = Number.NaN;
      continue;
    }
    const values = column.values;
    for (let r = 0; r < count; r++) numbers[r * numberWidth + at] = values[r]!;
    // Text given for a number is parsed by the store's rule, not the scorers' (or refused).
    for (const [r, raw] of offType.get(name) ?? [])
      numbers[r * numberWidth + at] = storedNumber(raw, records[r]!.id, name) ?? Number.NaN;
  }
  for (let f = 0; f < categoricalNames.length; f++) {
    const name = categoricalNames[f]!;
    const column = table.columns.get(name);
    const at = FIRST_FEATURE_SLOT + f;
    if (column?.kind !== 'categorical') {
      if (column)
        throw new TypeError(`feature ${name} is categorical in the store and numeric in the request`);
      for (let r = 0; r < count; r++) texts[r * textWidth + at] = null;
      continue;
    }
    const { codes, dictionary } = column;
    for (let r = 0; r < count; r++) {
      const code = codes[r]!;
      texts[r * textWidth + at] = code < 0 ? null : dictionary[code]!;
    }
  }
  return rows;
}

/** Insert value `c` (layout.names order) of row `r`. */
export function insertValue(layout: RowLayout, rows: PredictionRows, r: number, c: number): InsertValue {
  if (layout.slotText[c] === 1) return rows.texts[r * layout.textWidth + layout.slotAt[c]!] ?? null;
  const value = rows.numbers[r * layout.numberWidth + layout.slotAt[c]!]!;
  return Number.isNaN(value) ? null : value;
}

/** Rows [from, to) as their own PredictionRows (the numbers are copied). */
export function sliceRows(
  rows: PredictionRows,
  from: number,
  to: number,
  layout: RowLayout = EXPRESSO_ROWS,
): PredictionRows {
  const { numberWidth, textWidth } = layout;
  return {
    count: to - from,
    numbers: rows.numbers.slice(from * numberWidth, to * numberWidth),
    texts: rows.texts.slice(from * textWidth, to * textWidth),
  };
}

/** Several PredictionRows as one, in order (their layout does not matter: they are appended whole). */
export function concatRows(parts: readonly PredictionRows[]): PredictionRows {
  if (parts.length === 1) return parts[0]!;
  let count = 0;
  let numberCount = 0;
  let textCount = 0;
  for (const part of parts) {
    count += part.count;
    numberCount += part.numbers.length;
    textCount += part.texts.length;
  }
  const numbers = new Float64Array(numberCount);
  // Sized once: pushing tens of thousands of texts one by one grew the array a dozen times.
  const texts: (string | null)[] = new Array(textCount);
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

/** One record as its insert values in `layout.names` order, validated (for tests writing rows by hand). */
export function insertParameters(record: PredictionRecord, layout: RowLayout = EXPRESSO_ROWS): InsertValue[] {
  const rows = toPredictionRows([record], layout);
  return layout.names.map((_, c) => insertValue(layout, rows, 0, c));
}
