/**
 * Schema inference: one streaming pass over a CSV of any header (RFC 4180, through the reader's tokenizer)
 * counts, per column, missing cells, numbers, whole numbers and distinct values; then decideSchema turns
 * the counts and the overrides (flags, a schema file) into a DatasetSchema, each column's summary and the
 * warnings. Rules in docs/schema.md.
 *
 * Cost: O(bytes); memory O(columns × TRACKED_VALUES) for the value counts, plus one number per row for a
 * column that may still be an id (text, or named like one) until it repeats a value.
 */
import { readFile } from 'node:fs/promises';
import { ChurnwatchError } from '../errors.js';
import { choosePositiveLabel, ID_NAME, idLikeReason, percent, TARGET_NAME } from './column-roles.js';
import { feedFileRange, openCsvFile } from './csv-feed.js';
import { MissingTokens } from './csv-missing-tokens.js';
import { DECIMAL, isBlank, parseNumber, plainDecimal } from './csv-number.js';
import { BOM, startsWithBom } from './csv-syntax.js';
import { tooManyBadRows } from './csv-table-builder.js';
import { NEED_MORE_BYTES, RowTokenizer } from './csv-tokenizer.js';
import { TARGET_COLUMN } from './customer-schema.js';
import {
  type CategoricalFeatureSchema,
  DATASET_SCHEMA_VERSION,
  type DatasetSchema,
  DEFAULT_MAX_CATEGORIES,
  DEFAULT_MISSING_TOKENS,
  type DroppedColumn,
  type DropReason,
  type FeatureSchema,
  parseDatasetSchema,
  reservedFeatureName,
  SCORE_KEY,
} from './dataset-schema.js';

/** Distinct values counted exactly per column; past this, new values are only counted as "others". */
export const TRACKED_VALUES = 10_000;
/** Share of the non-missing cells that must be numbers for a column to be numeric (the rest: missing). */
export const NUMERIC_SHARE = 0.99;
/** A value's count, where it first appeared, and its text there. */
interface Seen {
  count: number;
  row: number;
  line: number;
  text: string;
}

/**
 * What one pass saw of one column. Numbers are counted by value (`1` and `1.0` are one value), other
 * text by its trimmed text; at most TRACKED_VALUES distinct values are counted, later new values only
 * as present.
 */
export class ColumnStats {
  present = 0;
  missing = 0;
  numbers = 0;
  integers = true;
  /** Non-missing cells that are not numbers, and the first of them. */
  nonNumeric = 0;
  firstNonNumeric: { value: string; row: number; line: number } | undefined;
  private readonly numberValues = new Map<number, Seen>();
  private readonly textValues = new Map<string, Seen>();
  /** More distinct values than TRACKED_VALUES: only the first ones are counted. */
  saturated = false;
  /** Hashes of the text values while the column may be an id; dropped at the first repeat. */
  private hashes: Set<number> | undefined = new Set();
  /** Numbers seen past TRACKED_VALUES while the column may be an id (named like one). */
  private moreNumbers: Set<number> | undefined = new Set();
  /** A value repeated (or uniqueness no longer followed). */
  repeated = false;
  private readonly idNamed: boolean;

  constructor(readonly name: string) {
    this.idNamed = ID_NAME.test(name);
  }

  /** A finite number, written as buf[start, end) (its text is made only when first seen). */
  addNumber(value: number, buf: Buffer, start: number, end: number, row: number, line: number): void {
    this.present++;
    this.numbers++;
    if (this.integers && !Number.isInteger(value)) this.integers = false;
    const seen = this.numberValues.get(value);
    if (seen !== undefined) {
      seen.count++;
      this.sawRepeat();
    } else if (this.track())
      this.numberValues.set(value, { count: 1, row, line, text: buf.toString('utf8', start, end) });
    else if (this.moreNumbers !== undefined) {
      if (this.moreNumbers.has(value)) this.sawRepeat();
      else this.moreNumbers.add(value);
    }
  }

