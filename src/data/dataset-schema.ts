/**
 * A data set's schema as data: which column is the id, which the target and its positive label, the
 * features in file order with their kinds (and, for categoricals, the categories kept), the tokens that
 * mean "missing", and the columns left out with the reason. Inferred from a CSV (infer-schema.ts), given
 * as a JSON file (`--schema`), or the Expresso preset below; docs/schema.md describes the format.
 */
import { cliCommand } from '../cli-command.js';
import { ChurnwatchError } from '../errors.js';
import { FEATURES, ID_COLUMN, TARGET_COLUMN } from './customer-schema.js';

export type { FeatureKind } from './feature-types.js';

/** Version of the JSON format; a file of another version is refused (CW_DATA_SCHEMA_VERSION). */
export const DATASET_SCHEMA_VERSION = 1;

/**
 * Cells that mean "missing", compared after trimming whitespace and ignoring case: so a blank or
 * whitespace-only cell (the Telco file's `TotalCharges`), `NA`, `n/a`, `NULL`, `NaN` and `?` are missing.
 */
export const DEFAULT_MISSING_TOKENS: readonly string[] = ['', 'NA', 'N/A', 'null', 'NaN', '?'];

/** Categories kept per categorical feature, most frequent first: what one histogram bin each can hold. */
export const DEFAULT_MAX_CATEGORIES = 255;

export type DropReason = 'constant' | 'all-missing' | 'id-like' | 'ignored' | 'reserved';
export const DROP_REASONS: readonly DropReason[] = [
  'constant',
  'all-missing',
  'id-like',
  'ignored',
  'reserved',
];

/**
 * The key the model's own score takes beside the features: in the drift thresholds of the profile and as
 * the `feature` label value of the drift gauges and rules. A feature of that exact name would mix with it,
 * so no feature may be called so (inference drops such a column as `reserved`).
 */
export const SCORE_KEY = 'score';

/** The error for a feature named SCORE_KEY, from a schema file or a flag. */
export function reservedFeatureName(where: string): ChurnwatchError {
  return new ChurnwatchError(
    'CW_DATA_SCHEMA_RESERVED_NAME',
    `${where}: a feature cannot be named "${SCORE_KEY}": churnwatch gives that name to the model's own score in its drift thresholds, metrics and rules`,
    {
      hint: `rename the column (e.g. "${SCORE_KEY}_value") to use it as a feature, or leave it out with --ignore ${SCORE_KEY}`,
    },
  );
}

export interface NumericFeatureSchema {
  readonly name: string;
  readonly kind: 'numeric';
}

export interface CategoricalFeatureSchema {
  readonly name: string;
  readonly kind: 'categorical';
  /** The categories kept, most frequent first; absent: learned from the training data. */
  readonly categories?: readonly string[];
  /** Distinct values seen but not kept (a lower bound past the values inference counts). */
  readonly otherCategories?: number;
  /** Rows holding a value not kept. */
  readonly otherRows?: number;
}

export type FeatureSchema = NumericFeatureSchema | CategoricalFeatureSchema;

export interface DroppedColumn {
  readonly column: string;
  readonly reason: DropReason;
}

export interface DatasetSchema {
  readonly version: typeof DATASET_SCHEMA_VERSION;
  /** The column that names a row (never a feature); absent when the data has none. */
  readonly id?: string;
  readonly target: {
    readonly column: string;
    /** The label of the class the model scores (churned). */
    readonly positive: string;
    readonly negative: string;
  };
  /** In file order. */
  readonly features: readonly FeatureSchema[];
  readonly missingTokens: readonly string[];
  /**
   * Whether cells (and header names) lose their surrounding spaces and tabs before they are compared
   * with the missing tokens, the target labels or parsed. Absent: true. Expresso's is false: TOP_PACK
   * values end in tabs that are part of the category.
   */
  readonly trimWhitespace?: boolean;
  readonly dropped: readonly DroppedColumn[];
}

/** The schema's trimWhitespace, default applied. */
export const trimsWhitespace = (schema: DatasetSchema): boolean => schema.trimWhitespace !== false;

