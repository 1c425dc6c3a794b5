/**
 * First Wasserstein (earth mover's) distance between two 1-D samples: ∫ |F_u − F_v| over the merged
 * support, from the two empirical CDFs.
 */
import { sortedWithoutNaN } from './quantiles.js';

/**
 * Wasserstein distance of two samples sorted ascending (no NaN). Cost O(n1 + n2).
 * Throws RangeError when a sample is empty.
 */
export function wassersteinSorted(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const n1 = u.length;
  const n2 = v.length;
  if (n1 === 0 || n2 === 0)
    throw new RangeError('wasserstein distance requires at least one value in each sample');
  let i = 0;
  let j = 0;
  let sum = 0;
  // Walk the merged sorted values; between consecutive values the CDFs are constant.
  let prev = Math.min(u[0]!, v[0]!);
  while (i < n1 || j < n2) {
    const x = j >= n2 || (i < n1 && u[i]! <= v[j]!) ? u[i]! : v[j]!;
    sum += Math.abs(i / n1 - j / n2) * (x - prev);
    prev = x;
    if (j >= n2 || (i < n1 && u[i]! <= v[j]!)) i++;
    else j++;
  }
  return sum;
}

/**
 * Wasserstein-1 distance between two samples; NaN values are dropped.
 *
 * Matches `scipy.stats.wasserstein_distance(u, v)`. Cost O(n log n). Throws RangeError on an empty sample.
 * @example wasserstein([0, 1, 3], [5, 6, 8]) // 5
 */
export function wasserstein(u: ArrayLike<number>, v: ArrayLike<number>): number {
  return wassersteinSorted(sortedWithoutNaN(u), sortedWithoutNaN(v));
}

/** Population standard deviation (ddof = 0, like `numpy.std`) of the non-NaN values. Cost O(n). */
export function populationStd(values: ArrayLike<number>): number {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isNaN(x)) continue;
    n++;
    sum += x;
  }
  if (n === 0) return Number.NaN;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!Number.isNaN(x)) ss += (x - mean) * (x - mean);
  }
  return Math.sqrt(ss / n);
}

/**
 * Wasserstein distance divided by a scale (the reference's population std), so thresholds carry across
 * features. A zero scale gives 0 for a zero distance and Infinity otherwise (a constant reference moved).
 * @example wassersteinNormed(2, 4) // 0.5
 */
export function wassersteinNormed(distance: number, referenceStd: number): number {
  if (referenceStd > 0) return distance / referenceStd;
  return distance === 0 ? 0 : Number.POSITIVE_INFINITY;
}
