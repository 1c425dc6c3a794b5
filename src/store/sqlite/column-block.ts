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
 * Data BLOB layout, native byte order, for a block of N numeric and C categorical feature columns (the
 * registered ones when it was sealed, recorded in prediction_blocks numeric_columns and
 * categorical_columns): 2 + N Float64 columns (created_at, score, the numeric features), 1 + C Int32
 * code columns (model_version, the categorical features; -1 = missing), 1 Uint8 column
 * (predicted_class). Labels BLOB: Float64 label_observed_at (NaN = none), Int8 label (-1 = none).
 * The registry is append-only, so a block's feature columns are the first N and C of the current ones;
 * a reader fills those registered later as missing (docs/store-format.md).
 */
import { Dictionary } from '../prediction-columns-builder.js';
import {
  READ_CREATED_AT,
  READ_FIRST_FEATURE,
  READ_LABEL,
  READ_LABEL_OBSERVED_AT,
  READ_MODEL_VERSION,
  READ_PREDICTED_CLASS,
  READ_SCORE,
  type StoreLayout,
} from '../store-layout.js';

/** Positions of the Float64 columns: created_at, score, then the numeric features. */
export const F64_CREATED_AT = 0;
export const F64_SCORE = 1;
export const F64_FIRST_FEATURE = 2;
/** Positions of the Int32 code columns: model_version, then the categorical features. */
export const CODE_MODEL_VERSION = 0;
export const CODE_FIRST_FEATURE = 1;
/** Bytes per row of a labels BLOB: a Float64 observed-at time and an Int8 label. */
export const LABEL_BYTES_PER_ROW = 9;

/** Float64 columns of a run in `layout`. */
export function f64Columns(layout: StoreLayout): number {
  return F64_FIRST_FEATURE + layout.numeric.length;
}
/** Int32 code columns of a run in `layout`. */
export function codeColumns(layout: StoreLayout): number {
  return CODE_FIRST_FEATURE + layout.categorical.length;
}

/** The columns of the read rows runFromRows takes: the read columns up to and including the id. */
export function runRowColumns(layout: StoreLayout): readonly string[] {
  return layout.readColumns.slice(0, layout.readId + 1);
}

/** One sorted run of predictions in columns, from a block or from not-yet-sealed rows. */
export interface ColumnRun {
  readonly rowCount: number;
  /** f64Columns arrays: [createdAt, score, ...numeric features]; NaN = missing. */
  readonly f64: readonly Float64Array[];
  /** codeColumns arrays: [modelVersion, ...categorical features], codes into `dictionaries`. */
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

/** A run's columns being filled: n rows of `layout`, labels empty, categories coded as they come. */
export interface RunBuilder {
  readonly f64: Float64Array[];
  readonly codes: Int32Array[];
  readonly dictionaries: Dictionary[];
  readonly predictedClass: Uint8Array;
  readonly label: Int8Array;
  readonly labelObservedAt: Float64Array;
  readonly ids: string[];
}

/** Empty columns for n rows of `layout` (no label: -1 and NaN). */
export function runBuilder(layout: StoreLayout, n: number): RunBuilder {
  const codeCount = codeColumns(layout);
  return {
    f64: Array.from({ length: f64Columns(layout) }, () => new Float64Array(n)),
    codes: Array.from({ length: codeCount }, () => new Int32Array(n)),
    dictionaries: Array.from({ length: codeCount }, () => new Dictionary()),
    predictedClass: new Uint8Array(n),
    label: new Int8Array(n).fill(-1),
    labelObservedAt: new Float64Array(n).fill(Number.NaN),
    ids: new Array(n),
  };
}

/** The run a builder's filled columns make. */
export function builtRun(b: RunBuilder): ColumnRun {
  const { ids } = b;
  return {
    rowCount: ids.length,
    f64: b.f64,
    codes: b.codes,
    dictionaries: b.dictionaries.map((d) => d.values),
    predictedClass: b.predictedClass,
    label: b.label,
    labelObservedAt: b.labelObservedAt,
    id: (i) => ids[i]!,
    ids: () => ids,
  };
}

/** Read rows (runRowColumns of `layout`), already in (created_at, id) order, as a run. */
export function runFromRows(rows: readonly (readonly unknown[])[], layout: StoreLayout): ColumnRun {
  const b = runBuilder(layout, rows.length);
  const { f64, codes, dictionaries, predictedClass, label, labelObservedAt, ids } = b;
  const codeCount = codes.length;
  const readId = layout.readId;
  const numeric = layout.numeric.length;
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
    for (let f = CODE_FIRST_FEATURE; f < codeCount; f++) {
      codes[f]![i] = dictionaries[f]!.code(row[READ_FIRST_FEATURE + numeric + f - CODE_FIRST_FEATURE]);
    }
    ids[i] = row[readId] as string;
  });
  return builtRun(b);
}