/**
 * Expresso's Train.csv as a schema, built from customer-schema.ts so the two cannot disagree. Its reader
 * takes only the empty cell as missing and keeps whitespace (TOP_PACK values end in tabs).
 */
export const EXPRESSO_SCHEMA: DatasetSchema = Object.freeze({
  version: DATASET_SCHEMA_VERSION,
  id: ID_COLUMN,
  target: { column: TARGET_COLUMN, positive: '1', negative: '0' },
  features: FEATURES.map((f): FeatureSchema => ({ name: f.name, kind: f.kind })),
  missingTokens: [''],
  trimWhitespace: false,
  dropped: [],
});

/** The schema as the JSON of a schema file, two-space indented, ending in a newline. */
export function serializeDatasetSchema(schema: DatasetSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/**
 * Parses and checks the text of a schema file. Throws CW_DATA_SCHEMA_INVALID naming the file and the
 * JSON path at fault (`features[3].kind must be "numeric" or "categorical", got "text"`), and
 * CW_DATA_SCHEMA_VERSION for another format version.
 */
export function parseDatasetSchema(text: string, file: string): DatasetSchema {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ChurnwatchError('CW_DATA_SCHEMA_INVALID', `${file}: not JSON (${(error as Error).message})`, {
      hint: `write the schema file as ${cliCommand('train --print-schema --json')} prints it`,
      cause: error,
    });
  }
  return validateDatasetSchema(value, file);
}

const HINT = 'see docs/schema.md for the schema file format';

function invalid(file: string, path: string, rule: string, got: unknown): never {
  throw new ChurnwatchError(
    'CW_DATA_SCHEMA_INVALID',
    `${file}: ${path} must be ${rule}, got ${got === undefined ? 'nothing' : JSON.stringify(got)}`,
    { hint: HINT },
  );
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function text(file: string, path: string, v: unknown, allowEmpty = false): string {
  if (typeof v !== 'string' || (!allowEmpty && v.trim() === '')) invalid(file, path, 'a non-empty string', v);
  return v;
}

function count(file: string, path: string, v: unknown): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) invalid(file, path, 'an integer ≥ 0', v);
  return v as number;
}

function texts(file: string, path: string, v: unknown, allowEmpty: boolean): string[] {
  if (!Array.isArray(v)) invalid(file, path, 'an array of strings', v);
  const out = v.map((item, i) => text(file, `${path}[${i}]`, item, allowEmpty));
  const seen = new Set<string>();
  out.forEach((item, i) => {
    if (seen.has(item)) invalid(file, `${path}[${i}]`, 'distinct from the earlier entries', item);
    seen.add(item);
  });
  return out;
}

function noOtherKeys(file: string, path: string, v: Record<string, unknown>, keys: readonly string[]): void {
  const extra = Object.keys(v).find((k) => !keys.includes(k));
  if (extra !== undefined)
    throw new ChurnwatchError(
      'CW_DATA_SCHEMA_INVALID',
      `${file}: ${path ? `${path}.` : ''}${extra} is not a schema field (known: ${keys.join(', ')})`,
      { hint: HINT },
    );
}

function feature(file: string, path: string, v: unknown): FeatureSchema {
  if (!isObject(v)) invalid(file, path, 'an object {name, kind}', v);
  const name = text(file, `${path}.name`, v.name);
  if (v.kind === 'numeric') {
    noOtherKeys(file, path, v, ['name', 'kind']);
    return { name, kind: 'numeric' };
  }
  if (v.kind !== 'categorical') invalid(file, `${path}.kind`, '"numeric" or "categorical"', v.kind);
  noOtherKeys(file, path, v, ['name', 'kind', 'categories', 'otherCategories', 'otherRows']);
  return {
    name,
    kind: 'categorical',
    ...(v.categories !== undefined
      ? { categories: texts(file, `${path}.categories`, v.categories, true) }
      : {}),
    ...(v.otherCategories !== undefined
      ? { otherCategories: count(file, `${path}.otherCategories`, v.otherCategories) }
      : {}),
    ...(v.otherRows !== undefined ? { otherRows: count(file, `${path}.otherRows`, v.otherRows) } : {}),
  };
}

