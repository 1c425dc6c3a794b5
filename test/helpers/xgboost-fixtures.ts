/**
 * The vendored XGBoost fixtures (test/fixtures/xgboost/, made by make-fixtures.py with xgboost 1.7):
 * the data as a labelled ColumnarTable and as records, the schema, the boosters and xgboost's own
 * predictions, for the import tests and the bench.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ColumnarTable } from '../../src/data/columnar-table.js';
import { readCsvTable } from '../../src/data/csv-reader.js';
import { DATASET_SCHEMA_VERSION, type DatasetSchema } from '../../src/data/dataset-schema.js';
import type { RawFeatures } from '../../src/data/feature-types.js';

export const XGBOOST_FIXTURES = new URL('../fixtures/xgboost/', import.meta.url).pathname;

/** The boosters that score binary churn, with xgboost's predictions in predictions.csv. */
export const BINARY_FIXTURES = ['small', 'deep', 'categorical'] as const;
export type BinaryFixture = (typeof BINARY_FIXTURES)[number];

export const XGBOOST_SCHEMA: DatasetSchema = {
  version: DATASET_SCHEMA_VERSION,
  id: 'customerID',
  target: { column: 'Churn', positive: 'Yes', negative: 'No' },
  features: [
    { name: 'tenure months', kind: 'numeric' },
    { name: 'Monthly-Charges', kind: 'numeric' },
    { name: '2024_spend', kind: 'numeric' },
    { name: 'Score', kind: 'numeric' },
    { name: 'Contract', kind: 'categorical' },
    { name: 'payment method', kind: 'categorical' },
  ],
  missingTokens: [''],
  dropped: [],
};

/** data.csv read with the inferring reader; the Churn column becomes the 0/1 target. */
export async function readXgboostFixtureTable(): Promise<ColumnarTable> {
  const { table } = await readCsvTable(join(XGBOOST_FIXTURES, 'data.csv'), { schema: 'infer' });
  const churn = table.columns.get('Churn');
  if (churn?.kind !== 'categorical') throw new TypeError('data.csv has no categorical Churn column');
  const columns = new Map(table.columns);
  columns.delete('Churn');
  columns.delete('customerID');
  return {
    ...table,
    columns,
    target: Uint8Array.from(churn.codes, (c) => (churn.dictionary[c] === 'Yes' ? 1 : 0)),
  };
}

/** The table's rows as the records the HTTP API would receive (missing cells absent or null). */
export function fixtureRecords(table: ColumnarTable): RawFeatures[] {
  return Array.from({ length: table.rowCount }, (_, i) => {
    const record: RawFeatures = {};
    for (const [name, column] of table.columns) {
      if (column.kind === 'numeric') {
        const v = column.values[i]!;
        // Alternate the two spellings of missing the API accepts.
        if (Number.isNaN(v)) {
          if (i % 2 === 0) record[name] = null;
        } else record[name] = v;
      } else {
        const c = column.codes[i]!;
        record[name] = c < 0 ? null : column.dictionary[c]!;
      }
    }
    return record;
  });
}

export async function readFixtureText(name: string): Promise<string> {
  return readFile(join(XGBOOST_FIXTURES, name), 'utf8');
}

/** xgboost's predict of each binary fixture, per data.csv row. */
export async function fixturePredictions(): Promise<Record<BinaryFixture, Float64Array>> {
  const lines = (await readFixtureText('predictions.csv')).trim().split('\n');
  const header = lines[0]!.split(',');
  const out = {} as Record<BinaryFixture, Float64Array>;
  for (const name of BINARY_FIXTURES) {
    const k = header.indexOf(name);
    out[name] = Float64Array.from(lines.slice(1), (line) => Number(line.split(',')[k]));
  }
  return out;
}