  /** Trimmed, non-missing text that is not a number. */
  addText(value: string, row: number, line: number): void {
    this.present++;
    this.nonNumeric++;
    this.firstNonNumeric ??= { value, row, line };
    const seen = this.textValues.get(value);
    if (seen !== undefined) {
      seen.count++;
      this.sawRepeat();
      return;
    }
    if (this.track()) this.textValues.set(value, { count: 1, row, line, text: value });
    if (this.hashes !== undefined) {
      const h = hash52(value);
      if (this.hashes.has(h)) this.sawRepeat();
      else this.hashes.add(h);
    }
  }

  /** Whether a new value is still counted; marks the column saturated when not. */
  private track(): boolean {
    if (this.numberValues.size + this.textValues.size < TRACKED_VALUES) return true;
    if (!this.saturated) {
      this.saturated = true;
      // Numbers are ids only under an id-like name: stop following their uniqueness otherwise.
      if (!this.idNamed) this.moreNumbers = undefined;
    }
    return false;
  }

  private sawRepeat(): void {
    this.repeated = true;
    this.hashes = undefined;
    this.moreNumbers = undefined;
  }

  /** Distinct non-missing values (a lower bound when saturated). */
  get distinct(): number {
    return this.numberValues.size + this.textValues.size;
  }

  /** Values by count, most frequent first (ties: first seen first), as their text. */
  ranked(): [string, Seen][] {
    return [...this.numberValues.values(), ...this.textValues.values()]
      .sort((a, b) => b.count - a.count || a.row - b.row)
      .map((seen) => [seen.text, seen]);
  }

  /** The count of a value, by its text. */
  count(text: string): number {
    for (const [value, seen] of this.ranked()) if (value === text) return seen.count;
    return 0;
  }
}

/** A 52-bit hash of a string (two FNV-1a 32-bit hashes): collisions among 2M values ≈ 0.0002. */
function hash52(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0) * 0x100000 + (b >>> 12);
}

/** What a user named for a column, and how (`--id`, or `schema.json: id`), for error messages. */
export interface NamedColumn {
  readonly column: string;
  readonly by: string;
}

/** What a user decides of the columns, each column given as C. */
interface SchemaChoices<C> {
  readonly target?: C;
  readonly positiveLabel?: string;
  readonly id?: C;
  readonly ignore?: readonly C[];
  readonly categorical?: readonly C[];
  readonly numeric?: readonly C[];
}

/** The flags as given: plain column names. */
export type SchemaFlags = SchemaChoices<string>;

/** The columns the user decided on, from flags and a schema file (see mergeOverrides). */
export interface SchemaOverrides extends SchemaChoices<NamedColumn> {
  readonly missingTokens?: readonly string[];
  /** Categories to keep, by feature (from a schema file). */
  readonly categories?: ReadonlyMap<string, readonly string[]>;
}

type Role = 'target' | 'id' | 'ignore' | 'categorical' | 'numeric';
const ROLES: readonly Role[] = ['target', 'id', 'ignore', 'categorical', 'numeric'];

function namedColumns(o: SchemaOverrides): [Role, NamedColumn][] {
  const out: [Role, NamedColumn][] = [];
  if (o.target) out.push(['target', o.target]);
  if (o.id) out.push(['id', o.id]);
  for (const role of ['ignore', 'categorical', 'numeric'] as const)
    for (const c of o[role] ?? []) out.push([role, c]);
  return out;
}

function overridesFrom(
  entries: readonly [Role, NamedColumn][],
  rest: Partial<SchemaOverrides>,
): SchemaOverrides {
  const list = (role: Role) => entries.filter(([r]) => r === role).map(([, c]) => c);
  const one = (role: Role) => list(role)[0];
  const target = one('target');
  const id = one('id');
  return {
    ...rest,
    ...(target ? { target } : {}),
    ...(id ? { id } : {}),
    ignore: list('ignore'),
    categorical: list('categorical'),
    numeric: list('numeric'),
  };
}

