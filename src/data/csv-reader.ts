/**
 * Reads a CSV into a ColumnarTable, streaming: the file is read in 1 MB byte chunks and parsed byte by
 * byte (RFC 4180: quoted fields, "" escapes, commas and line breaks inside quotes, CRLF or LF, a UTF-8
 * BOM), so memory holds the columns, never the file as one string. Numbers are parsed from the bytes
 * without allocating; categorical values are looked up by a hash of their bytes, so a repeated value
 * (TENURE, MRG, REGION…) costs no string allocation. Nothing is trimmed: TOP_PACK names ending in tabs
 * keep their tabs. An empty field is a missing value; blank lines are skipped.
 *
 * Schemas: 'expresso' checks the Train.csv header (with or without CHURN) and types each column from
 * customer-schema.ts; 'infer' takes any header and makes a column numeric when every non-empty value is a
 * finite number, categorical otherwise.
 */
import { open } from 'node:fs/promises';
import { ChurnwatchError } from '../errors.js';
import {
  type CategoricalColumn,
  type Column,
  type ColumnarTable,
  MISSING_CODE,
  type NumericColumn,
} from './columnar-table.js';
import {
  CATEGORICAL_FEATURES,
  CSV_HEADER,
  ID_COLUMN,
  NUMERIC_FEATURES,
  TARGET_COLUMN,
} from './customer-schema.js';

export interface CsvRowError {
  file: string;
  /** 1-based data row (the header is not counted). */
  row: number;
  /** 1-based physical line where the row starts (the header is line 1). */
  line: number;
  column?: string;
  message: string;
}

export interface ReadCsvOptions {
  /** 'expresso' (default): the Train.csv layout. 'infer': any CSV, types inferred. */
  schema?: 'expresso' | 'infer';
  /** 0 (default): the first bad row throws. N: skip up to N bad rows (counted, returned), then throw. */
  maxErrors?: number;
  /** Stop after this many data rows. */
  maxRows?: number;
  onProgress?: (rowsRead: number, bytesRead: number) => void;
}

export interface ReadCsvResult {
  table: ColumnarTable;
  skippedRows: number;
  errors: CsvRowError[];
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const CHUNK_BYTES = 1 << 20;

/** What a file column becomes. */
enum Kind {
  Id = 0,
  Numeric = 1,
  Categorical = 2,
  Target = 3,
}

/**
 * A dictionary keyed by the value's bytes: a hash of the bytes finds the candidate code, a byte
 * comparison confirms it, and only a new value allocates a string.
 */
class ByteDictionary {
  readonly values: string[] = [];
  private readonly bytes: Buffer[] = [];
  private readonly byHash = new Map<number, number>();
  private readonly byString = new Map<string, number>();

  code(buf: Buffer, start: number, end: number, escaped: boolean): number {
    if (escaped) return this.codeOf(unescapeQuotes(buf.toString('utf8', start, end)));
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h = (h ^ (end - start)) >>> 0;
    const hit = this.byHash.get(h);
    if (hit !== undefined) {
      const known = this.bytes[hit]!;
      if (known.length === end - start) {
        let same = true;
        for (let i = 0; i < known.length; i++) {
          if (known[i] !== buf[start + i]) {
            same = false;
            break;
          }
        }
        if (same) return hit;
      }
      return this.codeOf(buf.toString('utf8', start, end));
    }
    const code = this.codeOf(buf.toString('utf8', start, end));
    this.byHash.set(h, code);
    return code;
  }

  private codeOf(value: string): number {
    let code = this.byString.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(value);
      this.bytes.push(Buffer.from(value, 'utf8'));
      this.byString.set(value, code);
    }
    return code;
  }
}

