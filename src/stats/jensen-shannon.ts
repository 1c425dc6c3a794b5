/**
 * Jensen-Shannon distance (the square root of the divergence), base 2, so it lies in [0, 1].
 */
import { SHARE_FLOOR } from './psi.js';

function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Number.POSITIVE_INFINITY;
}

/**
 * Jensen-Shannon distance between two share vectors after flooring each share at 1e-4 (the PSI
 * convention); like SciPy, both vectors are then normalized to sum 1.
 *
 * Matches `scipy.spatial.distance.jensenshannon(max(p,1e-4), max(q,1e-4), base=2)`. Cost O(k).
 * Throws RangeError when lengths differ or are zero.
 * @example jensenShannon([1, 0], [0, 1]) // 0.9985...
 */
export function jensenShannon(
  referenceShares: ArrayLike<number>,
  currentShares: ArrayLike<number>,
  floor = SHARE_FLOOR,
): number {
  const k = referenceShares.length;
  if (k !== currentShares.length || k === 0)
    throw new RangeError(
      `jensen-shannon requires two share vectors of the same non-zero length (${k} vs ${currentShares.length})`,
    );
  const p = Array.from(referenceShares, (s) => Math.max(s, floor));
  const q = Array.from(currentShares, (s) => Math.max(s, floor));
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  let left = 0;
  let right = 0;
  for (let i = 0; i < k; i++) {
    const pi = p[i]! / sp;
    const qi = q[i]! / sq;
    const m = (pi + qi) / 2;
    left += relEntr(pi, m);
    right += relEntr(qi, m);
  }
  const js = (left + right) / Math.LN2;
  return Math.sqrt(Math.max(js, 0) / 2);
}
