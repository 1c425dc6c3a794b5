/**
 * `PeriodShift`: how a later period differs from the training period, and the rules that apply it to one
 * customer's recorded values. The generator (synthetic.ts) applies a shift while it draws a period, the
 * simulators (src/simulate/scenarios.ts) to rows they replay; both call these functions, so a shift means
 * the same thing to both. What only one of them can do stays with it: the generator reweights its category
 * samplers and moves the latent churn mechanism; a replayed row has neither and approximates both.
 */
import {
  type CategoricalFeature,
  FEATURES,
  type FeatureName,
  type NumericFeature,
} from './customer-schema.js';

/** Changes that make a later period differ from the training period. All optional; empty = identity. */
export interface PeriodShift {
  /** Multiply recorded values (e.g. MONTANT 1.6); ARPU_SEGMENT follows REVENUE. */
  numericScale?: Partial<Record<NumericFeature, number>>;
  /** Apply numericScale only to customers of these regions. */
  onlyRegions?: string[];
  /** Extra probability (0..1) that a recorded value goes missing (a pipeline losing data). */
  missingBoost?: Partial<Record<FeatureName, number>>;
  /** Multipliers on category shares (1 = as in training, 0 = never); missing values are unaffected. */
  categoryShares?: Partial<Record<CategoricalFeature, Record<string, number>>>;
  /** Values never seen in training; together they take `newCategoryShare` of the non-missing values. */
  newCategories?: Partial<Record<CategoricalFeature, string[]>>;
  /** Share of non-missing values replaced by the new categories (default 0.1). */
  newCategoryShare?: number;
  /** 0..1: how far the churn mechanism moves to a different one while the inputs stay the same. */
  conceptDrift?: number;
}

/** `newCategoryShare` when the shift names new categories without a share. */
export const DEFAULT_NEW_CATEGORY_SHARE = 0.1;

const FEATURE_NAMES = new Set<string>(FEATURES.map((f) => f.name));

/** Throws RangeError for a value out of its range or a missingBoost naming no feature. */
export function validateShift(shift: PeriodShift): void {
  const check = (what: string, v: number, lo: number, hi: number) => {
    if (!(Number.isFinite(v) && v >= lo && v <= hi))
      throw new RangeError(`${what} must be within ${lo}..${hi}, got ${v}`);
  };
  for (const [k, v] of Object.entries(shift.numericScale ?? {})) check(`numericScale.${k}`, v, 0, 1e6);
  for (const [k, v] of Object.entries(shift.missingBoost ?? {})) {
    if (!FEATURE_NAMES.has(k)) throw new RangeError(`missingBoost names an unknown feature "${k}"`);
    check(`missingBoost.${k}`, v, 0, 1);
  }
  if (shift.conceptDrift !== undefined) check('conceptDrift', shift.conceptDrift, 0, 1);
  if (shift.newCategoryShare !== undefined) check('newCategoryShare', shift.newCategoryShare, 0, 1);
}

/** A usage amount as the real file records it: MONTANT (top-ups) on round amounts, the rest integers. */
export function roundRecorded(column: NumericFeature, v: number): number {
  if (column === 'MONTANT') return v >= 100 ? Math.round(v / 50) * 50 : Math.max(10, Math.round(v / 10) * 10);
  return Math.round(v);
}

/**
 * `numericScale` on one customer's recorded values, in place; a missing value (null or NaN) stays missing.
 * Only customers of `onlyRegions` change when it is given (a customer without a region is never one of
 * them). ARPU_SEGMENT follows REVENUE: `arpuOf(revenue)` re-derives it from the scaled REVENUE when the
 * caller knows the relation exactly (the generator: round(REVENUE / 3)); without it, it is multiplied by
 * REVENUE's factor. A factor of its own is applied after that.
 */
export function applyNumericScale(
  values: Partial<Record<NumericFeature, number | string | null>>,
  region: string | null,
  shift: PeriodShift,
  arpuOf?: (revenue: number) => number,
): void {
  const scale = shift.numericScale;
  if (scale === undefined) return;
  if (shift.onlyRegions !== undefined && (region === null || !shift.onlyRegions.includes(region))) return;
  for (const [name, k] of Object.entries(scale) as [NumericFeature, number][]) {
    const v = values[name];
    if (name !== 'ARPU_SEGMENT' && typeof v === 'number') values[name] = roundRecorded(name, v * k);
  }
  const revenue = values.REVENUE;
  if (arpuOf !== undefined && typeof revenue === 'number') values.ARPU_SEGMENT = arpuOf(revenue);
  const arpu = values.ARPU_SEGMENT;
  if (typeof arpu !== 'number') return;
  if (arpuOf === undefined && scale.ARPU_SEGMENT === undefined && scale.REVENUE !== undefined) {
    values.ARPU_SEGMENT = Math.round(arpu * scale.REVENUE);
  } else if (scale.ARPU_SEGMENT !== undefined) {
    values.ARPU_SEGMENT = Math.round(arpu * scale.ARPU_SEGMENT);
  }
}

/**
 * `newCategories` on one recorded (non-missing) value: `draw()` gives uniforms in [0, 1); the first
 * decides whether the value is replaced (probability `share`), the second which new value replaces it.
 * Nothing is drawn when the feature has no new values.
 */
export function withNewCategory(
  value: string,
  fresh: readonly string[] | undefined,
  share: number,
  draw: () => number,
): string {
  if (fresh === undefined || fresh.length === 0 || draw() >= share) return value;
  return fresh[Math.floor(draw() * fresh.length)]!;
}

/**
 * `missingBoost`: each named feature loses its value (`blank(feature)`) with its probability, decided by
 * `uniform(feature)` in [0, 1). Features in the order the shift names them.
 */
export function applyMissingBoost(
  shift: PeriodShift,
  uniform: (feature: FeatureName) => number,
  blank: (feature: FeatureName) => void,
): void {
  if (shift.missingBoost === undefined) return;
  for (const [name, p] of Object.entries(shift.missingBoost) as [FeatureName, number][]) {
    if (uniform(name) < p) blank(name);
  }
}
