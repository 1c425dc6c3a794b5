/**
 * Linear-interpolation quantiles, NumPy's default (`numpy.quantile(..., method='linear')`, Hyndman & Fan
 * type 7). They cut the reference bins, so they must agree with NumPy to the last bit: a value equal to
 * an edge goes to the bin on its right, and an edge one ulp off would move it.
 */

/**
 * The `p` quantile of values already sorted ascending (no NaN), as NumPy computes it: virtual index
 * h = (n - 1)·p, then NumPy's `_lerp` between the neighbours (which interpolates from the upper
 * neighbour when the weight is ≥ 0.5, so results are bit-identical).
 *
 * Matches `numpy.quantile(sorted, p)`. Cost O(1).
 * Throws RangeError on an empty array or p outside [0, 1].
 * @example quantileSorted([1, 2, 3, 4], 0.5) // 2.5
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile requires at least one value');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile probability must be in [0, 1], got ${p}`);
  const h = (n - 1) * p;
  if (h >= n - 1) return sorted[n - 1]!;
  const lo = Math.floor(h);
  const gamma = h - lo;
  const a = sorted[lo]!;
  const b = sorted[lo + 1]!;
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/**
 * Several quantiles of unsorted values; NaN values are ignored (like `numpy.nanquantile`).
 *
 * Matches `numpy.nanquantile(values, probs)`. Cost O(n log n) for the sort.
 * Throws RangeError when no non-NaN value remains or a probability is outside [0, 1].
 * @example quantiles([3, 1, NaN, 2], [0, 0.5, 1]) // [1, 2, 3]
 */
export function quantiles(values: ArrayLike<number>, probs: readonly number[]): number[] {
  const sorted = sortedWithoutNaN(values);
  return probs.map((p) => quantileSorted(sorted, p));
}

/** Copies the non-NaN values into a Float64Array sorted ascending (typed-array sort is numeric). */
export function sortedWithoutNaN(values: ArrayLike<number>): Float64Array {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) count++;
  const out = new Float64Array(count);
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) out[j++] = v;
  }
  return out.sort();
}
