/**
 * Stitches sorted runs (column blocks and not-yet-sealed rows) into one PredictionColumns in
 * (created_at, id) order, keeping only the rows a query asks for. Runs normally follow each other
 * (a block holds the oldest unsealed keys when it is sealed), so most are copied whole; runs whose key
 * ranges overlap (a prediction logged late, with an old created_at) are merged by sorting their rows.
 */
import { type CategoricalColumn, type Column, MISSING_CODE } from '../../data/columnar-table.js';
import type { PredictionColumns } from '../prediction-store.js';
import type { StoreLayout } from '../store-layout.js';
import {
  CODE_FIRST_FEATURE,
  CODE_MODEL_VERSION,
  type ColumnRun,
  codeColumns,
  F64_CREATED_AT,
  F64_FIRST_FEATURE,
  F64_SCORE,
  f64Columns,
} from './column-block.js';

export interface RunFilter {
  /** Inclusive lower bound on createdAt. */
  readonly from?: number | undefined;
  /** Exclusive upper bound on createdAt. */
  readonly to?: number | undefined;
  readonly modelVersion?: string | undefined;
  /** Inclusive lower bound on the (createdAt, id) key: the oldest of the newest `limit` rows. */
  readonly start?: readonly [number, string] | undefined;
  /** At most this many rows, the first ones in key order. */
  readonly limit?: number | undefined;
}

/**
 * SQLite's BINARY collation orders TEXT by UTF-8 bytes, which is code point order; JS `<` compares
 * UTF-16 units, which differs for characters beyond U+FFFF. Ids are compared the way SQLite sorts them.
 */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) {
      const x = a.codePointAt(i)!;
      const y = b.codePointAt(i)!;
      return x < y ? -1 : 1;
    }
  }
  return a.length - b.length;
}

interface Selection {
  readonly run: ColumnRun;
  /** Selected rows, ascending; a contiguous range [lo, hi) when `rows` is undefined. */
  readonly lo: number;
  readonly hi: number;
  readonly rows?: Int32Array;
  readonly count: number;
}

function first(s: Selection): number {
  return s.rows ? s.rows[0]! : s.lo;
}
function last(s: Selection): number {
  return s.rows ? s.rows[s.rows.length - 1]! : s.hi - 1;
}

function compareKeys(a: ColumnRun, i: number, b: ColumnRun, j: number): number {
  const x = a.f64[F64_CREATED_AT]![i]!;
  const y = b.f64[F64_CREATED_AT]![j]!;
  if (x !== y) return x < y ? -1 : 1;
  return compareIds(a.id(i), b.id(j));
}

function select(run: ColumnRun, filter: RunFilter): Selection | undefined {
  const createdAt = run.f64[F64_CREATED_AT]!;
  const start = filter.start;
  // Rows are in key order, so the range bounds select a contiguous slice.
  const before = (i: number): boolean => {
    const c = createdAt[i]!;
    if (filter.from !== undefined && c < filter.from) return true;
    if (start === undefined || c > start[0]) return false;
    return c < start[0] || compareIds(run.id(i), start[1]) < 0;
  };
  let lo = 0;
  while (lo < run.rowCount && before(lo)) lo++;
  let hi = run.rowCount;
  if (filter.to !== undefined) while (hi > lo && createdAt[hi - 1]! >= filter.to) hi--;
  if (lo >= hi) return undefined;
  if (filter.modelVersion === undefined) return { run, lo, hi, count: hi - lo };
  const code = run.dictionaries[CODE_MODEL_VERSION]!.indexOf(filter.modelVersion);
  if (code < 0) return undefined;
  const versions = run.codes[CODE_MODEL_VERSION]!;
  const picked: number[] = [];
  for (let i = lo; i < hi; i++) if (versions[i] === code) picked.push(i);
  if (picked.length === 0) return undefined;
  return { run, lo, hi, rows: Int32Array.from(picked), count: picked.length };
}

class GlobalDictionary {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  code(value: string): number {
    let code = this.index.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(value);
      this.index.set(value, code);
    }
    return code;
  }
}

/** Output arrays plus the per-run code remapping into dictionaries in order of first appearance. */
class Output {
  n = 0;
  readonly f64: Float64Array[];
  readonly codes: Int32Array[];
  readonly predictedClass: Uint8Array;
  readonly label: Int8Array;
  readonly labelObservedAt: Float64Array;
  readonly dictionaries: GlobalDictionary[];
  private readonly remaps = new Map<ColumnRun, Int32Array[]>();
  private readonly f64Count: number;
  private readonly codeCount: number;

  constructor(
    readonly capacity: number,
    private readonly layout: StoreLayout,
  ) {
    this.f64Count = f64Columns(layout);
    this.codeCount = codeColumns(layout);
    this.f64 = Array.from({ length: this.f64Count }, () => new Float64Array(capacity));
    this.codes = Array.from({ length: this.codeCount }, () => new Int32Array(capacity));
    this.dictionaries = Array.from({ length: this.codeCount }, () => new GlobalDictionary());
    this.predictedClass = new Uint8Array(capacity);
    this.label = new Int8Array(capacity);
    this.labelObservedAt = new Float64Array(capacity);
  }

  private remap(run: ColumnRun): Int32Array[] {
    let remap = this.remaps.get(run);
    if (!remap) {
      remap = run.dictionaries.map((d) => new Int32Array(d.length).fill(-2));
      this.remaps.set(run, remap);
    }
    return remap;
  }

