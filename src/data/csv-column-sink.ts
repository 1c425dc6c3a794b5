/**
 * The columns a file's rows are stored into while it is parsed: one growable typed array per numeric
 * column (values, NaN = missing), per categorical column (codes into a byte dictionary, MISSING_CODE =
 * missing) and for CHURN. Rows are written at index `rowCount`, which moves on only when a whole row is
 * accepted, so a row given up half-way leaves nothing behind: the next row overwrites its values.
 */

import { type CategoricalColumn, type Column, MISSING_CODE, type NumericColumn } from './columnar-table.js';
import { ByteDictionary } from './csv-byte-dictionary.js';
import { ColumnKind } from './csv-header.js';
import { MissingTokens } from './csv-missing-tokens.js';
import { numberFromText } from './csv-number.js';
import { DEFAULT_MISSING_TOKENS } from './dataset-schema.js';
import { type Growable, growableFloat64, growableInt32, growableUint8 } from './growable-array.js';

/** The columns of a later part of a file, per file column: what the part's builder hands over. */
export interface PartColumns {
  /** Per file column: values (numeric), codes (categorical), or undefined. Longer than the row count. */
  numeric: (Float64Array | undefined)[];
  codes: (Int32Array | undefined)[];
  dictionaries: (string[] | undefined)[];
  target: Uint8Array | undefined;
}

/** The default missing tokens, for columns read without a schema ('infer'). */
const DEFAULT_TOKENS = new MissingTokens(DEFAULT_MISSING_TOKENS);

export class ColumnSink {
  /** Per file column, its kind as a byte: the fast path's switch. */
  readonly kindCodes: Uint8Array;
  /** Rows stored. */
  rowCount = 0;
  /** Rows every column has room for. */
  capacity: number;
  /**
   * Per file column, plain arrays of the typed arrays (an empty one where the kind differs): monomorphic
   * access in the hot loops. Replaced when the columns grow; re-read them after calling `grow`.
   */
  numByField: Float64Array[] = [];
  codesByField: Int32Array[] = [];
  dictByField: ByteDictionary[] = [];
  targetData: Uint8Array = new Uint8Array(0);

  /** Index into the numeric / categorical column lists for each file column (-1 for the others). */
  private readonly slot: number[] = [];
  private readonly numeric: Growable<Float64Array>[] = [];
  private readonly categorical: Growable<Int32Array>[] = [];
  private readonly dictionaries: ByteDictionary[] = [];
  private readonly target: Growable<Uint8Array> | undefined;

  constructor(
    readonly kinds: readonly ColumnKind[],
    capacity: number,
  ) {
    let target: Growable<Uint8Array> | undefined;
    for (const kind of kinds) {
      if (kind === ColumnKind.Numeric) {
        this.slot.push(this.numeric.length);
        this.numeric.push(growableFloat64(capacity));
      } else if (kind === ColumnKind.Categorical) {
        this.slot.push(this.categorical.length);
        this.categorical.push(growableInt32(capacity));
        this.dictionaries.push(new ByteDictionary());
      } else {
        this.slot.push(-1);
        if (kind === ColumnKind.Target) target = growableUint8(capacity);
      }
    }
    this.target = target;
    this.kindCodes = Uint8Array.from(kinds);
    this.capacity = this.numeric.length + this.categorical.length > 0 || target ? capacity : 0;
    this.refreshViews();
  }

  /** Room for n rows in every column. */
  grow(n: number): void {
    for (const c of this.numeric) c.ensure(n);
    for (const c of this.categorical) c.ensure(n);
    this.target?.ensure(n);
    this.capacity = this.numeric[0]?.data.length ?? this.categorical[0]?.data.length ?? n;
    if (this.target) this.capacity = Math.min(this.capacity, this.target.data.length);
    this.refreshViews();
  }

