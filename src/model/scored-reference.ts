/**
 * What an artifact for a model churnwatch did not train holds besides the model: a labelled reference
 * and that model's scores of it give the threshold, validation metrics, the reference profile and its
 * calibrated drift thresholds. Shared by `import xgboost` (import-xgboost.ts: the booster scores the
 * reference) and `profile` (external-profile.ts: the scores are a column of it).
 *
 * The reference is split, seeded, like training splits its data: a held-out part (default 25 %) gives
 * the threshold (max F1, as churnwatch's own models choose it, unless one is given), the validation
 * metrics and the null windows of the drift thresholds; the rest is profiled. CBPE's calibration is
 * fitted on every reference row in file order, as NannyML fits it on the reference it is given, so
 * `churnwatch report` on the same reference file chooses and fits the same map (one estimate, not two).
 */
import type { ColumnarTable } from '../data/columnar-table.js';
import type { FeatureSpec } from '../data/feature-types.js';
import { createRng } from '../data/rng.js';
import { calibrateDriftThresholds } from '../monitor/threshold-calibration.js';
import { fitCbpeCalibration } from '../stats/cbpe-calibration.js';
import { classificationMetrics } from '../stats/classification.js';
import { maxF1Threshold } from './calibration.js';
import type { ValidationMetrics } from './churn-model.js';
import { buildReferenceProfile, DEFAULT_PROFILE_OPTIONS } from './reference-profile.js';
import type { ReferenceProfile } from './reference-profile-types.js';
import { shuffledIndices } from './sampling.js';
import { takeRows } from './table-rows.js';

export interface ScoredReferenceOptions {
  /** Share of the reference held out for threshold, metrics and drift thresholds (default 0.25). */
  readonly heldOutShare?: number;
  /** Monitoring window the drift thresholds are calibrated for (default 1000, at most the held-out rows). */
  readonly windowSize?: number;
  /** Split and sampling seed (default 42). */
  readonly seed?: number;
  /** A threshold chosen by the caller, and its rule; default max F1 on the held-out part. */
  readonly threshold?: { readonly value: number; readonly rule: string };
}

export interface ScoredReference {
  readonly threshold: number;
  readonly thresholdRule: string;
  /** On the held-out part. */
  readonly validation: ValidationMetrics;
  /** Built from the profiled part, with drift thresholds calibrated on the held-out part. */
  readonly profile: ReferenceProfile;
  readonly rows: { readonly profile: number; readonly heldOut: number };
  /** The held-out part and its scores (a score calibration fits on them). */
  readonly heldOut: ColumnarTable;
  readonly heldOutScores: Float64Array;
}

/** The threshold rule when none is given. */
export const HELD_OUT_THRESHOLD_RULE = 'max-f1-on-reference-holdout';

/**
 * `table` is labelled (target 0/1) and holds every feature of `features`; `scoresOf` scores a part of
 * it. O(rows) plus the scoring and the drift-threshold calibration.
 */
export function profileScoredReference(
  table: ColumnarTable,
  features: readonly FeatureSpec[],
  scoresOf: (part: ColumnarTable) => Float64Array,
  options: ScoredReferenceOptions = {},
): ScoredReference {
  const heldOutShare = options.heldOutShare ?? 0.25;
  const seed = options.seed ?? 42;
  if (!(heldOutShare > 0 && heldOutShare < 0.9)) throw new RangeError('heldOutShare must be in (0, 0.9)');
  const n = table.rowCount;
  const order = shuffledIndices(n, createRng(seed, 2));
  const heldOutCount = Math.max(50, Math.round(n * heldOutShare));
  const heldOutRows = order.slice(0, heldOutCount).sort((a, b) => a - b);
  const profiledRows = order.slice(heldOutCount).sort((a, b) => a - b);
  const heldOut = takeRows(table, heldOutRows);
  const profiled = takeRows(table, profiledRows);
  const heldOutScores = scoresOf(heldOut);
  const profiledScores = scoresOf(profiled);
  // Every row's score in file order, for CBPE's calibration.
  const allScores = new Float64Array(n);
  heldOutRows.forEach((row, k) => {
    allScores[row] = heldOutScores[k]!;
  });
  profiledRows.forEach((row, k) => {
    allScores[row] = profiledScores[k]!;
  });
  const threshold = options.threshold?.value ?? maxF1Threshold(heldOutScores, heldOut.target!).threshold;
  const validation = classificationMetrics(heldOut.target!, heldOutScores, threshold);
  const profile = buildReferenceProfile(profiled, features, profiledScores, threshold, {
    ...DEFAULT_PROFILE_OPTIONS,
    rng: createRng(seed, 4),
  });
  const thresholds = calibrateDriftThresholds(profile, heldOut, {
    windowSize: Math.min(options.windowSize ?? 1000, heldOut.rowCount),
    rng: createRng(seed, 5),
    scores: heldOutScores,
  });
  return {
    threshold,
    thresholdRule: options.threshold?.rule ?? HELD_OUT_THRESHOLD_RULE,
    validation,
    // CBPE's calibration (isotonic or none) changes only the probabilities performance is estimated
    // with, never the stored score.
    profile: {
      ...profile,
      thresholds,
      cbpe: fitCbpeCalibration(allScores, table.target!),
    },
    rows: { profile: profiled.rowCount, heldOut: heldOut.rowCount },
    heldOut,
    heldOutScores,
  };
}
