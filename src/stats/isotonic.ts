/**
 * Isotonic regression as scikit-learn 1.2's `IsotonicRegression(out_of_bounds="clip", increasing=True)`,
 * the calibrator NannyML's CBPE fits: rows sorted by x (then y), equal x values merged into their mean y
 * weighted by count (`_make_unique`: x values closer than 1e-15 count as equal), pool-adjacent-violators
 * (`_inplace_contiguous_isotonic_regression`), then the interior points whose y equals both neighbours'
 * dropped (`trim_duplicates`). Prediction interpolates linearly between the kept thresholds as
 * scipy's `interp1d` does, after clipping x to the fitted range.
 */

/** The fitted map: strictly increasing x, non-decreasing y, same length ≥ 1. */
export interface IsotonicThresholds {
  readonly x: readonly number[];
  readonly y: readonly number[];
}

/** numpy's `finfo(float64).resolution`: sklearn merges x values closer than this. */
const X_RESOLUTION = 1e-15;

/**
 * Fits y (0/1 labels or any reals) as a non-decreasing function of x. Cost O(n log n).
 * Throws RangeError on empty or mismatched input or a non-finite value.
 * @example fitIsotonic([1, 2, 3], [1, 0, 1]) // { x: [1, 3], y: [0.5, 1] }
 */
export function fitIsotonic(x: ArrayLike<number>, y: ArrayLike<number>): IsotonicThresholds {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`isotonic: ${n} x values but ${y.length} y values`);
  if (n === 0) throw new RangeError('isotonic: no rows to fit');
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(x[i]!) || !Number.isFinite(y[i]!))
      throw new RangeError(`isotonic: row ${i} is not finite (x ${x[i]}, y ${y[i]})`);
  // np.lexsort((y, x)): by x, ties by y (the order fixes how a tie group's y values are summed).
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]! || y[a]! - y[b]!);

  // _make_unique: one point per distinct x, its y the mean of the group's y.
  const ux: number[] = [];
  const uy: number[] = [];
  const uw: number[] = [];
  let currentX = x[order[0]!]!;
  let sumY = 0;
  let weight = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (x[i]! - currentX >= X_RESOLUTION) {
      ux.push(currentX);
      uw.push(weight);
      uy.push(sumY / weight);
      currentX = x[i]!;
      weight = 1;
      sumY = y[i]!;
    } else {
      weight += 1;
      sumY += y[i]!;
    }
  }
  ux.push(currentX);
  uw.push(weight);
  uy.push(sumY / weight);

  poolAdjacentViolators(uy, uw);

  // trim_duplicates: keep the ends and every point whose y differs from a neighbour's.
  const m = uy.length;
  const tx: number[] = [];
  const ty: number[] = [];
  for (let i = 0; i < m; i++) {
    if (i > 0 && i < m - 1 && uy[i] === uy[i - 1] && uy[i] === uy[i + 1]) continue;
    tx.push(ux[i]!);
    ty.push(uy[i]!);
  }
  return { x: tx, y: ty };
}

/**
 * sklearn's PAVA, in place: each pass pools the longest decreasing run ahead of block i, then steps back
 * one block, so the whole fit is O(n). `target` links each block's first index to its last and back.
 */
function poolAdjacentViolators(y: number[], w: number[]): void {
  const n = y.length;
  const target = Int32Array.from({ length: n }, (_, i) => i);
  let i = 0;
  while (i < n) {
    let k = target[i]! + 1;
    if (k === n) break;
    if (y[i]! < y[k]!) {
      i = k;
      continue;
    }
    let sumWy = w[i]! * y[i]!;
    let sumW = w[i]!;
    for (;;) {
      const prevY = y[k]!;
      sumWy += w[k]! * y[k]!;
      sumW += w[k]!;
      k = target[k]! + 1;
      if (k === n || prevY < y[k]!) {
        y[i] = sumWy / sumW;
        w[i] = sumW;
        target[i] = k - 1;
        target[k - 1] = i;
        if (i > 0) i = target[i - 1]!;
        break;
      }
    }
  }
  for (let b = 0; b < n; ) {
    const k = target[b]! + 1;
    for (let j = b + 1; j < k; j++) y[j] = y[b]!;
    b = k;
  }
}

/** A fitted map ready for repeated lookups: typed-array copies, binary search. */
export interface IsotonicMap {
  readonly thresholds: IsotonicThresholds;
  /** The calibrated value of `value`. Cost O(log k) for k thresholds; NaN stays NaN. */
  apply(value: number): number;
}

/**
 * Precomputes the lookup of `thresholds` (the request path calls `apply` once per prediction).
 * Throws RangeError when the thresholds are empty, of unequal lengths or x is not increasing.
 * @example isotonicMap({ x: [0.2, 0.6], y: [0.1, 0.5] }).apply(0.4) // 0.3
 */
export function isotonicMap(thresholds: IsotonicThresholds): IsotonicMap {
  const xs = Float64Array.from(thresholds.x);
  const ys = Float64Array.from(thresholds.y);
  const k = xs.length;
  if (k === 0 || ys.length !== k)
    throw new RangeError(
      `isotonic thresholds need as many y as x values, at least one (${k} x, ${ys.length} y)`,
    );
  for (let i = 1; i < k; i++)
    if (!(xs[i]! > xs[i - 1]!)) throw new RangeError(`isotonic thresholds: x is not increasing at ${i}`);
  const lo = xs[0]!;
  const hi = xs[k - 1]!;
  const apply =
    k === 1
      ? (value: number) => (Number.isNaN(value) ? value : ys[0]!)
      : (value: number) => {
          if (Number.isNaN(value)) return value;
          const v = Math.min(Math.max(value, lo), hi);
          // interp1d: the first index with xs[j] >= v (searchsorted left), kept within 1..k-1.
          let a = 1;
          let b = k - 1;
          while (a < b) {
            const mid = (a + b) >>> 1;
            if (xs[mid]! < v) a = mid + 1;
            else b = mid;
          }
          const x0 = xs[a - 1]!;
          const y0 = ys[a - 1]!;
          return ((ys[a]! - y0) / (xs[a]! - x0)) * (v - x0) + y0;
        };
  return { thresholds, apply };
}
