/**
 * Probability calibration and the decision threshold, both fitted on the validation slice.
 *
 * Platt scaling (Platt 1999) on the boosted margin: p = sigmoid(a · margin + b), two parameters fitted
 * by Newton's method on log loss. It is kept only when it lowers log loss out of sample: the validation
 * rows are cut in two halves, Platt is fitted on each half and scored on the other, and the 2-fold log
 * loss is compared with the uncalibrated one. Two parameters cannot overfit a validation slice of
 * thousands of rows, unlike isotonic regression, and the scores stay strictly monotone in the margin.
 */
import { sigmoid } from '../stats/logistic.js';

export interface PlattCalibrator {
  readonly method: 'platt' | 'identity';
  readonly a: number;
  readonly b: number;
}

export const IDENTITY_CALIBRATOR: PlattCalibrator = Object.freeze({ method: 'identity', a: 1, b: 0 });

export function calibrate(calibrator: PlattCalibrator, margin: number): number {
  return sigmoid(calibrator.a * margin + calibrator.b);
}

function logLossOf(
  margins: ArrayLike<number>,
  y: ArrayLike<number>,
  a: number,
  b: number,
  rows: ArrayLike<number>,
) {
  let sum = 0;
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    const p = Math.min(1 - 1e-15, Math.max(1e-15, sigmoid(a * margins[i]! + b)));
    sum -= y[i] ? Math.log(p) : Math.log(1 - p);
  }
  return sum / Math.max(1, rows.length);
}

/** Newton's method for (a, b) minimising log loss over `rows`. O(iterations · rows). */
export function fitPlatt(
  margins: ArrayLike<number>,
  y: ArrayLike<number>,
  rows: ArrayLike<number>,
): PlattCalibrator {
  let a = 1;
  let b = 0;
  for (let iter = 0; iter < 50; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k]!;
      const m = margins[i]!;
      const p = sigmoid(a * m + b);
      const d = p - y[i]!;
      const w = p * (1 - p);
      ga += d * m;
      gb += d;
      haa += w * m * m;
      hab += w * m;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    // Halve the step until log loss does not get worse (Newton can overshoot on separable data).
    const before = logLossOf(margins, y, a, b, rows);
    let step = 1;
    while (step > 1e-4 && logLossOf(margins, y, a - step * da, b - step * db, rows) > before) step /= 2;
    a -= step * da;
    b -= step * db;
    if (Math.abs(step * da) < 1e-10 && Math.abs(step * db) < 1e-10) break;
  }
  return { method: 'platt', a, b };
}

export interface CalibrationChoice {
  readonly calibrator: PlattCalibrator;
  /** 2-fold out-of-sample log loss without and with Platt scaling. */
  readonly logLossUncalibrated: number;
  readonly logLossPlatt: number;
}

/** Fits Platt scaling and keeps it only if its 2-fold out-of-sample log loss is lower. */
export function chooseCalibrator(margins: ArrayLike<number>, y: ArrayLike<number>): CalibrationChoice {
  const n = margins.length;
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const even = all.filter((i) => i % 2 === 0);
  const odd = all.filter((i) => i % 2 === 1);
  const uncal = logLossOf(margins, y, 1, 0, all);
  if (n < 20) return { calibrator: IDENTITY_CALIBRATOR, logLossUncalibrated: uncal, logLossPlatt: uncal };
  const onOdd = fitPlatt(margins, y, even);
  const onEven = fitPlatt(margins, y, odd);
  const cross =
    (logLossOf(margins, y, onOdd.a, onOdd.b, odd) * odd.length +
      logLossOf(margins, y, onEven.a, onEven.b, even) * even.length) /
    n;
  const calibrator = cross < uncal ? fitPlatt(margins, y, all) : IDENTITY_CALIBRATOR;
  return { calibrator, logLossUncalibrated: uncal, logLossPlatt: cross };
}

/**
 * The threshold maximising F1 on validation: every distinct score is a candidate ("churn when
 * p >= t"); ties in F1 go to the higher threshold (fewer alerts for the same F1). O(n log n).
 */
export function maxF1Threshold(
  scores: ArrayLike<number>,
  y: ArrayLike<number>,
): { threshold: number; f1: number } {
  const n = scores.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((i, j) => scores[j]! - scores[i]!);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]!;
  let tp = 0;
  let predicted = 0;
  let best = { threshold: 0.5, f1: -1 };
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    tp += y[i]!;
    predicted++;
    const next = order[k + 1];
    if (next !== undefined && scores[next] === scores[i]) continue;
    const f1 = positives + predicted > 0 ? (2 * tp) / (positives + predicted) : 0;
    if (f1 > best.f1) best = { threshold: scores[i]!, f1 };
  }
  return best;
}
