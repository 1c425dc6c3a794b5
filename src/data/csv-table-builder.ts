/**
 * The CSV parser and table builder behind csv-reader.ts (the rules are described there): `push` parses
 * the complete rows of a byte range, `finish` returns the table. A builder can also parse one part of a
 * file on a worker thread (csv-part-worker.ts) and be merged into the builder of the part before it.
 */

import { cliCommand } from '../cli-command.js';
import { ChurnwatchError } from '../errors.js';
import {
  type CategoricalColumn,
  type Column,
  type ColumnarTable,
  MISSING_CODE,
  type NumericColumn,
} from './columnar-table.js';
import { ByteDictionary, HASH_PRIME, HASH_SEED, hashBytes } from './csv-byte-dictionary.js';
import { numberFromText, parseNumber } from './csv-number.js';
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
  /**
   * readCsvTable only. 1 (default): parse on the calling thread. 2: parse the second half of the file
   * on a worker thread at the same time (same table, errors and dictionary order). Default: 2 for files
   * of 64 MiB or more on a machine with two cores or more, else 1 (for small files the worker's start-up
   * is not repaid). Ignored with maxRows.
   */
  threads?: number;
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

/** What a file column becomes. */
enum Kind {
  Id = 0,
  Numeric = 1,
  Categorical = 2,
  Target = 3,
}

function unescapeQuotes(quotedContent: string): string {
  return quotedContent.replaceAll('""', '"');
}

/**
 * Buffer#latin1Slice is what buf.toString('latin1', a, b) ends in, without its argument checks and
 * encoding dispatch, which cost as much as the copy for a 40-byte id. Fall back when it is absent.
 */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (a: number, b: number) => string })
  .latin1Slice;
function latin1(buf: Buffer, start: number, end: number): string {
  return latin1Slice ? latin1Slice.call(buf, start, end) : buf.toString('latin1', start, end);
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

/** The error for the bad row that goes past maxErrors. */
export function tooManyBadRows(error: CsvRowError, maxErrors: number): ChurnwatchError {
  const where = `${error.file} row ${error.row} (line ${error.line})${error.column ? `, column ${error.column}` : ''}`;
  const allowed = maxErrors === 0 ? '' : ` — more than the ${maxErrors} bad rows allowed`;
  return new ChurnwatchError('CW_DATA_CSV_ROW', `${where}: ${error.message}${allowed}`, {
    hint:
      maxErrors === 0
        ? 'fix the row, or let the reader skip bad rows (maxErrors / --max-errors N); skipped rows are counted and reported'
        : 'the file has more bad rows than allowed: check that it is the right file, or raise --max-errors',
  });
}

/** What a builder of a later part of the file hands to the builder of the part before it. */
export interface CsvPart {
  rowCount: number;
  /** Data rows seen, bad ones included. */
  dataRowsSeen: number;
  /** Physical lines of the part. */
  lines: number;
  errors: CsvRowError[];
  /** Per file column: values (numeric), codes (categorical), or undefined. Longer than rowCount. */
  numeric: (Float64Array | undefined)[];
  codes: (Int32Array | undefined)[];
  dictionaries: (string[] | undefined)[];
  target: Uint8Array | undefined;
}

/** Ids as bytes, one after the other, and where each ends. */
export interface IdBatch {
  bytes: Uint8Array;
  ends: Int32Array;
  /** Every byte below 0x80. */
  ascii: boolean;
}

/**
 * Appends the strings of a batch of ids to `out`. ASCII ids (all of Train.csv's) are decoded as one
 * latin1 string and cut with substring, which V8 makes as slices of it: one native call per batch
 * instead of one per id, and less to copy for the garbage collector. The batch string holds exactly
 * the ids' characters, so nothing else is kept alive.
 */
export function decodeIds(batch: IdBatch, out: string[]): void {
  const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  const ends = batch.ends;
  let start = 0;
  if (batch.ascii) {
    const text = latin1(bytes, 0, ends.length > 0 ? ends[ends.length - 1]! : 0);
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i]!;
      out.push(text.substring(start, end));
      start = end;
    }
    return;
  }
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    out.push(bytes.toString('utf8', start, end));
    start = end;
  }
}

/**
 * The streaming parser and table builder. `push` parses the complete rows of a byte range and returns
 * where the first incomplete row starts; `finish` returns the table.
 */
