/**
 * The reference bins of scored records, computed once per request and shared by the server's
 * `{feature, bin}` counters (metrics/create-metrics.ts) and the in-process monitor's window
 * (monitor/windows.ts). Both need the bins of the same values under the same profile; binning each
 * record twice was about a tenth of a 1,000-record batch's CPU time (docs/performance.md).
 */
import type { FeatureValue, RawFeatures } from '../data/feature-types.js';
import { categoricalBinIndexer, numericBinIndex } from './reference-bins.js';
import type { FeatureProfile, ReferenceProfile } from './reference-profile-types.js';

export interface BinnedFeature {
  readonly name: string;
  readonly profile: FeatureProfile;
}

/** Bins of `rows` records: the columns are the binner's `features`, then the score. */
export interface RecordBins {
  /** The binner (and so the profile) the bins belong to. */
  readonly binner: RecordBinner;
  readonly rows: number;
  /** rows × features.length indexes into each feature's `labels`, row-major. */
  readonly features: Uint16Array;
  /** Index into the profile's score labels, per row. */
  readonly score: Uint16Array;
}

export interface RecordBinner {
  readonly profile: ReferenceProfile;
  /** The features the profile bins, in schema order: the columns of RecordBins.features. */
  readonly features: readonly BinnedFeature[];
  bin(records: readonly RawFeatures[], scores: ArrayLike<number>): RecordBins;
}

/** A numeric value as binning reads it: anything but a number is missing. */
export const numericValueOf = (v: FeatureValue): number => (typeof v === 'number' ? v : Number.NaN);

function createRecordBinner(profile: ReferenceProfile): RecordBinner {
  // The profile lists the model's features in schema order (reference-profile.ts builds it so).
  const features: BinnedFeature[] = Object.entries(profile.features).map(([name, fp]) => ({
    name,
    profile: fp,
  }));
  const lookups = features.map(({ name, profile: fp }): ((x: RawFeatures) => number) => {
    if (fp.kind === 'numeric') return (x) => numericBinIndex(fp, numericValueOf(x[name]));
    const indexer = categoricalBinIndexer(fp);
    return (x) => {
      const v = x[name];
      return indexer(typeof v === 'string' ? v : null);
    };
  });
  const width = features.length;
  const binner: RecordBinner = {
    profile,
    features,
    bin(records, scores) {
      const rows = records.length;
      const out = new Uint16Array(rows * width);
      const score = new Uint16Array(rows);
      for (let r = 0; r < rows; r++) {
        const x = records[r]!;
        for (let f = 0; f < width; f++) out[r * width + f] = lookups[f]!(x);
        score[r] = numericBinIndex(profile.score, scores[r]!);
      }
      return { binner, rows, features: out, score };
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
