/** A categorical column as numbers, for the scorers that compare categories as values. */
import type { CategoricalColumn } from '../data/columnar-table.js';

/**
 * One number per row: `valueByCategory` of the row's category, NaN when the cell is missing or the category
 * has no value (unseen). O(rows + dictionary).
 */
export function categoricalValues(
  column: CategoricalColumn,
  valueByCategory: ReadonlyMap<string, number>,
): Float64Array {
  const byCode = Float64Array.from(column.dictionary, (c) => valueByCategory.get(c) ?? Number.NaN);
  const out = new Float64Array(column.codes.length);
  for (let i = 0; i < out.length; i++) {
    const code = column.codes[i]!;
    out[i] = code < 0 ? Number.NaN : byCode[code]!;
  }
  return out;
}