export class CsvTableBuilder {
  private header: string[] | undefined;
  private kinds: Kind[] = [];
  /** Index into the numeric / categorical column lists for each file column. */
  private slot: number[] = [];
  private numeric: Growable<Float64Array>[] = [];
  private categorical: Growable<Int32Array>[] = [];
  private dictionaries: ByteDictionary[] = [];
  private target: Growable<Uint8Array> | undefined;
  private ids: string[] | undefined;
  private idBytes: Growable<Uint8Array> | undefined;
  private idEnds: Growable<Int32Array> | undefined;
  private idBytesUsed = 0;
  private idCount = 0;
  /** OR of the packed id bytes: below 0x80 means all ASCII, one latin1 string decodes the batch. */
  private idBits = 0;
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
  /** The fast path's per-field kinds, and the new category values of the row it is parsing. */
  private kindCodes = new Uint8Array(0);
  private pendingField = new Int32Array(0);
  private pendingStart = new Int32Array(0);
  private pendingEnd = new Int32Array(0);
  private pendingHash = new Int32Array(0);
  private readonly schema: 'expresso' | 'infer';
  private readonly maxErrors: number;
  private readonly maxRows: number;

  constructor(
    private readonly file: string,
    options: ReadCsvOptions,
    private readonly capacityHint: number,
    /** A later part of a file (worker thread): ids kept as bytes, stop instead of throwing at maxErrors. */
    private readonly partMode = false,
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
    const consumed = this.pushRows(buf, start, end, final);
    if (this.ids !== undefined && this.idCount > 0) {
      const batch = this.takeIdBatchView();
      decodeIds(batch, this.ids);
    }
    return consumed;
  }

  /** The packed ids as views (no copy), then the pack is reset. */
  private takeIdBatchView(): IdBatch {
    const batch = {
      bytes: this.idBytes!.data.subarray(0, this.idBytesUsed),
      ends: this.idEnds!.data.subarray(0, this.idCount),
      ascii: this.idBits < 0x80,
    };
    this.idBytesUsed = 0;
    this.idCount = 0;
    this.idBits = 0;
    return batch;
  }

