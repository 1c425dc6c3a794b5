/**
 * The target and score columns of `churnwatch report` as one number per row (NaN = missing). The target's
 * positive label is chosen once over both files (so a current file holding only one class still maps the
 * same way): `--positive-label`, else a recognised pair (1/0, true/false, yes/no; the rules schema
 * inference uses, data/column-roles.ts); any other labels are an error naming the column and its labels.
 */
import { choosePositiveLabel } from '../data/column-roles.js';
import type { Column, ColumnarTable } from '../data/columnar-table.js';
import { ChurnwatchError } from '../errors.js';

/** The labels (as text) present in one column: dictionary entries in use, or distinct numbers. */
function labelsOf(column: Column): Set<string> {
  const labels = new Set<string>();
  if (column.kind === 'categorical') {
    for (const code of column.codes) if (code >= 0) labels.add(column.dictionary[code]!);
  } else {
    for (const v of column.values) if (!Number.isNaN(v)) labels.add(String(v));
  }
  return labels;
}

/** Expresso's fast reader keeps CHURN out of `columns`, as 0/1 in `table.target`. */
function targetColumn(table: ColumnarTable, name: string): Column | undefined {
  const column = table.columns.get(name);
  if (column || !table.target || name !== 'CHURN') return column;
  return { kind: 'numeric', name, values: Float64Array.from(table.target) };
}

/** A label pair's members, ignoring case, for a target whose files hold one label only. */
const POSITIVE = /^(1|true|yes)$/i;
const NEGATIVE = /^(0|false|no)$/i;

/**
 * The positive label of the target `name` over `tables`. Throws CW_REPORT_POSITIVE_LABEL when the
 * column has more than two labels, when `given` is none of them, or when neither `given` nor a
 * recognised pair tells which label is positive.
 */
export function positiveLabel(
  tables: readonly ColumnarTable[],
  name: string,
  files: string,
  given: string | undefined,
): string {
  const labels = new Set<string>();
  for (const table of tables) {
    const column = targetColumn(table, name);
    if (column) for (const label of labelsOf(column)) labels.add(label);
  }
  const values = [...labels].sort();
  if (values.length > 2)
    throw new ChurnwatchError(
      'CW_REPORT_POSITIVE_LABEL',
      `${files}: the target column ${name} has ${values.length} labels (${values.slice(0, 10).join(', ')}${values.length > 10 ? ', …' : ''}), not 2`,
      {
        hint: 'name the 0/1 (or two-label) outcome column with --target, or leave this one out with --ignore',
      },
    );
  if (values.length === 2)
    return choosePositiveLabel(files, name, values, given, 'CW_REPORT_POSITIVE_LABEL')[0];
  const only = values[0];
  if (given !== undefined) return given;
  if (only === undefined || POSITIVE.test(only)) return only ?? '1';
  if (NEGATIVE.test(only)) return only === '0' ? '1' : only.toLowerCase() === 'false' ? 'true' : 'yes';
  throw new ChurnwatchError(
    'CW_REPORT_POSITIVE_LABEL',
    `${files}: the target column ${name} holds only ${JSON.stringify(only)}; whether it is the positive class (churned) cannot be told from the label`,
    { hint: `pass --positive-label ${JSON.stringify(only)} or the label of the other class` },
  );
}

/** 1 where the target holds `positive` (ignoring case), 0 for any other label, NaN where missing. */
export function targetVector(table: ColumnarTable, name: string, positive: string): Float64Array | undefined {
  const column = targetColumn(table, name);
  if (!column) return undefined;
  const wanted = positive.toLowerCase();
  if (column.kind === 'numeric')
    return column.values.map((v) => (Number.isNaN(v) ? v : String(v).toLowerCase() === wanted ? 1 : 0));
  const isPositive = column.dictionary.map((text) => (text.toLowerCase() === wanted ? 1 : 0));
  return Float64Array.from(column.codes, (c) => (c < 0 ? Number.NaN : isPositive[c]!));
}

/** The score column as numbers (text that parses as numbers counts); undefined when absent or not numeric. */
export function scoreVector(table: ColumnarTable, name: string): Float64Array | undefined {
  const column = table.columns.get(name);
  if (column?.kind === 'numeric') return column.values;
  if (column?.kind !== 'categorical') return undefined;
  const asNumber = column.dictionary.map((text) => (text.trim() === '' ? Number.NaN : Number(text)));
  if (asNumber.some((v) => Number.isNaN(v))) return undefined;
  return Float64Array.from(column.codes, (c) => (c < 0 ? Number.NaN : asNumber[c]!));
}
