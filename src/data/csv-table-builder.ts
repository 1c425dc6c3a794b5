/**
 * The CSV parser and table builder behind csv-reader.ts (the rules are described there): `push` parses
 * the complete rows of a byte range, `finish` returns the table. A builder can also parse one part of a
 * file on a worker thread (csv-part-worker.ts) and be merged into the builder of the part before it.
 *
 * It is a composition of named parts, each in its own file:
 * - csv-fast-path.ts: one pass over the plain rows that make up nearly every file, parsing and storing;
 * - csv-tokenizer.ts: the general RFC 4180 tokenizer, for the header and every row the fast path hands over;
 * - csv-header.ts: what each column becomes, from the header line and the schema;
 * - csv-column-sink.ts: the growing typed-array columns and their category dictionaries;
 * - csv-ids.ts: user_id values packed as bytes and made into strings once per chunk.
 * This file holds what ties them together: the row and line counts, the checks of a row the fast path
 * could not take (with their errors and maxErrors), and the merge of a later part.
 */

import { cliCommand } from '../cli-command.js';
import { ChurnwatchError } from '../errors.js';
import { type ColumnarTable, MISSING_CODE } from './columnar-table.js';
import { ColumnSink, type PartColumns } from './csv-column-sink.js';
import { PendingCategories, parseFastRows } from './csv-fast-path.js';
import { ColumnKind, type ReaderSchema, resolveColumns } from './csv-header.js';
import { decodeIds, type IdBatch, IdPack } from './csv-ids.js';
import { MissingTokens } from './csv-missing-tokens.js';
import { numberFromText, parseNumber } from './csv-number.js';
import { type SchemaCellCounts, SchemaRowReader } from './csv-schema-row.js';
import { BOM, DIGIT_0, DIGIT_1, preview, startsWithBom } from './csv-syntax.js';
import { NEED_MORE_BYTES, RowTokenizer } from './csv-tokenizer.js';
import { trimsWhitespace } from './dataset-schema.js';

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
  /**
   * 'expresso' (default): the Train.csv layout. 'infer': any CSV, types inferred. A DatasetSchema:
   * columns by name (see csv-header.ts), cells read by its rules (csv-schema-row.ts); a schema that
   * reads like Expresso's (no trimming, only '' missing, labels 1/0, no skipped column) takes the
   * Expresso fast path.
   */
  schema?: ReaderSchema;
  /**
   * DatasetSchema only: numeric columns whose non-numeric cells are read as missing (counted in
   * `nonNumericCells`) instead of being row errors; training passes those inference reported.
   */
  nonNumericAsMissing?: readonly string[];
  /**
   * DatasetSchema only: a row whose target is missing is a row error ('error', default) or skipped and
   * counted in `unlabelledRows` ('skip', for training).
   */
  unlabelled?: 'error' | 'skip';
  /**
   * DatasetSchema read by the schema path only: the target column is skipped, its labels unread
   * (predict). A schema on the fast path (Expresso's) checks its 0/1 labels as before.
   */
  ignoreTarget?: boolean;
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
  /** DatasetSchema with unlabelled 'skip': rows left out because their target is missing. */
  unlabelledRows?: number;
  /** DatasetSchema only: per column, non-numeric cells read as missing (nonNumericAsMissing). */
  nonNumericCells?: Record<string, number>;
}

/** What a builder of a later part of the file hands to the builder of the part before it. */
export interface CsvPart extends PartColumns {
  rowCount: number;
  /** Data rows seen, bad ones included. */
  dataRowsSeen: number;
  /** Physical lines of the part. */
  lines: number;
  errors: CsvRowError[];
  /** The schema path's counts, when it read the part. */
  counts: SchemaCellCounts | undefined;
}

/**
 * Whether a file read by this DatasetSchema can take the Expresso fast path and row checks: cells are
 * read as they are (no trimming), only the empty cell is missing, the labels are 1 and 0, and no column
 * is skipped. EXPRESSO_SCHEMA on Train.csv does.
 */
