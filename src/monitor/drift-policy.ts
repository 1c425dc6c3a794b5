/**
 * The drift policy: for each feature, every statistic that applies is computed and reported, and one of
 * them — chosen by feature kind and window size — gives the verdict. Defaults and their reasons are in
 * docs/drift.md. In short: p-value tests (KS, chi-square) for small windows, where they have sensible
 * power; binned distances (PSI) with calibrated thresholds for large windows, where p-value tests flag
 * practically irrelevant shifts. PSI and Jensen-Shannon use the reference profile's bins (missing,
 * below/above range and unseen categories are bins of their own, so those shifts count as drift);
 * KS and Wasserstein use the profile's seeded reference sample when it has one.
 */
import type { CategoricalColumn, ColumnarTable, NumericColumn } from '../data/columnar-table.js';
import { categoricalBinIndexer, numericBinIndex } from '../model/reference-bins.js';
import type {
  CategoricalFeatureProfile,
  DriftStatisticName,
  DriftThresholds,
  FeatureProfile,
  NumericFeatureProfile,
  ReferenceProfile,
} from '../model/reference-profile-types.js';
import { chiSquaredTest } from '../stats/chi-squared.js';
import { jensenShannon } from '../stats/jensen-shannon.js';
import { ksStatisticSorted, ksTestSorted } from '../stats/ks-test.js';
import { psi } from '../stats/psi.js';
import { sortedWithoutNaN } from '../stats/quantiles.js';
import { wassersteinNormed, wassersteinSorted } from '../stats/wasserstein.js';
import { DEFAULT_PSI_THRESHOLD } from './alert-definitions.js';

export interface DriftPolicyOptions {
  /** Below this many rows in the window no verdict is given (drifted = null). */
  readonly minWindowRows: number;
  /** From this many rows on, the binned distance (PSI) decides; below it, the p-value test. */
  readonly largeWindowRows: number;
  /** Significance level of KS / chi-square when no calibrated threshold exists for them. */
  readonly alpha: number;
  /** Thresholds used when the profile carries no calibrated one (rule-of-thumb values, docs/drift.md). */
  readonly fallbackThresholds: Readonly<Partial<Record<DriftStatisticName, number>>>;
  /** Share of judged features that must drift for the dataset to count as drifted. */
  readonly datasetDriftShare: number;
  /**
   * Largest n1·n2 for which the KS p-value is exact (SciPy's method); larger windows against the
   * reference sample use the asymptotic distribution. The exact p-value costs O(n1·n2), which with a
   * 5,000-value reference sample took ~25 ms per feature at every scrape; the asymptotic one is
   * within about 1e-3 there.
   */
  readonly ksExactMaxProduct: number;
}

export const DEFAULT_DRIFT_POLICY: Readonly<DriftPolicyOptions> = Object.freeze({
  minWindowRows: 200,
  largeWindowRows: 1000,
  alpha: 0.05,
  fallbackThresholds: Object.freeze({
    psi: DEFAULT_PSI_THRESHOLD,
    jensen_shannon: 0.1,
    wasserstein_normed: 0.1,
  }),
  datasetDriftShare: 0.5,
  ksExactMaxProduct: 1_000_000,
});

/** Validates and freezes options merged over the defaults. Throws RangeError on a bad value. */
export function resolveDriftPolicy(options: Partial<DriftPolicyOptions> = {}): Readonly<DriftPolicyOptions> {
  const merged = { ...DEFAULT_DRIFT_POLICY, ...options } satisfies DriftPolicyOptions;
  if (!(Number.isInteger(merged.minWindowRows) && merged.minWindowRows >= 1))
    throw new RangeError(`minWindowRows must be a positive integer, got ${merged.minWindowRows}`);
  if (!(merged.largeWindowRows >= merged.minWindowRows))
    throw new RangeError('largeWindowRows must be at least minWindowRows');
  if (!(merged.alpha > 0 && merged.alpha < 1))
    throw new RangeError(`alpha must be in (0, 1), got ${merged.alpha}`);
  if (!(merged.datasetDriftShare > 0 && merged.datasetDriftShare <= 1))
    throw new RangeError(`datasetDriftShare must be in (0, 1], got ${merged.datasetDriftShare}`);
  return Object.freeze(merged);
}

