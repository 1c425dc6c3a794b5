/**
 * Binary classification metrics, each matching scikit-learn 1.2 on the same inputs: ROC AUC with ties,
 * log loss, Brier score, average precision, class metrics at a threshold and the calibration curve.
 * Labels are 0/1; scores are churn probabilities in [0, 1] (ranking metrics accept any finite score).
 */

export interface ConfusionCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface ClassificationMetrics {
  rows: number;
  /** NaN when only one class is present (ROC AUC is undefined, sklearn raises). */
  rocAuc: number;
  logLoss: number;
  brier: number;
  /** 0 when there is no positive row (sklearn 1.2 sets recall to 1 and warns, giving 0). */
  averagePrecision: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** TN / (TN + FP), 0 when there is no negative row. */
  specificity: number;
  confusion: ConfusionCounts;
}

const LOG_LOSS_EPS = 1e-15;

function checkInputs(yTrue: ArrayLike<number>, scores: ArrayLike<number>, what: string): void {
  if (yTrue.length !== scores.length)
    throw new RangeError(`${what} requires as many labels as scores (${yTrue.length} vs ${scores.length})`);
  if (yTrue.length === 0) throw new RangeError(`${what} requires at least one row`);
  for (let i = 0; i < yTrue.length; i++) {
    const y = yTrue[i]!;
    if (y !== 0 && y !== 1) throw new RangeError(`${what}: label at row ${i} is ${y}, expected 0 or 1`);
    if (!Number.isFinite(scores[i]!)) throw new RangeError(`${what}: score at row ${i} is not finite`);
  }
}

/**
 * Cumulative true/false positives at each distinct score, scores descending (sklearn's
 * `_binary_clf_curve`). The two classes' scores are sorted apart with the native typed-array sort
 * (a comparator sort over row indexes was the monitor's slowest step) and merged, tied scores of both
 * classes closing one threshold together. Cost O(n log n).
 */
function binaryCurve(yTrue: ArrayLike<number>, scores: ArrayLike<number>): { tps: number[]; fps: number[] } {
  const n = scores.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += yTrue[i] === 1 ? 1 : 0;
  const pos = new Float64Array(positives);
  const neg = new Float64Array(n - positives);
  for (let i = 0, p = 0, q = 0; i < n; i++) {
    if (yTrue[i] === 1) pos[p++] = scores[i]!;
    else neg[q++] = scores[i]!;
  }
  pos.sort();
  neg.sort();
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  let i = pos.length - 1;
  let j = neg.length - 1;
  while (i >= 0 || j >= 0) {
    const threshold = i < 0 ? neg[j]! : j < 0 ? pos[i]! : Math.max(pos[i]!, neg[j]!);
    while (i >= 0 && pos[i] === threshold) {
      tp++;
      i--;
    }
    while (j >= 0 && neg[j] === threshold) {
      fp++;
      j--;
    }
    tps.push(tp);
    fps.push(fp);
  }
  return { tps, fps };
}

/**
 * Area under the ROC curve, tied scores counted half (trapezoids between distinct thresholds).
 *
 * Matches `sklearn.metrics.roc_auc_score(y_true, scores)`. Cost O(n log n).
 * Returns NaN when only one class is present; throws RangeError on mismatched lengths or labels not 0/1.
 * @example rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) // 0.75
 */
export function rocAuc(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkInputs(yTrue, scores, 'roc auc');
  const { tps, fps } = binaryCurve(yTrue, scores);
  const positives = tps[tps.length - 1]!;
  const negatives = fps[fps.length - 1]!;
  if (positives === 0 || negatives === 0) return Number.NaN;
  let area = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let k = 0; k < tps.length; k++) {
    area += (fps[k]! - prevFp) * (tps[k]! + prevTp);
    prevTp = tps[k]!;
    prevFp = fps[k]!;
  }
  return area / (2 * positives * negatives);
}

/**
 * Average precision: Σ (R_k − R_{k−1}) · P_k over distinct thresholds, descending (the step
 * definition, no interpolation).
 *
 * Matches `sklearn.metrics.average_precision_score(y_true, scores)`. Cost O(n log n).
 * Returns 0 when there is no positive row; throws RangeError on bad input.
 * @example averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) // 0.8333333333333333
 */