function fitsFastPath(schema: ReaderSchema, kinds: readonly ColumnKind[], options: ReadCsvOptions): boolean {
  if (typeof schema !== 'object') return true;
  return (
    !trimsWhitespace(schema) &&
    new MissingTokens(schema.missingTokens).onlyEmpty &&
    schema.target.positive === '1' &&
    schema.target.negative === '0' &&
    !kinds.includes(ColumnKind.Skip) &&
    (options.nonNumericAsMissing ?? []).length === 0 &&
    options.unlabelled !== 'skip'
  );
}

/** Columns are preallocated for at least this many rows, whatever the size hint. */
const MIN_CAPACITY = 1024;

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

/**
 * The streaming parser and table builder. `push` parses the complete rows of a byte range and returns
 * where the first incomplete row starts; `finish` returns the table.
 */
export class CsvTableBuilder {
  readonly errors: CsvRowError[] = [];
  private header: string[] | undefined;
  /** Set with the header. */
  private sink: ColumnSink | undefined;
  private pending = new PendingCategories(0);
  private readonly tokenizer = new RowTokenizer();
  /** The id bytes of the rows parsed since the last batch (undefined when the file has no user_id). */
  private idPack: IdPack | undefined;
  /** The id strings, on the calling thread; a part builder sends its batches instead. */
  private ids: string[] | undefined;
  private dataRowsSeen = 0;
  private line = 1;
  private done = false;
  private readonly schema: ReaderSchema;
  /** Set with the header when the schema's rows go through the schema path, not the fast path. */
  private schemaRows: SchemaRowReader | undefined;
  private readonly options: ReadCsvOptions;
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
    this.options = options;
    this.maxErrors = options.maxErrors ?? 0;
    this.maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
    if (!(Number.isInteger(this.maxErrors) && this.maxErrors >= 0)) {
      throw new RangeError(`maxErrors must be a non-negative integer, got ${options.maxErrors}`);
    }
    if (!(this.maxRows >= 0)) throw new RangeError(`maxRows must be non-negative, got ${options.maxRows}`);
  }

  get rowsRead(): number {
    return this.sink?.rowCount ?? 0;
  }

  get finished(): boolean {
    return this.done;
  }

  /** The column names, once the header is read. */
  get headerNames(): string[] | undefined {
    return this.header;
  }

  /** Physical line where the next row starts (1 = the header line). */
  get nextLine(): number {
    return this.line;
  }

  /** Parses rows in buf[start, end); returns the offset of the first byte not consumed. */
  push(buf: Buffer, start: number, end: number, final: boolean): number {
    const consumed = this.pushRows(buf, start, end, final);
    if (this.ids !== undefined && this.idPack !== undefined && this.idPack.count > 0) {
      decodeIds(this.idPack.take(false), this.ids);
    }
    return consumed;
  }

  private pushRows(buf: Buffer, start: number, end: number, final: boolean): number {
    let pos = start;
    if (this.header === undefined && this.line === 1 && startsWithBom(buf, pos, end)) pos += BOM.length;
    const tokenizer = this.tokenizer;
    while (pos < end && !this.done) {
      const sink = this.sink;
      if (sink !== undefined && this.schemaRows === undefined) {
        const before = sink.rowCount;
        pos = parseFastRows(sink, this.idPack, this.pending, buf, pos, end, this.maxRows);
        // Every row the fast path takes is one physical line and one data row.
        const taken = sink.rowCount - before;
        this.dataRowsSeen += taken;
        this.line += taken;
        if (taken > 0 && sink.rowCount >= this.maxRows) this.done = true;
        if (pos >= end || this.done) break;
      }
      const rowLine = this.line;
      const next = tokenizer.scan(buf, pos, end, final);
      if (next === NEED_MORE_BYTES) return pos;
      pos = next;
      this.line += tokenizer.newlines;
      if (tokenizer.blank) continue;
      if (this.header === undefined) {
        const names = tokenizer.texts(buf);
        const trim = typeof this.schema === 'object' && trimsWhitespace(this.schema);
        this.setHeader(trim ? names.map((n) => n.trim()) : names);
        continue;
      }
      this.dataRowsSeen++;
      if (tokenizer.malformed !== undefined) this.reject(rowLine, undefined, tokenizer.malformed);
      else if (this.schemaRows !== undefined) this.acceptSchemaRow(buf, rowLine, this.schemaRows);
      else this.acceptRow(buf, rowLine);
      if (this.rowsRead >= this.maxRows) this.done = true;
    }
    return pos;
  }

  /** The columns of this file (read from its first line, or given to the builder of a later part). */
  setHeader(names: string[]): void {
    let kinds = resolveColumns(this.file, names, this.schema);
    const schemaPath = typeof this.schema === 'object' && !fitsFastPath(this.schema, kinds, this.options);
    if (schemaPath && this.options.ignoreTarget)
      kinds = kinds.map((k) => (k === ColumnKind.Target ? ColumnKind.Skip : k));
    if (kinds.includes(ColumnKind.Id)) {
      // Ids are packed as bytes per chunk, then made into strings all at once (or sent, from a worker).
      this.idPack = new IdPack();
      if (!this.partMode) this.ids = [];
    }
    this.sink = new ColumnSink(kinds, Math.max(MIN_CAPACITY, Math.min(this.capacityHint, this.maxRows)));
    this.pending = new PendingCategories(kinds.length);
    this.header = names;
    if (schemaPath)
      this.schemaRows = new SchemaRowReader(this.schema, names, this.options.nonNumericAsMissing ?? []);
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

  /** The schema path's row checks (csv-schema-row.ts), for the row the tokenizer just scanned. */
  private acceptSchemaRow(buf: Buffer, line: number, rows: SchemaRowReader): void {
    const fields = this.tokenizer.fields;
    const expected = this.header!.length;
    if (fields !== expected) {
      const what = fields < expected ? 'truncated row' : 'too many fields';
      this.reject(line, undefined, `${what}: expected ${expected} fields, found ${fields}`);
      return;
    }
    const fault = rows.accept(buf, this.tokenizer, this.sink!, this.idPack);
    if (fault === undefined) this.sink!.rowCount++;
    else if (fault !== 'unlabelled') this.reject(line, fault.column, fault.message);
    else if (this.options.unlabelled === 'skip') rows.counts.unlabelled++;
    else {
      const target = (this.schema as { target: { column: string } }).target.column;
      this.reject(line, target, 'the target is missing (a row without a label)');
    }
  }

  /**
   * The general path's row checks, for the row the tokenizer just scanned. Validates the row completely
   * before storing anything, so a bad row leaves no trace but its error.
   */
  private acceptRow(buf: Buffer, line: number): void {
    const header = this.header!;
    const sink = this.sink!;
    const tokenizer = this.tokenizer;
    const fields = tokenizer.fields;
    if (fields !== header.length) {
      const what = fields < header.length ? 'truncated row' : 'too many fields';
      this.reject(line, undefined, `${what}: expected ${header.length} fields, found ${fields}`);
      return;
    }
    const kinds = sink.kinds;
    const starts = tokenizer.fieldStart;
    const ends = tokenizer.fieldEnd;
    const escapedFlags = tokenizer.fieldEscaped;
    // Numbers and labels go straight into slot `row`: a bad row leaves values there that the next good
    // row overwrites (rowCount only moves on success), so no second pass is needed.
    const row = sink.rowCount;
    if (row >= sink.capacity) sink.grow(row + 1);
    const numByField = sink.numByField;
    for (let f = 0; f < fields; f++) {
      const kind = kinds[f]!;
      if (kind === ColumnKind.Categorical) continue;
      const s = starts[f]!;
      const e = ends[f]!;
      if (kind === ColumnKind.Numeric) {
        if (s === e) {
          numByField[f]![row] = Number.NaN;
          continue;
        }
        const v = escapedFlags[f] ? numberFromText(tokenizer.text(buf, f)) : parseNumber(buf, s, e);
        if (Number.isNaN(v)) {
          this.reject(line, header[f], `non-numeric value ${preview(buf, s, e)} in a numeric column`);
          return;
        }
        numByField[f]![row] = v;
      } else if (kind === ColumnKind.Target) {
        if (e - s !== 1 || (buf[s] !== DIGIT_0 && buf[s] !== DIGIT_1)) {
          this.reject(line, header[f], `${header[f]} must be 0 or 1, found ${preview(buf, s, e)}`);
          return;
        }
        sink.targetData[row] = buf[s]! - DIGIT_0;
      } else if (s === e) {
        this.reject(line, header[f], 'user_id is empty');
        return;
      }
    }
    // Strings last, so a bad row never adds a dictionary value or an id.
    for (let f = 0; f < fields; f++) {
      const kind = kinds[f]!;
      if (kind === ColumnKind.Categorical) {
        const s = starts[f]!;
        const e = ends[f]!;
        const dictionary = sink.dictByField[f]!;
        sink.codesByField[f]![row] =
          s === e
            ? MISSING_CODE
            : escapedFlags[f] === 1
              ? dictionary.codeOfString(tokenizer.text(buf, f))
              : dictionary.code(buf, s, e);
      } else if (kind === ColumnKind.Id) {
        if (escapedFlags[f]) {
          const bytes = Buffer.from(tokenizer.text(buf, f), 'utf8');
          this.idPack!.push(bytes, 0, bytes.length);
        } else this.idPack!.push(buf, starts[f]!, ends[f]!);
      }
    }
    sink.rowCount++;
  }

  /**
   * Part mode: the ids packed since the last call, as bytes and end offsets. A worker sends them as it
   * goes, so the calling thread can make their strings (strings cannot cross threads) while it waits.
   */
  takeIdBatch(): IdBatch | undefined {
    return this.idPack?.take(true);
  }

  /** The rows of a later part, for the builder of the part before it (see appendPart). */
  exportPart(): CsvPart {
    const sink = this.sink!;
    return {
      rowCount: sink.rowCount,
      dataRowsSeen: this.dataRowsSeen,
      lines: this.line,
      errors: this.errors,
      counts: this.schemaRows?.counts,
      ...sink.exportColumns(),
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
    this.sink!.appendColumns(part, n);
    if (this.ids !== undefined) {
      if (partIds?.length !== n) throw new RangeError(`a part of ${n} rows came with ${partIds?.length} ids`);
      this.ids = this.ids.concat(partIds);
    }
    this.dataRowsSeen += part.dataRowsSeen;
    this.line += part.lines - 1;
    const counts = this.schemaRows?.counts;
    if (counts !== undefined && part.counts !== undefined) {
      counts.unlabelled += part.counts.unlabelled;
      part.counts.nonNumeric.forEach((n, f) => {
        counts.nonNumeric[f]! += n;
      });
    }
  }

  finish(): ReadCsvResult {
    if (this.header === undefined || this.sink === undefined) {
      throw new ChurnwatchError('CW_DATA_CSV_EMPTY', `${this.file}: the file is empty (no header line)`, {
        hint: `check the path; ${cliCommand('data download')} or ${cliCommand('data generate')} writes a complete file`,
      });
    }
    const { columns, target } = this.sink.finish(this.header, this.schema === 'infer');
    const table: ColumnarTable = {
      rowCount: this.sink.rowCount,
      header: this.header,
      columns,
      ...(this.ids ? { ids: this.ids } : {}),
      ...(target ? { target } : {}),
    };
    const counts = this.schemaRows?.counts;
    return {
      table,
      skippedRows: this.errors.length,
      errors: this.errors,
      ...(counts !== undefined
        ? {
            unlabelledRows: counts.unlabelled,
            nonNumericCells: Object.fromEntries(
              this.header.flatMap((name, f) =>
                counts.nonNumeric[f]! > 0 ? [[name, counts.nonNumeric[f]!]] : [],
              ),
            ),
          }
        : {}),
    };
  }
}
