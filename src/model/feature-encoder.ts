/**
 * How the GBDT sees each feature: a small ordinal bin number per value (uint8), fixed at training
 * time and stored in the artifact.
 *
 * - Bin 0 is always "missing" (NaN numbers, absent categories). Each split learns where bin 0 goes
 *   (its default direction), so missing values carry signal of their own.
 * - Numeric: up to maxBins - 1 value bins cut at quantiles of the training values. `upperBounds[j]`
 *   is the largest value of bin j + 1, so a split "bin <= b" is the raw test `value <= upperBounds[b-1]`
 *   and scoring needs no binning at all.
 * - Categorical: the most frequent categories (at most maxBins - 1) each get a bin, ordered by their
 *   smoothed training churn rate, so one threshold split separates low-churn from high-churn groups
 *   (the classic ordering trick for binary targets, as in LightGBM and Fisher 1958). Categories outside
 *   that list, and categories never seen in training, are scored like missing values: they take each
 *   split's default direction.
 */
import type { ColumnarTable } from '../data/columnar-table.js';
import type { FeatureKind } from '../data/feature-types.js';
import type { Rng } from '../data/rng.js';
import { shuffledIndices } from './sampling.js';

export interface NumericEncoder {
  readonly kind: 'numeric';
  readonly name: string;
  /** Strictly increasing; value bins are 1..upperBounds.length + 1. */
  readonly upperBounds: readonly number[];
}

export interface CategoricalEncoder {
  readonly kind: 'categorical';
  readonly name: string;
  /** Categories in bin order (bin = index + 1): ascending smoothed training churn rate. */
  readonly categories: readonly string[];
}

export type FeatureEncoder = NumericEncoder | CategoricalEncoder;

export interface EncoderOptions {
  /** Bins per feature including the missing bin, at most 256 (uint8). */
  readonly maxBins: number;
  /** Values sampled to cut numeric bins (the quantiles of a large sample are the quantiles). */
  readonly sampleSize?: number;
  /** Prior strength (rows) pulling a category's churn rate towards the overall rate. */
  readonly categorySmoothing?: number;
}

/** Number of bins of an encoder including bin 0 (missing). */
export function encoderBinCount(encoder: FeatureEncoder): number {
  return encoder.kind === 'numeric' ? encoder.upperBounds.length + 2 : encoder.categories.length + 1;
}

export function fitNumericEncoder(
  name: string,
  values: Float64Array,
  rows: Uint32Array | undefined,
  rng: Rng,
  options: EncoderOptions,
): NumericEncoder {
  const valueBins = Math.min(255, options.maxBins - 1);
  const sampleSize = options.sampleSize ?? 200_000;
  const n = rows ? rows.length : values.length;
  const pick = n > sampleSize ? shuffledIndices(n, rng).subarray(0, sampleSize) : undefined;
  const m = pick ? pick.length : n;
  const sample = new Float64Array(m);
  let k = 0;
  for (let i = 0; i < m; i++) {
    const pos = pick ? pick[i]! : i;
    const v = values[rows ? rows[pos]! : pos]!;
    if (!Number.isNaN(v)) sample[k++] = v;
  }
  const sorted = sample.subarray(0, k).sort();
  const distinct: number[] = [];
  for (let i = 0; i < k; i++) if (i === 0 || sorted[i]! !== sorted[i - 1]!) distinct.push(sorted[i]!);
  let bounds: number[];
  if (distinct.length <= valueBins) {
    bounds = distinct.slice(0, -1);
  } else {
    bounds = [];
    for (let j = 1; j < valueBins; j++) {
      const v = sorted[Math.min(k - 1, Math.floor((j * k) / valueBins))]!;
      if (bounds.length === 0 || v > bounds[bounds.length - 1]!) bounds.push(v);
    }
    // The largest value never needs a bound: everything above the last bound is the last bin.
    if (bounds.length > 0 && bounds[bounds.length - 1] === distinct[distinct.length - 1]) bounds.pop();
  }
  return { kind: 'numeric', name, upperBounds: bounds };
}