function unescapeQuotes(quotedContent: string): string {
  return quotedContent.replaceAll('""', '"');
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Parses a decimal number from bytes without allocating: [-+]digits[.digits]. Anything else (exponents,
 * inf, spaces) goes through Number() on the string; NaN when the text is not a finite number.
 */
function parseNumber(buf: Buffer, start: number, end: number): number {
  let i = start;
  let negative = false;
  const first = buf[i];
  if (first === 0x2d || first === 0x2b) {
    negative = first === 0x2d;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let seenDot = false;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x30 && b <= 0x39) {
      mantissa = mantissa * 10 + (b - 0x30);
      digits++;
      if (seenDot) fraction++;
    } else if (b === 0x2e && !seenDot) {
      seenDot = true;
    } else {
      return slowNumber(buf, start, end);
    }
  }
  if (digits === 0 || digits > 15 || fraction > 22) return slowNumber(buf, start, end);
  // Exact integer / exact power of ten: the division is correctly rounded, like Number("12.5").
  const value = fraction > 0 ? mantissa / POW10[fraction]! : mantissa;
  return negative ? -value : value;
}

function slowNumber(buf: Buffer, start: number, end: number): number {
  const text = buf.toString('utf8', start, end);
  if (text.trim() === '') return Number.NaN;
  const value = Number(text);
  return Number.isFinite(value) ? value : Number.NaN;
}

/** Ids are ASCII hex: latin1 decoding is several times faster than UTF-8 and gives the same string. */
function asciiOrUtf8(buf: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return buf.toString('utf8', start, end);
  return buf.toString('latin1', start, end);
}

function preview(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, Math.min(end, start + 40));
  return JSON.stringify(end - start > 40 ? `${text}…` : text);
}

/** A growable Float64Array / Int32Array column under construction. */
class Growable<T extends Float64Array | Int32Array | Uint8Array> {
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}
  ensure(n: number): void {
    if (n <= this.data.length) return;
    const next = this.make(Math.max(n, Math.ceil(this.data.length * 1.5) + 1024));
    next.set(this.data);
    this.data = next;
  }
  /** The first n values; a view when little is wasted (no copy at the peak), else a compact copy. */
  trimmed(n: number): T {
    if (n === this.data.length) return this.data;
    return (n >= this.data.length * 0.8 ? this.data.subarray(0, n) : this.data.slice(0, n)) as T;
  }
}

/**
 * The streaming parser and table builder. `push` parses the complete rows of a byte range and returns
 * where the first incomplete row starts; `finish` returns the table.
 */
class CsvTableBuilder {
  private header: string[] | undefined;
  private kinds: Kind[] = [];
  /** Index into the numeric / categorical column lists for each file column. */
  private slot: number[] = [];
  private numeric: Growable<Float64Array>[] = [];
  private categorical: Growable<Int32Array>[] = [];
  private dictionaries: ByteDictionary[] = [];
  private target: Growable<Uint8Array> | undefined;
  private ids: string[] | undefined;
  private rowCount = 0;
  private capacity = 0;
  private numByField: Float64Array[] = [];
  private codesByField: Int32Array[] = [];
  private dictByField: ByteDictionary[] = [];
  private targetData: Uint8Array = new Uint8Array(0);
  private dataRowsSeen = 0;
  private line = 1;
  private done = false;
  readonly errors: CsvRowError[] = [];
  private fieldStart = new Int32Array(64);
  private fieldEnd = new Int32Array(64);
  private fieldEscaped = new Uint8Array(64);
  private readonly schema: 'expresso' | 'infer';
  private readonly maxErrors: number;
  private readonly maxRows: number;

  constructor(
    private readonly file: string,
    options: ReadCsvOptions,
    private readonly capacityHint: number,
  ) {
    this.schema = options.schema ?? 'expresso';
    this.maxErrors = options.maxErrors ?? 0;
    this.maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
    if (!(Number.isInteger(this.maxErrors) && this.maxErrors >= 0)) {
      throw new RangeError(`maxErrors must be a non-negative integer, got ${options.maxErrors}`);
    }
    if (!(this.maxRows >= 0)) throw new RangeError(`maxRows must be non-negative, got ${options.maxRows}`);
  }

  get rowsRead(): number {
    return this.rowCount;
  }

  get finished(): boolean {
    return this.done;
  }

