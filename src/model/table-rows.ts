/** Row selection on a ColumnarTable (validation slices, held-out windows). */
import type { Column, ColumnarTable } from '../data/columnar-table.js';

/** A new table holding `rows` of `table`, in that order; dictionaries are shared. O(rows · columns). */
export function takeRows(table: ColumnarTable, rows: ArrayLike<number>): ColumnarTable {
  const n = rows.length;
  const columns = new Map<string, Column>();
  for (const [name, column] of table.columns) {
    if (column.kind === 'numeric') {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = column.values[rows[i]!]!;
      columns.set(name, { kind: 'numeric', name, values });
    } else {
      const codes = new Int32Array(n);
      for (let i = 0; i < n; i++) codes[i] = column.codes[rows[i]!]!;
      columns.set(name, { kind: 'categorical', name, codes, dictionary: column.dictionary });
    }
  }
  const ids = table.ids ? Array.from({ length: n }, (_, i) => table.ids![rows[i]!]!) : undefined;
  const target = table.target
    ? Uint8Array.from({ length: n }, (_, i) => table.target![rows[i]!]!)
    : undefined;
  return {
    rowCount: n,
    header: table.header,
    columns,
    ...(ids ? { ids } : {}),
    ...(target ? { target } : {}),
  };
}