export function averagePrecision(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkInputs(yTrue, scores, 'average precision');
  const { tps, fps } = binaryCurve(yTrue, scores);
  const positives = tps[tps.length - 1]!;
  if (positives === 0) return 0;
  let ap = 0;
  let prevRecall = 0;
  for (let k = 0; k < tps.length; k++) {
    const recall = tps[k]! / positives;
    ap += (recall - prevRecall) * (tps[k]! / (tps[k]! + fps[k]!));
    prevRecall = recall;
  }
  return ap;
}

/**
 * Mean binary cross-entropy, scores clipped to [1e-15, 1 − 1e-15].
 *
 * Matches `sklearn.metrics.log_loss(y_true, scores)` (sklearn 1.2 default eps). Cost O(n).
 * Throws RangeError on bad input.
 * @example logLoss([0, 1], [0.2, 0.9]) // 0.164252033486018
 */
export function logLoss(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkInputs(yTrue, scores, 'log loss');
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const p = Math.min(Math.max(scores[i]!, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
    sum -= yTrue[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / yTrue.length;
}

/**
 * Brier score: mean squared difference between label and probability.
 *
 * Matches `sklearn.metrics.brier_score_loss(y_true, scores)`. Cost O(n). Throws RangeError on bad input.
 * @example brierScore([0, 1], [0.2, 0.9]) // 0.025
 */
export function brierScore(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkInputs(yTrue, scores, 'brier score');
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const d = yTrue[i]! - scores[i]!;
    sum += d * d;
  }
  return sum / yTrue.length;
}

/**
 * The predicted class ŷ of each row: a threshold on the score (ŷ = 1 where score ≥ threshold), or the
 * model's own classes, one 0/1 per row (a model served elsewhere says what it decided; NannyML's `y_pred`).
 */
export type PredictedClasses = number | ArrayLike<number>;

/** ŷ of row i: 1 when `decisions` (a threshold or the classes) predicts the positive class. */
export function predictedAt(decisions: PredictedClasses, scores: ArrayLike<number>, i: number): boolean {
  return typeof decisions === 'number' ? scores[i]! >= decisions : decisions[i] === 1;
}

/** Throws RangeError when given classes do not match the scores in length or hold anything but 0/1. */
export function checkPredictedClasses(decisions: PredictedClasses, rows: number, what: string): void {
  if (typeof decisions === 'number') return;
  if (decisions.length !== rows)
    throw new RangeError(`${what} requires a predicted class per row (${decisions.length} vs ${rows})`);
  for (let i = 0; i < rows; i++) {
    const c = decisions[i];
    if (c !== 0 && c !== 1)
      throw new RangeError(`${what}: predicted class at row ${i} is ${c}, expected 0 or 1`);
  }
}

/**
 * Confusion counts with "churn" predicted where score ≥ threshold, or where the given class is 1.
 *
 * Matches `sklearn.metrics.confusion_matrix(y_true, scores >= threshold).ravel()` (or of `y_pred`) →
 * tn, fp, fn, tp. Cost O(n). Throws RangeError on bad input.
 * @example confusionAt([0, 1, 1], [0.6, 0.5, 0.2], 0.5) // { tp: 1, fp: 1, tn: 0, fn: 1 }
 * @example confusionAt([0, 1, 1], [0.6, 0.5, 0.2], [0, 1, 1]) // { tp: 2, fp: 0, tn: 1, fn: 0 }
 */
export function confusionAt(
  yTrue: ArrayLike<number>,
  scores: ArrayLike<number>,
  decisions: PredictedClasses,
): ConfusionCounts {
  checkInputs(yTrue, scores, 'confusion matrix');
  checkPredictedClasses(decisions, yTrue.length, 'confusion matrix');
  const c: ConfusionCounts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < yTrue.length; i++) {
    const predicted = predictedAt(decisions, scores, i);
    if (yTrue[i] === 1) {
      if (predicted) c.tp++;
      else c.fn++;
    } else if (predicted) c.fp++;
    else c.tn++;
  }
  return c;
}

/**
 * Accuracy, precision, recall, F1 and specificity from confusion counts (which may be fractional, as in
 * CBPE's expected confusion matrix), with sklearn's zero_division=0: a ratio with a zero denominator is 0.
 * Cost O(1).
 * @example classRates({ tp: 1, fp: 1, tn: 0, fn: 1 }) // { accuracy: 1/3, precision: 0.5, recall: 0.5, f1: 0.5, specificity: 0 }
 */
export function classRates(c: ConfusionCounts): {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  specificity: number;
} {
  const total = c.tp + c.fp + c.tn + c.fn;
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  const precision = ratio(c.tp, c.tp + c.fp);
  const recall = ratio(c.tp, c.tp + c.fn);
  // sklearn computes F1 as 2·tp / (2·tp + fp + fn), which is 0 rather than NaN when tp = 0.
  const f1 = ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
  // Recall of the negative class (NannyML's specificity: TN / (TN + FP)).
  const specificity = ratio(c.tn, c.tn + c.fp);
  return { accuracy: ratio(c.tp + c.tn, total), precision, recall, f1, specificity };
}

/**
 * Every metric above in one call (the scores are sorted once per ranking metric): the ranking metrics
 * and log loss from the scores, the class metrics from ŷ (`decisions`: a threshold, or the model's
 * classes). Cost O(n log n). Throws RangeError on mismatched lengths, labels or classes not 0/1 or
 * non-finite scores.
 * @example classificationMetrics([0, 1], [0.2, 0.9], 0.5).accuracy // 1
 */
export function classificationMetrics(
  yTrue: ArrayLike<number>,
  scores: ArrayLike<number>,
  decisions: PredictedClasses,
): ClassificationMetrics {
  const confusion = confusionAt(yTrue, scores, decisions);
  return {
    rows: yTrue.length,
    rocAuc: rocAuc(yTrue, scores),
    logLoss: logLoss(yTrue, scores),
    brier: brierScore(yTrue, scores),
    averagePrecision: averagePrecision(yTrue, scores),
    ...classRates(confusion),
    confusion,
  };
}

/**
 * Reliability diagram on `bins` equal-width bins over [0, 1]; empty bins are dropped. A score equal to
 * an interior edge i/bins belongs to the bin on its LEFT (NumPy `searchsorted` side='left', as sklearn
 * does), and edges are computed as NumPy's `linspace` does (i · (1/bins)) so ties land identically.
 *
 * Matches `sklearn.calibration.calibration_curve(y, scores, n_bins=bins, strategy='uniform')`, plus the
 * row count per kept bin. Cost O(n + bins).
 * Throws RangeError on bad input or a score outside [0, 1].
 * @example calibrationCurve([0, 1, 1], [0.05, 0.95, 0.97], 10) // { probTrue: [0, 1], probPred: [0.05, 0.96], counts: [1, 2] }
 */
export function calibrationCurve(
  yTrue: ArrayLike<number>,
  scores: ArrayLike<number>,
  bins = 10,
): { probTrue: number[]; probPred: number[]; counts: number[] } {
  checkInputs(yTrue, scores, 'calibration curve');
  if (!Number.isInteger(bins) || bins < 1)
    throw new RangeError(`calibration curve bins must be a positive integer, got ${bins}`);
  const step = 1 / bins;
  const interior: number[] = [];
  for (let i = 1; i < bins; i++) interior.push(i * step);
  const sumPred = new Float64Array(bins);
  const sumTrue = new Float64Array(bins);
  const total = new Float64Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s < 0 || s > 1) throw new RangeError(`calibration curve: score at row ${i} is ${s}, outside [0, 1]`);
    let lo = 0;
    let hi = interior.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (interior[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    sumPred[lo]! += s;
    sumTrue[lo]! += yTrue[i]!;
    total[lo]! += 1;
  }
  const probTrue: number[] = [];
  const probPred: number[] = [];
  const counts: number[] = [];
  for (let b = 0; b < bins; b++) {
    if (total[b] === 0) continue;
    probTrue.push(sumTrue[b]! / total[b]!);
    probPred.push(sumPred[b]! / total[b]!);
    counts.push(total[b]!);
  }
  return { probTrue, probPred, counts };
}