  /** Parses rows in buf[start, end); returns the offset of the first byte not consumed. */
  push(buf: Buffer, start: number, end: number, final: boolean): number {
    let pos = start;
    if (
      this.header === undefined &&
      this.line === 1 &&
      end - pos >= 3 &&
      buf[pos] === 0xef &&
      buf[pos + 1] === 0xbb &&
      buf[pos + 2] === 0xbf
    ) {
      pos += 3;
    }
    let starts = this.fieldStart;
    let ends = this.fieldEnd;
    let escapedFlags = this.fieldEscaped;
    while (pos < end && !this.done) {
      const rowStart = pos;
      const rowLine = this.line;
      let fields = 0;
      let newlines = 0;
      let complete = false;
      let malformed: string | undefined;
      // Scan one row's fields.
      for (;;) {
        if (fields === starts.length) {
          this.growFields();
          starts = this.fieldStart;
          ends = this.fieldEnd;
          escapedFlags = this.fieldEscaped;
        }
        if (pos < end && buf[pos] === QUOTE) {
          let i = pos + 1;
          let escaped = false;
          let closed = -1;
          while (i < end) {
            const b = buf[i]!;
            if (b === QUOTE) {
              if (i + 1 < end && buf[i + 1] === QUOTE) {
                escaped = true;
                i += 2;
                continue;
              }
              if (i + 1 === end && !final) break; // cannot tell "" from " yet
              closed = i;
              break;
            }
            if (b === LF) newlines++;
            i++;
          }
          if (closed < 0) {
            if (!final) return rowStart;
            malformed = 'unterminated quoted field';
            starts[fields] = pos + 1;
            ends[fields] = end;
            escapedFlags[fields] = 0;
            fields++;
            pos = end;
            complete = true;
            break;
          }
          starts[fields] = pos + 1;
          ends[fields] = closed;
          escapedFlags[fields] = escaped ? 1 : 0;
          fields++;
          pos = closed + 1;
          if (pos + 1 === end && buf[pos] === CR && !final) return rowStart;
          if (pos + 1 < end && buf[pos] === CR && buf[pos + 1] === LF) pos++;
          if (pos >= end) {
            if (!final) return rowStart;
            complete = true;
            break;
          }
          const next = buf[pos]!;
          if (next === COMMA) {
            pos++;
            continue;
          }
          if (next === LF) {
            pos++;
            newlines++;
            complete = true;
            break;
          }
          malformed = 'unexpected character after a closing quote';
          // Resynchronise at the end of the physical line.
          while (pos < end && buf[pos] !== LF) pos++;
          if (pos >= end && !final) return rowStart;
          if (pos < end) {
            pos++;
            newlines++;
          }
          complete = true;
          break;
        }
        let i = pos;
        while (i < end) {
          const b = buf[i]!;
          if (b === COMMA || b === LF) break;
          i++;
        }
        if (i >= end && !final) return rowStart;
        let fieldEnd = i;
        if (fieldEnd > pos && buf[fieldEnd - 1] === CR && (i >= end || buf[i] === LF)) fieldEnd--;
        starts[fields] = pos;
        ends[fields] = fieldEnd;
        escapedFlags[fields] = 0;
        fields++;
        if (i >= end) {
          pos = end;
          complete = true;
          break;
        }
        pos = i + 1;
        if (buf[i] === LF) {
          newlines++;
          complete = true;
          break;
        }
      }
      if (!complete) return rowStart;
      this.line += newlines;
      // A blank line (one empty field) is not a row.
      if (fields === 1 && ends[0] === starts[0] && malformed === undefined) continue;
      if (this.header === undefined) {
        this.readHeader(buf, fields);
        continue;
      }
      this.dataRowsSeen++;
      if (malformed !== undefined) this.reject(rowLine, undefined, malformed);
      else this.acceptRow(buf, fields, rowLine);
      if (this.rowCount >= this.maxRows) this.done = true;
    }
    return pos;
  }

