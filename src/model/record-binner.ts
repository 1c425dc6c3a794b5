/**
 * The reference bins of scored records, computed once per request and shared by the server's
 * `{feature, bin}` counters (metrics/create-metrics.ts) and the in-process monitor's window
 * (monitor/windows.ts). Both need the bins of the same values under the same profile; binning each
 * record twice was about a tenth of a 1,000-record batch's CPU time (docs/performance.md).
 */
import type { FeatureValue, RawFeatures } from '../data/feature-types.js';
import type { RecordColumns } from '../data/record-columns.js';
import { categoricalBinIndexer, numericBinIndex } from './reference-bins.js';
import type { FeatureProfile, ReferenceProfile } from './reference-profile-types.js';

export interface BinnedFeature {
  readonly name: string;
  readonly profile: FeatureProfile;
}

/** What was binned: record objects, or a request's columns (record-columns.ts). */
export type BinnedSource = readonly RawFeatures[] | RecordColumns;

/** Bins of `rows` records: the columns are the binner's `features`, then the score. */
export interface RecordBins {
  /** The binner (and so the profile) the bins belong to. */
  readonly binner: RecordBinner;
  readonly rows: number;
  /** rows × features.length indexes into each feature's `labels`, row-major. */
  readonly features: Uint16Array;
  /** Index into the profile's score labels, per row. */
  readonly score: Uint16Array;
  /**
   * rows × features.length, row-major: the numeric values binned (numericValueOf), NaN for missing
   * ones and for categorical features. The monitor's window keeps them without reading the records.
   */
  readonly values: ArrayLike<number>;
  /** The values binned, so that another profile's binner can bin them too (binAgain). */
  readonly source: BinnedSource;
}

export interface RecordBinner {
  readonly profile: ReferenceProfile;
  /** The features the profile bins, in schema order: the columns of RecordBins.features. */
  readonly features: readonly BinnedFeature[];
  bin(records: readonly RawFeatures[], scores: ArrayLike<number>): RecordBins;
  /** bin() of the records the columns hold, bin for bin. */
  binColumns(columns: RecordColumns, scores: ArrayLike<number>): RecordBins;
  /** Bins under this binner's profile what `bins` binned under another's. */
  binAgain(bins: RecordBins, scores: ArrayLike<number>): RecordBins;
}

/** A numeric value as binning reads it: anything but a number is missing. */
export const numericValueOf = (v: FeatureValue): number => (typeof v === 'number' ? v : Number.NaN);

function createRecordBinner(profile: ReferenceProfile): RecordBinner {
  // The profile lists the model's features in schema order (reference-profile.ts builds it so).
  const features: BinnedFeature[] = Object.entries(profile.features).map(([name, fp]) => ({
    name,
    profile: fp,
  }));
  const indexers = features.map(({ profile: fp }) =>
    fp.kind === 'categorical' ? categoricalBinIndexer(fp) : undefined,
  );
  const width = features.length;
  const names = features.map((f) => f.name);
  const profiles = features.map((f) => f.profile);
  const scoreBins = (scores: ArrayLike<number>, rows: number): Uint16Array => {
    const score = new Uint16Array(rows);
    for (let r = 0; r < rows; r++) score[r] = numericBinIndex(profile.score, scores[r]!);
    return score;
  };
  const binner: RecordBinner = {
    profile,
    features,
    bin(records, scores) {
      const rows = records.length;
      const out = new Uint16Array(rows * width);
      // An array, not a Float64Array: for one record a typed array this size lives outside the heap,
      // and allocating it tripled the binning's time.
      const values: number[] = new Array(rows * width);
      for (let r = 0; r < rows; r++) {
        const x = records[r]!;
        for (let f = 0; f < width; f++) {
          const fp = profiles[f]!;
          const v = x[names[f]!];
          if (fp.kind === 'numeric') {
            const value = numericValueOf(v);
            values[r * width + f] = value;
            out[r * width + f] = numericBinIndex(fp, value);
          } else {
            values[r * width + f] = Number.NaN;
            out[r * width + f] = indexers[f]!(typeof v === 'string' ? v : null);
          }
        }
      }
      return { binner, rows, features: out, score: scoreBins(scores, rows), values, source: records };
    },
    binColumns(source, scores) {
      const { table, offType } = source;
      const rows = table.rowCount;
      const out = new Uint16Array(rows * width);
      const values = new Float64Array(rows * width).fill(Number.NaN);
      for (let f = 0; f < width; f++) {
        const { name, profile: fp } = features[f]!;
        const column = table.columns.get(name);
        // Cells given in the other kind's type are missing here, as numericValueOf and the string
        // test make them for a record; so is a whole column of the other kind.
        const off = offType.get(name);
        if (fp.kind === 'numeric') {
          const missing = numericBinIndex(fp, Number.NaN);
          if (column?.kind !== 'numeric') {
            for (let r = 0; r < rows; r++) out[r * width + f] = missing;
            continue;
          }
          const given = column.values;
          for (let r = 0; r < rows; r++) {
            const value = off?.has(r) ? Number.NaN : given[r]!;
            values[r * width + f] = value;
            out[r * width + f] = numericBinIndex(fp, value);
          }
          continue;
        }
        const indexer = indexers[f]!;
        const missing = indexer(null);
        if (column?.kind !== 'categorical') {
          for (let r = 0; r < rows; r++) out[r * width + f] = missing;
          continue;
        }
        // One lookup per distinct value of the request, not per row.
        const binOfCode = column.dictionary.map((c) => indexer(c));
        const codes = column.codes;
        for (let r = 0; r < rows; r++) {
          const code = codes[r]!;
          out[r * width + f] = code < 0 || off?.has(r) ? missing : binOfCode[code]!;
        }
      }
      return { binner, rows, features: out, score: scoreBins(scores, rows), values, source };
    },
    binAgain(bins, scores) {
      const source = bins.source;
      return Array.isArray(source)
        ? binner.bin(source as readonly RawFeatures[], scores)
        : binner.binColumns(source as RecordColumns, scores);
    },
  };
  return binner;
}

const binners = new WeakMap<ReferenceProfile, RecordBinner>();

/** The one binner of a profile (made on first use), so its bins can be told apart by identity. */
export function recordBinnerOf(profile: ReferenceProfile): RecordBinner {
  let binner = binners.get(profile);
  if (!binner) {
    binner = createRecordBinner(profile);
    binners.set(profile, binner);
  }
  return binner;
}