export function fitCategoricalEncoder(
  name: string,
  codes: Int32Array,
  dictionary: readonly string[],
  target: Uint8Array,
  rows: Uint32Array | undefined,
  options: EncoderOptions,
): CategoricalEncoder {
  const counts = new Float64Array(dictionary.length);
  const positives = new Float64Array(dictionary.length);
  let total = 0;
  let totalPositives = 0;
  const n = rows ? rows.length : codes.length;
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i]! : i;
    const c = codes[r]!;
    total++;
    totalPositives += target[r]!;
    if (c < 0) continue;
    counts[c]! += 1;
    positives[c]! += target[r]!;
  }
  const prior = total > 0 ? totalPositives / total : 0;
  const m = options.categorySmoothing ?? 20;
  const present = [...dictionary.keys()].filter((c) => counts[c]! > 0);
  // Keep the most frequent categories (ties by name, for determinism), then order them by churn rate.
  present.sort((a, b) => counts[b]! - counts[a]! || (dictionary[a]! < dictionary[b]! ? -1 : 1));
  const kept = present.slice(0, Math.min(255, options.maxBins - 1));
  const rate = (c: number) => (positives[c]! + prior * m) / (counts[c]! + m);
  kept.sort((a, b) => rate(a) - rate(b) || (dictionary[a]! < dictionary[b]! ? -1 : 1));
  return { kind: 'categorical', name, categories: kept.map((c) => dictionary[c]!) };
}

/** Finds the bin of a numeric value: 0 for NaN, else 1 + the number of bounds below the value. */
export function numericValueBin(bounds: Float64Array, value: number): number {
  if (Number.isNaN(value)) return 0;
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bounds[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return 1 + lo;
}

/**
 * Maps a table's dictionary codes to bins of the encoder (unknown categories → 0). Index with
 * code + 1 so that MISSING_CODE (-1) lands on 0.
 */
export function categoricalCodeBins(encoder: CategoricalEncoder, dictionary: readonly string[]): Uint8Array {
  const bins = new Map<string, number>(encoder.categories.map((c, i) => [c, i + 1]));
  const out = new Uint8Array(dictionary.length + 1);
  for (let c = 0; c < dictionary.length; c++) out[c + 1] = bins.get(dictionary[c]!) ?? 0;
  return out;
}

export interface BinnedMatrix {
  readonly rows: number;
  readonly features: number;
  /** Column-major: the bin of row r, feature f is bins[f * rows + r]. Backed by a SharedArrayBuffer. */
  readonly bins: Uint8Array;
  /** Bins per feature including bin 0. */
  readonly binCounts: readonly number[];
}

export interface FeatureRef {
  readonly name: string;
  readonly kind: FeatureKind;
}

/**
 * Bins the given rows of a table (all rows when `rows` is undefined) with fitted encoders. A feature
 * absent from the table bins as missing. O(rows · features · log bins).
 */
export function binTable(
  table: ColumnarTable,
  encoders: readonly FeatureEncoder[],
  rows?: Uint32Array,
): BinnedMatrix {
  const n = rows ? rows.length : table.rowCount;
  const bins = new Uint8Array(new SharedArrayBuffer(Math.max(1, n * encoders.length)));
  encoders.forEach((encoder, f) => {
    const out = bins.subarray(f * n, (f + 1) * n);
    const column = table.columns.get(encoder.name);
    if (!column) return;
    if (encoder.kind === 'numeric') {
      if (column.kind !== 'numeric') throw new TypeError(`column ${encoder.name} is not numeric`);
      const bounds = Float64Array.from(encoder.upperBounds);
      const values = column.values;
      for (let i = 0; i < n; i++) out[i] = numericValueBin(bounds, values[rows ? rows[i]! : i]!);
    } else {
      if (column.kind !== 'categorical') throw new TypeError(`column ${encoder.name} is not categorical`);
      const map = categoricalCodeBins(encoder, column.dictionary);
      const codes = column.codes;
      for (let i = 0; i < n; i++) out[i] = map[codes[rows ? rows[i]! : i]! + 1]!;
    }
  });
  return { rows: n, features: encoders.length, bins, binCounts: encoders.map(encoderBinCount) };
}

/** Fits one encoder per feature on the given rows of the table. */
export function fitEncoders(
  table: ColumnarTable,
  features: readonly FeatureRef[],
  target: Uint8Array,
  rows: Uint32Array | undefined,
  rng: Rng,
  options: EncoderOptions,
): FeatureEncoder[] {
  if (options.maxBins < 3 || options.maxBins > 256) throw new RangeError('maxBins must be between 3 and 256');
  return features.map((feature) => {
    const column = table.columns.get(feature.name);
    if (!column) throw new TypeError(`training table has no column ${feature.name}`);
    if (feature.kind === 'numeric') {
      if (column.kind !== 'numeric') throw new TypeError(`column ${feature.name} is not numeric`);
      return fitNumericEncoder(feature.name, column.values, rows, rng, options);
    }
    if (column.kind !== 'categorical') throw new TypeError(`column ${feature.name} is not categorical`);
    return fitCategoricalEncoder(feature.name, column.codes, column.dictionary, target, rows, options);
  });
}