  private growFields(): void {
    const n = this.fieldStart.length * 2;
    const s = new Int32Array(n);
    s.set(this.fieldStart);
    this.fieldStart = s;
    const e = new Int32Array(n);
    e.set(this.fieldEnd);
    this.fieldEnd = e;
    const q = new Uint8Array(n);
    q.set(this.fieldEscaped);
    this.fieldEscaped = q;
  }

  private readHeader(buf: Buffer, fields: number): void {
    const names: string[] = [];
    for (let f = 0; f < fields; f++) {
      const text = buf.toString('utf8', this.fieldStart[f]!, this.fieldEnd[f]!);
      names.push(this.fieldEscaped[f] ? unescapeQuotes(text) : text);
    }
    const capacity = Math.max(1024, Math.min(this.capacityHint, this.maxRows));
    if (this.schema === 'expresso') {
      const full = CSV_HEADER as readonly string[];
      const unlabelled = full.slice(0, -1);
      const same = (a: readonly string[]) => a.length === names.length && a.every((n, i) => n === names[i]);
      if (!same(full) && !same(unlabelled)) {
        throw new ChurnwatchError(
          'CW_DATA_CSV_HEADER',
          `${this.file}: the header is not the Expresso Train.csv layout.\n  expected: ${full.join(',')}\n  found:    ${names.join(',')}`,
          {
            hint: 'use the original Train.csv (or a file written by `churnwatch data generate`); CHURN may be absent in a scoring file. For any other CSV use schema "infer".',
          },
        );
      }
      for (const name of names) {
        if (name === ID_COLUMN) {
          this.kinds.push(Kind.Id);
          this.slot.push(-1);
          this.ids = [];
        } else if (name === TARGET_COLUMN) {
          this.kinds.push(Kind.Target);
          this.slot.push(-1);
          this.target = new Growable(new Uint8Array(capacity), (n) => new Uint8Array(n));
        } else if ((NUMERIC_FEATURES as readonly string[]).includes(name)) {
          this.kinds.push(Kind.Numeric);
          this.slot.push(this.numeric.length);
          this.numeric.push(new Growable(new Float64Array(capacity), (n) => new Float64Array(n)));
        } else if ((CATEGORICAL_FEATURES as readonly string[]).includes(name)) {
          this.kinds.push(Kind.Categorical);
          this.slot.push(this.categorical.length);
          this.categorical.push(new Growable(new Int32Array(capacity), (n) => new Int32Array(n)));
          this.dictionaries.push(new ByteDictionary());
        }
      }
    } else {
      if (new Set(names).size !== names.length) {
        throw new ChurnwatchError(
          'CW_DATA_CSV_HEADER',
          `${this.file}: the header repeats a column name (${names.join(',')})`,
          {
            hint: 'give every column a distinct name',
          },
        );
      }
      // Everything starts categorical; columns whose values all parse as numbers become numeric at the end.
      for (const _ of names) {
        this.kinds.push(Kind.Categorical);
        this.slot.push(this.categorical.length);
        this.categorical.push(new Growable(new Int32Array(capacity), (n) => new Int32Array(n)));
        this.dictionaries.push(new ByteDictionary());
      }
    }
    this.header = names;
    this.capacity = this.numeric.length + this.categorical.length > 0 || this.target ? capacity : 0;
    this.refreshViews();
  }

  private reject(line: number, column: string | undefined, message: string): void {
    const error: CsvRowError = { file: this.file, row: this.dataRowsSeen, line, message };
    if (column !== undefined) error.column = column;
    this.errors.push(error);
    if (this.errors.length > this.maxErrors) {
      const where = `${this.file} row ${error.row} (line ${error.line})${column ? `, column ${column}` : ''}`;
      const allowed = this.maxErrors === 0 ? '' : ` — more than the ${this.maxErrors} bad rows allowed`;
      throw new ChurnwatchError('CW_DATA_CSV_ROW', `${where}: ${message}${allowed}`, {
        hint:
          this.maxErrors === 0
            ? 'fix the row, or let the reader skip bad rows (maxErrors / --max-errors N); skipped rows are counted and reported'
            : 'the file has more bad rows than allowed: check that it is the right file, or raise --max-errors',
      });
    }
  }