/** Bytes of the data BLOB of n rows with these numeric and categorical feature columns. */
function dataBytes(n: number, numeric: number, categorical: number): number {
  return n * ((F64_FIRST_FEATURE + numeric) * 8 + (CODE_FIRST_FEATURE + categorical) * 4 + 1);
}

/**
 * Copies n rows of each Float64 column, then of each Int32 column, into `out` from `at`, one column
 * after the other: the layout of a block's data and of a feature batch (feature-batches.ts). Returns
 * the offset after them.
 */
function packColumns(
  out: Uint8Array,
  at: number,
  f64: readonly Float64Array[],
  codes: readonly Int32Array[],
  n: number,
): number {
  for (const column of f64) {
    out.set(new Uint8Array(column.buffer, column.byteOffset, n * 8), at);
    at += n * 8;
  }
  for (const column of codes) {
    out.set(new Uint8Array(column.buffer, column.byteOffset, n * 4), at);
    at += n * 4;
  }
  return at;
}

/**
 * Views on what packColumns wrote (`stored` Float64 then Int32 columns of n rows from `at` in
 * `buffer`), without the first `skip` rows: the first `wanted` of each kind, those beyond the stored
 * ones as missing (NaN, -1). `end` is the offset after the stored columns.
 */
function viewColumns(
  buffer: ArrayBuffer,
  at: number,
  n: number,
  skip: number,
  stored: { readonly f64: number; readonly codes: number },
  wanted: { readonly f64: number; readonly codes: number },
): { f64: Float64Array[]; codes: Int32Array[]; end: number } {
  const kept = n - skip;
  const f64: Float64Array[] = [];
  for (let c = 0; c < stored.f64; c++, at += n * 8)
    if (c < wanted.f64) f64.push(new Float64Array(buffer, at + skip * 8, kept));
  if (f64.length < wanted.f64) {
    const missing = new Float64Array(kept).fill(Number.NaN);
    while (f64.length < wanted.f64) f64.push(missing);
  }
  const codes: Int32Array[] = [];
  for (let c = 0; c < stored.codes; c++, at += n * 4)
    if (c < wanted.codes) codes.push(new Int32Array(buffer, at + skip * 4, kept));
  if (codes.length < wanted.codes) {
    const missing = new Int32Array(kept).fill(-1);
    while (codes.length < wanted.codes) codes.push(missing);
  }
  return { f64, codes, end: at };
}

/**
 * The dictionaries JSON of `stored` code columns as the first `wanted` of them, empty ones for those
 * beyond the stored ones (their codes are all missing).
 */
function parseDictionaries(json: string, stored: number, wanted: number, what: string): string[][] {
  const dictionaries = JSON.parse(json) as string[][];
  if (dictionaries.length !== stored) throw new RangeError(`${what} dictionaries do not match its columns`);
  dictionaries.length = Math.min(stored, wanted);
  while (dictionaries.length < wanted) dictionaries.push([]);
  return dictionaries;
}

/** The feature columns of a feature batch: the registered ones of each kind, in registration order. */
export interface FeatureColumns {
  readonly rowCount: number;
  /** NaN = missing. */
  readonly numeric: readonly Float64Array[];
  /** Codes into `dictionaries`; -1 = missing. */
  readonly categorical: readonly Int32Array[];
  readonly dictionaries: readonly (readonly string[])[];
}

/**
 * A feature batch's data BLOB: its numeric then its categorical columns, as in a block's data (the
 * same packColumns), without the block's fixed columns.
 */
export function encodeFeatureColumns(columns: FeatureColumns): Uint8Array {
  const n = columns.rowCount;
  const data = new Uint8Array(n * (columns.numeric.length * 8 + columns.categorical.length * 4));
  packColumns(data, 0, columns.numeric, columns.categorical, n);
  return data;
}