/** Throws CW_DATA_SCHEMA_DUPLICATE_COLUMN when one column is named twice among `entries`. */
function checkNamedOnce(entries: readonly [Role, NamedColumn][]): void {
  const seen = new Map<string, string>();
  for (const [, { column, by }] of entries) {
    const earlier = seen.get(column);
    if (earlier !== undefined)
      throw new ChurnwatchError(
        'CW_DATA_SCHEMA_DUPLICATE_COLUMN',
        `column ${column} is named twice: ${earlier} ${column} and ${by} ${column}`,
        { hint: 'name each column once: as the target, the id, ignored, categorical or numeric' },
      );
    seen.set(column, by);
  }
}

/** Flags as overrides, each column labelled with its flag; a column named twice is refused. */
export function flagOverrides(flags: SchemaFlags): SchemaOverrides {
  const entries: [Role, NamedColumn][] = [];
  for (const role of ROLES) {
    const value = flags[role];
    const flag = `--${role}`;
    for (const column of typeof value === 'string' ? [value] : (value ?? []))
      entries.push([role, { column, by: flag }]);
  }
  checkNamedOnce(entries);
  return overridesFrom(
    entries,
    flags.positiveLabel !== undefined ? { positiveLabel: flags.positiveLabel } : {},
  );
}

/** A schema file's decisions as overrides (dropped columns other than `ignored` are inferred again). */
export function schemaFileOverrides(schema: DatasetSchema, file: string): SchemaOverrides {
  const entries: [Role, NamedColumn][] = [
    ['target', { column: schema.target.column, by: `${file}: target.column` }],
  ];
  if (schema.id !== undefined) entries.push(['id', { column: schema.id, by: `${file}: id` }]);
  for (const [i, f] of schema.features.entries())
    entries.push([f.kind, { column: f.name, by: `${file}: features[${i}]` }]);
  schema.dropped.forEach((d, i) => {
    if (d.reason === 'ignored') entries.push(['ignore', { column: d.column, by: `${file}: dropped[${i}]` }]);
  });
  const categories = new Map<string, readonly string[]>();
  for (const f of schema.features)
    if (f.kind === 'categorical' && f.categories) categories.set(f.name, f.categories);
  return overridesFrom(entries, {
    positiveLabel: schema.target.positive,
    missingTokens: schema.missingTokens,
    categories,
  });
}

/**
 * The file's overrides with the flags' on top: a flag naming a column replaces whatever the file said of
 * it, and `--target` / `--id` replace the file's target / id (and the file's positive label goes with
 * its target).
 */
export function mergeOverrides(file: SchemaOverrides, flags: SchemaOverrides): SchemaOverrides {
  const flagged = namedColumns(flags);
  const byFlag = new Set(flagged.map(([, c]) => c.column));
  const replaced = new Set<Role>(flagged.map(([role]) => role).filter((r) => r === 'target' || r === 'id'));
  const kept = namedColumns(file).filter(([role, c]) => !byFlag.has(c.column) && !replaced.has(role));
  const positiveLabel = flags.positiveLabel ?? (replaced.has('target') ? undefined : file.positiveLabel);
  return overridesFrom([...kept, ...flagged], {
    ...(positiveLabel !== undefined ? { positiveLabel } : {}),
    ...(file.missingTokens ? { missingTokens: file.missingTokens } : {}),
    ...(file.categories ? { categories: file.categories } : {}),
  });
}