  /** Validates a row completely before storing anything, so a bad row leaves no trace but its error. */
  private acceptRow(buf: Buffer, fields: number, line: number): void {
    const header = this.header!;
    if (fields !== header.length) {
      const what = fields < header.length ? 'truncated row' : 'too many fields';
      this.reject(line, undefined, `${what}: expected ${header.length} fields, found ${fields}`);
      return;
    }
    const kinds = this.kinds;
    const starts = this.fieldStart;
    const ends = this.fieldEnd;
    const escapedFlags = this.fieldEscaped;
    // Numbers and labels go straight into slot `row`: a bad row leaves values there that the next good
    // row overwrites (rowCount only moves on success), so no second pass is needed.
    const row = this.rowCount;
    if (row >= this.capacity) this.grow(row + 1);
    const numByField = this.numByField;
    for (let f = 0; f < fields; f++) {
      const kind = kinds[f]!;
      if (kind === Kind.Categorical) continue;
      const s = starts[f]!;
      const e = ends[f]!;
      if (kind === Kind.Numeric) {
        if (s === e) {
          numByField[f]![row] = Number.NaN;
          continue;
        }
        const v = escapedFlags[f]
          ? slowNumber(Buffer.from(unescapeQuotes(buf.toString('utf8', s, e))), 0, Infinity)
          : parseNumber(buf, s, e);
        if (Number.isNaN(v)) {
          this.reject(line, header[f], `non-numeric value ${preview(buf, s, e)} in a numeric column`);
          return;
        }
        numByField[f]![row] = v;
      } else if (kind === Kind.Target) {
        if (e - s !== 1 || (buf[s] !== 0x30 && buf[s] !== 0x31)) {
          this.reject(line, header[f], `CHURN must be 0 or 1, found ${preview(buf, s, e)}`);
          return;
        }
        this.targetData[row] = buf[s]! - 0x30;
      } else if (s === e) {
        this.reject(line, header[f], 'user_id is empty');
        return;
      }
    }
    // Strings last, so a bad row never adds a dictionary value or an id.
    for (let f = 0; f < fields; f++) {
      const kind = kinds[f]!;
      if (kind === Kind.Categorical) {
        const s = starts[f]!;
        const e = ends[f]!;
        this.codesByField[f]![row] =
          s === e ? MISSING_CODE : this.dictByField[f]!.code(buf, s, e, escapedFlags[f] === 1);
      } else if (kind === Kind.Id) {
        const text = asciiOrUtf8(buf, starts[f]!, ends[f]!);
        this.ids!.push(escapedFlags[f] ? unescapeQuotes(text) : text);
      }
    }
    this.rowCount++;
  }

  private grow(n: number): void {
    for (const c of this.numeric) c.ensure(n);
    for (const c of this.categorical) c.ensure(n);
    this.target?.ensure(n);
    this.capacity = this.numeric[0]?.data.length ?? this.categorical[0]?.data.length ?? n;
    if (this.target) this.capacity = Math.min(this.capacity, this.target.data.length);
    this.refreshViews();
  }

  /** Plain per-field arrays of typed arrays: monomorphic access in the hot loop. */
  private refreshViews(): void {
    const noNumbers = new Float64Array(0);
    const noCodes = new Int32Array(0);
    this.numByField = this.kinds.map((k, f) =>
      k === Kind.Numeric ? this.numeric[this.slot[f]!]!.data : noNumbers,
    );
    this.codesByField = this.kinds.map((k, f) =>
      k === Kind.Categorical ? this.categorical[this.slot[f]!]!.data : noCodes,
    );
    this.dictByField = this.kinds.map(
      (k, f) => this.dictionaries[k === Kind.Categorical ? this.slot[f]! : 0]!,
    );
    this.targetData = this.target?.data ?? new Uint8Array(0);
  }

