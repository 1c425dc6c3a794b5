/**
 * Column roles for `churnwatch report`: which columns are features (judged for drift) and which are
 * not (target, score, prediction, id, timestamp, ignored). Options name roles explicitly; for a role no
 * option names, the role is inferred from the data, and every inference is recorded with its reason so
 * the report can say it (docs/report.md, "Column roles").
 */
import {
  epochUnit,
  type IdEvidence,
  idLikeReason,
  isIsoDate,
  isTimeName,
  NEARLY_ALL,
  percent,
  targetLikeReason,
} from '../data/column-roles.js';
import type { Column, ColumnarTable } from '../data/columnar-table.js';
import { ChurnwatchError } from '../errors.js';

export type ColumnRole = 'target' | 'score' | 'prediction' | 'id' | 'timestamp' | 'ignored';

export interface RoleAssignment {
  column: string;
  role: ColumnRole;
  /** `option`: named by a flag (`--target` …); `inferred`: recognised from the data. */
  source: 'option' | 'inferred';
  /** Why: the flag, or what the data showed. */
  reason: string;
}

export interface RoleOptions {
  readonly target?: string;
  readonly score?: string;
  readonly prediction?: string;
  readonly id?: string;
  readonly timestamp?: string;
  readonly ignore?: readonly string[];
  /** Infer roles no option names (default true). */
  readonly infer?: boolean;
}

const FLAG: Record<Exclude<ColumnRole, 'ignored'>, string> = {
  target: '--target',
  score: '--score',
  prediction: '--prediction',
  id: '--id',
  timestamp: '--timestamp',
};

/** The tables that hold `name`, each with its column. */
function columnsNamed(
  tables: readonly ColumnarTable[],
  name: string,
): { table: ColumnarTable; column: Column }[] {
  return tables.flatMap((table) => {
    const column = table.columns.get(name);
    return column ? [{ table, column }] : [];
  });
}

/** How many rows of a categorical column hold a value for which `test` is true (one test per distinct value). */
function rowsWhere(column: Column & { kind: 'categorical' }, test: (value: string) => boolean): number {
  const pass = column.dictionary.map(test);
  let rows = 0;
  for (const code of column.codes) if (code >= 0 && pass[code]) rows++;
  return rows;
}

/** Smallest and largest non-missing value, and whether all are whole numbers; undefined when none. */
function numericRange(values: Float64Array): { min: number; max: number; integers: boolean } | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let integers = true;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    if (integers && !Number.isInteger(v)) integers = false;
  }
  return min <= max ? { min, max, integers } : undefined;
}

/** The epoch unit of a numeric column in every table holding `name`, when all agree on one. */
export function epochUnitOf(tables: readonly ColumnarTable[], name: string): 's' | 'ms' | undefined {
  let unit: 's' | 'ms' | undefined;
  for (const { column } of columnsNamed(tables, name)) {
    if (column.kind !== 'numeric') return undefined;
    const range = numericRange(column.values);
    const u = range && epochUnit(range.min, range.max, range.integers);
    if (!u || (unit && u !== unit)) return undefined;
    unit = u;
  }
  return unit;
}

/** Whole numbers under a time-like name, all in the epoch seconds (or all in the milliseconds) range. */
function epochReason(tables: readonly ColumnarTable[], name: string): string | undefined {
  if (!isTimeName(name)) return undefined;
  const unit = epochUnitOf(tables, name);
  if (!unit) return undefined;
  return `named like a time, whole numbers in the epoch ${unit === 's' ? 'seconds' : 'milliseconds'} range`;
}

function timestampReason(tables: readonly ColumnarTable[], name: string): string | undefined {
  const found = columnsNamed(tables, name);
  if (found.some(({ column }) => column.kind === 'numeric')) return epochReason(tables, name);
  let dated = 0;
  let rows = 0;
  for (const { table, column } of found) {
    if (column.kind !== 'categorical' || table.rowCount === 0) return undefined;
    const n = rowsWhere(column, isIsoDate);
    if (n < NEARLY_ALL * table.rowCount) return undefined;
    dated += n;
    rows += table.rowCount;
  }
  return rows > 0 ? `ISO 8601 dates in ${percent(dated / rows)} of rows` : undefined;
}

/** What `column` shows of being an id: rows, values present and distinct, whole numbers or not. */
function idEvidence(table: ColumnarTable, column: Column): IdEvidence {
  if (column.kind === 'categorical') {
    let present = 0;
    for (const code of column.codes) if (code >= 0) present++;
    return {
      kind: 'categorical',
      rows: table.rowCount,
      present,
      distinct: column.dictionary.length,
      integers: false,
    };
  }
  const values = column.values.filter((v) => !Number.isNaN(v));
  return {
    kind: 'numeric',
    rows: table.rowCount,
    present: values.length,
    distinct: new Set(values).size,
    integers: values.every(Number.isInteger),
  };
}

function idReason(tables: readonly ColumnarTable[], name: string): string | undefined {
  return idLikeReason(
    name,
    columnsNamed(tables, name).map(({ table, column }) => idEvidence(table, column)),
  );
}