/** Reads and checks a schema file (CW_DATA_SCHEMA_INVALID / CW_DATA_SCHEMA_VERSION; a missing file: CW_DATA_SCHEMA_INVALID). */
export async function readSchemaFile(path: string): Promise<DatasetSchema> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ChurnwatchError(
      'CW_DATA_SCHEMA_INVALID',
      `${path}: cannot read the schema file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      {
        hint: 'check the --schema path',
        cause: error,
      },
    );
  }
  return parseDatasetSchema(text, path);
}

/** One column as inference saw and decided it. */
export interface ColumnSummary {
  readonly name: string;
  readonly role: 'id' | 'target' | 'feature' | 'dropped';
  readonly kind?: 'numeric' | 'categorical';
  readonly missing: number;
  /** Distinct non-missing values; `distinctAtLeast` when there were more than counted. */
  readonly distinct: number;
  readonly distinctAtLeast: boolean;
  /** Non-numeric cells of a numeric column, read as missing. */
  readonly nonNumeric: number;
  /** Why the column has its role or was dropped (`named by --id`, `constant: every value is "NO"`). */
  readonly note: string;
}

export interface InferredSchema {
  readonly file: string;
  readonly rows: number;
  readonly schema: DatasetSchema;
  /** Every column of the file, in file order. */
  readonly columns: readonly ColumnSummary[];
  /** Rows per target label (positive first). */
  readonly labels: { readonly positive: number; readonly negative: number; readonly missing: number };
  readonly warnings: readonly string[];
}

export interface InferOptions {
  readonly overrides?: SchemaOverrides;
  readonly maxCategories?: number;
}

const list = (values: readonly string[], max = 12) =>
  values.length > max ? `${values.slice(0, max).join(', ')}, … (${values.length} in all)` : values.join(', ');

/** Throws CW_DATA_SCHEMA_UNKNOWN_COLUMN (CW_DATA_SCHEMA_NO_TARGET for the target) for a name not in the header. */
export function checkOverrideColumns(
  file: string,
  header: readonly string[],
  overrides: SchemaOverrides,
): void {
  const names = new Set(header);
  for (const [role, { column, by }] of namedColumns(overrides)) {
    if (names.has(column)) continue;
    const near = header.find((h) => h.toLowerCase() === column.toLowerCase());
    throw new ChurnwatchError(
      role === 'target' ? 'CW_DATA_SCHEMA_NO_TARGET' : 'CW_DATA_SCHEMA_UNKNOWN_COLUMN',
      `${by} ${column}: ${file} has no column ${JSON.stringify(column)}${role === 'target' ? ' to take as the target' : ''}`,
      {
        hint: near
          ? `did you mean ${near}? (names are case-sensitive)`
          : `the columns are: ${list(header, 30)}`,
      },
    );
  }
}

/** Streams a CSV and gathers the counts; the header is checked against the overrides before any row. */
export class SchemaInferrer {
  private readonly tokenizer = new RowTokenizer();
  private header: string[] | undefined;
  private stats: ColumnStats[] = [];
  private readonly missing: MissingTokens;
  rows = 0;
  private line = 1;

  constructor(
    readonly file: string,
    private readonly overrides: SchemaOverrides = {},
    /** Stop after the header line (readCsvHeader). */
    private readonly headerOnly = false,
  ) {
    this.missing = new MissingTokens(overrides.missingTokens ?? DEFAULT_MISSING_TOKENS);
  }

  get finished(): boolean {
    return this.headerOnly && this.header !== undefined;
  }

  push(buf: Buffer, start: number, end: number, final: boolean): number {
    let pos = start;
    if (this.header === undefined && this.line === 1 && startsWithBom(buf, pos, end)) pos += BOM.length;
    const tokenizer = this.tokenizer;
    while (pos < end) {
      const rowLine = this.line;
      const next = tokenizer.scan(buf, pos, end, final);
      if (next === NEED_MORE_BYTES) return pos;
      pos = next;
      this.line += tokenizer.newlines;
      if (tokenizer.blank) continue;
      if (this.header === undefined) {
        this.setHeader(tokenizer.texts(buf).map((name) => name.trim()));
        if (this.headerOnly) return pos;
        continue;
      }
      this.rows++;
      this.addRow(buf, rowLine);
    }
    return pos;
  }

  private setHeader(names: string[]): void {
    const first = new Map<string, number>();
    names.forEach((name, i) => {
      const earlier = first.get(name);
      if (earlier !== undefined)
        throw new ChurnwatchError(
          'CW_DATA_SCHEMA_DUPLICATE_COLUMN',
          `${this.file}: the header names column ${JSON.stringify(name)} twice (columns ${earlier + 1} and ${i + 1})`,
          { hint: 'give every column a distinct name' },
        );
      first.set(name, i);
    });
    checkOverrideColumns(this.file, names, this.overrides);
    this.header = names;
    this.stats = names.map((n) => new ColumnStats(n));
  }

  private addRow(buf: Buffer, line: number): void {
    const t = this.tokenizer;
    const header = this.header!;
    const bad = (message: string) => tooManyBadRows({ file: this.file, row: this.rows, line, message }, 0);
    if (t.malformed !== undefined) throw bad(t.malformed);
    if (t.fields !== header.length)
      throw bad(
        `${t.fields < header.length ? 'truncated row' : 'too many fields'}: expected ${header.length} fields, found ${t.fields}`,
      );
    const row = this.rows;
    for (let f = 0; f < t.fields; f++) {
      const stats = this.stats[f]!;
      let s = t.fieldStart[f]!;
      let e = t.fieldEnd[f]!;
      while (s < e && isBlank(buf[s]!)) s++;
      while (e > s && isBlank(buf[e - 1]!)) e--;
      if (!t.fieldEscaped[f]) {
        if (s === e && this.missing.emptyIsMissing) {
          stats.missing++;
          continue;
        }
        // Plain decimals are parsed from the bytes; anything else (exponents, tokens, text) as text below.
        const value = plainDecimal(buf, s, e) ? parseNumber(buf, s, e) : Number.NaN;
        if (!Number.isNaN(value) && !this.missing.hasNumber(value)) {
          stats.addNumber(value, buf, s, e, row, line);
          continue;
        }
      }
      const text = t.text(buf, f).trim();
      const number = DECIMAL.test(text) ? Number(text) : Number.NaN;
      if (this.missing.hasText(text)) stats.missing++;
      else if (Number.isFinite(number)) stats.addNumber(number, buf, s, e, row, line);
      else stats.addText(text, row, line);
    }
  }

  /** The header and counts; CW_DATA_CSV_EMPTY for a file without a header line. */
  result(): { header: string[]; stats: ColumnStats[]; rows: number } {
    if (this.header === undefined)
      throw new ChurnwatchError('CW_DATA_CSV_EMPTY', `${this.file}: the file is empty (no header line)`, {
        hint: 'pass a CSV whose first line names its columns',
      });
    return { header: this.header, stats: this.stats, rows: this.rows };
  }
}

async function feedFile(path: string, inferrer: SchemaInferrer): Promise<void> {
  const handle = await openCsvFile(path);
  try {
    await feedFileRange(handle, inferrer, { from: 0, to: Number.POSITIVE_INFINITY });
  } finally {
    await handle.close();
  }
}

/** The column names of a CSV file's header line, trimmed (CW_DATA_SCHEMA_DUPLICATE_COLUMN for a repeated one). */
export async function readCsvHeader(path: string): Promise<string[]> {
  const inferrer = new SchemaInferrer(path, {}, true);
  await feedFile(path, inferrer);
  return inferrer.result().header;
}

/** Infers the schema of a CSV file: one streaming pass, then decideSchema. */
export async function inferSchemaFromFile(path: string, options: InferOptions = {}): Promise<InferredSchema> {
  const inferrer = new SchemaInferrer(path, options.overrides);
  await feedFile(path, inferrer);
  return decideSchema(path, inferrer.result(), options);
}

/**
 * The schema of a training file as the user asks for it: inferred, with a schema file's decisions
 * over the inference and the flags over both.
 */
export async function resolveDatasetSchema(
  data: string,
  request: {
    readonly flags?: SchemaFlags;
    readonly schemaFile?: string;
    /**
     * Kinds below the file and the flags: for the columns neither names (an imported model's own
     * feature types, which no inference should second-guess).
     */
    readonly kinds?: readonly KindHint[];
  },
): Promise<InferredSchema> {
  const flags = flagOverrides(request.flags ?? {});
  const overrides =
    request.schemaFile === undefined
      ? flags
      : mergeOverrides(
          schemaFileOverrides(await readSchemaFile(request.schemaFile), request.schemaFile),
          flags,
        );
  return inferSchemaFromFile(data, { overrides: withKindHints(overrides, request.kinds ?? []) });
}

/** A column's kind as something other than the user decided it, `by` saying what (`model.json: feature_types`). */
export interface KindHint extends NamedColumn {
  readonly kind: 'numeric' | 'categorical';
}

/** The overrides with the hinted kinds of the columns they leave unnamed. */
function withKindHints(o: SchemaOverrides, hints: readonly KindHint[]): SchemaOverrides {
  const named = new Set(namedColumns(o).map(([, c]) => c.column));
  const unnamed = (kind: KindHint['kind']) =>
    hints.filter((h) => h.kind === kind && !named.has(h.column)).map(({ column, by }) => ({ column, by }));
  return {
    ...o,
    categorical: [...(o.categorical ?? []), ...unnamed('categorical')],
    numeric: [...(o.numeric ?? []), ...unnamed('numeric')],
  };
}

/** Infers the schema of CSV text (tests, small inputs). */
export function inferSchemaFromText(text: string, file: string, options: InferOptions = {}): InferredSchema {
  const inferrer = new SchemaInferrer(file, options.overrides);
  const buf = Buffer.from(text, 'utf8');
  inferrer.push(buf, 0, buf.length, true);
  return decideSchema(file, inferrer.result(), options);
}

function quoteValues(stats: ColumnStats, max: number): string {
  return stats
    .ranked()
    .slice(0, max)
    .map(
      ([v, s]) =>
        `${JSON.stringify(v)} (${s.count} row${s.count === 1 ? '' : 's'}, first at row ${s.row}, line ${s.line})`,
    )
    .join(', ');
}

function chooseTarget(
  file: string,
  header: readonly string[],
  stats: readonly ColumnStats[],
  o: SchemaOverrides,
): number {
  if (o.target) return header.indexOf(o.target.column);
  const exact = header.indexOf(TARGET_COLUMN);
  if (exact >= 0) return exact;
  const named = header.findIndex((name, i) => TARGET_NAME.test(name) && stats[i]!.distinct === 2);
  if (named >= 0) return named;
  throw new ChurnwatchError(
    'CW_DATA_SCHEMA_NO_TARGET',
    `${file}: no target column: no --target was given and no column is named ${TARGET_COLUMN} or like a target (churn, target, label, class, y) with two values`,
    { hint: `pass --target COLUMN; the columns are: ${list(header, 30)}` },
  );
}

function checkTargetClasses(file: string, column: string, stats: ColumnStats, rows: number): string[] {
  if (stats.distinct > 2)
    throw new ChurnwatchError(
      'CW_DATA_SCHEMA_TARGET_CLASSES',
      `${file}: the target column ${column} has ${stats.saturated ? 'more than ' : ''}${stats.distinct} classes, not 2: ${quoteValues(stats, 10)}${stats.distinct > 10 ? ', …' : ''}`,
      { hint: 'pass the churn column as --target, or fix the rows whose label is neither class' },
    );
  if (stats.distinct < 2) {
    const only =
      stats.distinct === 1
        ? `one class only, ${quoteValues(stats, 1)}`
        : `no label in any of its ${rows} rows`;
    throw new ChurnwatchError(
      'CW_DATA_SCHEMA_ONE_CLASS',
      `${file}: the target column ${column} holds ${only}; training needs rows of both classes`,
      { hint: 'train on a file with churned and retained customers, or check --target' },
    );
  }
  return stats.ranked().map(([v]) => v);
}

/** The kind a column takes from its values: numeric when ≥ 99 % of its non-missing cells are numbers. */
export function inferredKind(stats: ColumnStats): 'numeric' | 'categorical' {
  return stats.present > 0 && stats.numbers >= NUMERIC_SHARE * stats.present ? 'numeric' : 'categorical';
}

function idEvidenceReason(stats: ColumnStats, rows: number): string | undefined {
  if (stats.repeated) return undefined;
  const kind = inferredKind(stats);
  return idLikeReason(stats.name, [
    {
      kind,
      rows,
      present: stats.present,
      distinct: stats.present,
      integers: kind === 'numeric' && stats.integers,
    },
  ]);
}

/**
 * Turns one pass's counts and the overrides into the schema. Rules (docs/schema.md): overrides first;
 * the target is `--target`, else CHURN, else the first two-valued column named like a target; the first
 * id-like column not named by a flag is the id, later ones are dropped; then per column: ignored,
 * all-missing, constant, id-like, or a feature whose kind is forced or inferred.
 */
export function decideSchema(
  file: string,
  seen: { header: readonly string[]; stats: readonly ColumnStats[]; rows: number },
  options: InferOptions = {},
): InferredSchema {
  const { header, stats, rows } = seen;
  const o = options.overrides ?? {};
  const maxCategories = options.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  checkOverrideColumns(file, header, o);
  const warnings: string[] = [];
  const named = (role: Role) =>
    new Map(((o[role] as NamedColumn[] | undefined) ?? []).map((c) => [c.column, c.by]));
  const ignored = named('ignore');
  const forced = new Map<string, ['numeric' | 'categorical', string]>([
    ...[...named('numeric')].map(([c, by]): [string, ['numeric', string]] => [c, ['numeric', by]]),
    ...[...named('categorical')].map(([c, by]): [string, ['categorical', string]] => [
      c,
      ['categorical', by],
    ]),
  ]);

  const t = chooseTarget(file, header, stats, o);
  const targetName = header[t]!;
  const targetStats = stats[t]!;
  const classes = checkTargetClasses(file, targetName, targetStats, rows);
  const [positive, negative] = choosePositiveLabel(
    file,
    targetName,
    classes,
    o.positiveLabel,
    'CW_DATA_SCHEMA_POSITIVE_LABEL',
  );
  const labels = {
    positive: targetStats.count(positive),
    negative: targetStats.count(negative),
    missing: targetStats.missing,
  };
  if (labels.missing > 0)
    warnings.push(
      `${targetName}: ${labels.missing} row${labels.missing === 1 ? '' : 's'} without a label (training skips them)`,
    );

  let id = o.id?.column;
  const features: FeatureSchema[] = [];
  const dropped: DroppedColumn[] = [];
  const columns: ColumnSummary[] = [];
  for (const [i, name] of header.entries()) {
    const s = stats[i]!;
    const base = {
      name,
      missing: s.missing,
      distinct: s.distinct,
      distinctAtLeast: s.saturated,
      nonNumeric: 0,
    };
    if (i === t) {
      columns.push({
        ...base,
        role: 'target',
        note: `${o.target ? `named by ${o.target.by}` : 'inferred'}: positive ${JSON.stringify(positive)} (${percent(labels.positive / (labels.positive + labels.negative))}), negative ${JSON.stringify(negative)}`,
      });
      continue;
    }
    const drop = (reason: DropReason, note: string, warn: boolean) => {
      dropped.push({ column: name, reason });
      columns.push({ ...base, role: 'dropped', note: `${reason}: ${note}` });
      if (warn) warnings.push(`${name}: dropped, ${reason} (${note})`);
    };
    if (name === id) {
      columns.push({ ...base, role: 'id', note: `named by ${o.id!.by}` });
      if (s.repeated || s.missing > 0)
        warnings.push(
          `${name}: the id column ${s.repeated ? 'repeats values' : ''}${s.repeated && s.missing > 0 ? ' and ' : ''}${s.missing > 0 ? `is missing in ${s.missing} rows` : ''}`,
        );
      continue;
    }
    const by = ignored.get(name);
    if (by !== undefined) {
      drop('ignored', `named by ${by}`, false);
      continue;
    }
    if (name === SCORE_KEY) {
      const force = forced.get(name);
      if (force) throw reservedFeatureName(`${file}: ${name}, named by ${force[1]}`);
      drop(
        'reserved',
        `churnwatch names the model's own score "${SCORE_KEY}"; rename the column to use it`,
        true,
      );
      continue;
    }
    if (s.present === 0) {
      drop('all-missing', `no value in any of the ${rows} rows`, true);
      continue;
    }
    if (s.distinct === 1 && !s.saturated) {
      drop('constant', `every value is ${JSON.stringify(s.ranked()[0]![0])}`, true);
      continue;
    }
    const force = forced.get(name);
    if (force === undefined) {
      const idReason = idEvidenceReason(s, rows);
      if (idReason !== undefined) {
        if (id === undefined && o.id === undefined) {
          id = name;
          columns.push({ ...base, role: 'id', note: `inferred: ${idReason}` });
          continue;
        }
        drop('id-like', `${idReason}; name it with --categorical to use it as a feature`, true);
        continue;
      }
    }
    const kind = force?.[0] ?? inferredKind(s);
    const how = force ? `named by ${force[1]}` : 'inferred';
    if (kind === 'numeric') {
      features.push({ name, kind });
      const extra =
        s.nonNumeric > 0
          ? `; ${s.nonNumeric} non-numeric cell${s.nonNumeric === 1 ? '' : 's'} read as missing`
          : '';
      columns.push({
        ...base,
        missing: s.missing + s.nonNumeric,
        role: 'feature',
        kind,
        nonNumeric: s.nonNumeric,
        note: `${how}${extra}`,
      });
      if (s.nonNumeric > 0) {
        const first = s.firstNonNumeric!;
        warnings.push(
          `${name}: numeric, ${s.nonNumeric} non-numeric cell${s.nonNumeric === 1 ? '' : 's'} read as missing (first ${JSON.stringify(first.value)} at row ${first.row}, line ${first.line})`,
        );
      }
      continue;
    }
    features.push(categoricalFeature(name, s, maxCategories, o.categories?.get(name)));
    columns.push({ ...base, role: 'feature', kind, note: how });
  }
  if (features.length === 0)
    throw new ChurnwatchError(
      'CW_DATA_SCHEMA_NO_FEATURES',
      `${file}: no feature column is left: ${dropped.map((d) => `${d.column} (${d.reason})`).join(', ') || 'the file has only its target and id'}`,
      { hint: 'check --ignore and --id, or name a column with --categorical / --numeric' },
    );
  const schema: DatasetSchema = {
    version: DATASET_SCHEMA_VERSION,
    ...(id !== undefined ? { id } : {}),
    target: { column: targetName, positive, negative },
    features,
    missingTokens: [...(o.missingTokens ?? DEFAULT_MISSING_TOKENS)],
    dropped,
  };
  return { file, rows, schema, columns, labels, warnings };
}

function categoricalFeature(
  name: string,
  s: ColumnStats,
  max: number,
  given: readonly string[] | undefined,
): CategoricalFeatureSchema {
  if (given !== undefined) return { name, kind: 'categorical', categories: given };
  const ranked = s.ranked();
  const kept = ranked.slice(0, max);
  const keptRows = kept.reduce((sum, [, seen]) => sum + seen.count, 0);
  return {
    name,
    kind: 'categorical',
    categories: kept.map(([v]) => v),
    otherCategories: ranked.length - kept.length,
    otherRows: s.present - keptRows,
  };
}
