/**
 * A column block: up to a few thousand predictions in (created_at, id) order, stored as one BLOB of
 * typed arrays so readColumns copies memory instead of asking SQLite for every value. better-sqlite3
 * costs about a microsecond per row handed to JS (2M rows of one column: ~2.8 s measured), so a
 * row-by-row read of 22 columns cannot meet the 3 s goal for 2M predictions; a block costs one
 * memcpy per column.
 *
 * The predictions table stays the source of truth (readPredictions, feedback joins); a block is a
 * read copy written when its rows are sealed. Labels change after sealing, so they live in their own
 * small BLOB (patched in the join's transaction) rather than in the large, immutable data BLOB.
 *
 * Data BLOB layout, native byte order: 15 Float64 columns (created_at, score, 13 numeric features),
 * 5 Int32 code columns (model_version, 4 categorical features; -1 = missing), 1 Uint8 column
 * (predicted_class). Labels BLOB: Float64 label_observed_at (NaN = none), Int8 label (-1 = none).
 */
import { Dictionary } from '../prediction-columns-builder.js';
import {
  CATEGORICAL_FEATURE_COLUMNS,
  NUMERIC_FEATURE_COLUMNS,
  READ_COLUMNS,
  READ_CREATED_AT,
  READ_FIRST_FEATURE,
  READ_ID,
  READ_LABEL,
  READ_LABEL_OBSERVED_AT,
  READ_MODEL_VERSION,
  READ_PREDICTED_CLASS,
  READ_SCORE,
} from '../store-columns.js';

/** Positions of the Float64 columns: created_at, score, then the numeric features. */
export const F64_CREATED_AT = 0;
export const F64_SCORE = 1;
export const F64_FIRST_FEATURE = 2;
export const F64_COLUMNS = F64_FIRST_FEATURE + NUMERIC_FEATURE_COLUMNS.length;
/** Positions of the Int32 code columns: model_version, then the categorical features. */
export const CODE_MODEL_VERSION = 0;
export const CODE_FIRST_FEATURE = 1;
export const CODE_COLUMNS = CODE_FIRST_FEATURE + CATEGORICAL_FEATURE_COLUMNS.length;
/** Bytes per row of a labels BLOB: a Float64 observed-at time and an Int8 label. */
export const LABEL_BYTES_PER_ROW = 9;

/** The columns of the array rows runFromRows takes: READ_COLUMNS up to and including the id. */
export const RUN_ROW_COLUMNS: readonly string[] = READ_COLUMNS.slice(0, READ_ID + 1);

/** One sorted run of predictions in columns, from a block or from not-yet-sealed rows. */
export interface ColumnRun {
  readonly rowCount: number;
  /** F64_COLUMNS arrays: [createdAt, score, ...numeric features]; NaN = missing. */
  readonly f64: readonly Float64Array[];
  /** CODE_COLUMNS arrays: [modelVersion, ...categorical features], codes into `dictionaries`. */
  readonly codes: readonly Int32Array[];
  readonly dictionaries: readonly (readonly string[])[];
  readonly predictedClass: Uint8Array;
  readonly label: Int8Array;
  readonly labelObservedAt: Float64Array;
  /**
   * The prediction id of row i. Blocks keep their first and last ids at hand and load the rest only
   * when keys tie across runs or at a range boundary.
   */
  id(i: number): string;
  ids(): readonly string[];
}

/** What a block row in SQLite holds besides its id. */
export interface StoredBlock {
  readonly data: Uint8Array;
  readonly labels: Uint8Array;
  /** JSON: one dictionary per code column. */
  readonly dictionaries: string;
  /** JSON: the prediction ids in row order. */
  readonly ids: string;
}

/** Array rows in RUN_ROW_COLUMNS layout, already in (created_at, id) order, as a run. */
export function runFromRows(rows: readonly (readonly unknown[])[]): ColumnRun {
  const n = rows.length;
  const f64 = Array.from({ length: F64_COLUMNS }, () => new Float64Array(n));
  const codes = Array.from({ length: CODE_COLUMNS }, () => new Int32Array(n));
  const dictionaries = Array.from({ length: CODE_COLUMNS }, () => new Dictionary());
  const predictedClass = new Uint8Array(n);
  const label = new Int8Array(n);
  const labelObservedAt = new Float64Array(n);
  const ids: string[] = new Array(n);
  const numeric = NUMERIC_FEATURE_COLUMNS.length;
  rows.forEach((row, i) => {
    f64[F64_CREATED_AT]![i] = row[READ_CREATED_AT] as number;
    f64[F64_SCORE]![i] = row[READ_SCORE] as number;
    predictedClass[i] = row[READ_PREDICTED_CLASS] as number;
    const rowLabel = row[READ_LABEL];
    label[i] = rowLabel === null ? -1 : (rowLabel as number);
    const observedAt = row[READ_LABEL_OBSERVED_AT];
    labelObservedAt[i] = observedAt === null ? Number.NaN : (observedAt as number);
    codes[CODE_MODEL_VERSION]![i] = dictionaries[CODE_MODEL_VERSION]!.code(row[READ_MODEL_VERSION]);
    for (let f = 0; f < numeric; f++) {
      const v = row[READ_FIRST_FEATURE + f];
      f64[F64_FIRST_FEATURE + f]![i] = v === null ? Number.NaN : (v as number);
    }
    for (let f = CODE_FIRST_FEATURE; f < CODE_COLUMNS; f++) {
      codes[f]![i] = dictionaries[f]!.code(row[READ_FIRST_FEATURE + numeric + f - CODE_FIRST_FEATURE]);
    }
    ids[i] = row[READ_ID] as string;
  });
  return {
    rowCount: n,
    f64,
    codes,
    dictionaries: dictionaries.map((d) => d.values),
    predictedClass,
    label,
    labelObservedAt,
    id: (i) => ids[i]!,
    ids: () => ids,
  };
}