/** The distinct non-missing values of `name` over all tables, as text; stops early past `limit`. */
export function distinctValues(tables: readonly ColumnarTable[], name: string, limit: number): string[] {
  const seen = new Set<string>();
  for (const { column } of columnsNamed(tables, name)) {
    if (column.kind === 'categorical') {
      for (const code of column.codes) if (code >= 0) seen.add(column.dictionary[code]!);
    } else {
      for (const v of column.values) {
        if (!Number.isNaN(v)) seen.add(String(v));
        if (seen.size > limit) break;
      }
    }
    if (seen.size > limit) break;
  }
  return [...seen].sort();
}

/** NannyML's and scikit-learn users' names for a model's probability and its class (`score` stays a feature). */
const SCORE_NAME = /^(y_?pred_?proba|pred(icted)?_?proba(bility)?|probability|proba)$/i;
const PREDICTION_NAME = /^(y_?pred|y_?hat|pred|prediction|predicted(_?class)?)$/i;

function scoreReason(tables: readonly ColumnarTable[], name: string): string | undefined {
  if (!SCORE_NAME.test(name)) return undefined;
  const found = columnsNamed(tables, name);
  const inUnit = ({ column }: { column: Column }) =>
    column.kind === 'numeric' && column.values.every((v) => Number.isNaN(v) || (v >= 0 && v <= 1));
  return found.length > 0 && found.every(inUnit) ? 'named like a probability, values in [0, 1]' : undefined;
}

function predictionReason(tables: readonly ColumnarTable[], name: string): string | undefined {
  if (!PREDICTION_NAME.test(name)) return undefined;
  const values = distinctValues(tables, name, 2);
  return values.length === 2 ? `named like a predicted class, two values (${values.join(', ')})` : undefined;
}

function targetReason(tables: readonly ColumnarTable[], name: string): string | undefined {
  return targetLikeReason(name, distinctValues(tables, name, 2));
}

/**
 * Assigns roles over the columns of both tables (reference order first). Options win; then, for each
 * role no option names and unless `infer` is false: timestamps (ISO dates in nearly all rows, or epoch
 * seconds/ms under a time-like name), ids (a distinct text value in every row, or distinct integers
 * under an id-like name), scores and predicted classes under NannyML's names (`y_pred_proba`,
 * `y_pred`) and the first two-valued column named like a target. Throws CW_REPORT_UNKNOWN_COLUMN for an option naming a column
 * in neither file and CW_REPORT_BAD_OPTION for one column given two roles.
 */
export function assignColumnRoles(
  reference: ColumnarTable,
  current: ColumnarTable,
  options: RoleOptions,
  names: { reference: string; current: string } = { reference: 'reference', current: 'current' },
): RoleAssignment[] {
  const tables = [reference, current];
  const assignments: RoleAssignment[] = [];
  const byColumn = new Map<string, RoleAssignment>();
  const given: [ColumnRole, string, string][] = [];
  for (const role of Object.keys(FLAG) as (keyof typeof FLAG)[]) {
    const column = options[role];
    if (column !== undefined) given.push([role, column, FLAG[role]]);
  }
  for (const column of options.ignore ?? []) given.push(['ignored', column, '--ignore']);
  for (const [role, column, flag] of given) {
    if (!reference.columns.has(column) && !current.columns.has(column))
      throw new ChurnwatchError(
        'CW_REPORT_UNKNOWN_COLUMN',
        `${flag} ${column}: the column is in neither ${names.reference} nor ${names.current}`,
        {
          hint: `check the header; ${names.reference} has: ${reference.header.join(', ')}; ${names.current} has: ${current.header.join(', ')}`,
        },
      );
    const earlier = byColumn.get(column);
    if (earlier)
      throw new ChurnwatchError(
        'CW_REPORT_BAD_OPTION',
        `column ${column} is given two roles: ${earlier.reason} and ${flag}`,
        { hint: 'give each column one role' },
      );
    const assignment: RoleAssignment = { column, role, source: 'option', reason: flag };
    byColumn.set(column, assignment);
    assignments.push(assignment);
  }
  if (options.infer === false) return assignments;

  const header = [...new Set([...reference.header, ...current.header])];
  const rules: [ColumnRole, (name: string) => string | undefined][] = [];
  // Timestamps first: a time per row is distinct in every row too, and would look like an id.
  if (options.timestamp === undefined) rules.push(['timestamp', (n) => timestampReason(tables, n)]);
  if (options.id === undefined) rules.push(['id', (n) => idReason(tables, n)]);
  if (options.score === undefined) rules.push(['score', (n) => scoreReason(tables, n)]);
  if (options.prediction === undefined) rules.push(['prediction', (n) => predictionReason(tables, n)]);
  let target = options.target === undefined;
  for (const column of header) {
    if (byColumn.has(column)) continue;
    let found: RoleAssignment | undefined;
    for (const [role, test] of rules) {
      const reason = test(column);
      if (reason !== undefined) {
        found = { column, role, source: 'inferred', reason };
        break;
      }
    }
    if (!found && target) {
      const reason = targetReason(tables, column);
      if (reason !== undefined) {
        found = { column, role: 'target', source: 'inferred', reason };
        target = false;
      }
    }
    if (found) {
      byColumn.set(column, found);
      assignments.push(found);
    }
  }
  return assignments;
}

/** The one column with `role` (the first, for inferred ids and timestamps), if any. */
export function columnWithRole(roles: readonly RoleAssignment[], role: ColumnRole): string | undefined {
  return roles.find((r) => r.role === role)?.column;
}