/** One feature's values in the current window. */
export interface FeatureWindow {
  /** Counts per reference bin, aligned with the profile's `labels`. */
  readonly binCounts: ArrayLike<number>;
  /** Raw non-binned numeric values (NaN = missing), for KS and Wasserstein; optional. */
  readonly values?: Float64Array;
}

export interface DriftWindow {
  readonly rows: number;
  readonly features: Readonly<Record<string, FeatureWindow>>;
  /** The model score (calibrated churn probability) of the same rows, when known. */
  readonly score?: FeatureWindow;
}

export interface FeatureDriftResult {
  feature: string;
  kind: 'numeric' | 'categorical';
  /** Rows in the window (including missing values). */
  rows: number;
  /** The statistic whose verdict counts. */
  method: DriftStatisticName;
  scores: Partial<Record<DriftStatisticName, number>>;
  /**
   * SciPy's plain `wasserstein_distance(reference sample, current)`, in the feature's own units (the
   * normed one is in `scores`). Reported only: no threshold, no verdict. Present when
   * `scores.wasserstein_normed` is.
   */
  wasserstein?: number;
  pValues: Partial<Record<DriftStatisticName, number>>;
  thresholds: Partial<Record<DriftStatisticName, number>>;
  /** Where each threshold came from. */
  thresholdSource: 'calibrated' | 'fallback' | 'p-value';
  /** null when the window has fewer than minWindowRows rows. */
  drifted: boolean | null;
}

export interface DriftEvaluation {
  features: FeatureDriftResult[];
  score?: FeatureDriftResult;
  /** Features with a verdict. */
  judged: number;
  drifted: number;
  /** drifted / judged (0 when nothing was judged). */
  driftShare: number;
  /** driftShare ≥ datasetDriftShare; null when nothing was judged. */
  datasetDrift: boolean | null;
}

const sortedSamples = new WeakMap<object, Float64Array>();

function sortedSample(profile: NumericFeatureProfile): Float64Array | undefined {
  if (!profile.sample || profile.sample.length === 0) return undefined;
  let sorted = sortedSamples.get(profile);
  if (!sorted) {
    sorted = sortedWithoutNaN(profile.sample);
    sortedSamples.set(profile, sorted);
  }
  return sorted;
}

function referenceCounts(profile: FeatureProfile): number[] {
  return profile.shares.map((s) => s * profile.count);
}

/**
 * Computes every applicable statistic for one feature and the verdict of the chosen one.
 * Cost O(bins) plus O(m log m) for KS/Wasserstein on m raw values.
 * Throws RangeError when the bin counts do not match the profile's bins.
 */
