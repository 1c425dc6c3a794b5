/**
 * A labelled table of any width that is not Expresso: numeric and categorical columns with names a real
 * export has (spaces, dashes, a leading digit, a name that is also a store column), an id column and a
 * Yes/No target that depends on a few of the features. For tests of "any tabular data set" (issue 17);
 * the real Telco table in ../shared is the other such test set.
 */
import { writeFileSync } from 'node:fs';
import type { ColumnarTable } from '../../src/data/columnar-table.js';
import { DATASET_SCHEMA_VERSION, type DatasetSchema } from '../../src/data/dataset-schema.js';
import type { RawFeatures } from '../../src/data/feature-types.js';
import { createRng } from '../../src/data/rng.js';

export interface GenericDataOptions {
  readonly rows: number;
  /** Numeric features (at least 3: the first three carry the signal). */
  readonly numeric: number;
  /** Categorical features (at least 1). */
  readonly categorical: number;
  readonly seed: number;
}

export interface GenericData {
  readonly schema: DatasetSchema;
  readonly ids: string[];
  readonly records: RawFeatures[];
  /** 'Yes' (churned) or 'No'. */
  readonly labels: ('Yes' | 'No')[];
}

/** Names that stress quoting, case and identifiers; then plain numbered names. */
const NUMERIC_NAMES = ['tenure months', 'Monthly-Charges', '2024_spend', 'Score', 'Total Charges'];
const CATEGORICAL_NAMES = ['Contract', 'payment method', 'id', 'Plan_Tier'];
export const ID_COLUMN = 'customerID';
export const TARGET_COLUMN = 'Churn';

export function numericName(i: number): string {
  return NUMERIC_NAMES[i] ?? `num_${String(i).padStart(3, '0')}`;
}
export function categoricalName(i: number): string {
  return CATEGORICAL_NAMES[i] ?? `cat_${String(i).padStart(3, '0')}`;
}

const LEVELS = ['Month-to-month', 'One year', 'Two year', 'Bank transfer', 'Credit card', 'Mailed check'];

export function genericSchema(numeric: number, categorical: number): DatasetSchema {
  return {
    version: DATASET_SCHEMA_VERSION,
    id: ID_COLUMN,
    target: { column: TARGET_COLUMN, positive: 'Yes', negative: 'No' },
    features: [
      ...Array.from({ length: numeric }, (_, i) => ({ name: numericName(i), kind: 'numeric' as const })),
      ...Array.from({ length: categorical }, (_, i) => ({
        name: categoricalName(i),
        kind: 'categorical' as const,
      })),
    ],
    missingTokens: ['', 'NA'],
    // A column the schema leaves out (as `--ignore RowNumber` would): the API accepts and ignores it.
    dropped: [{ column: 'RowNumber', reason: 'ignored' }],
  };
}

/** Deterministic rows; about 5 % of numeric cells are missing and churn depends on features 0–2 and category 0. */
export function generateGenericData(options: GenericDataOptions): GenericData {
  if (options.numeric < 3 || options.categorical < 1)
    throw new RangeError('need ≥ 3 numeric and ≥ 1 categorical');
  const schema = genericSchema(options.numeric, options.categorical);
  const rng = createRng(options.seed, 17);
  const ids: string[] = [];
  const records: RawFeatures[] = [];
  const labels: ('Yes' | 'No')[] = [];
  for (let r = 0; r < options.rows; r++) {
    const record: RawFeatures = {};
    for (let i = 0; i < options.numeric; i++) {
      const v =
        i === 0
          ? Math.floor(rng.next() * 72)
          : Math.round((20 + 80 * rng.next() + 10 * rng.normal()) * 100) / 100;
      record[numericName(i)] = i > 0 && rng.next() < 0.05 ? null : v;
    }
    for (let i = 0; i < options.categorical; i++) {
      const k = Math.min(LEVELS.length - 1, Math.floor(rng.next() * (3 + (i % 4))));
      record[categoricalName(i)] = rng.next() < 0.03 ? null : LEVELS[k]!;
    }
    const tenure = record[numericName(0)] as number;
    const charges = (record[numericName(1)] as number | null) ?? 60;
    const spend = (record[numericName(2)] as number | null) ?? 60;
    const contract = record[categoricalName(0)];
    const z =
      1.2 - tenure / 20 + (charges - 60) / 25 - (spend - 60) / 60 + (contract === LEVELS[0] ? 1 : -0.5);
    labels.push(rng.next() < 1 / (1 + Math.exp(-z)) ? 'Yes' : 'No');
    ids.push(`${String(1000 + r)}-CUST`);
    records.push(record);
  }
  return { schema, ids, records, labels };
}

function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The data as the CSV a user would export: id first, features, target last; missing cells blank. */
export function genericCsvText(data: GenericData): string {
  const names = data.schema.features.map((f) => f.name);
  const lines = [[ID_COLUMN, ...names, TARGET_COLUMN].map(csvCell).join(',')];
  data.records.forEach((record, r) => {
    lines.push([data.ids[r]!, ...names.map((n) => record[n]), data.labels[r]!].map(csvCell).join(','));
  });
  return `${lines.join('\n')}\n`;
}

export function writeGenericCsv(path: string, data: GenericData): void {
  writeFileSync(path, genericCsvText(data));
}

/** The data as a ColumnarTable (target 1 = Yes), for training in-process. */
export function genericTable(data: GenericData): ColumnarTable {
  const n = data.records.length;
  const columns = new Map<
    string,
    ColumnarTable['columns'] extends ReadonlyMap<string, infer C> ? C : never
  >();
  for (const f of data.schema.features) {
    if (f.kind === 'numeric') {
      const values = Float64Array.from(data.records, (r) => {
        const v = r[f.name];
        return typeof v === 'number' ? v : Number.NaN;
      });
      columns.set(f.name, { kind: 'numeric', name: f.name, values });
    } else {
      const dictionary: string[] = [];
      const codeOf = new Map<string, number>();
      const codes = Int32Array.from(data.records, (r) => {
        const v = r[f.name];
        if (typeof v !== 'string') return -1;
        let c = codeOf.get(v);
        if (c === undefined) {
          c = dictionary.length;
          dictionary.push(v);
          codeOf.set(v, c);
        }
        return c;
      });
      columns.set(f.name, { kind: 'categorical', name: f.name, codes, dictionary });
    }
  }
  return {
    rowCount: n,
    header: [ID_COLUMN, ...data.schema.features.map((f) => f.name), TARGET_COLUMN],
    columns,
    ids: data.ids,
    target: Uint8Array.from(data.labels, (l) => (l === 'Yes' ? 1 : 0)),
  };
}
