/** readColumns' `features` query option: only the features asked for, in the order asked. */
import type { Column } from '../data/columnar-table.js';
import { ChurnwatchError } from '../errors.js';
import type { PredictionColumns } from './prediction-store.js';

export function pickFeatures(
  read: PredictionColumns,
  names: readonly string[] | undefined,
  where: string,
): PredictionColumns {
  if (names === undefined) return read;
  const columns = new Map<string, Column>();
  for (const name of names) {
    const column = read.features.columns.get(name);
    if (!column) {
      throw new ChurnwatchError(
        'CW_STORE_UNKNOWN_FEATURE',
        `${where}: readColumns asked for feature "${name}", which the database does not hold`,
        { hint: `it holds ${read.features.header.map((h) => `"${h}"`).join(', ') || 'no features'}` },
      );
    }
    columns.set(name, column);
  }
  return { ...read, features: { rowCount: read.rowCount, header: [...names], columns } };
}
