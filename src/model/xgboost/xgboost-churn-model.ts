/**
 * The ChurnModel of an imported XGBoost booster: raw values become xgboost's float32 features
 * (numbers as given or parsed from text, categories as their code, NaN for missing, unparseable or
 * unknown), the forest gives a float32 margin, the logistic function the probability. No calibration:
 * the booster's probability is what xgboost's predict returns.
 */
import type { ColumnarTable } from '../../data/columnar-table.js';
import type { DatasetSchema } from '../../data/dataset-schema.js';
import type { RawFeatures } from '../../data/feature-types.js';
import { scoringNumber } from '../../data/record-columns.js';
import { sigmoid } from '../../stats/logistic.js';
import { categoricalValues } from '../categorical-values.js';
import type { ChurnModel, ModelInfo } from '../churn-model.js';
import type { ReferenceProfile } from '../reference-profile-types.js';
import type { XgboostFeatureBinding } from './xgboost-features.js';
import { addBlockMargins, fillFeature, XGBOOST_BLOCK_ROWS, type XgboostForest } from './xgboost-forest.js';

/** Float64 columns per booster feature (NaN = missing), categories already as codes. */
function tableColumns(binding: XgboostFeatureBinding, table: ColumnarTable): Float64Array[] {
  const n = table.rowCount;
  return binding.names.map((name, f) => {
    const column = table.columns.get(name);
    if (!column) return new Float64Array(n).fill(Number.NaN);
    const categories = binding.categories[f];
    if (!categories) {
      if (column.kind !== 'numeric') throw new TypeError(`column ${name} must be numeric`);
      return column.values;
    }
    if (column.kind !== 'categorical') throw new TypeError(`column ${name} must be categorical`);
    return categoricalValues(column, new Map(categories.map((c, i) => [c, i])));
  });
}

/** Margins (float32 values) of every row of `table`; a column the table lacks scores as missing. */
export function xgboostTableMargins(
  forest: XgboostForest,
  binding: XgboostFeatureBinding,
  table: ColumnarTable,
): Float64Array {
  const columns = tableColumns(binding, table);
  const n = table.rowCount;
  const nf = forest.featureCount;
  const x = new Float64Array(XGBOOST_BLOCK_ROWS * 2 * nf);
  const acc = new Float32Array(XGBOOST_BLOCK_ROWS);
  const out = new Float64Array(n);
  for (let start = 0; start < n; start += XGBOOST_BLOCK_ROWS) {
    const len = Math.min(XGBOOST_BLOCK_ROWS, n - start);
    for (let f = 0; f < nf; f++) {
      const col = columns[f]!;
      for (let i = 0; i < len; i++) fillFeature(x, i * 2 * nf, nf, f, col[start + i]!);
    }
    acc.fill(forest.baseMargin, 0, len);
    addBlockMargins(forest, x, len, acc);
    for (let i = 0; i < len; i++) out[start + i] = acc[i]!;
  }
  return out;
}

export function createXgboostChurnModel(
  forest: XgboostForest,
  binding: XgboostFeatureBinding,
  info: ModelInfo,
  profile: ReferenceProfile,
  schema: DatasetSchema,
): ChurnModel {
  const nf = forest.featureCount;
  const codes = binding.categories.map((c) => (c ? new Map(c.map((v, i) => [v, i])) : undefined));
  const { names } = binding;
  const width = 2 * nf;
  // One block of doubled rows (fillFeature), reused by every call: no allocation per record.
  const x = new Float64Array(XGBOOST_BLOCK_ROWS * width);
  const acc = new Float32Array(XGBOOST_BLOCK_ROWS);

  /** What xgboost sees for feature f: the number, the category's code, NaN when missing or unknown. */
  const featureValue = (raw: RawFeatures[string], f: number): number => {
    const code = codes[f];
    if (!code) return scoringNumber(raw);
    if (raw === null || raw === undefined || raw === '') return Number.NaN;
    return code.get(String(raw)) ?? Number.NaN;
  };
  /** Scores records[start, start + len) (len ≤ a block) into out, as probabilities. */
  const scoreBlock = (records: readonly RawFeatures[], start: number, len: number, out: Float64Array) => {
    for (let i = 0; i < len; i++) {
      const record = records[start + i]!;
      for (let f = 0; f < nf; f++) fillFeature(x, i * width, nf, f, featureValue(record[names[f]!], f));
    }
    acc.fill(forest.baseMargin, 0, len);
    addBlockMargins(forest, x, len, acc);
    for (let i = 0; i < len; i++) out[start + i] = sigmoid(acc[i]!);
  };
  const one = new Float64Array(1);
  const single: RawFeatures[] = [{}];

  return {
    info,
    schema,
    profile,
    scoreRecord(features) {
      single[0] = features;
      scoreBlock(single, 0, 1, one);
      return one[0]!;
    },
    scoreRecords(records) {
      const out = new Float64Array(records.length);
      for (let start = 0; start < records.length; start += XGBOOST_BLOCK_ROWS)
        scoreBlock(records, start, Math.min(XGBOOST_BLOCK_ROWS, records.length - start), out);
      return out;
    },
    scoreTable(table) {
      const margins = xgboostTableMargins(forest, binding, table);
      for (let i = 0; i < margins.length; i++) margins[i] = sigmoid(margins[i]!);
      return margins;
    },
  };
}
