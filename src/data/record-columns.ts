/**
 * A batch of /predict records as columns, made once per request (record-fields.ts), so that scoring,
 * binning and the store's packing each read a typed array per feature instead of looking every feature
 * of every record up by name. The columns are a ColumnarTable, the shape every model scores
 * (ChurnModel.scoreTable).
 */
import type { ColumnarTable } from './columnar-table.js';
import type { FeatureValue } from './feature-types.js';

export interface RecordColumns {
  /**
   * Every feature of the schema, by name: numeric ones as numbers (NaN when missing; a number given as
   * text parsed as scoring parses it), categorical ones as codes into the column's dictionary (-1 when
   * missing; a number given for a category as its text).
   */
  readonly table: ColumnarTable;
  /**
   * The cells given in the other kind's type (text for a numeric feature, a number for a categorical
   * one), by feature name, then row, as given. The route's validation refuses them, so this is empty
   * there; it is kept so that each stage reads such a value as it reads it in a record object (binning
   * counts both as missing, the store parses the text by its own rule).
   */
  readonly offType: ReadonlyMap<string, ReadonlyMap<number, FeatureValue>>;
}

/** A numeric feature's value as the scorers read it from a record: numbers as given, text parsed, else NaN. */
export function scoringNumber(raw: FeatureValue): number {
  if (raw === null || raw === undefined || raw === '') return Number.NaN;
  if (typeof raw === 'number') return raw;
  const v = Number(raw);
  return Number.isFinite(v) ? v : Number.NaN;
}