function dataBytes(n: number): number {
  return n * (F64_COLUMNS * 8 + CODE_COLUMNS * 4 + 1);
}

/** The labels BLOB of a run: observed-at times then labels. */
export function encodeLabels(label: Int8Array, labelObservedAt: Float64Array): Uint8Array {
  const n = label.length;
  const out = new Uint8Array(n * LABEL_BYTES_PER_ROW);
  out.set(new Uint8Array(labelObservedAt.buffer, labelObservedAt.byteOffset, n * 8), 0);
  out.set(new Uint8Array(label.buffer, label.byteOffset, n), n * 8);
  return out;
}

/**
 * A BLOB read back from SQLite as an ArrayBuffer and offset where Float64 views fit: used in place
 * when it starts 8-byte aligned and owns its memory (large Buffers do), else copied once.
 */
function aligned(bytes: Uint8Array): { buffer: ArrayBuffer; offset: number } {
  if (bytes.byteOffset % 8 === 0 && bytes.buffer instanceof ArrayBuffer) {
    return { buffer: bytes.buffer, offset: bytes.byteOffset };
  }
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return { buffer: copy.buffer, offset: 0 };
}

export function decodeLabels(
  bytes: Uint8Array,
  n: number,
): { label: Int8Array; labelObservedAt: Float64Array } {
  if (bytes.length !== n * LABEL_BYTES_PER_ROW)
    throw new RangeError(`block labels hold ${bytes.length} bytes, expected ${n * LABEL_BYTES_PER_ROW}`);
  const { buffer, offset } = aligned(bytes);
  return {
    labelObservedAt: new Float64Array(buffer, offset, n),
    label: new Int8Array(buffer, offset + n * 8, n),
  };
}

export function encodeBlock(run: ColumnRun): StoredBlock {
  const n = run.rowCount;
  const data = new Uint8Array(dataBytes(n));
  let at = 0;
  for (const column of run.f64) {
    data.set(new Uint8Array(column.buffer, column.byteOffset, n * 8), at);
    at += n * 8;
  }
  for (const column of run.codes) {
    data.set(new Uint8Array(column.buffer, column.byteOffset, n * 4), at);
    at += n * 4;
  }
  data.set(run.predictedClass.subarray(0, n), at);
  return {
    data,
    labels: encodeLabels(run.label, run.labelObservedAt),
    dictionaries: JSON.stringify(run.dictionaries),
    ids: JSON.stringify(run.ids()),
  };
}

/** A stored block as a run; `loadIds` fetches the ids (a separate column) only when asked. */
export function decodeBlock(
  n: number,
  block: Omit<StoredBlock, 'ids'> & { readonly firstId: string; readonly lastId: string },
  loadIds: () => string,
): ColumnRun {
  if (block.data.length !== dataBytes(n)) {
    throw new RangeError(`block data holds ${block.data.length} bytes, expected ${dataBytes(n)}`);
  }
  const { buffer, offset } = aligned(block.data);
  let at = offset;
  const f64: Float64Array[] = [];
  for (let c = 0; c < F64_COLUMNS; c++, at += n * 8) f64.push(new Float64Array(buffer, at, n));
  const codes: Int32Array[] = [];
  for (let c = 0; c < CODE_COLUMNS; c++, at += n * 4) codes.push(new Int32Array(buffer, at, n));
  const predictedClass = new Uint8Array(buffer, at, n);
  const dictionaries = JSON.parse(block.dictionaries) as string[][];
  if (dictionaries.length !== CODE_COLUMNS)
    throw new RangeError('block dictionaries do not match its columns');
  let ids: string[] | undefined;
  const allIds = (): string[] => {
    ids ??= JSON.parse(loadIds()) as string[];
    if (ids.length !== n) throw new RangeError(`block ids hold ${ids.length} ids, expected ${n}`);
    return ids;
  };
  return {
    rowCount: n,
    f64,
    codes,
    dictionaries,
    predictedClass,
    ...decodeLabels(block.labels, n),
    id: (i) => (i === 0 && !ids ? block.firstId : i === n - 1 && !ids ? block.lastId : allIds()[i]!),
    ids: allIds,
  };
}
