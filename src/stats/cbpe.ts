/**
 * Confidence-based performance estimation (NannyML's CBPE): with calibrated churn probabilities p, a row
 * predicted churn (p ≥ threshold) is a true positive with probability p and a false positive with 1 − p;
 * a row predicted stay is a false negative with probability p and a true negative with 1 − p. Summing
 * gives the expected confusion matrix, from which accuracy, precision, recall and F1 are estimated
 * without labels. The server's `churnwatch_expected_confusion_total{outcome}` counters add exactly
 * these amounts per prediction, so PromQL over any window gives the same numbers as `expectedConfusion`.
 */
import { type ConfusionCounts, classRates } from './classification.js';

export interface EstimatedPerformance {
  rows: number;
  confusion: ConfusionCounts;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Expected ROC AUC (NaN when fewer than two rows or all p are 0 or all 1). */
  rocAuc: number;
}

/** The amounts one prediction adds to the expected confusion counters. */
export function expectedConfusionIncrement(probability: number, threshold: number): ConfusionCounts {
  if (probability >= threshold) return { tp: probability, fp: 1 - probability, tn: 0, fn: 0 };
  return { tp: 0, fp: 0, tn: 1 - probability, fn: probability };
}

/**
 * Expected confusion counts at a threshold. Cost O(n).
 * Throws RangeError when a probability is outside [0, 1] or NaN.
 * @example expectedConfusion([0.9, 0.2], 0.5) // { tp: 0.9, fp: 0.1, tn: 0.8, fn: 0.2 } (up to rounding)
 */
export function expectedConfusion(probabilities: ArrayLike<number>, threshold: number): ConfusionCounts {
  const c: ConfusionCounts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`cbpe: probability at row ${i} is ${p}, outside [0, 1]`);
    if (p >= threshold) {
      c.tp += p;
      c.fp += 1 - p;
    } else {
      c.fn += p;
      c.tn += 1 - p;
    }
  }
  return c;
}

/**
 * Expected ROC AUC as NannyML's CBPE computes it: rows sorted by score descending, expected true
 * positives = cumulative Σp and false positives = cumulative Σ(1 − p), normalized to rates, area by
 * trapezoids. (NannyML also rounds the cumulative sums to 5 decimals, a numerical shortcut we skip.)
 * Cost O(n log n). Returns NaN when the expected positives or negatives are 0.
 * @example expectedRocAuc([0.9, 0.1]) // 0.9
 */
export function expectedRocAuc(probabilities: ArrayLike<number>): number {
  const n = probabilities.length;
  const sorted = Float64Array.from(probabilities).sort().reverse();
  let tp = 0;
  let fp = 0;
  const tps = new Float64Array(n + 1);
  const fps = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    tp += sorted[i]!;
    fp += 1 - sorted[i]!;
    tps[i + 1] = tp;
    fps[i + 1] = fp;
  }
  if (!(tp > 0) || !(fp > 0)) return Number.NaN;
  let area = 0;
  for (let i = 1; i <= n; i++) area += ((fps[i]! - fps[i - 1]!) / fp) * ((tps[i]! + tps[i - 1]!) / tp / 2);
  return area;
}

/**
 * CBPE estimate of class metrics at a threshold plus expected ROC AUC, from calibrated probabilities.
 * Cost O(n log n). Throws RangeError on probabilities outside [0, 1].
 */
export function estimatePerformance(
  probabilities: ArrayLike<number>,
  threshold: number,
): EstimatedPerformance {
  const confusion = expectedConfusion(probabilities, threshold);
  return {
    rows: probabilities.length,
    confusion,
    ...classRates(confusion),
    rocAuc: expectedRocAuc(probabilities),
  };
}
