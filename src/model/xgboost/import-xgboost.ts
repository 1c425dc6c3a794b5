/**
 * Turns an XGBoost booster and a labelled reference table into everything a model artifact holds
 * besides the booster itself: the bound features, the threshold, validation metrics, the reference
 * profile and its calibrated drift thresholds. Pure computation: reading the model file and the CSV
 * (by the schema) is the caller's job, writing the artifact is model-io.ts's saveImportedArtifact.
 *
 * The reference is split, seeded, like training splits its data: a held-out part (default 25 %) gives
 * the threshold (max F1, as churnwatch's own models choose it), the validation metrics, the null
 * windows of the drift thresholds and CBPE's calibration; the rest is profiled. The booster's probabilities are used as they
 * are (no recalibration), so churnwatch's scores equal xgboost's predict.
 */
import type { ColumnarTable } from '../../data/columnar-table.js';
import type { DatasetSchema } from '../../data/dataset-schema.js';
import { createRng } from '../../data/rng.js';
import { ChurnwatchError } from '../../errors.js';
import { calibrateDriftThresholds } from '../../monitor/threshold-calibration.js';
import { fitCbpeCalibration } from '../../stats/cbpe-calibration.js';
import { classificationMetrics } from '../../stats/classification.js';
import { sigmoid } from '../../stats/logistic.js';
import { maxF1Threshold } from '../calibration.js';
import type { ValidationMetrics } from '../churn-model.js';
import { buildReferenceProfile, DEFAULT_PROFILE_OPTIONS } from '../reference-profile.js';
import type { ReferenceProfile } from '../reference-profile-types.js';
import { shuffledIndices } from '../sampling.js';
import { takeRows } from '../table-rows.js';
import { xgboostTableMargins } from './xgboost-churn-model.js';
import { bindXgboostFeatures, pandasCategoryOrder, type XgboostFeatureBinding } from './xgboost-features.js';
import { compileXgboostForest, type XgboostForest } from './xgboost-forest.js';
import type { XgboostBooster } from './xgboost-json.js';

export const IMPORTED_THRESHOLD_RULE = 'max-f1-on-reference-holdout';

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

  const order = shuffledIndices(n, createRng(seed, 2));
  const heldOutCount = Math.max(50, Math.round(n * heldOutShare));
  const heldOut = takeRows(table, order.slice(0, heldOutCount).sort());
  const profiled = takeRows(table, order.slice(heldOutCount).sort());
  const scoresOf = (part: ColumnarTable) => xgboostTableMargins(forest, binding, part).map(sigmoid);
  const heldOutScores = scoresOf(heldOut);
  const { threshold } = maxF1Threshold(heldOutScores, heldOut.target!);
  const validation = classificationMetrics(heldOut.target!, heldOutScores, threshold);
  const profile = buildReferenceProfile(profiled, schema.features, scoresOf(profiled), threshold, {
    ...DEFAULT_PROFILE_OPTIONS,
    rng: createRng(seed, 4),
  });
  const thresholds = calibrateDriftThresholds(profile, heldOut, {
    windowSize: Math.min(options.windowSize ?? 1000, heldOut.rowCount),
    rng: createRng(seed, 5),
    scores: heldOutScores,
  });
  return {
    forest,
    binding,
    threshold,
    thresholdRule: IMPORTED_THRESHOLD_RULE,
    validation,
    // CBPE's calibration (isotonic or none) is chosen on the held-out part too; it changes only the
    // probabilities performance is estimated with, never the served score.
    profile: {
      ...profile,
      thresholds,
      cbpe: fitCbpeCalibration(heldOutScores, heldOut.target!, { rng: createRng(seed, 6) }),
    },
    rows: { profile: profiled.rowCount, heldOut: heldOut.rowCount },
  };
}
