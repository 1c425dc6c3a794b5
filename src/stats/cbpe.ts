/**
 * Confidence-based performance estimation (NannyML's CBPE): with a row's calibrated churn probability
 * p, a row the model predicts churn (ŷ = 1: its raw score s ≥ threshold, or the class the model gave,
 * NannyML's `y_pred`) is a true positive with probability p and a false positive with 1 − p; a row
 * predicted stay is a false negative with probability p and a true negative with 1 − p. Summing gives
 * the expected confusion matrix, from which accuracy, precision, recall, F1 and specificity are
 * estimated without labels. p = calibrate(s) with the profile's CBPE calibration
 * (cbpe-calibration.ts), p = s without one. The server's `churnwatch_expected_confusion_total{outcome}`
 * counters add exactly these amounts per prediction, so PromQL over any window gives the same numbers
 * as `expectedConfusion`.
 */
import type { ScoreCalibrator } from './cbpe-calibration.js';
import {
  type ConfusionCounts,
  checkPredictedClasses,
  classRates,
  type PredictedClasses,
  predictedAt,
} from './classification.js';

export interface EstimatedPerformance {
  rows: number;
  confusion: ConfusionCounts;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  specificity: number;
  /** Expected ROC AUC (NaN when fewer than two rows or all p are 0 or all 1). */
  rocAuc: number;
}

/** The amounts one prediction (raw score, its class ŷ) adds to the expected confusion counters. */
export function expectedConfusionIncrement(
  score: number,
  predictedClass: 0 | 1,
  calibrate?: ScoreCalibrator,
): ConfusionCounts {
  const p = calibrate ? calibrate(score) : score;
  if (predictedClass === 1) return { tp: p, fp: 1 - p, tn: 0, fn: 0 };
  return { tp: 0, fp: 0, tn: 1 - p, fn: p };
}

function probabilityAt(score: number, i: number, calibrate: ScoreCalibrator | undefined): number {
  const p = calibrate ? calibrate(score) : score;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`cbpe: probability at row ${i} is ${p}, outside [0, 1]`);
  return p;
}

/**
 * Expected confusion counts of raw `scores` with ŷ from `decisions` (a threshold on the raw score, or
 * the model's 0/1 classes), p = calibrate(s). Cost O(n) (O(n log k) calibrated). Throws RangeError
 * when a probability is outside [0, 1] or NaN, or the classes are not one 0/1 per score.
 * @example expectedConfusion([0.9, 0.2], 0.5) // { tp: 0.9, fp: 0.1, tn: 0.8, fn: 0.2 } (up to rounding)
 * @example expectedConfusion([0.9, 0.2], [0, 1]) // { tp: 0.2, fp: 0.8, tn: 0.1, fn: 0.9 } (up to rounding)
 */
export function expectedConfusion(
  scores: ArrayLike<number>,
  decisions: PredictedClasses,
  calibrate?: ScoreCalibrator,
): ConfusionCounts {
  checkPredictedClasses(decisions, scores.length, 'cbpe');
  const c: ConfusionCounts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < scores.length; i++) {
    const p = probabilityAt(scores[i]!, i, calibrate);
    if (predictedAt(decisions, scores, i)) {
      c.tp += p;
      c.fp += 1 - p;
    } else {
      c.fn += p;
      c.tn += 1 - p;
    }
  }
  return c;
}

/** np.round(v, 5): half to even on v · 1e5. */
function round5(v: number): number {
  const t = v * 1e5;
  let r = Math.round(t);
  if (r - t === 0.5 && r % 2 !== 0) r -= 1;
  return r / 1e5;
}

/**
 * Expected ROC AUC as NannyML (≥ 0.10.6) estimates it: rows ordered by raw score descending, expected
 * true positives tps_k = Σ p over the first k rows and false positives fps_k = k − tps_k, both rounded
 * to 5 decimals, every row a threshold, normalised to rates, area by trapezoids. p is non-decreasing in
 * s, so tied scores (equal p) cannot reorder the sums. Cost O(n log n).
 * Returns NaN when the expected positives or negatives are 0.
 * @example expectedRocAuc([0.9, 0.1]) // 0.9
 */
export function expectedRocAuc(scores: ArrayLike<number>, calibrate?: ScoreCalibrator): number {
  const n = scores.length;
  // The native numeric sort; p follows s's order because the calibration is monotone.
  const sorted = Float64Array.from(scores).sort();
  const tps = new Float64Array(n + 1);
  const fps = new Float64Array(n + 1);
  let cumulative = 0;
  for (let k = 1; k <= n; k++) {
    cumulative += probabilityAt(sorted[n - k]!, n - k, calibrate);
    tps[k] = round5(cumulative);
    fps[k] = round5(k - cumulative);
  }
  const tp = tps[n]!;
  const fp = fps[n]!;
  if (!(tp > 0) || !(fp > 0)) return Number.NaN;
  let area = 0;
  for (let k = 1; k <= n; k++)
    area += ((fps[k]! - fps[k - 1]!) / fp) * ((tps[k]! / tp + tps[k - 1]! / tp) / 2);
  return area;
}

/**
 * CBPE estimate of class metrics with ŷ from `decisions` (a threshold, or the model's classes) plus
 * expected ROC AUC (from the scores only), from raw scores and the calibration (identity when
 * omitted). Cost O(n log n). Throws RangeError on probabilities outside [0, 1] or bad classes.
 */
export function estimatePerformance(
  scores: ArrayLike<number>,
  decisions: PredictedClasses,
  calibrate?: ScoreCalibrator,
): EstimatedPerformance {
  const confusion = expectedConfusion(scores, decisions, calibrate);
  return {
    rows: scores.length,
    confusion,
    ...classRates(confusion),
    rocAuc: expectedRocAuc(scores, calibrate),
  };
}
