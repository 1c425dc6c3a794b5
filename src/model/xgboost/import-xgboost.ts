/**
 * Turns an XGBoost booster and a labelled reference table into everything a model artifact holds
 * besides the booster itself: the bound features, the threshold, validation metrics, the reference
 * profile and its calibrated drift thresholds. Pure computation: reading the model file and the CSV
 * (by the schema) is the caller's job, writing the artifact is model-io.ts's saveImportedArtifact.
 *
 * The split, threshold, metrics, profile and drift thresholds are scored-reference.ts's (shared with
 * `churnwatch profile`). The booster's probabilities are used as they
 * are (no recalibration), so churnwatch's scores equal xgboost's predict.
 */
import type { ColumnarTable } from '../../data/columnar-table.js';
import type { DatasetSchema } from '../../data/dataset-schema.js';
import { ChurnwatchError } from '../../errors.js';
import { sigmoid } from '../../stats/logistic.js';
import type { ValidationMetrics } from '../churn-model.js';
import type { ReferenceProfile } from '../reference-profile-types.js';
import { HELD_OUT_THRESHOLD_RULE, profileScoredReference } from '../scored-reference.js';
import { xgboostTableMargins } from './xgboost-churn-model.js';
import { bindXgboostFeatures, pandasCategoryOrder, type XgboostFeatureBinding } from './xgboost-features.js';
import { compileXgboostForest, type XgboostForest } from './xgboost-forest.js';
import type { XgboostBooster } from './xgboost-json.js';

export const IMPORTED_THRESHOLD_RULE = HELD_OUT_THRESHOLD_RULE;

export interface XgboostImportOptions {
  /** Share of the reference held out for threshold, metrics and drift thresholds (default 0.25). */
  readonly heldOutShare?: number;
  /** Monitoring window the drift thresholds are calibrated for (default 1000, at most the held-out rows). */
  readonly windowSize?: number;
  /** Split and sampling seed (default 42). */
  readonly seed?: number;
  /**
   * A categorical feature's categories in xgboost's code order, when the reference does not hold every
   * category the booster was trained on (default: the reference's values sorted, as pandas codes them).
   */
  readonly categories?: Readonly<Record<string, readonly string[]>>;
}

export interface ImportedXgboostModel {
  readonly forest: XgboostForest;
  readonly binding: XgboostFeatureBinding;
  readonly threshold: number;
  readonly thresholdRule: string;
  readonly validation: ValidationMetrics;
  /** Built from the profiled part, with drift thresholds calibrated on the held-out part. */
  readonly profile: ReferenceProfile;
  readonly rows: { readonly profile: number; readonly heldOut: number };
}

function referenceError(what: string): ChurnwatchError {
  return new ChurnwatchError('CW_MODEL_XGBOOST_REFERENCE', what, {
    hint: 'pass the labelled data the booster was trained or validated on (at least 100 rows, 10 of each class)',
  });
}

/**
 * `booster` (read by readXgboostBooster from `file`) against `table`, the reference read by `schema`
 * with its 0/1 target. Throws CW_MODEL_XGBOOST_FEATURES when the booster's features do not fit the
 * schema or the reference's categories, CW_MODEL_XGBOOST_REFERENCE when the reference is unusable.
 * O(rows · trees · depth) plus the drift-threshold calibration.
 */
export function importXgboostModel(
  booster: XgboostBooster,
  file: string,
  table: ColumnarTable,
  schema: DatasetSchema,
  options: XgboostImportOptions = {},
): ImportedXgboostModel {
  const heldOutShare = options.heldOutShare ?? 0.25;
  const seed = options.seed ?? 42;
  if (!(heldOutShare > 0 && heldOutShare < 0.9)) throw new RangeError('heldOutShare must be in (0, 0.9)');
  const target = table.target;
  if (!target) throw referenceError(`the reference data has no ${schema.target.column} column`);
  for (const f of schema.features) {
    const column = table.columns.get(f.name);
    if (column?.kind !== f.kind) throw referenceError(`the reference data has no ${f.kind} column ${f.name}`);
  }
  const n = table.rowCount;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += target[i]!;
  if (n < 100 || positives < 10 || n - positives < 10)
    throw referenceError(
      `the reference data has ${n} rows with ${positives} ${schema.target.positive}; at least 100 rows and 10 of each class are needed`,
    );

  const binding = bindXgboostFeatures(booster, schema, file, (name) => {
    const given = options.categories?.[name];
    if (given) return given;
    const column = table.columns.get(name);
    return column?.kind === 'categorical' ? pandasCategoryOrder(column.dictionary) : [];
  });
  const forest = compileXgboostForest(booster);

  const scoresOf = (part: ColumnarTable) => xgboostTableMargins(forest, binding, part).map(sigmoid);
  const reference = profileScoredReference(table, schema.features, scoresOf, {
    heldOutShare,
    seed,
    ...(options.windowSize !== undefined ? { windowSize: options.windowSize } : {}),
  });
  return {
    forest,
    binding,
    threshold: reference.threshold,
    thresholdRule: reference.thresholdRule,
    validation: reference.validation,
    profile: reference.profile,
    rows: reference.rows,
  };
}
