/**
 * The target, score and prediction columns of `churnwatch report` as one number per row (NaN = missing).
 * The target's positive label is chosen once over both files (so a current file holding only one class
 * still maps the same way): `--positive-label`, else a recognised pair (1/0, true/false, yes/no; the
 * rules schema inference uses, data/column-roles.ts); any other labels are an error naming the column
 * and its labels. The prediction column (the model's class ŷ) is read with the same labels: the target's
 * positive label or a recognised positive is 1, its other label or a recognised negative is 0.
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

/** The target's two labels as the files hold them; `negative` is unknown when they hold one label only. */
export interface TargetLabels {
  readonly positive: string;
  readonly negative?: string;
}

/**
 * The positive (and other) label of the target `name` over `tables`. Throws CW_REPORT_POSITIVE_LABEL
 * when the column has more than two labels, when `given` is none of them, or when neither `given` nor
 * a recognised pair tells which label is positive.
 */
export function targetLabels(
  tables: readonly ColumnarTable[],
  name: string,
  files: string,
  given: string | undefined,
): TargetLabels {
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
  if (values.length === 2) {
    const [positive, negative] = choosePositiveLabel(files, name, values, given, 'CW_REPORT_POSITIVE_LABEL');
    return { positive, negative };
  }
  const only = values[0];
  // One label: it is the other class's unless it is the positive one.
  const withOnly = (positive: string): TargetLabels =>
    only !== undefined && only.toLowerCase() !== positive.toLowerCase()
      ? { positive, negative: only }
      : { positive };
  if (given !== undefined) return withOnly(given);
  if (only === undefined || POSITIVE.test(only)) return { positive: only ?? '1' };
  if (NEGATIVE.test(only))
    return withOnly(only === '0' ? '1' : only.toLowerCase() === 'false' ? 'true' : 'yes');
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

/** 1 or 0 for a predicted-class value (the target's labels first, then 1/0, true/false, yes/no); undefined otherwise. */
function predictedClassOf(text: string, labels: TargetLabels | undefined): 0 | 1 | undefined {
  const t = text.trim().toLowerCase();
  if (labels && t === labels.positive.trim().toLowerCase()) return 1;
  if (labels?.negative !== undefined && t === labels.negative.trim().toLowerCase()) return 0;
  if (POSITIVE.test(t)) return 1;
  if (NEGATIVE.test(t)) return 0;
  return undefined;
}

/**
 * The prediction column `name` of `table` (from file `file`) as the model's class ŷ per row: 1, 0, or
 * NaN where missing; undefined when the file has no such column. `labels` are the target's (its
 * positive label, and the other one), so a model that answers in the target's words (`Yes`/`No`,
 * `churned`/`stayed`) is read as it meant. Throws CW_REPORT_BAD_PREDICTION naming the file, the data
 * row, the column and the value at the first value that is no class. Cost O(rows).
 */
export function predictionVector(
  table: ColumnarTable,
  name: string,
  labels: TargetLabels | undefined,
  file: string,
): Float64Array | undefined {
  const column = table.columns.get(name);
  if (!column) return undefined;
  const bad = (row: number, value: string) => {
    const words = labels
      ? [labels.positive, ...(labels.negative !== undefined ? [labels.negative] : [])]
          .map((l) => JSON.stringify(l))
          .join('/')
      : '';
    return new ChurnwatchError(
      'CW_REPORT_BAD_PREDICTION',
      `${file} data row ${row + 1}, column ${name}: ${JSON.stringify(value)} is not a predicted class (1/0, true/false, yes/no${words ? ` or the target's labels ${words}` : ''})`,
      {
        hint: "--prediction names the model's decision (its class); the probability goes to --score",
      },
    );
  };
  const out = new Float64Array(table.rowCount);
  if (column.kind === 'numeric') {
    for (let i = 0; i < out.length; i++) {
      const v = column.values[i]!;
      if (Number.isNaN(v)) {
        out[i] = v;
        continue;
      }
      const c = predictedClassOf(String(v), labels);
      if (c === undefined) throw bad(i, String(v));
      out[i] = c;
    }
    return out;
  }
  const classes = column.dictionary.map((text) => predictedClassOf(text, labels));
  for (let i = 0; i < out.length; i++) {
    const code = column.codes[i]!;
    if (code < 0) {
      out[i] = Number.NaN;
      continue;
    }
    const c = classes[code];
    if (c === undefined) throw bad(i, column.dictionary[code]!);
    out[i] = c;
  }
  return out;
}
