/**
 * The categories a trained model keeps, written back into its schema: inference ranks the values of the
 * whole file, but the encoder keeps the most frequent of the training rows (at most maxBins − 1), so the
 * schema stored with the model names exactly the encoder's categories (most frequent in the table
 * first), and counts the values and rows left out as "other".
 */
import type { ColumnarTable } from './columnar-table.js';
import type { DatasetSchema, FeatureSchema } from './dataset-schema.js';

/** The schema with each categorical feature's categories set to those the model keeps. */
export function withKeptCategories(
  schema: DatasetSchema,
  table: ColumnarTable,
  kept: ReadonlyMap<string, readonly string[]>,
): DatasetSchema {
  const features = schema.features.map((feature): FeatureSchema => {
    const categories = kept.get(feature.name);
    const column = table.columns.get(feature.name);
    if (feature.kind !== 'categorical' || categories === undefined || column?.kind !== 'categorical')
      return feature;
    const counts = new Float64Array(column.dictionary.length);
    for (const code of column.codes) if (code >= 0) counts[code]! += 1;
    const countOf = new Map(column.dictionary.map((value, code) => [value, counts[code]!]));
    const ranked = [...categories].sort((a, b) => (countOf.get(b) ?? 0) - (countOf.get(a) ?? 0));
    const keptRows = ranked.reduce((sum, value) => sum + (countOf.get(value) ?? 0), 0);
    const present = counts.reduce((sum, n) => sum + n, 0);
    const seen = counts.reduce((sum, n) => sum + (n > 0 ? 1 : 0), 0);
    return {
      name: feature.name,
      kind: 'categorical',
      categories: ranked,
      otherCategories: Math.max(0, seen - ranked.length),
      otherRows: present - keptRows,
    };
  });
  return { ...schema, features };
}
