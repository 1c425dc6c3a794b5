/**
 * The reference bins: one discrete alphabet per feature, fixed at training time, shared by the
 * Pushgateway's training histograms, the server's `{feature, bin}` counters, PromQL recording rules
 * and the monitor. Because every place assigns values with these functions, a PSI or Jensen-Shannon
 * computed anywhere is the same number.
 *
 * Numeric: interior edges are the reference's 10..90 % quantiles (linear interpolation, duplicates
 * removed); a value equal to an edge belongs to the bin on its right. Values outside the training
 * [min, max] go to `below`/`above` so that out-of-range traffic is visible as drift of its own.
 * Categorical: the most frequent training categories by name, then `other` (seen in training but
 * not among the top), `unseen` (never seen in training). Both kinds end with `missing`.
 */

import { edgeBinIndex } from '../stats/psi.js';

export const BIN_MISSING = 'missing';
export const BIN_BELOW = 'below';
export const BIN_ABOVE = 'above';
export const BIN_OTHER = 'other';
export const BIN_UNSEEN = 'unseen';

export interface NumericBinning {
  readonly kind: 'numeric';
  readonly feature: string;
  /** Interior edges, strictly increasing. */
  readonly edges: readonly number[];
  /** Training range: values below `min` or above `max` fall in `below`/`above`. */
  readonly min: number;
  readonly max: number;
  /** Bin labels in order: below, the edges.length + 1 quantile bins, above, missing. */
  readonly labels: readonly string[];
}

export interface CategoricalBinning {
  readonly kind: 'categorical';
  readonly feature: string;
  /** The top training categories, each a bin of its own. */
  readonly categories: readonly string[];
  /** Every category seen in training (decides `other` versus `unseen`). */
  readonly seen: readonly string[];
  /** Bin labels in order: the categories, other, unseen, missing. */
  readonly labels: readonly string[];
}

export type Binning = NumericBinning | CategoricalBinning;

function formatEdge(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

/** Labels such as `00:[10,1000)` that sort in bin order and say what range they hold. */
export function numericBinLabels(edges: readonly number[], min: number, max: number): string[] {
  const bounds = [min, ...edges, max];
  const labels = [BIN_BELOW];
  for (let i = 0; i < bounds.length - 1; i++) {
    const closing = i === bounds.length - 2 ? ']' : ')';
    labels.push(
      `${String(i).padStart(2, '0')}:[${formatEdge(bounds[i]!)},${formatEdge(bounds[i + 1]!)}${closing}`,
    );
  }
  labels.push(BIN_ABOVE, BIN_MISSING);
  return labels;
}

export function createNumericBinning(
  feature: string,
  edges: readonly number[],
  min: number,
  max: number,
): NumericBinning {
  for (let i = 1; i < edges.length; i++) {
    if (!(edges[i]! > edges[i - 1]!))
      throw new RangeError(`bin edges of ${feature} must be strictly increasing`);
  }
  return { kind: 'numeric', feature, edges: [...edges], min, max, labels: numericBinLabels(edges, min, max) };
}

export function createCategoricalBinning(
  feature: string,
  categories: readonly string[],
  seen: readonly string[],
): CategoricalBinning {
  return {
    kind: 'categorical',
    feature,
    categories: [...categories],
    seen: [...seen],
    labels: [...categories, BIN_OTHER, BIN_UNSEEN, BIN_MISSING],
  };
}

/** Index into `binning.labels` for a numeric value (NaN or null means missing). O(log edges). */
export function numericBinIndex(binning: NumericBinning, value: number | null | undefined): number {
  const { edges, labels } = binning;
  if (value === null || value === undefined || Number.isNaN(value)) return labels.length - 1;
  if (value < binning.min) return 0;
  if (value > binning.max) return labels.length - 2;
  // A value equal to an edge goes to the bin on its right; +1 skips `below`.
  return 1 + edgeBinIndex(edges, value);
}

/**
 * Builds a lookup from category text to bin index once; call the result per value.
 * Null/undefined/'' mean missing.
 */
export function categoricalBinIndexer(
  binning: CategoricalBinning,
): (value: string | null | undefined) => number {
  const index = new Map<string, number>();
  const otherIndex = binning.categories.length;
  for (const [i, c] of binning.categories.entries()) index.set(c, i);
  for (const c of binning.seen) if (!index.has(c)) index.set(c, otherIndex);
  const unseenIndex = otherIndex + 1;
  const missingIndex = otherIndex + 2;
  return (value) => {
    if (value === null || value === undefined || value === '') return missingIndex;
    return index.get(value) ?? unseenIndex;
  };
}

/** Counts values per bin for a whole numeric array (NaN = missing). */
export function countNumericBins(binning: NumericBinning, values: ArrayLike<number>): Float64Array {
  const counts = new Float64Array(binning.labels.length);
  for (let i = 0; i < values.length; i++) counts[numericBinIndex(binning, values[i])]! += 1;
  return counts;
}
