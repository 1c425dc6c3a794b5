/**
 * The row checks of a file read by a DatasetSchema the fast path cannot take (cells trimmed, missing
 * tokens, the target's own labels, skipped columns): every row goes through the general tokenizer and
 * here. Like the builder's Expresso checks, a row is validated completely before any string is stored,
 * so a bad row leaves no trace but its error.
 */
import { MISSING_CODE } from './columnar-table.js';
import type { ColumnSink } from './csv-column-sink.js';
import { ColumnKind } from './csv-header.js';
import type { IdPack } from './csv-ids.js';
import { MissingTokens } from './csv-missing-tokens.js';
import { DECIMAL, isBlank, parseNumber, plainDecimal } from './csv-number.js';
import { preview } from './csv-syntax.js';
import type { RowTokenizer } from './csv-tokenizer.js';
import { type DatasetSchema, trimsWhitespace } from './dataset-schema.js';

/** A row's fault: the column and what is wrong; 'unlabelled' for a row whose target is missing. */
export type RowFault = { readonly column: string; readonly message: string } | 'unlabelled';

/** What the schema path counted: rows without a label, and per column non-numeric cells read as missing. */
export interface SchemaCellCounts {
  unlabelled: number;
  /** Per file column. */
  nonNumeric: number[];
}

export class SchemaRowReader {
  readonly counts: SchemaCellCounts;
  private readonly trim: boolean;
  private readonly missing: MissingTokens;
  /** Per file column: 1 when a non-numeric cell is read as missing rather than refused. */
  private readonly lenient: Uint8Array;
  private readonly positive: string;
  private readonly negative: string;
  /** The labels differ other than by case: compare them ignoring case too. */
  private readonly foldCase: boolean;
  /** Columns whose non-numeric cell the current row read as missing (counted once the row is accepted). */
  private readonly rowLenient: Int32Array;

  constructor(
    schema: DatasetSchema,
    private readonly header: readonly string[],
    nonNumericAsMissing: readonly string[],
  ) {
    this.trim = trimsWhitespace(schema);
    this.missing = new MissingTokens(schema.missingTokens);
    const lenient = new Set(nonNumericAsMissing);
    this.lenient = Uint8Array.from(header, (name) => (lenient.has(name) ? 1 : 0));
    this.positive = schema.target.positive;
    this.negative = schema.target.negative;
    this.foldCase = this.positive.toLowerCase() !== this.negative.toLowerCase();
    this.counts = { unlabelled: 0, nonNumeric: header.map(() => 0) };
    this.rowLenient = new Int32Array(header.length);
  }

  /** The field's text, trimmed when the schema says so. */
  private text(buf: Buffer, t: RowTokenizer, f: number, s: number, e: number): string {
    const text = t.fieldEscaped[f] ? t.text(buf, f) : buf.toString('utf8', s, e);
    return this.trim && t.fieldEscaped[f] ? text.trim() : text;
  }

  /** The trimmed text is a missing token (no string made for a cell longer than every token). */
  private isMissing(buf: Buffer, t: RowTokenizer, f: number, s: number, e: number): boolean {
    if (s === e && !t.fieldEscaped[f]) return this.missing.emptyIsMissing;
    return e - s <= this.missing.longest && this.missing.hasText(this.text(buf, t, f, s, e));
  }

  /**
   * Checks the tokenized row (its field count already checked) and stores it at sink.rowCount; the
   * caller moves rowCount on when it returns undefined.
   */
  accept(buf: Buffer, t: RowTokenizer, sink: ColumnSink, ids: IdPack | undefined): RowFault | undefined {
    const kinds = sink.kinds;
    const fields = t.fields;
    const starts = t.fieldStart;
    const ends = t.fieldEnd;
    if (this.trim)
      for (let f = 0; f < fields; f++) {
        if (t.fieldEscaped[f]) continue;
        let s = starts[f]!;
        let e = ends[f]!;
        while (s < e && isBlank(buf[s]!)) s++;
        while (e > s && isBlank(buf[e - 1]!)) e--;
        starts[f] = s;
        ends[f] = e;
      }
    const row = sink.rowCount;
    if (row >= sink.capacity) sink.grow(row + 1);
    let lenientCells = 0;
    for (let f = 0; f < fields; f++) {
      const kind = kinds[f]!;
      const s = starts[f]!;
      const e = ends[f]!;
      if (kind === ColumnKind.Numeric) {
        const value = this.number(buf, t, f, s, e);
        if (value === undefined) {
          if (!this.lenient[f])
            return {
              column: this.header[f]!,
              message: `non-numeric value ${preview(buf, s, e)} in a numeric column`,
            };
          this.rowLenient[lenientCells++] = f;
          sink.numByField[f]![row] = Number.NaN;
        } else sink.numByField[f]![row] = value;
      } else if (kind === ColumnKind.Target) {
        if (this.isMissing(buf, t, f, s, e)) return 'unlabelled';
        const label = this.label(this.text(buf, t, f, s, e));
        if (label < 0)
          return {
            column: this.header[f]!,
            message: `the target is ${preview(buf, s, e)}, neither ${JSON.stringify(this.positive)} (positive) nor ${JSON.stringify(this.negative)} (negative)`,
          };
        sink.targetData[row] = label;
      }
    }
    // Strings last, so a bad row never adds a dictionary value or an id.
    for (let f = 0; f < fields; f++) {
      const kind = kinds[f]!;
      const s = starts[f]!;
      const e = ends[f]!;
      if (kind === ColumnKind.Categorical) {
        const dictionary = sink.dictByField[f]!;
        sink.codesByField[f]![row] = this.isMissing(buf, t, f, s, e)
          ? MISSING_CODE
          : t.fieldEscaped[f]
            ? dictionary.codeOfString(this.text(buf, t, f, s, e))
            : dictionary.code(buf, s, e);
      } else if (kind === ColumnKind.Id && ids !== undefined) {
        if (t.fieldEscaped[f]) {
          const bytes = Buffer.from(this.text(buf, t, f, s, e), 'utf8');
          ids.push(bytes, 0, bytes.length);
        } else ids.push(buf, s, e);
      }
    }
    for (let k = 0; k < lenientCells; k++) this.counts.nonNumeric[this.rowLenient[k]!]!++;
    return undefined;
  }

  /** A numeric cell's value: NaN when missing, undefined when it is not a number. */
  private number(buf: Buffer, t: RowTokenizer, f: number, s: number, e: number): number | undefined {
    if (!t.fieldEscaped[f]) {
      if (s === e && this.missing.emptyIsMissing) return Number.NaN;
      if (plainDecimal(buf, s, e)) {
        const value = parseNumber(buf, s, e);
        return this.missing.hasNumber(value) ? Number.NaN : value;
      }
    }
    const text = this.text(buf, t, f, s, e);
    if (this.missing.hasText(text)) return Number.NaN;
    const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
    if (!Number.isFinite(value)) return undefined;
    return this.missing.hasNumber(value) ? Number.NaN : value;
  }

  /** 1 for the positive label, 0 for the negative one, -1 for anything else. */
  private label(text: string): number {
    if (text === this.positive) return 1;
    if (text === this.negative) return 0;
    if (!this.foldCase) return -1;
    const lower = text.toLowerCase();
    if (lower === this.positive.toLowerCase()) return 1;
    if (lower === this.negative.toLowerCase()) return 0;
    return -1;
  }
}
