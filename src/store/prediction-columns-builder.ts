/**
 * Collects read rows (store-layout.ts) into PredictionColumns. Arrays start at a capacity hint
 * (a COUNT done before reading) and double when more rows arrive, e.g. inserted during the read.
 */
import { type CategoricalColumn, type Column, MISSING_CODE } from '../data/columnar-table.js';
import type { PredictionColumns } from './prediction-store.js';
import {
  READ_CREATED_AT,
  READ_FIRST_FEATURE,
  READ_LABEL,
  READ_LABEL_OBSERVED_AT,
  READ_MODEL_VERSION,
  READ_PREDICTED_CLASS,
  READ_SCORE,
  type StoreLayout,
} from './store-layout.js';

type Grow<T> = { new (n: number): T };

function grow<T extends Float64Array | Int32Array | Int8Array | Uint8Array>(
  array: T,
  size: number,
  ctor: Grow<T>,
): T {
  const next = new ctor(size);
  next.set(array as never);
  return next;
}

/** The first n values, without a copy when the array is already exactly full. */
function fit<T extends Float64Array | Int32Array | Int8Array | Uint8Array>(array: T, n: number): T {
  return (array.length === n ? array : array.slice(0, n)) as T;
}

/** Codes for text values in order of first appearance (null/undefined = MISSING_CODE). */
export class Dictionary {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  code(value: unknown): number {
    if (value === null || value === undefined) return MISSING_CODE;
    const key = String(value);
    let code = this.index.get(key);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(key);
      this.index.set(key, code);
    }
    return code;
  }
}

export class PredictionColumnsBuilder {
  private capacity: number;
  private n = 0;
  private createdAt: Float64Array;
  private score: Float64Array;
  private predictedClass: Uint8Array;
  private label: Int8Array;
  private labelObservedAt: Float64Array;
  private versionCodes: Int32Array;
  private readonly versions = new Dictionary();
  private numeric: Float64Array[];
  private categorical: Int32Array[];
  private readonly dictionaries: Dictionary[];

  constructor(
    capacityHint: number,
    private readonly layout: StoreLayout,
  ) {
    this.capacity = Math.max(16, capacityHint);
    const c = this.capacity;
    this.createdAt = new Float64Array(c);
    this.score = new Float64Array(c);
    this.predictedClass = new Uint8Array(c);
    this.label = new Int8Array(c);
    this.labelObservedAt = new Float64Array(c);
    this.versionCodes = new Int32Array(c);
    this.numeric = layout.numeric.map(() => new Float64Array(c));
    this.categorical = layout.categorical.map(() => new Int32Array(c));
    this.dictionaries = layout.categorical.map(() => new Dictionary());
  }

  get rowCount(): number {
    return this.n;
  }

  private ensure(extra: number): void {
    if (this.n + extra <= this.capacity) return;
    const c = Math.max(this.capacity * 2, this.n + extra);
    this.createdAt = grow(this.createdAt, c, Float64Array);
    this.score = grow(this.score, c, Float64Array);
    this.predictedClass = grow(this.predictedClass, c, Uint8Array);
    this.label = grow(this.label, c, Int8Array);
    this.labelObservedAt = grow(this.labelObservedAt, c, Float64Array);
    this.versionCodes = grow(this.versionCodes, c, Int32Array);
    this.numeric = this.numeric.map((a) => grow(a, c, Float64Array));
    this.categorical = this.categorical.map((a) => grow(a, c, Int32Array));
    this.capacity = c;
  }

  /** Appends read rows; numbers may arrive as numbers or (bigint-free) numeric values. */
  addRows(rows: readonly (readonly unknown[])[]): void {
    this.ensure(rows.length);
    const numericCount = this.numeric.length;
    const firstCategorical = READ_FIRST_FEATURE + numericCount;
    for (const row of rows) {
      const i = this.n++;
      this.createdAt[i] = row[READ_CREATED_AT] as number;
      this.score[i] = row[READ_SCORE] as number;
      this.predictedClass[i] = row[READ_PREDICTED_CLASS] as number;
      const label = row[READ_LABEL];
      this.label[i] = label === null ? -1 : (label as number);
      const observed = row[READ_LABEL_OBSERVED_AT];
      this.labelObservedAt[i] = observed === null ? Number.NaN : (observed as number);
      this.versionCodes[i] = this.versions.code(row[READ_MODEL_VERSION]);
      for (let f = 0; f < numericCount; f++) {
        const v = row[READ_FIRST_FEATURE + f];
        this.numeric[f]![i] = v === null ? Number.NaN : (v as number);
      }
      for (let f = 0; f < this.categorical.length; f++) {
        this.categorical[f]![i] = this.dictionaries[f]!.code(row[firstCategorical + f]);
      }
    }
  }

  /**
   * Appends a page given column by column (read-row order up to the features; id and user_id not
   * needed), each an array of the same length: the shape SQLite's json_group_array pages parse into.
   */
  addColumns(columns: readonly (readonly unknown[])[]): void {
    const rows = columns[READ_CREATED_AT]?.length ?? 0;
    this.ensure(rows);
    const at = this.n;
    const put = (target: Float64Array | Uint8Array, source: readonly unknown[], missing: number) => {
      for (let r = 0; r < rows; r++) {
        const v = source[r];
        target[at + r] = v === null ? missing : (v as number);
      }
    };
    put(this.createdAt, columns[READ_CREATED_AT]!, Number.NaN);
    put(this.score, columns[READ_SCORE]!, Number.NaN);
    put(this.predictedClass, columns[READ_PREDICTED_CLASS]!, 0);
    const labels = columns[READ_LABEL]!;
    for (let r = 0; r < rows; r++) this.label[at + r] = labels[r] === null ? -1 : (labels[r] as number);
    put(this.labelObservedAt, columns[READ_LABEL_OBSERVED_AT]!, Number.NaN);
    const versions = columns[READ_MODEL_VERSION]!;
    for (let r = 0; r < rows; r++) this.versionCodes[at + r] = this.versions.code(versions[r]);
    const numericCount = this.numeric.length;
    for (let f = 0; f < numericCount; f++)
      put(this.numeric[f]!, columns[READ_FIRST_FEATURE + f]!, Number.NaN);
    for (let f = 0; f < this.categorical.length; f++) {
      const source = columns[READ_FIRST_FEATURE + numericCount + f]!;
      const target = this.categorical[f]!;
      const dictionary = this.dictionaries[f]!;
      for (let r = 0; r < rows; r++) target[at + r] = dictionary.code(source[r]);
    }
    this.n += rows;
  }

  finish(): PredictionColumns {
    const n = this.n;
    const columns = new Map<string, Column>();
    this.layout.numeric.forEach((spec, f) => {
      columns.set(spec.feature, { kind: 'numeric', name: spec.feature, values: fit(this.numeric[f]!, n) });
    });
    this.layout.categorical.forEach((spec, f) => {
      columns.set(spec.feature, {
        kind: 'categorical',
        name: spec.feature,
        codes: fit(this.categorical[f]!, n),
        dictionary: this.dictionaries[f]!.values,
      });
    });
    const modelVersion: CategoricalColumn = {
      kind: 'categorical',
      name: 'model_version',
      codes: fit(this.versionCodes, n),
      dictionary: this.versions.values,
    };
    return {
      rowCount: n,
      createdAt: fit(this.createdAt, n),
      score: fit(this.score, n),
      predictedClass: fit(this.predictedClass, n),
      label: fit(this.label, n),
      labelObservedAt: fit(this.labelObservedAt, n),
      modelVersion,
      features: { rowCount: n, header: [...this.layout.header], columns },
    };
  }
}
