/**
 * Where replayed customers come from: a held-out CSV of the model's schema (read once into columns) or
 * the Expresso synthetic generator. Either way a source is an iterator of SimRow the simulator pulls from.
 */

import { cliCommand } from '../cli-command.js';
import type { ColumnarTable } from '../data/columnar-table.js';
import { type DatasetSchema, EXPRESSO_SCHEMA } from '../data/dataset-schema.js';
import type { FeatureSpec, RawFeatures } from '../data/feature-types.js';
import { generateCustomerRows } from '../data/synthetic.js';
import { ChurnwatchError } from '../errors.js';
import { readReplayTable } from './replay-table.js';
import type { SimRow } from './scenarios.js';

export interface RowSource {
  /** Describes the source for logs and summaries. */
  readonly description: string;
  /** Rows in one pass, when known (a CSV); undefined for the generator. */
  readonly size: number | undefined;
  /** The next row, or undefined when the source is exhausted. */
  next(): SimRow | undefined;
}

/** Row `i` of a table read by a schema (`features`: the schema's; a column the table lacks is missing). */
export function tableRow(
  table: ColumnarTable,
  i: number,
  features: readonly FeatureSpec[] = EXPRESSO_SCHEMA.features,
): { features: RawFeatures; churn: 0 | 1 | null } {
  const values: Record<string, number | string | null> = {};
  for (const spec of features) {
    const column = table.columns.get(spec.name);
    if (!column) {
      values[spec.name] = null;
    } else if (column.kind === 'numeric') {
      const v = column.values[i]!;
      values[spec.name] = Number.isNaN(v) ? null : v;
    } else {
      const code = column.codes[i]!;
      values[spec.name] = code < 0 ? null : (column.dictionary[code] ?? null);
    }
  }
  const t = table.target?.[i];
  return { features: values, churn: t === 0 || t === 1 ? t : null };
}

export interface CsvSourceOptions {
  /** Start again from the first row when the file is exhausted (ids get a `~<pass>` suffix so they stay unique). */
  readonly loop?: boolean;
  /** The model's schema (default Expresso's): its features, id column and target with its positive label. */
  readonly schema?: DatasetSchema;
}

/**
 * Reads a held-out CSV of the model's schema (with or without the target) into memory and replays its rows
 * in file order: the id column names the customer, the target becomes 1 for the positive label and 0 for
 * the other. Throws the reader's ChurnwatchError (file, row, column) on a bad file, CW_SIM_EMPTY_DATA on
 * an empty one.
 */
export async function csvRowSource(path: string, options: CsvSourceOptions = {}): Promise<RowSource> {
  const schema = options.schema ?? EXPRESSO_SCHEMA;
  const table = await readReplayTable(path, schema);
  if (table.rowCount === 0) {
    throw new ChurnwatchError('CW_SIM_EMPTY_DATA', `${path} has a header but no rows to replay`, {
      hint: `pass the held-out part of a split (${cliCommand('data split')} writes data/holdout.csv) or omit --data to generate rows`,
    });
  }
  let i = 0;
  let pass = 0;
  return {
    description: `${path} (${table.rowCount} rows${options.loop ? ', looping' : ''})`,
    size: table.rowCount,
    next() {
      if (i >= table.rowCount) {
        if (!options.loop) return undefined;
        i = 0;
        pass++;
      }
      const row = tableRow(table, i, schema.features);
      const id = table.ids?.[i] ?? `row-${i}`;
      i++;
      return { userId: pass === 0 ? id : `${id}~${pass}`, ...row };
    },
  };
}

/**
 * Generated customers (src/data/synthetic.ts), unshifted: the scenario shifts them like any replayed
 * row. `idPrefix` keeps their ids apart from a training file made with the generator.
 */
export function generatedRowSource(seed: number, rows = 1_000_000_000, idPrefix = 'f'): RowSource {
  const it = generateCustomerRows({ rows, seed, idPrefix });
  return {
    description: `generated rows (seed ${seed})`,
    size: undefined,
    next() {
      const r = it.next();
      if (r.done) return undefined;
      const row = r.value;
      const features: Record<string, number | string | null> = {};
      for (const [k, v] of Object.entries(row.numeric)) features[k] = Number.isNaN(v) ? null : v;
      for (const [k, v] of Object.entries(row.categorical)) features[k] = v;
      return { userId: row.userId, features: features as RawFeatures, churn: row.churn };
    },
  };
}
