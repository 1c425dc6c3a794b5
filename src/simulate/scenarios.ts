/**
 * Traffic scenarios for the simulators. Each one is a `PeriodShift` (the data layer's description of how
 * a later period differs from training, src/data/period-shift.ts), possibly growing with simulated time,
 * applied to replayed rows by `applyShift` with the data layer's rules. Each scenario says what the
 * dashboards should show, so a demo run can be checked by eye (docs/demo.md repeats this table).
 */
import {
  CATEGORICAL_FEATURES,
  FEATURES,
  NUMERIC_FEATURES,
  type RawFeatures,
} from '../data/customer-schema.js';
import {
  applyMissingBoost,
  applyNumericScale,
  DEFAULT_NEW_CATEGORY_SHARE,
  type PeriodShift,
  validateShift,
  withNewCategory,
} from '../data/period-shift.js';
import type { Rng } from '../data/rng.js';
import { sigmoid } from '../stats/logistic.js';

export const SCENARIO_NAMES = [
  'stable',
  'sudden-drift',
  'gradual-drift',
  'missing-spike',
  'new-categories',
  'concept-drift',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Scenario {
  readonly name: ScenarioName;
  /** What changes in the traffic. */
  readonly summary: string;
  /** What the dashboards should show while it runs. */
  readonly expect: string;
  /** The shift `elapsedMs` of simulated time after the scenario started. */
  shiftAt(elapsedMs: number): PeriodShift;
}

/** The region whose customers change in the drift scenarios: the largest, so the shift is visible. */
export const DRIFT_REGION = 'DAKAR';
/** Simulated time the gradual drift takes to reach its full size. */
export const GRADUAL_RAMP_MS = 30 * 60_000;
const DRIFT_SCALE = 3;

const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  stable: {
    name: 'stable',
    summary: 'rows replayed as they are',
    expect:
      'no feature in red, estimated and realized performance near validation, prediction drift below threshold',
    shiftAt: () => ({}),
  },
  'sudden-drift': {
    name: 'sudden-drift',
    summary: `MONTANT and REVENUE (and ARPU_SEGMENT with it) ×${DRIFT_SCALE} for ${DRIFT_REGION} customers, from the first row`,
    expect:
      'MONTANT, REVENUE and ARPU_SEGMENT turn red within one window; their drill-down shows mass moving to the upper bins',
    shiftAt: () => ({
      numericScale: { MONTANT: DRIFT_SCALE, REVENUE: DRIFT_SCALE },
      onlyRegions: [DRIFT_REGION],
    }),
  },
  'gradual-drift': {
    name: 'gradual-drift',
    summary: `the same shift growing linearly from ×1 to ×${DRIFT_SCALE} over ${GRADUAL_RAMP_MS / 60_000} simulated minutes`,
    expect: 'MONTANT/REVENUE PSI rising steadily over the chunks, crossing the threshold part-way through',
    shiftAt: (elapsedMs) => {
      const k = 1 + (DRIFT_SCALE - 1) * Math.min(1, Math.max(0, elapsedMs / GRADUAL_RAMP_MS));
      return { numericScale: { MONTANT: k, REVENUE: k }, onlyRegions: [DRIFT_REGION] };
    },
  },
  'missing-spike': {
    name: 'missing-spike',
    summary: 'a pipeline losing data: DATA_VOLUME 50 %, ON_NET 40 %, REGION 30 % of values extra missing',
    expect:
      'missing-value panel jumps for those features, missing-value alert, drift on them (the missing bin grows)',
    shiftAt: () => ({ missingBoost: { DATA_VOLUME: 0.5, ON_NET: 0.4, REGION: 0.3 } }),
  },
  'new-categories': {
    name: 'new-categories',
    summary: '30 % of TOP_PACK and REGION values replaced by categories never seen in training',
    expect:
      'unseen-category share above zero for TOP_PACK and REGION, both red in the drift table (the unseen bin)',
    shiftAt: () => ({
      newCategories: { TOP_PACK: ['NEW_5G_PACK', 'Promo Tabaski 2000'], REGION: ['NEW-REGION'] },
      newCategoryShare: 0.3,
    }),
  },
  'concept-drift': {
    name: 'concept-drift',
    summary:
      'inputs unchanged, 80 % of labels follow another churn mechanism (regular, data-heavy customers leave)',
    expect:
      'no data drift and estimated performance unchanged, but realized accuracy/F1 fall once labels arrive',
    shiftAt: () => ({ conceptDrift: 0.8 }),
  },
};