export function evaluateFeatureDrift(
  feature: string,
  profile: FeatureProfile,
  current: FeatureWindow,
  thresholds: Readonly<Partial<Record<DriftStatisticName, number>>> | undefined,
  options: Readonly<DriftPolicyOptions> = DEFAULT_DRIFT_POLICY,
  /** Skip the KS p-value (threshold calibration needs only the statistics; the exact p-value costs most). */
  statisticsOnly = false,
): FeatureDriftResult {
  const counts = current.binCounts;
  if (counts.length !== profile.labels.length)
    throw new RangeError(
      `${feature}: ${counts.length} bin counts for ${profile.labels.length} reference bins`,
    );
  const rows = windowRows(current);
  const scores: Partial<Record<DriftStatisticName, number>> = {};
  const pValues: Partial<Record<DriftStatisticName, number>> = {};
  let wasserstein: number | undefined;
  if (rows > 0) {
    const curShares = Array.from(counts, (c) => c / rows);
    scores.psi = psi(profile.shares, curShares);
    scores.jensen_shannon = jensenShannon(profile.shares, curShares);
  }
  const large = rows >= options.largeWindowRows;
  let method: DriftStatisticName = 'psi';
  if (profile.kind === 'numeric') {
    const sample = sortedSample(profile);
    const values = current.values ? sortedWithoutNaN(current.values) : undefined;
    if (sample && values && values.length > 0) {
      if (statisticsOnly) scores.ks = ksStatisticSorted(sample, values);
      else {
        const ks = ksTestSorted(sample, values, { exactMaxProduct: options.ksExactMaxProduct });
        scores.ks = ks.statistic;
        pValues.ks = ks.pValue;
      }
      wasserstein = wassersteinSorted(sample, values);
      scores.wasserstein_normed = wassersteinNormed(wasserstein, profile.std);
      if (!large) method = 'ks';
    }
  } else if (rows > 0) {
    const chi = chiSquaredTest(referenceCounts(profile), counts);
    scores.chi_square = chi.statistic;
    pValues.chi_square = chi.pValue;
    if (!large) method = 'chi_square';
  }

  const usedThresholds: Partial<Record<DriftStatisticName, number>> = {};
  let thresholdSource: FeatureDriftResult['thresholdSource'] = 'fallback';
  for (const name of Object.keys(scores) as DriftStatisticName[]) {
    const calibrated = thresholds?.[name];
    const fallback = options.fallbackThresholds[name];
    if (calibrated !== undefined) usedThresholds[name] = calibrated;
    else if (fallback !== undefined) usedThresholds[name] = fallback;
  }
  let drifted: boolean | null = null;
  if (rows >= options.minWindowRows) {
    const score = scores[method]!;
    const calibrated = thresholds?.[method];
    if (calibrated !== undefined) {
      thresholdSource = 'calibrated';
      drifted = score > calibrated;
    } else if (method === 'ks' || method === 'chi_square') {
      thresholdSource = 'p-value';
      drifted = pValues[method]! < options.alpha;
    } else {
      drifted = score > (options.fallbackThresholds[method] ?? Number.POSITIVE_INFINITY);
    }
  }
  return {
    feature,
    kind: profile.kind,
    rows,
    method,
    scores,
    ...(wasserstein === undefined ? {} : { wasserstein }),
    pValues,
    thresholds: usedThresholds,
    thresholdSource,
    drifted,
  };
}

/**
 * Calibrated thresholds for a window of `rows` rows. A calibrated threshold is a quantile of the
 * statistic's null spread over windows of `calibratedRows` rows (threshold-calibration.ts); on a smaller
 * window the same statistic spreads wider, and the unscaled threshold flags sampling noise as drift (on
 * the demo's stable traffic, 10 s chunks of ~480 rows against thresholds for 1,000 rows: up to 6 of 17
 * features "drifting", all by KS). Each threshold is scaled by the ratio of null spreads:
 *
 * - PSI ≈ χ²(bins − 1) · (1/n + 1/R) under no change (R = the profile's reference rows): × v(n)/v(N);
 * - Jensen-Shannon distance, the square root of a PSI-like divergence: × √(v(n)/v(N));
 * - KS and normed Wasserstein shrink like √(1/n + 1/m) (m = the reference sample): × √(v(n)/v(N));
 * - the χ² statistic of [reference; current] counts is χ²(bins − 1) whatever n: unchanged.
 *
 * Only smaller windows are scaled: on a larger one the calibrated threshold is conservative, and PSI
 * stays an effect size instead of becoming a significance test (docs/drift.md). O(statistics).
 */
export function thresholdsForRows(
  profile: FeatureProfile,
  calibrated: Readonly<Partial<Record<DriftStatisticName, number>>>,
  calibratedRows: number,
  rows: number,
): Partial<Record<DriftStatisticName, number>> {
  if (!(rows > 0 && rows < calibratedRows)) return { ...calibrated };
  const ratio = (reference: number) => (1 / rows + 1 / reference) / (1 / calibratedRows + 1 / reference);
  const binned = ratio(Math.max(1, profile.count));
  const sampled =
    profile.kind === 'numeric' && profile.sample && profile.sample.length > 0
      ? ratio(profile.sample.length)
      : binned;
  const factor: Record<DriftStatisticName, number> = {
    psi: binned,
    jensen_shannon: Math.sqrt(binned),
    ks: Math.sqrt(sampled),
    wasserstein_normed: Math.sqrt(sampled),
    chi_square: 1,
  };
  const out: Partial<Record<DriftStatisticName, number>> = {};
  for (const [name, value] of Object.entries(calibrated) as [DriftStatisticName, number][])
    out[name] = value * (factor[name] ?? 1);
  return out;
}

function windowRows(current: FeatureWindow): number {
  let rows = 0;
  for (let i = 0; i < current.binCounts.length; i++) rows += current.binCounts[i]!;
  return rows;
}

