/**
 * Builds the reference profile (reference-profile-types.ts) from the training part, with the bins of
 * reference-bins.ts: numeric decile edges (`decileEdgesSorted` of stats/psi.ts, the one edge rule the
 * report and the oracle tests use too), shares per bin, missing share, min/max, mean/std and a seeded
 * sample of values; categorical top categories plus other/unseen/missing; the calibrated score
 * distribution at its own deciles; the class balance and the predicted churn rate at the model threshold.
 */
import type { Column, ColumnarTable } from '../data/columnar-table.js';
import type { Rng } from '../data/rng.js';
import { decileEdgesSorted } from '../stats/psi.js';
import { sortedWithoutNaN } from '../stats/quantiles.js';
import {
  categoricalBinIndexer,
  countNumericBins,
  createCategoricalBinning,
  createNumericBinning,
} from './reference-bins.js';
import type {
  CategoricalFeatureProfile,
  FeatureProfile,
  NumericFeatureProfile,
  ReferenceProfile,
} from './reference-profile-types.js';
import { shuffledIndices } from './sampling.js';

/** How one column is profiled; the model artifact and `churnwatch report` differ only in these. */
export interface ColumnProfileOptions {
  /** Top categories kept as bins of their own (default 20). */
  readonly topCategories?: number;
  /** Values kept per numeric feature for KS and Wasserstein (default: all). */
  readonly sampleSize?: number;
  /** Draws the sample; needed only when a column has more values than `sampleSize`. */
  readonly rng?: Rng;
}

/** The model artifact's options: a seeded sample of at most `sampleSize` values per numeric feature. */
export interface ProfileOptions extends ColumnProfileOptions {
  readonly topCategories: number;
  readonly sampleSize: number;
  readonly rng: Rng;
}

export const DEFAULT_PROFILE_OPTIONS = Object.freeze({ topCategories: 20, sampleSize: 5000 });

/**
 * All of `sorted` when it fits in `sampleSize`, else a uniform sample without replacement drawn with
 * `rng`, stored sorted (KS and Wasserstein sort it anyway). Throws RangeError when it needs an rng and
 * has none.
 */
function referenceSample(sorted: Float64Array, sampleSize: number, rng: Rng | undefined): number[] {
  const k = sorted.length;
  if (k <= sampleSize) return Array.from(sorted);
  if (!rng) throw new RangeError('a profile sample smaller than the column needs an rng');
  const pick = shuffledIndices(k, rng).subarray(0, sampleSize);
  return Array.from(pick, (i) => sorted[i]!).sort((a, b) => a - b);
}

/** Profile of one numeric array (NaN = missing). O(n log n). */
export function numericProfile(
  feature: string,
  values: ArrayLike<number>,
  options: Pick<ColumnProfileOptions, 'sampleSize' | 'rng'> = {},
): NumericFeatureProfile {
  const sorted = sortedWithoutNaN(values);
  const k = sorted.length;
  const edges = k > 0 ? decileEdgesSorted(sorted) : [];
  const min = k > 0 ? sorted[0]! : 0;
  const max = k > 0 ? sorted[k - 1]! : 0;
  const binning = createNumericBinning(feature, edges, min, max);
  const counts = countNumericBins(binning, values);
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < k; i++) sum += sorted[i]!;
  const mean = k > 0 ? sum / k : 0;
  let ss = 0;
  for (let i = 0; i < k; i++) ss += (sorted[i]! - mean) ** 2;
  const sample = referenceSample(sorted, options.sampleSize ?? Number.POSITIVE_INFINITY, options.rng);
  return {
    ...binning,
    count: n,
    shares: Array.from(counts, (c) => (n > 0 ? c / n : 0)),
    missingShare: n > 0 ? (n - k) / n : 0,
    mean,
    std: k > 0 ? Math.sqrt(ss / k) : 0,
    sample,
  };
}

/** Profile of one categorical column (codes into dictionary, -1 = missing). O(n + categories log categories). */
export function categoricalProfile(
  feature: string,
  codes: Int32Array,
  dictionary: readonly string[],
  topCategories: number,
): CategoricalFeatureProfile {
  const counts = new Float64Array(dictionary.length);
  for (let i = 0; i < codes.length; i++) if (codes[i]! >= 0) counts[codes[i]!]! += 1;
  const seenCodes = [...dictionary.keys()].filter((c) => counts[c]! > 0);
  seenCodes.sort((a, b) => counts[b]! - counts[a]! || (dictionary[a]! < dictionary[b]! ? -1 : 1));
  const binning = createCategoricalBinning(
    feature,
    seenCodes.slice(0, topCategories).map((c) => dictionary[c]!),
    seenCodes.map((c) => dictionary[c]!).sort(),
  );
  const indexer = categoricalBinIndexer(binning);
  const byCode = dictionary.map((c) => indexer(c));
  const binCounts = new Float64Array(binning.labels.length);
  const missing = binning.labels.length - 1;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    binCounts[c < 0 ? missing : byCode[c]!]! += 1;
  }
  const n = codes.length;
  return {
    ...binning,
    count: n,
    shares: Array.from(binCounts, (c) => (n > 0 ? c / n : 0)),
    missingShare: n > 0 ? binCounts[missing]! / n : 0,
  };
}

/**
 * The profile of one column, numeric or categorical: the one builder behind both the model artifact's
 * reference profile and `churnwatch report`'s. A numeric column with no value gets empty edges and a
 * [0, 0] range.
 */
export function columnProfile(
  name: string,
  column: Column,
  options: ColumnProfileOptions = {},
): FeatureProfile {
  return column.kind === 'numeric'
    ? numericProfile(name, column.values, options)
    : categoricalProfile(
        name,
        column.codes,
        column.dictionary,
        options.topCategories ?? DEFAULT_PROFILE_OPTIONS.topCategories,
      );
}

/**
 * The profile of a training part: `features` are profiled from `table`, `scores` are the calibrated
 * probabilities of the same rows, `threshold` the model's decision threshold.
 */
export function buildReferenceProfile(
  table: ColumnarTable,
  features: readonly { name: string; kind: 'numeric' | 'categorical' }[],
  scores: Float64Array,
  threshold: number,
  options: ProfileOptions,
): ReferenceProfile {
  if (!table.target) throw new TypeError('the reference table needs labels');
  if (scores.length !== table.rowCount) throw new RangeError('one score per reference row is needed');
  const profiles: Record<string, FeatureProfile> = {};
  for (const feature of features) {
    const column = table.columns.get(feature.name);
    if (!column) throw new TypeError(`reference table has no column ${feature.name}`);
    profiles[feature.name] = columnProfile(feature.name, column, options);
  }
  let positives = 0;
  for (let i = 0; i < table.rowCount; i++) positives += table.target[i]!;
  let predicted = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! >= threshold) predicted++;
  const n = table.rowCount;
  return {
    formatVersion: 1,
    rowCount: n,
    classBalance: { negatives: n - positives, positives, churnRate: n > 0 ? positives / n : 0 },
    features: profiles,
    score: numericProfile('score', scores, options),
    predictedChurnRate: n > 0 ? predicted / n : 0,
  };
}
