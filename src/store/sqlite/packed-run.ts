/**
 * A block's run straight from the packed rows it was inserted from (the unsealed tail's normal case),
 * without a seal row (a 28-value array) per prediction: the values are copied into columns in rowid
 * order, the rows are sorted by (created_at, id) as an index permutation over those columns, and the
 * columns are permuted once. Codes are assigned in key order, so the block holds exactly what
 * runFromRows makes of the same rows as seal rows (tested).
 */
import type { PredictionRows } from '../prediction-store.js';
import {
  CREATED_AT_SLOT,
  ID_SLOT,
  MODEL_VERSION_SLOT,
  PREDICTED_CLASS_SLOT,
  SCORE_SLOT,
} from '../row-layout.js';
import { READ_FIRST_FEATURE, type StoreLayout } from '../store-layout.js';
import { compareIds } from './assemble-columns.js';
import {
  builtRun,
  CODE_FIRST_FEATURE,
  CODE_MODEL_VERSION,
  type ColumnRun,
  F64_CREATED_AT,
  F64_FIRST_FEATURE,
  F64_SCORE,
  runBuilder,
} from './column-block.js';

/** Rows of one insert, as the tail keeps them: packed in the store's row layout, with their user keys. */
export interface PackedRows {
  readonly layout: StoreLayout;
  readonly rows: PredictionRows;
  /** User key of row k (NaN: no user id). */
  readonly keys: Float64Array;
  /** Rowid of row 0; row k has firstRowid + k. */
  readonly firstRowid: number;
}

/** Rows [from, from + count) of a packed part. */
export interface PackedSegment {
  readonly packed: PackedRows;
  readonly from: number;
  readonly count: number;
}

/** A block's rows in key order, with what the user index and the block row need besides the run. */
export interface SortedPackedRun {
  readonly run: ColumnRun;
  /** Per sorted row: its rowid and its user key (null: no user id). */
  readonly rowids: Float64Array;
  readonly keys: readonly (number | null)[];
  /** Sorted position of the i-th row in rowid order, or null when sorting moved no row. */
  readonly rowOrder: Int32Array | null;
}

/**
 * Where each read feature of `layout` sits in packed rows: for the numeric features their slot in the
 * numbers, for the categorical ones in the texts; -1 for a registered feature the rows lack (missing).
 * Undefined when a feature's kind and its slot disagree (never for a layout the store made).
 */
export function packedFeatureSlots(
  layout: StoreLayout,
): { numeric: Int32Array; categorical: Int32Array } | undefined {
  const { slotText, slotAt } = layout.rows;
  const slots = (count: number, first: number, text: number) => {
    const out = new Int32Array(count);
    for (let f = 0; f < count; f++) {
      const from = layout.readFromInsert[READ_FIRST_FEATURE + first + f]!;
      if (from >= 0 && slotText[from] !== text) return undefined;
      out[f] = from < 0 ? -1 : slotAt[from]!;
    }
    return out;
  };
  const numeric = slots(layout.numeric.length, 0, 0);
  const categorical = slots(layout.categorical.length, layout.numeric.length, 1);
  return numeric && categorical ? { numeric, categorical } : undefined;
}

/**
 * The run of `segments` (consecutive rowids, in order, all in `layout`) sorted by (created_at, id).
 * `label(i)` gives row i's label and observed time (rowid order), or undefined when it has none.
 * Undefined when the rows cannot be read this way (see featureSlots).
 */
export function sortedRunFromPacked(
  segments: readonly PackedSegment[],
  layout: StoreLayout,
  labels: ReadonlyMap<number, readonly [label: number, observedAt: number | null]>,
): SortedPackedRun | undefined {
  if (segments.some((s) => s.packed.layout !== layout)) return undefined;
  const slots = packedFeatureSlots(layout);
  if (!slots) return undefined;
  let n = 0;
  for (const s of segments) n += s.count;
  const numericCount = layout.numeric.length;
  const categoricalCount = layout.categorical.length;
  const { numberWidth, textWidth } = layout.rows;

  // Rowid order first: the fixed values, ids and keys gathered from each part.
  const createdAt = new Float64Array(n);
  const ids: string[] = new Array(n);
  const rowidOf = new Float64Array(n);
  let i = 0;
  for (const { packed, from, count } of segments) {
    const { numbers, texts } = packed.rows;
    for (let k = from; k < from + count; k++, i++) {
      createdAt[i] = numbers[k * numberWidth + CREATED_AT_SLOT]!;
      ids[i] = texts[k * textWidth + ID_SLOT]!;
      rowidOf[i] = packed.firstRowid + k;
    }
  }
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[k] = k;
  let moved = false;
  for (let k = 1; k < n && !moved; k++)
    moved =
      createdAt[k]! < createdAt[k - 1]! ||
      (createdAt[k] === createdAt[k - 1] && compareIds(ids[k]!, ids[k - 1]!) < 0);
  if (moved) order.sort((a, b) => createdAt[a]! - createdAt[b]! || compareIds(ids[a]!, ids[b]!));

  // Where each rowid-order row comes from: its part's arrays and its row in them.
  const partOf: PackedRows[] = new Array(n);
  const rowIn = new Int32Array(n);
  i = 0;
  for (const { packed, from, count } of segments) {
    for (let k = from; k < from + count; k++, i++) {
      partOf[i] = packed;
      rowIn[i] = k;
    }
  }

  const b = runBuilder(layout, n);
  const { f64, codes, dictionaries, predictedClass, label, labelObservedAt, ids: sortedIds } = b;
  const rowids = new Float64Array(n);
  const keys: (number | null)[] = new Array(n);
  const rowOrder = moved ? new Int32Array(n) : null;
  const firstRowid = rowidOf[0]!;
  for (let s = 0; s < n; s++) {
    const r = order[s]!;
    if (rowOrder) rowOrder[r] = s;
    const packed = partOf[r]!;
    const k = rowIn[r]!;
    const numbers = packed.rows.numbers;
    const texts = packed.rows.texts;
    const at = k * numberWidth;
    const t = k * textWidth;
    f64[F64_CREATED_AT]![s] = createdAt[r]!;
    f64[F64_SCORE]![s] = numbers[at + SCORE_SLOT]!;
    predictedClass[s] = numbers[at + PREDICTED_CLASS_SLOT]!;
    codes[CODE_MODEL_VERSION]![s] = dictionaries[CODE_MODEL_VERSION]!.code(texts[t + MODEL_VERSION_SLOT]);
    for (let f = 0; f < numericCount; f++) {
      const slot = slots.numeric[f]!;
      f64[F64_FIRST_FEATURE + f]![s] = slot < 0 ? Number.NaN : numbers[at + slot]!;
    }
    for (let f = 0; f < categoricalCount; f++) {
      const slot = slots.categorical[f]!;
      codes[CODE_FIRST_FEATURE + f]![s] = dictionaries[CODE_FIRST_FEATURE + f]!.code(
        slot < 0 ? null : texts[t + slot],
      );
    }
    const rowid = rowidOf[r]!;
    const given = labels.get(rowid - firstRowid);
    if (given) {
      label[s] = given[0];
      labelObservedAt[s] = given[1] ?? Number.NaN;
    }
    sortedIds[s] = ids[r]!;
    rowids[s] = rowid;
    const key = packed.keys[k]!;
    keys[s] = Number.isNaN(key) ? null : key;
  }
  return {
    run: builtRun(b),
    rowids,
    keys,
    rowOrder,
  };
}