  private refreshViews(): void {
    const noNumbers = new Float64Array(0);
    const noCodes = new Int32Array(0);
    this.numByField = this.kinds.map((k, f) =>
      k === ColumnKind.Numeric ? this.numeric[this.slot[f]!]!.data : noNumbers,
    );
    this.codesByField = this.kinds.map((k, f) =>
      k === ColumnKind.Categorical ? this.categorical[this.slot[f]!]!.data : noCodes,
    );
    this.dictByField = this.kinds.map(
      (k, f) => this.dictionaries[k === ColumnKind.Categorical ? this.slot[f]! : 0]!,
    );
    this.targetData = this.target?.data ?? new Uint8Array(0);
  }

  /** The columns as they are (untrimmed), to send to the builder of the part before this one. */
  exportColumns(): PartColumns {
    return {
      numeric: this.kinds.map((k, f) =>
        k === ColumnKind.Numeric ? this.numeric[this.slot[f]!]!.data : undefined,
      ),
      codes: this.kinds.map((k, f) =>
        k === ColumnKind.Categorical ? this.categorical[this.slot[f]!]!.data : undefined,
      ),
      dictionaries: this.kinds.map((k, f) =>
        k === ColumnKind.Categorical ? this.dictionaries[this.slot[f]!]!.values : undefined,
      ),
      target: this.target?.data,
    };
  }

  /**
   * Appends the first n rows of another part's columns. Its category codes are re-mapped to these
   * dictionaries, new values appended in their order of first appearance there.
   */
  appendColumns(part: PartColumns, n: number): void {
    const at = this.rowCount;
    if (at + n > this.capacity) this.grow(at + n);
    for (let f = 0; f < this.kinds.length; f++) {
      const values = part.numeric[f];
      if (values !== undefined) this.numByField[f]!.set(values.subarray(0, n), at);
      const codes = part.codes[f];
      if (codes !== undefined) {
        const dictionary = this.dictByField[f]!;
        const remap = Int32Array.from(part.dictionaries[f] ?? [], (v) => dictionary.codeOfString(v));
        const out = this.codesByField[f]!;
        for (let i = 0; i < n; i++) {
          const code = codes[i]!;
          out[at + i] = code === MISSING_CODE ? MISSING_CODE : remap[code]!;
        }
      }
    }
    if (part.target !== undefined) this.targetData.set(part.target.subarray(0, n), at);
    this.rowCount = at + n;
  }

  /**
   * The finished columns, cut to rowCount, by header name. With `inferNumbers`, a categorical column
   * whose every value parses as a number becomes numeric; values that are default missing tokens once
   * trimmed (a blank " ", `NA`: the rule of schema inference) are missing there, so Telco's TotalCharges
   * reads as numbers.
   */
  finish(
    header: readonly string[],
    inferNumbers: boolean,
  ): { columns: Map<string, Column>; target?: Uint8Array } {
    const n = this.rowCount;
    const columns = new Map<string, Column>();
    header.forEach((name, f) => {
      const kind = this.kinds[f];
      if (kind === ColumnKind.Numeric) {
        columns.set(name, {
          kind: 'numeric',
          name,
          values: this.numeric[this.slot[f]!]!.trimmed(n),
        } satisfies NumericColumn);
      } else if (kind === ColumnKind.Categorical) {
        const codes = this.categorical[this.slot[f]!]!.trimmed(n);
        const dictionary = this.dictionaries[this.slot[f]!]!.values;
        const asNumbers = inferNumbers ? dictionary.map(numberFromText) : undefined;
        const missingText = (i: number) => DEFAULT_TOKENS.hasText(dictionary[i]!.trim());
        if (
          asNumbers &&
          (asNumbers.length === 0 || asNumbers.some((v) => !Number.isNaN(v))) &&
          asNumbers.every((v, i) => !Number.isNaN(v) || missingText(i))
        ) {
          const values = new Float64Array(n);
          for (let i = 0; i < n; i++)
            values[i] = codes[i] === MISSING_CODE ? Number.NaN : asNumbers[codes[i]!]!;
          columns.set(name, { kind: 'numeric', name, values } satisfies NumericColumn);
        } else {
          columns.set(name, { kind: 'categorical', name, codes, dictionary } satisfies CategoricalColumn);
        }
      }
    });
    return this.target ? { columns, target: this.target.trimmed(n) } : { columns };
  }
}