  finish(): ReadCsvResult {
    if (this.header === undefined) {
      throw new ChurnwatchError('CW_DATA_CSV_EMPTY', `${this.file}: the file is empty (no header line)`, {
        hint: 'check the path; `churnwatch data download` or `churnwatch data generate` writes a complete file',
      });
    }
    const n = this.rowCount;
    const columns = new Map<string, Column>();
    this.header.forEach((name, f) => {
      const kind = this.kinds[f];
      if (kind === Kind.Numeric) {
        columns.set(name, {
          kind: 'numeric',
          name,
          values: this.numeric[this.slot[f]!]!.trimmed(n),
        } satisfies NumericColumn);
      } else if (kind === Kind.Categorical) {
        const codes = this.categorical[this.slot[f]!]!.trimmed(n);
        const dictionary = this.dictionaries[this.slot[f]!]!.values;
        const asNumbers =
          this.schema === 'infer'
            ? dictionary.map((v) => slowNumber(Buffer.from(v), 0, Infinity))
            : undefined;
        if (asNumbers && !asNumbers.some((v) => Number.isNaN(v))) {
          const values = new Float64Array(n);
          for (let i = 0; i < n; i++)
            values[i] = codes[i] === MISSING_CODE ? Number.NaN : asNumbers[codes[i]!]!;
          columns.set(name, { kind: 'numeric', name, values } satisfies NumericColumn);
        } else {
          columns.set(name, { kind: 'categorical', name, codes, dictionary } satisfies CategoricalColumn);
        }
      }
    });
    const table: ColumnarTable = {
      rowCount: n,
      header: this.header,
      columns,
      ...(this.ids ? { ids: this.ids } : {}),
      ...(this.target ? { target: this.target.trimmed(n) } : {}),
    };
    return { table, skippedRows: this.errors.length, errors: this.errors };
  }
}

/**
 * Reads a CSV file into a columnar table, streaming (memory ≈ the columns, not the file). O(bytes).
 * Throws ChurnwatchError CW_DATA_CSV_HEADER / CW_DATA_CSV_ROW / CW_DATA_CSV_EMPTY naming file, row, line
 * and column; a missing file gives CW_DATA_CSV_NOT_FOUND.
 * @example (await readCsvTable('data/train.csv')).table.rowCount // 2154048
 */
export async function readCsvTable(path: string, options: ReadCsvOptions = {}): Promise<ReadCsvResult> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ChurnwatchError(
      'CW_DATA_CSV_NOT_FOUND',
      `${path}: cannot open the file (${code ?? (error as Error).message})`,
      {
        hint: 'check the path; `churnwatch data download` fetches Train.csv, `churnwatch data generate` writes a synthetic one',
        cause: error,
      },
    );
  }
  try {
    const { size } = await handle.stat();
    // About 100 bytes per Train.csv row: preallocate close to the final size, trim once at the end.
    const builder = new CsvTableBuilder(path, options, Math.ceil(size / 90));
    let buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let filled = 0;
    let bytesRead = 0;
    for (;;) {
      if (filled === buf.length) {
        // One row longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead: n } = await handle.read(buf, filled, buf.length - filled, null);
      bytesRead += n;
      const end = filled + n;
      const final = n === 0;
      const consumed = builder.push(buf, 0, end, final);
      options.onProgress?.(builder.rowsRead, bytesRead);
      if (final || builder.finished) break;
      buf.copy(buf, 0, consumed, end);
      filled = end - consumed;
    }
    return builder.finish();
  } finally {
    await handle.close();
  }
}

/** Parses CSV text already in memory (small inputs, tests). Same rules and errors as readCsvTable. */
export function parseCsvText(text: string, name: string, options: ReadCsvOptions = {}): ReadCsvResult {
  const buf = Buffer.from(text, 'utf8');
  const builder = new CsvTableBuilder(name, options, 1024);
  builder.push(buf, 0, buf.length, true);
  options.onProgress?.(builder.rowsRead, buf.length);
  return builder.finish();
}
