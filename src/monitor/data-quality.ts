/**
 * Data quality of a window against the reference profile: missing share (and its change), values below
 * or above the training range, categories never seen in training, and constant or empty columns.
 * Everything comes from reference-bin counts, so the server's counters and an offline table give the
 * same figures.
 */
import type { Column, ColumnarTable } from '../data/columnar-table.js';
import { BIN_ABOVE, BIN_BELOW, BIN_MISSING, BIN_UNSEEN } from '../model/reference-bins.js';
import type { FeatureProfile } from '../model/reference-profile-types.js';
import type { DriftWindow } from './drift-policy.js';

export interface FeatureQuality {
  feature: string;
  kind: 'numeric' | 'categorical';
  rows: number;
  missingShare: number;
  referenceMissingShare: number;
  /** Numeric only: shares below the training minimum / above the training maximum. */
  belowRangeShare?: number;
  aboveRangeShare?: number;
  /** Categorical only: share of values never seen in training. */
  unseenShare?: number;
  /** Every row missing. */
  empty: boolean;
  /** Exactly one distinct non-missing value (known only from a table; undefined from counts alone). */
  constant?: boolean;
  /** Human-readable findings, empty when nothing is wrong. */
  issues: string[];
}

export interface DataQualityOptions {
  /** Flag a missing-share increase above this many percentage points (default 0.05 = 5 points). */
  readonly missingIncrease: number;
  /** Flag out-of-range or unseen shares above this (default 0: any occurrence). */
  readonly outOfRangeShare: number;
}

export const DEFAULT_DATA_QUALITY: Readonly<DataQualityOptions> = Object.freeze({
  missingIncrease: 0.05,
  outOfRangeShare: 0,
});

function shareOf(profile: FeatureProfile, counts: ArrayLike<number>, rows: number, label: string): number {
  const index = profile.labels.indexOf(label);
  return index < 0 || rows === 0 ? 0 : counts[index]! / rows;
}

/** Distinct non-missing values in a column, stopping at 2. O(n). */
function distinctUpToTwo(column: Column): number {
  let first: number | undefined;
  const data = column.kind === 'numeric' ? column.values : column.codes;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (column.kind === 'numeric' ? Number.isNaN(v) : v < 0) continue;
    if (first === undefined) first = v;
    else if (v !== first) return 2;
  }
  return first === undefined ? 0 : 1;
}

/**
 * Quality figures for every feature of the window. Pass the table the window came from to also detect
 * constant columns. Cost O(bins) per feature (+ O(n) per column with a table).
 */
export function evaluateDataQuality(
  profiles: Readonly<Record<string, FeatureProfile>>,
  window: DriftWindow,
  table?: ColumnarTable,
  options: Readonly<DataQualityOptions> = DEFAULT_DATA_QUALITY,
): FeatureQuality[] {
  const out: FeatureQuality[] = [];
  for (const [feature, profile] of Object.entries(profiles)) {
    const current = window.features[feature];
    if (!current) continue;
    const counts = current.binCounts;
    let rows = 0;
    for (let i = 0; i < counts.length; i++) rows += counts[i]!;
    const missingShare = shareOf(profile, counts, rows, BIN_MISSING);
    const quality: FeatureQuality = {
      feature,
      kind: profile.kind,
      rows,
      missingShare,
      referenceMissingShare: profile.missingShare,
      empty: rows > 0 && missingShare === 1,
      issues: [],
    };
    if (quality.empty) quality.issues.push('every value is missing');
    else if (missingShare - profile.missingShare > options.missingIncrease)
      quality.issues.push(
        `missing share rose from ${(100 * profile.missingShare).toFixed(1)} % to ${(100 * missingShare).toFixed(1)} %`,
      );
    if (profile.kind === 'numeric') {
      quality.belowRangeShare = shareOf(profile, counts, rows, BIN_BELOW);
      quality.aboveRangeShare = shareOf(profile, counts, rows, BIN_ABOVE);
      if (quality.belowRangeShare > options.outOfRangeShare)
        quality.issues.push(
          `${(100 * quality.belowRangeShare).toFixed(2)} % below the training minimum ${profile.min}`,
        );
      if (quality.aboveRangeShare > options.outOfRangeShare)
        quality.issues.push(
          `${(100 * quality.aboveRangeShare).toFixed(2)} % above the training maximum ${profile.max}`,
        );
    } else {
      quality.unseenShare = shareOf(profile, counts, rows, BIN_UNSEEN);
      if (quality.unseenShare > options.outOfRangeShare)
        quality.issues.push(`${(100 * quality.unseenShare).toFixed(2)} % categories never seen in training`);
    }
    const column = table?.columns.get(feature);
    if (column && !quality.empty) {
      quality.constant = distinctUpToTwo(column) === 1;
      if (quality.constant) quality.issues.push('the column is constant');
    }
    out.push(quality);
  }
  return out;
}