/**
 * Drift of every profiled feature (and the score, when both sides have it) for one window, against the
 * calibrated thresholds scaled to the window's rows (`thresholdsForRows`).
 * Features absent from the window are skipped. Cost: the sum of `evaluateFeatureDrift`.
 */
export function evaluateDrift(
  profile: Pick<ReferenceProfile, 'features'> & Partial<Pick<ReferenceProfile, 'score' | 'thresholds'>>,
  window: DriftWindow,
  options: Readonly<DriftPolicyOptions> = DEFAULT_DRIFT_POLICY,
): DriftEvaluation {
  const byFeature: DriftThresholds['byFeature'] = profile.thresholds?.byFeature ?? {};
  const calibratedRows = profile.thresholds?.windowSize ?? 0;
  const evaluate = (name: string, featureProfile: FeatureProfile, current: FeatureWindow) => {
    const calibrated = byFeature[name];
    const thresholds = calibrated
      ? thresholdsForRows(featureProfile, calibrated, calibratedRows, windowRows(current))
      : undefined;
    return evaluateFeatureDrift(name, featureProfile, current, thresholds, options);
  };
  const features: FeatureDriftResult[] = [];
  for (const [name, featureProfile] of Object.entries(profile.features)) {
    const current = window.features[name];
    if (!current) continue;
    features.push(evaluate(name, featureProfile, current));
  }
  const score = profile.score && window.score ? evaluate('score', profile.score, window.score) : undefined;
  const judged = features.filter((f) => f.drifted !== null).length;
  const drifted = features.filter((f) => f.drifted === true).length;
  const driftShare = judged === 0 ? 0 : drifted / judged;
  const result: DriftEvaluation = {
    features,
    judged,
    drifted,
    driftShare,
    datasetDrift: judged === 0 ? null : driftShare >= options.datasetDriftShare,
  };
  if (score) result.score = score;
  return result;
}

/** Counts per reference bin for a numeric column (rows limited to `rows` when given). O(n log bins). */
export function numericWindow(
  profile: NumericFeatureProfile,
  column: NumericColumn,
  rows?: ArrayLike<number>,
): FeatureWindow {
  const counts = new Float64Array(profile.labels.length);
  const n = rows ? rows.length : column.values.length;
  const values = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const v = column.values[rows ? rows[k]! : k]!;
    values[k] = v;
    counts[numericBinIndex(profile, v)]! += 1;
  }
  return { binCounts: counts, values };
}

/** Counts per reference bin for a categorical column; codes are mapped through the dictionary once. */
export function categoricalWindow(
  profile: CategoricalFeatureProfile,
  column: CategoricalColumn,
  rows?: ArrayLike<number>,
): FeatureWindow {
  const indexer = categoricalBinIndexer(profile);
  const missing = profile.labels.length - 1;
  const binOfCode = Int32Array.from(column.dictionary, (value) => indexer(value));
  const counts = new Float64Array(profile.labels.length);
  const n = rows ? rows.length : column.codes.length;
  for (let k = 0; k < n; k++) {
    const code = column.codes[rows ? rows[k]! : k]!;
    counts[code < 0 ? missing : binOfCode[code]!]! += 1;
  }
  return { binCounts: counts };
}

/**
 * Builds a drift window from a table (optionally a subset of its rows) for every profiled feature the
 * table has. A numeric profile against a categorical column (or the reverse) throws TypeError.
 */
export function windowFromTable(
  profile: Pick<ReferenceProfile, 'features'>,
  table: ColumnarTable,
  rows?: ArrayLike<number>,
): DriftWindow {
  const features: Record<string, FeatureWindow> = {};
  for (const [name, featureProfile] of Object.entries(profile.features)) {
    const column = table.columns.get(name);
    if (!column) continue;
    if (featureProfile.kind === 'numeric') {
      if (column.kind !== 'numeric')
        throw new TypeError(`column ${name} is categorical but its profile is numeric`);
      features[name] = numericWindow(featureProfile, column, rows);
    } else {
      if (column.kind !== 'categorical')
        throw new TypeError(`column ${name} is numeric but its profile is categorical`);
      features[name] = categoricalWindow(featureProfile, column, rows);
    }
  }
  return { rows: rows ? rows.length : table.rowCount, features };
}