/**
 * Checks a parsed schema file (see parseDatasetSchema): the fields and their types, the version, and that
 * no column has two places (a feature twice, the target as a feature, the id dropped…).
 */
export function validateDatasetSchema(value: unknown, file: string): DatasetSchema {
  if (!isObject(value)) invalid(file, 'the schema', 'a JSON object', value);
  if (value.version !== DATASET_SCHEMA_VERSION)
    throw new ChurnwatchError(
      'CW_DATA_SCHEMA_VERSION',
      `${file}: schema version ${JSON.stringify(value.version)}; this churnwatch reads version ${DATASET_SCHEMA_VERSION}`,
      { hint: `write the file again with ${cliCommand('train --print-schema --json')}` },
    );
  noOtherKeys(file, '', value, [
    'version',
    'id',
    'target',
    'features',
    'missingTokens',
    'trimWhitespace',
    'dropped',
  ]);
  const id = value.id === undefined ? undefined : text(file, 'id', value.id);
  if (!isObject(value.target))
    invalid(file, 'target', 'an object {column, positive, negative}', value.target);
  noOtherKeys(file, 'target', value.target, ['column', 'positive', 'negative']);
  const target = {
    column: text(file, 'target.column', value.target.column),
    positive: text(file, 'target.positive', value.target.positive),
    negative: text(file, 'target.negative', value.target.negative),
  };
  if (target.positive === target.negative)
    invalid(
      file,
      'target.negative',
      `a label other than the positive one (${target.positive})`,
      target.negative,
    );
  if (!Array.isArray(value.features)) invalid(file, 'features', 'an array', value.features);
  const features = value.features.map((f, i) => feature(file, `features[${i}]`, f));
  const reserved = features.findIndex((f) => f.name === SCORE_KEY);
  if (reserved >= 0) throw reservedFeatureName(`${file}: features[${reserved}]`);
  const missingTokens =
    value.missingTokens === undefined
      ? [...DEFAULT_MISSING_TOKENS]
      : texts(file, 'missingTokens', value.missingTokens, true);
  if (value.trimWhitespace !== undefined && typeof value.trimWhitespace !== 'boolean')
    invalid(file, 'trimWhitespace', 'true or false', value.trimWhitespace);
  const droppedRaw = value.dropped ?? [];
  if (!Array.isArray(droppedRaw)) invalid(file, 'dropped', 'an array', droppedRaw);
  const dropped = droppedRaw.map((d, i): DroppedColumn => {
    const path = `dropped[${i}]`;
    if (!isObject(d)) invalid(file, path, 'an object {column, reason}', d);
    noOtherKeys(file, path, d, ['column', 'reason']);
    if (!DROP_REASONS.includes(d.reason as DropReason))
      invalid(file, `${path}.reason`, `one of ${DROP_REASONS.join(', ')}`, d.reason);
    return { column: text(file, `${path}.column`, d.column), reason: d.reason as DropReason };
  });
  const places = new Map<string, string>();
  const place = (column: string, where: string) => {
    const earlier = places.get(column);
    if (earlier !== undefined)
      throw new ChurnwatchError(
        'CW_DATA_SCHEMA_DUPLICATE_COLUMN',
        `${file}: column ${column} is named twice, as ${earlier} and as ${where}`,
        { hint: 'give each column one place in the schema' },
      );
    places.set(column, where);
  };
  if (id !== undefined) place(id, 'id');
  place(target.column, 'target.column');
  for (const [i, f] of features.entries()) place(f.name, `features[${i}]`);
  for (const [i, d] of dropped.entries()) place(d.column, `dropped[${i}]`);
  return {
    version: DATASET_SCHEMA_VERSION,
    ...(id !== undefined ? { id } : {}),
    target,
    features,
    missingTokens,
    ...(value.trimWhitespace !== undefined ? { trimWhitespace: value.trimWhitespace } : {}),
    dropped,
  };
}