  private pushRows(buf: Buffer, start: number, end: number, final: boolean): number {
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
      if (this.header !== undefined) {
        pos = this.fastRows(buf, pos, end);
        if (pos >= end || this.done) break;
      }
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

  /**
   * The fast path, for the rows nearly every file is made of: every field unquoted or a simply quoted
   * category (no "" escape, no line break), the right number of fields, every value valid. It parses
   * and stores in one pass over the bytes: integers accumulate digit by digit, categories are hashed
   * while scanned and found in the byte dictionary, so a row costs no string but its id. It stops at
   * the first row it cannot take whole (a quoted number, an escape, a blank line, a bad value, a row
   * cut by the chunk end) and returns that row's start; the general path then takes that one row, with
   * the same result and the same error. Values written for a row it gives up on are overwritten by the
   * next accepted row; new category values and the id are only stored once the row is valid.
   */
  private fastRows(buf: Buffer, start: number, end: number): number {
    const kinds = this.kindCodes;
    const last = kinds.length - 1;
    // The id bytes are copied into the pack while they are scanned, committed when the row is accepted.
    const idPack = this.idBytes;
    const idEndsPack = this.idEnds;
    if (idPack !== undefined && idEndsPack !== undefined) {
      idPack.ensure(this.idBytesUsed + (end - start));
      idEndsPack.ensure(this.idCount + Math.ceil((end - start) / kinds.length) + 1);
    }
    const pack = idPack?.data ?? new Uint8Array(0);
    const packEnds = idEndsPack?.data ?? new Int32Array(0);
    const pendingField = this.pendingField;
    const pendingStart = this.pendingStart;
    const pendingEnd = this.pendingEnd;
    const pendingHash = this.pendingHash;
    let pos = start;
    while (!this.done) {
      const row = this.rowCount;
      if (row >= this.capacity) this.grow(row + 1);
      const numByField = this.numByField;
      const codesByField = this.codesByField;
      const dictByField = this.dictByField;
      const targetData = this.targetData;
      const rowStart = pos;
      if (pos >= end) return rowStart;
      const first = buf[pos]!;
      // Blank lines (and anything starting with CR) are the general path's business.
      if (first === LF || first === CR) return rowStart;
      let idEnd = this.idBytesUsed;
      let idBits = 0;
      let pending = 0;
      for (let f = 0; f <= last; f++) {
        if (pos >= end) return rowStart;
        const kind = kinds[f]!;
        let b = buf[pos]!;
        let s = pos;
        let p = pos;
        if (kind === Kind.Numeric) {
          let v = 0;
          while (p < end) {
            b = buf[p]!;
            if (b < 0x30 || b > 0x39) break;
            v = v * 10 + (b - 0x30);
            p++;
          }
          if (p >= end) return rowStart;
          if ((b === COMMA || b === LF) && p - s <= 15) {
            if (p === s) v = Number.NaN;
          } else {
            // Sign, decimals, exponent, CR, more than 15 digits: the general number parser.
            if (p === s && b === QUOTE) return rowStart;
            while (p < end) {
              b = buf[p]!;
              if (b === COMMA || b === LF) break;
              p++;
            }
            if (p >= end) return rowStart;
            let e = p;
            if (b === LF && e > s && buf[e - 1] === CR) e--;
            if (e === s) v = Number.NaN;
            else {
              v = parseNumber(buf, s, e);
              if (Number.isNaN(v)) return rowStart;
            }
          }
          numByField[f]![row] = v;
        } else if (kind === Kind.Categorical) {
          let h = HASH_SEED;
          let e: number;
          if (b === QUOTE) {
            s = pos + 1;
            p = s;
            while (p < end) {
              b = buf[p]!;
              if (b === QUOTE || b === LF) break;
              h = Math.imul(h ^ b, HASH_PRIME);
              p++;
            }
            if (p + 1 >= end || b !== QUOTE) return rowStart;
            e = p;
            p++;
            b = buf[p]!;
            if (b !== COMMA && b !== LF) return rowStart; // "" escape, CR, junk after the quote
          } else {
            while (p < end) {
              b = buf[p]!;
              if (b === COMMA || b === LF) break;
              h = Math.imul(h ^ b, HASH_PRIME);
              p++;
            }
            if (p >= end) return rowStart;
            e = p;
            if (b === LF && e > s && buf[e - 1] === CR) {
              e--;
              h = hashBytes(buf, s, e);
            }
          }
          if (e === s) codesByField[f]![row] = MISSING_CODE;
          else {
            const code = dictByField[f]!.find(buf, s, e, h);
            if (code >= 0) codesByField[f]![row] = code;
            else {
              pendingField[pending] = f;
              pendingStart[pending] = s;
              pendingEnd[pending] = e;
              pendingHash[pending] = h;
              pending++;
            }
          }
        } else if (kind === Kind.Target) {
          if (b !== 0x30 && b !== 0x31) return rowStart;
          p = pos + 1;
          if (p >= end) return rowStart;
          b = buf[p]!;
          if (b === CR) {
            p++;
            if (p >= end) return rowStart;
            b = buf[p]!;
            if (b !== LF) return rowStart;
          }
          targetData[row] = buf[pos]! - 0x30;
        } else {
          if (b === QUOTE) return rowStart;
          let w = this.idBytesUsed;
          while (p < end) {
            b = buf[p]!;
            if (b === COMMA || b === LF) break;
            idBits |= b;
            pack[w++] = b;
            p++;
          }
          if (p >= end) return rowStart;
          if (b === LF && p > s && buf[p - 1] === CR) w--;
          if (w === this.idBytesUsed) return rowStart;
          idEnd = w;
        }
        // b is the byte that ended the field, at p: a comma, or LF after the last field.
        if (f === last ? b !== LF : b !== COMMA) return rowStart;
        pos = p + 1;
      }
      for (let k = 0; k < pending; k++) {
        const f = pendingField[k]!;
        codesByField[f]![row] = dictByField[f]!.code(buf, pendingStart[k]!, pendingEnd[k]!, pendingHash[k]!);
      }
      if (idEnd !== this.idBytesUsed) {
        packEnds[this.idCount++] = idEnd;
        this.idBytesUsed = idEnd;
        this.idBits |= idBits;
      }
      this.rowCount = row + 1;
      this.dataRowsSeen++;
      this.line++;
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
    this.setHeader(names);
  }

  /** The columns of this file (read from its first line, or given to the builder of a later part). */
  setHeader(names: string[]): void {
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
            hint: `use the original Train.csv (or a file written by ${cliCommand('data generate')}); CHURN may be absent in a scoring file. For any other CSV use schema "infer".`,
          },
        );
      }
      for (const name of names) {
        if (name === ID_COLUMN) {
          this.kinds.push(Kind.Id);
          this.slot.push(-1);
          // Ids are packed as bytes per chunk, then made into strings all at once (or sent, from a worker).
          this.idBytes = new Growable(new Uint8Array(1 << 21), (n) => new Uint8Array(n));
          this.idEnds = new Growable(new Int32Array(1 << 16), (n) => new Int32Array(n));
          if (!this.partMode) this.ids = [];
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
      // A later part stops at the limit: only the merge knows whether this error is the one too many.
      if (this.partMode) this.done = true;
      else throw tooManyBadRows(error, this.maxErrors);
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
          ? numberFromText(unescapeQuotes(buf.toString('utf8', s, e)))
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
        const dictionary = this.dictByField[f]!;
        this.codesByField[f]![row] =
          s === e
            ? MISSING_CODE
            : escapedFlags[f] === 1
              ? dictionary.codeOfString(unescapeQuotes(buf.toString('utf8', s, e)))
              : dictionary.code(buf, s, e);
      } else if (kind === Kind.Id) {
        if (escapedFlags[f]) {
          const bytes = Buffer.from(unescapeQuotes(buf.toString('utf8', starts[f]!, ends[f]!)), 'utf8');
          this.packId(bytes, 0, bytes.length);
        } else this.packId(buf, starts[f]!, ends[f]!);
      }
    }
    this.rowCount++;
  }

  private packId(buf: Uint8Array, start: number, end: number): void {
    const bytes = this.idBytes!;
    const used = this.idBytesUsed + end - start;
    bytes.ensure(used);
    bytes.data.set(buf.subarray(start, end), this.idBytesUsed);
    for (let i = start; i < end; i++) this.idBits |= buf[i]!;
    this.idBytesUsed = used;
    this.idEnds!.ensure(this.idCount + 1);
    this.idEnds!.data[this.idCount++] = used;
  }

  /**
   * Part mode: the ids packed since the last call, as bytes and end offsets. A worker sends them as it
   * goes, so the calling thread can make their strings (strings cannot cross threads) while it waits.
   */
  takeIdBatch(): IdBatch | undefined {
    if (this.idBytes === undefined || this.idEnds === undefined) return undefined;
    const batch = {
      bytes: this.idBytes.data.slice(0, this.idBytesUsed),
      ends: this.idEnds.data.slice(0, this.idCount),
      ascii: this.idBits < 0x80,
    };
    this.idBytesUsed = 0;
    this.idCount = 0;
    this.idBits = 0;
    return batch;
  }

  /** The rows of a later part, for the builder of the part before it (see appendPart). */
  exportPart(): CsvPart {
    return {
      rowCount: this.rowCount,
      dataRowsSeen: this.dataRowsSeen,
      lines: this.line,
      errors: this.errors,
      numeric: this.kinds.map((k, f) => (k === Kind.Numeric ? this.numeric[this.slot[f]!]!.data : undefined)),
      codes: this.kinds.map((k, f) =>
        k === Kind.Categorical ? this.categorical[this.slot[f]!]!.data : undefined,
      ),
      dictionaries: this.kinds.map((k, f) =>
        k === Kind.Categorical ? this.dictionaries[this.slot[f]!]!.values : undefined,
      ),
      target: this.target?.data,
    };
  }

  /**
   * Appends the rows of the part that follows this one (parsed by another builder from the first row
   * boundary after this part's end), as if this builder had parsed them: row and line numbers of its
   * errors move on by this part's, its category codes are re-mapped to this dictionary (new values
   * appended in their order of first appearance), and maxErrors counts the errors of both parts.
   */
  appendPart(part: CsvPart, partIds: readonly string[] | undefined): void {
    const rowOffset = this.dataRowsSeen;
    const lineOffset = this.line - 1;
    for (const e of part.errors) {
      const error: CsvRowError = {
        file: e.file,
        row: e.row + rowOffset,
        line: e.line + lineOffset,
        message: e.message,
      };
      if (e.column !== undefined) error.column = e.column;
      this.errors.push(error);
      if (this.errors.length > this.maxErrors) throw tooManyBadRows(error, this.maxErrors);
    }
    const n = part.rowCount;
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
    if (this.ids !== undefined) {
      if (partIds?.length !== n) throw new RangeError(`a part of ${n} rows came with ${partIds?.length} ids`);
      this.ids = this.ids.concat(partIds);
    }
    this.rowCount = at + n;
    this.dataRowsSeen += part.dataRowsSeen;
    this.line += part.lines - 1;
  }

  /** The column names, once the header is read. */
  get headerNames(): string[] | undefined {
    return this.header;
  }

  /** Physical line where the next row starts (1 = the header line). */
  get nextLine(): number {
    return this.line;
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
    this.kindCodes = Uint8Array.from(this.kinds);
    const n = this.kinds.length;
    if (this.pendingField.length !== n) {
      this.pendingField = new Int32Array(n);
      this.pendingStart = new Int32Array(n);
      this.pendingEnd = new Int32Array(n);
      this.pendingHash = new Int32Array(n);
    }
  }

  finish(): ReadCsvResult {
    if (this.header === undefined) {
      throw new ChurnwatchError('CW_DATA_CSV_EMPTY', `${this.file}: the file is empty (no header line)`, {
        hint: `check the path; ${cliCommand('data download')} or ${cliCommand('data generate')} writes a complete file`,
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
        const asNumbers = this.schema === 'infer' ? dictionary.map(numberFromText) : undefined;
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
