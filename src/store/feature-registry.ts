/**
 * The feature registry: which SQL column of `predictions` holds each feature, recorded in the database
 * itself (table feature_columns, migration 7) so a database says what it holds whatever model opens
 * it. Append-only: a feature keeps its column and kind for the life of the database, features a later
 * model lacks stay (NULL in new rows), new ones are added as columns. So a column block's feature
 * columns are always a prefix, per kind, of the current ones (docs/store-format.md).
 *
 * Column names are made here and only here, from the feature name but never containing it verbatim:
 * `f_` and the name folded to [a-z0-9_], with a numeric suffix on a clash. Expresso's 17 features keep
 * the lower-case names migration 1 gave them, so databases made before the registry need no rename.
 */

import { CATEGORICAL_FEATURES, NUMERIC_FEATURES } from '../data/customer-schema.js';
import type { FeatureKind, FeatureSpec } from '../data/feature-types.js';
import { ChurnwatchError } from '../errors.js';
import { FIXED_INSERT_COLUMNS } from './row-layout.js';

/** One registered feature: its name in the model's schema, its SQL column, its kind. */
export interface FeatureColumn {
  readonly feature: string;
  readonly column: string;
  readonly kind: FeatureKind;
}

/** What a registry row holds, in registration order (position). */
export interface RegistryRow {
  readonly position: number;
  readonly feature: string;
  readonly column_name: string;
  readonly kind: string;
}

/**
 * Expresso's columns as migration 1 created them until the registry existed: numeric features then
 * categorical ones, each in file order, the order their values have in existing column blocks. Frozen
 * (written out, not taken from customer-schema.ts, so a migration never changes): migration 7 registers
 * these in this order wherever they exist.
 */
export const EXPRESSO_COLUMNS: readonly FeatureColumn[] = [
  ...NUMERIC_FEATURES.map((feature) => ({
    feature,
    column: feature.toLowerCase(),
    kind: 'numeric' as const,
  })),
  ...CATEGORICAL_FEATURES.map((feature) => ({
    feature,
    column: feature.toLowerCase(),
    kind: 'categorical' as const,
  })),
];

/** Columns of predictions that are not features; a feature column never takes one of these names. */
const FIXED_COLUMNS: readonly string[] = [
  ...FIXED_INSERT_COLUMNS,
  'label',
  'label_observed_at',
  'label_feedback_id',
  'block_id',
  'block_row',
  'user_key',
  'rowid',
  'oid',
  '_rowid_',
];

/** Longest name made: PostgreSQL keeps 63 bytes of an identifier; the suffix needs a few more. */
const MAX_COLUMN_LENGTH = 48;

/** A column name is only ever one of these; anything else read from a registry is refused. */
const SAFE_COLUMN = /^[a-z_][a-z0-9_]*$/;

/** A column name as a quoted SQL identifier (the names are safe already; quoting guards keywords). */
export function sqlIdentifier(column: string): string {
  if (!SAFE_COLUMN.test(column)) throw new TypeError(`"${column}" is not a feature column name`);
  return `"${column}"`;
}

/** `f_` and the feature name folded to lower-case ASCII letters, digits and single underscores. */
function foldedName(feature: string): string {
  const folded = feature
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `f_${folded}`.slice(0, MAX_COLUMN_LENGTH).replace(/_+$/, '') || 'f';
}

/** The column a new feature gets, given the names taken (lower-case); Expresso's keep their own. */
export function columnNameFor(feature: FeatureSpec, taken: ReadonlySet<string>): string {
  const expresso = EXPRESSO_COLUMNS.find((c) => c.feature === feature.name);
  if (expresso && !taken.has(expresso.column)) return expresso.column;
  const base = foldedName(feature.name);
  if (!taken.has(base) && !FIXED_COLUMNS.includes(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}_${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Registry rows as FeatureColumns, checked: a name we did not make is refused, never put in SQL. */
export function registeredColumns(rows: readonly RegistryRow[], where: string): FeatureColumn[] {
  return [...rows]
    .sort((a, b) => Number(a.position) - Number(b.position))
    .map((row) => {
      if (!SAFE_COLUMN.test(row.column_name) || (row.kind !== 'numeric' && row.kind !== 'categorical')) {
        throw new ChurnwatchError(
          'CW_STORE_REGISTRY_INVALID',
          `${where}: feature_columns row ${row.position} (feature "${row.feature}") holds column "${row.column_name}" of kind "${row.kind}", which this version never writes`,
          { hint: 'the table was edited by hand or by another program; restore it or use a new database' },
        );
      }
      return { feature: row.feature, column: row.column_name, kind: row.kind };
    });
}

/**
 * Feature columns a predictions table can hold: SQLite allows 2,000 columns in a table and a result
 * row (12 are not features), PostgreSQL 1,600 in a table (9 are not features).
 */
export const MAX_FEATURE_COLUMNS = { sqlite: 1988, postgres: 1591 } as const;

/**
 * The features to register so `wanted` all have a column: those the registry lacks, with their new
 * column names, in the order wanted. A wanted feature registered with the other kind is refused, and
 * so is a registry that would outgrow the engine's columns (`maxColumns`).
 */
export function newFeatureColumns(
  registered: readonly FeatureColumn[],
  wanted: readonly FeatureSpec[],
  where: string,
  maxColumns: number,
): FeatureColumn[] {
  const byFeature = new Map(registered.map((c) => [c.feature, c]));
  const taken = new Set(registered.map((c) => c.column));
  const added: FeatureColumn[] = [];
  for (const spec of wanted) {
    const existing = byFeature.get(spec.name);
    if (existing) {
      if (existing.kind !== spec.kind) {
        throw new ChurnwatchError(
          'CW_STORE_FEATURE_KIND_CHANGED',
          `${where}: feature "${spec.name}" is stored as ${existing.kind} (column ${existing.column}) but the model has it ${spec.kind}`,
          {
            hint: `log this model to a new database (another --store URL), or rename the feature in its schema (e.g. "${spec.name}_${spec.kind}") and retrain`,
          },
        );
      }
      continue;
    }
    const column = { feature: spec.name, column: columnNameFor(spec, taken), kind: spec.kind };
    taken.add(column.column);
    byFeature.set(spec.name, column);
    added.push(column);
  }
  if (added.length > 0 && registered.length + added.length > maxColumns) {
    throw new ChurnwatchError(
      'CW_STORE_TOO_MANY_FEATURES',
      `${where}: holding the model's ${added.length} new features (first "${added[0]!.feature}") next to the ${registered.length} registered would take ${registered.length + added.length} feature columns, more than this database can hold (${maxColumns})`,
      {
        hint: 'log this model to a new database (another store URL): features of earlier models stay registered',
      },
    );
  }
  return added;
}
