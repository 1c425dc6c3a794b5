/**
 * Expected calibration error on equal-count bins, as NannyML's CBPE measures it to decide whether to
 * calibrate (`_get_bin_index_edges` + `_calculate_expected_calibration_error`): rows sorted by
 * probability, cut at index edges 0, w, 2w, … with w = ⌊n / bins⌋ (the last edge moved to n, so
 * n = 25 and 10 bins give 11 bins of 2 rows and one of 3, as in NannyML), and
 * ECE = Σ (rows in bin / n) · |mean p − mean y|. Bins are halved to ⌊n/2⌋ when n ≤ 2 · bins.
 * Rows are sorted in NumPy's argsort order (numpy-argsort.ts), not stably: isotonic outputs tie in
 * long runs, and which tied rows fall on each side of a bin edge moves the error (by 0.0016 on one
 * reference of 5,000 rows, enough to flip the calibration choice).
 */

import { numpyArgsort } from './numpy-argsort.js';

/** Index edges [left, right) of the bins over n sorted rows. Throws RangeError below 2 bins. */
export function equalCountBinEdges(n: number, bins: number): [number, number][] {
  let count = bins;
  if (n <= 2 * count) {
    count = Math.floor(n / 2);
    if (count < 2) throw new RangeError(`expected calibration error needs at least 4 rows, got ${n}`);
  }
  const width = Math.floor(n / count);
  const edges: number[] = [];
  for (let e = 0; e <= n; e += width) edges.push(e);
  edges[edges.length - 1] = n;
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < edges.length; i++) out.push([edges[i]!, edges[i + 1]!]);
  return out;
}

/**
 * ECE of probabilities `p` against 0/1 labels `y` on `bins` equal-count bins. Cost O(n log n).
 * Throws RangeError on mismatched lengths or fewer than 4 rows.
 * @example expectedCalibrationError([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 2) // 0.15
 */
export function expectedCalibrationError(y: ArrayLike<number>, p: ArrayLike<number>, bins = 10): number {
  const n = p.length;
  if (y.length !== n) throw new RangeError(`ece: ${y.length} labels but ${n} probabilities`);
  const edges = equalCountBinEdges(n, bins);
  const order = numpyArgsort(p);
  let ece = 0;
  for (const [left, right] of edges) {
    let sumP = 0;
    let sumY = 0;
    for (let k = left; k < right; k++) {
      sumP += p[order[k]!]!;
      sumY += y[order[k]!]!;
    }
    const size = right - left;
    ece += (size / n) * Math.abs(sumP / size - sumY / size);
  }
  return ece;
}
