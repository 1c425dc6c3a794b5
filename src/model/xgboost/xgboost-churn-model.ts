/**
 * The ChurnModel of an imported XGBoost booster: raw values become xgboost's float32 features
 * (numbers as given or parsed from text, categories as their code, NaN for missing, unparseable or
 * unknown), the forest gives a float32 margin, the logistic function the probability. No calibration:
 * the booster's probability is what xgboost's predict returns.
 */
import type { ColumnarTable } from '../../data/columnar-table.js';
import type { DatasetSchema } from '../../data/dataset-schema.js';
import type { RawFeatures } from '../../data/feature-types.js';
import { sigmoid } from '../../stats/logistic.js';
import { categoricalValues } from '../categorical-values.js';
import type { ChurnModel, ModelInfo } from '../churn-model.js';
import type { ReferenceProfile } from '../reference-profile-types.js';
import type { XgboostFeatureBinding } from './xgboost-features.js';
import { addBlockMargins, XGBOOST_BLOCK_ROWS, type XgboostForest } from './xgboost-forest.js';

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
  const x = new Float32Array(XGBOOST_BLOCK_ROWS * nf);
  const acc = new Float32Array(XGBOOST_BLOCK_ROWS);
  const out = new Float64Array(n);
  for (let start = 0; start < n; start += XGBOOST_BLOCK_ROWS) {
    const len = Math.min(XGBOOST_BLOCK_ROWS, n - start);
    for (let f = 0; f < nf; f++) {
      const col = columns[f]!;
      for (let i = 0; i < len; i++) x[i * nf + f] = col[start + i]!;
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
  const x = new Float32Array(nf);
  const acc = new Float32Array(1);

  const fill = (features: RawFeatures) => {
    for (let f = 0; f < nf; f++) {
      const raw = features[names[f]!];
      const code = codes[f];
      if (raw === null || raw === undefined || raw === '') x[f] = Number.NaN;
      else if (code) x[f] = code.get(String(raw)) ?? Number.NaN;
      else if (typeof raw === 'number') x[f] = raw;
      else {
        const v = Number(raw);
        x[f] = Number.isFinite(v) ? v : Number.NaN;
      }
    }
  };
  const scoreFilled = () => {
    acc[0] = forest.baseMargin;
    addBlockMargins(forest, x, 1, acc);
    return sigmoid(acc[0]!);
  };

  return {
    info,
    schema,
    profile,
    scoreRecord(features) {
      fill(features);
      return scoreFilled();
    },
    scoreRecords(records) {
      const out = new Float64Array(records.length);
      for (let i = 0; i < records.length; i++) {
        fill(records[i]!);
        out[i] = scoreFilled();
      }
      return out;
    },
    scoreTable(table) {
      const margins = xgboostTableMargins(forest, binding, table);
      for (let i = 0; i < margins.length; i++) margins[i] = sigmoid(margins[i]!);
      return margins;
    },
  };
}