/** The scenario of that name; throws RangeError listing the names otherwise. */
export function getScenario(name: string): Scenario {
  const scenario = (SCENARIOS as Record<string, Scenario | undefined>)[name];
  if (!scenario) throw new RangeError(`unknown scenario "${name}"; one of ${SCENARIO_NAMES.join(', ')}`);
  return scenario;
}

export function listScenarios(): readonly Scenario[] {
  return SCENARIO_NAMES.map((n) => SCENARIOS[n]);
}

/** One replayed customer: canonical features (null = missing), the id, and the true label when known. */
export interface SimRow {
  readonly userId: string;
  readonly features: RawFeatures;
  readonly churn: 0 | 1 | null;
}

const NUMERIC_SET = new Set<string>(NUMERIC_FEATURES);

/**
 * The other churn mechanism of concept drift, on what a row shows (the generator's `altScore` works on
 * latent variables a replayed row does not have): regular customers with recorded data usage leave, the
 * inactive ones stay. Probability ≈ 0.06 for an inactive row, ≈ 0.7 for a regular, data-heavy one.
 */
export function alternativeChurnProbability(features: RawFeatures): number {
  const regularity = typeof features.REGULARITY === 'number' ? features.REGULARITY : 0;
  const data = typeof features.DATA_VOLUME === 'number' ? features.DATA_VOLUME : Number.NaN;
  let s = -2.8 + 2.2 * (regularity / 62);
  if (Number.isFinite(data)) s += 0.6 + (0.25 * Math.log1p(Math.max(0, data))) / Math.log(10);
  if (features.REGION === null || features.REGION === undefined) s -= 1;
  return sigmoid(s);
}

/**
 * Applies a PeriodShift to one row, with the data layer's rules (period-shift.ts, which the generator
 * applies too) where a row allows them:
 * `numericScale` multiplies recorded values (for customers of `onlyRegions` when given; ARPU_SEGMENT
 * follows REVENUE unless scaled itself), `missingBoost` blanks values with the given probability,
 * `newCategories` replaces `newCategoryShare` of non-missing values, `categoryShares` keeps a value of
 * weight w < 1 with probability w and otherwise moves it to a category of weight > 1 (in proportion to
 * w − 1; a row has no base distribution to reweight), and `conceptDrift` redraws that share of labels
 * from `alternativeChurnProbability`. Draws come from `rng` (one per row keeps runs reproducible).
 * Throws RangeError for a shift out of range (validateShift).
 */
export function applyShift(row: SimRow, shift: PeriodShift, rng: Rng): SimRow {
  validateShift(shift);
  const f: Record<string, number | string | null> = {};
  for (const spec of FEATURES) f[spec.name] = row.features[spec.name] ?? null;
  const region = f.REGION;
  applyNumericScale(f, typeof region === 'string' ? region : null, shift);

  for (const name of CATEGORICAL_FEATURES) {
    const weights = shift.categoryShares?.[name];
    const v = f[name];
    if (weights && typeof v === 'string') {
      const w = weights[v] ?? 1;
      const u = rng.next();
      if (w < 1 && u >= w) {
        const targets = Object.entries(weights).filter(([, x]) => x > 1);
        const total = targets.reduce((s, [, x]) => s + (x - 1), 0);
        if (total > 0) {
          let pick = rng.next() * total;
          for (const [value, x] of targets) {
            pick -= x - 1;
            if (pick <= 0) {
              f[name] = value;
              break;
            }
          }
        }
      }
    }
    const value = f[name];
    if (typeof value === 'string') {
      const share = shift.newCategoryShare ?? DEFAULT_NEW_CATEGORY_SHARE;
      f[name] = withNewCategory(value, shift.newCategories?.[name], share, () => rng.next());
    }
  }

  applyMissingBoost(
    shift,
    () => rng.next(),
    (name) => {
      f[name] = null;
    },
  );

  let churn = row.churn;
  const drift = shift.conceptDrift ?? 0;
  if (drift > 0 && churn !== null && rng.next() < drift) {
    churn = rng.next() < alternativeChurnProbability(f as RawFeatures) ? 1 : 0;
  }
  return { userId: row.userId, features: f as RawFeatures, churn };
}

/** The JSON record POST /predict takes for a row (Train.csv names, null for missing). */
export function toRequestRecord(row: SimRow): Record<string, string | number | null> {
  const record: Record<string, string | number | null> = { user_id: row.userId };
  for (const spec of FEATURES) {
    const v = row.features[spec.name];
    record[spec.name] =
      v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))
        ? null
        : NUMERIC_SET.has(spec.name)
          ? Number(v)
          : String(v);
  }
  return record;
}
