/**
 * Population Stability Index on binned shares, the project-wide convention (docs/drift.md):
 * shares floored at 1e-4, PSI = Σ (cur − ref) · ln(cur / ref). The same bins are used by serving
 * counters, Prometheus histogram buckets and the monitor, so a PSI computed anywhere is one number.
 */
import { quantileSorted, sortedWithoutNaN } from './quantiles.js';

/** Shares below this are raised to it so that an empty bin does not make PSI infinite. */
export const SHARE_FLOOR = 1e-4;

/**
 * The decile probabilities whose reference quantiles cut the numeric bins, computed as NumPy's
 * `linspace(0.1, 0.9, 9)` does (0.1 + i·0.1, so the third is 0.30000000000000004, not 0.3). The oracle
 * edges were cut with these; the literal 0.3 moves some edges by one ulp and with them tied values.
 */
export const DECILE_PROBS: readonly number[] = Object.freeze(
  Array.from({ length: 9 }, (_, i) => i * 0.1 + 0.1),
);

/**
 * Counts → shares (count / total). Cost O(k). Throws RangeError on a negative count or zero total.
 * @example sharesFromCounts([1, 3]) // [0.25, 0.75]
 */
export function sharesFromCounts(counts: ArrayLike<number>): number[] {
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (!(c >= 0)) throw new RangeError(`bin count at index ${i} is ${c}, expected a non-negative number`);
    total += c;
  }
  if (total === 0) throw new RangeError('shares require a positive total count');
  return Array.from(counts, (c) => c / total);
}

/**
 * Shares raised to at least `floor` (no renormalization: the PSI oracle does not renormalize).
 * @example flooredShares([0, 1]) // [0.0001, 1]
 */
export function flooredShares(shares: ArrayLike<number>, floor = SHARE_FLOOR): number[] {
  return Array.from(shares, (s) => Math.max(s, floor));
}

/**
 * PSI between a reference and a current distribution given as raw (unfloored) shares; both are floored
 * at 1e-4 first. No SciPy equivalent; matches the oracle definition and NannyML/Evidently's formula.
 * Cost O(k). Throws RangeError when the lengths differ or are zero.
 * @example psi([0.5, 0.5], [0.4, 0.6]) // 0.04054651081081645
 */
export function psi(referenceShares: ArrayLike<number>, currentShares: ArrayLike<number>): number {
  if (referenceShares.length !== currentShares.length || referenceShares.length === 0)
    throw new RangeError(
      `psi requires two share vectors of the same non-zero length (${referenceShares.length} vs ${currentShares.length})`,
    );
  let sum = 0;
  for (let i = 0; i < referenceShares.length; i++) {
    const r = Math.max(referenceShares[i]!, SHARE_FLOOR);
    const c = Math.max(currentShares[i]!, SHARE_FLOOR);
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}

/** PSI from two count vectors aligned bin by bin. Throws RangeError when either total is zero. */
export function psiFromCounts(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>): number {
  return psi(sharesFromCounts(referenceCounts), sharesFromCounts(currentCounts));
}

/**
 * Interior bin edges: the reference's 10..90 % quantiles (NumPy linear), duplicates removed.
 * Cost O(n log n). Throws RangeError when the reference has no non-NaN value.
 * @example decileEdges([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) // [2, 3, 4, 5, 6, 7, 8, 9, 10]
 */
export function decileEdges(reference: ArrayLike<number>): number[] {
  return decileEdgesSorted(sortedWithoutNaN(reference));
}

/** `decileEdges` on values already sorted ascending without NaN. */
export function decileEdgesSorted(sorted: ArrayLike<number>): number[] {
  const edges: number[] = [];
  for (const p of DECILE_PROBS) {
    const q = quantileSorted(sorted, p);
    if (edges.length === 0 || q !== edges[edges.length - 1]) edges.push(q);
  }
  return edges;
}

/** Bin of a value among edges.length + 1 bins: the number of edges ≤ value (equal goes right). */
export function edgeBinIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts per bin (edges.length + 1 bins) of the non-NaN values. Cost O(n log k). */
export function countByEdges(edges: readonly number[], values: ArrayLike<number>): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) counts[edgeBinIndex(edges, v)]! += 1;
  }
  return counts;
}
