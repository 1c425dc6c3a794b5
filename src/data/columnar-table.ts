/**
 * A CSV loaded column by column: typed arrays for numbers (NaN = missing), dictionary codes for
 * categories (-1 = missing). Training, batch scoring and the monitor all read this shape.
 */

export const MISSING_CODE = -1;

export interface NumericColumn {
  readonly kind: 'numeric';
  readonly name: string;
  /** One value per row; NaN marks a missing value. */
  readonly values: Float64Array;
}

export interface CategoricalColumn {
  readonly kind: 'categorical';
  readonly name: string;
  /** One code per row indexing `dictionary`; MISSING_CODE (-1) marks a missing value. */
  readonly codes: Int32Array;
  /** Distinct values in order of first appearance. */
  readonly dictionary: readonly string[];
}

export type Column = NumericColumn | CategoricalColumn;

export interface ColumnarTable {
  readonly rowCount: number;
  /** Column names in file order (including id and target columns when present). */
  readonly header: readonly string[];
  readonly columns: ReadonlyMap<string, Column>;
  /** Row ids (the `user_id` column), when the file has one. */
  readonly ids?: readonly string[];
  /** 0/1 labels (the `CHURN` column), when the file has one. */
  readonly target?: Uint8Array;
}

export function numericColumn(table: ColumnarTable, name: string): NumericColumn {
  const column = table.columns.get(name);
  if (column?.kind !== 'numeric') throw new TypeError(`column ${name} is not a numeric column of this table`);
  return column;
}

export function categoricalColumn(table: ColumnarTable, name: string): CategoricalColumn {
  const column = table.columns.get(name);
  if (column?.kind !== 'categorical') {
    throw new TypeError(`column ${name} is not a categorical column of this table`);
  }
  return column;
}