  private code(run: ColumnRun, remap: Int32Array[], c: number, local: number): number {
    if (local === MISSING_CODE) return MISSING_CODE;
    const table = remap[c]!;
    let global = table[local]!;
    if (global === -2) {
      const value = run.dictionaries[c]![local];
      if (value === undefined) throw new RangeError(`block code ${local} has no dictionary entry`);
      global = this.dictionaries[c]!.code(value);
      table[local] = global;
    }
    return global;
  }

  /** Rows [lo, hi) of a run, column by column (typed-array copies for everything but codes). */
  copyRange(run: ColumnRun, lo: number, hi: number): void {
    const count = Math.min(hi - lo, this.capacity - this.n);
    if (count <= 0) return;
    const end = lo + count;
    const at = this.n;
    for (let c = 0; c < this.f64Count; c++) this.f64[c]!.set(run.f64[c]!.subarray(lo, end), at);
    this.predictedClass.set(run.predictedClass.subarray(lo, end), at);
    this.label.set(run.label.subarray(lo, end), at);
    this.labelObservedAt.set(run.labelObservedAt.subarray(lo, end), at);
    const remap = this.remap(run);
    for (let c = 0; c < this.codeCount; c++) {
      const source = run.codes[c]!;
      const target = this.codes[c]!;
      for (let i = lo; i < end; i++) target[at + i - lo] = this.code(run, remap, c, source[i]!);
    }
    this.n += count;
  }

  copyRow(run: ColumnRun, i: number): void {
    if (this.n >= this.capacity) return;
    const at = this.n++;
    for (let c = 0; c < this.f64Count; c++) this.f64[c]![at] = run.f64[c]![i]!;
    this.predictedClass[at] = run.predictedClass[i]!;
    this.label[at] = run.label[i]!;
    this.labelObservedAt[at] = run.labelObservedAt[i]!;
    const remap = this.remap(run);
    for (let c = 0; c < this.codeCount; c++) this.codes[c]![at] = this.code(run, remap, c, run.codes[c]![i]!);
  }

  copySelection(s: Selection): void {
    if (!s.rows) this.copyRange(s.run, s.lo, s.hi);
    else for (const i of s.rows) this.copyRow(s.run, i);
  }

  finish(): PredictionColumns {
    const n = this.n;
    const fit = <T extends Float64Array | Int32Array | Int8Array | Uint8Array>(a: T): T =>
      (a.length === n ? a : a.slice(0, n)) as T;
    const columns = new Map<string, Column>();
    this.layout.numeric.forEach((spec, f) => {
      columns.set(spec.feature, {
        kind: 'numeric',
        name: spec.feature,
        values: fit(this.f64[F64_FIRST_FEATURE + f]!),
      });
    });
    this.layout.categorical.forEach((spec, f) => {
      columns.set(spec.feature, {
        kind: 'categorical',
        name: spec.feature,
        codes: fit(this.codes[CODE_FIRST_FEATURE + f]!),
        dictionary: this.dictionaries[CODE_FIRST_FEATURE + f]!.values,
      });
    });
    const modelVersion: CategoricalColumn = {
      kind: 'categorical',
      name: 'model_version',
      codes: fit(this.codes[CODE_MODEL_VERSION]!),
      dictionary: this.dictionaries[CODE_MODEL_VERSION]!.values,
    };
    return {
      rowCount: n,
      createdAt: fit(this.f64[F64_CREATED_AT]!),
      score: fit(this.f64[F64_SCORE]!),
      predictedClass: fit(this.predictedClass),
      label: fit(this.label),
      labelObservedAt: fit(this.labelObservedAt),
      modelVersion,
      features: { rowCount: n, header: [...this.layout.header], columns },
    };
  }
}

/**
 * The rows of `runs` (each sorted by (createdAt, id)) that `filter` selects, in key order. Cost:
 * O(n) copies for runs that follow each other; O(k log k) for k rows in runs that overlap.
 */
export function assembleColumns(
  runs: readonly ColumnRun[],
  layout: StoreLayout,
  filter: RunFilter = {},
): PredictionColumns {
  const selections = runs
    .map((run) => select(run, filter))
    .filter((s): s is Selection => s !== undefined)
    .sort((a, b) => compareKeys(a.run, first(a), b.run, first(b)));
  const total = selections.reduce((sum, s) => sum + s.count, 0);
  const output = new Output(Math.min(total, filter.limit ?? total), layout);
  let i = 0;
  while (i < selections.length) {
    // A cluster: consecutive selections whose key ranges overlap the ones before them.
    let j = i + 1;
    let maxRun = selections[i]!;
    while (j < selections.length) {
      const next = selections[j]!;
      if (compareKeys(next.run, first(next), maxRun.run, last(maxRun)) > 0) break;
      if (compareKeys(next.run, last(next), maxRun.run, last(maxRun)) > 0) maxRun = next;
      j++;
    }
    if (j === i + 1) output.copySelection(selections[i]!);
    else {
      const rows: [ColumnRun, number][] = [];
      for (const s of selections.slice(i, j)) {
        if (s.rows) for (const r of s.rows) rows.push([s.run, r]);
        else for (let r = s.lo; r < s.hi; r++) rows.push([s.run, r]);
      }
      rows.sort((a, b) => compareKeys(a[0], a[1], b[0], b[1]));
      for (const [run, r] of rows) output.copyRow(run, r);
    }
    i = j;
  }
  return output.finish();
}