/**
 * A stored feature batch as the feature columns of `layout`: like decodeBlock, the stored columns are
 * a prefix of the registry's, so those registered later read as missing and those registered after
 * `layout` was read are left out.
 */
export function decodeFeatureColumns(
  n: number,
  shape: BlockShape,
  data: Uint8Array,
  dictionaries: string,
  layout: StoreLayout,
): FeatureColumns {
  const expected = n * (shape.numeric * 8 + shape.categorical * 4);
  if (data.length !== expected)
    throw new RangeError(`feature batch data holds ${data.length} bytes, expected ${expected}`);
  const { buffer, offset } = aligned(data);
  const wanted = { f64: layout.numeric.length, codes: layout.categorical.length };
  const { f64, codes } = viewColumns(
    buffer,
    offset,
    n,
    0,
    { f64: shape.numeric, codes: shape.categorical },
    wanted,
  );
  return {
    rowCount: n,
    numeric: f64,
    categorical: codes,
    dictionaries: parseDictionaries(dictionaries, shape.categorical, wanted.codes, 'feature batch'),
  };
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

/** A run as a stored block; its feature columns are counted by run.f64 and run.codes. */
export function encodeBlock(run: ColumnRun): StoredBlock {
  const n = run.rowCount;
  const data = new Uint8Array(
    dataBytes(n, run.f64.length - F64_FIRST_FEATURE, run.codes.length - CODE_FIRST_FEATURE),
  );
  const at = packColumns(data, 0, run.f64, run.codes, n);
  data.set(run.predictedClass.subarray(0, n), at);
  return {
    data,
    labels: encodeLabels(run.label, run.labelObservedAt),
    dictionaries: JSON.stringify(run.dictionaries),
    ids: JSON.stringify(run.ids()),
  };
}

/** How many feature columns of each kind a stored block holds (prediction_blocks). */
export interface BlockShape {
  readonly numeric: number;
  readonly categorical: number;
}

/**
 * A stored block as a run in `layout`: the block's feature columns are a prefix, per kind, of the
 * registry (it is append-only); columns registered after the block was sealed read as missing, and
 * columns registered after `layout` was read (by another process) are left out. `loadIds` fetches the
 * ids (a separate column) only when asked. The first `trimmed` rows, deleted by retention
 * (sqlite/retention.ts), are left out: the run starts at row `trimmed`, whose id is `firstId`.
 */
export function decodeBlock(
  n: number,
  shape: BlockShape,
  block: Omit<StoredBlock, 'ids'> & { readonly firstId: string; readonly lastId: string },
  layout: StoreLayout,
  loadIds: () => string,
  trimmed = 0,
): ColumnRun {
  const expected = dataBytes(n, shape.numeric, shape.categorical);
  if (block.data.length !== expected) {
    throw new RangeError(`block data holds ${block.data.length} bytes, expected ${expected}`);
  }
  if (!(Number.isInteger(trimmed) && trimmed >= 0 && trimmed < n))
    throw new RangeError(`block trims ${trimmed} of its ${n} rows`);
  const kept = n - trimmed;
  const { buffer, offset } = aligned(block.data);
  const stored = { f64: F64_FIRST_FEATURE + shape.numeric, codes: CODE_FIRST_FEATURE + shape.categorical };
  const wanted = { f64: f64Columns(layout), codes: codeColumns(layout) };
  const { f64, codes, end } = viewColumns(buffer, offset, n, trimmed, stored, wanted);
  const predictedClass = new Uint8Array(buffer, end + trimmed, kept);
  const dictionaries = parseDictionaries(block.dictionaries, stored.codes, wanted.codes, 'block');
  const labels = decodeLabels(block.labels, n);
  let ids: string[] | undefined;
  const allIds = (): string[] => {
    if (!ids) {
      const stored = JSON.parse(loadIds()) as string[];
      if (stored.length !== n) throw new RangeError(`block ids hold ${stored.length} ids, expected ${n}`);
      ids = trimmed > 0 ? stored.slice(trimmed) : stored;
    }
    return ids;
  };
  return {
    rowCount: kept,
    f64,
    codes,
    dictionaries,
    predictedClass,
    label: labels.label.subarray(trimmed),
    labelObservedAt: labels.labelObservedAt.subarray(trimmed),
    id: (i) => (i === 0 && !ids ? block.firstId : i === kept - 1 && !ids ? block.lastId : allIds()[i]!),
    ids: allIds,
  };
}
