/**
 * Traffic scenarios for the simulators, defined for any model. A `ScenarioPlan` says which of the model's
 * features each scenario touches (scenario-plan.ts chooses them: the Expresso preset, or from the
 * model's feature importance and categories, or `--feature`); each scenario is then a shift, possibly
 * growing with simulated time, applied to replayed rows by `applyShift`. Each scenario says what the
 * dashboards should show, naming the features chosen, so a demo run can be checked by eye (docs/demo.md).
 */
import { EXPRESSO_SCHEMA } from '../data/dataset-schema.js';
import type { FeatureSpec, RawFeatures } from '../data/feature-types.js';
import {
  applyMissingBoost,
  applyNumericScale,
  DEFAULT_NEW_CATEGORY_SHARE,
  type PeriodShift,
  withNewCategory,
} from '../data/period-shift.js';
import type { Rng } from '../data/rng.js';
import { ChurnwatchError } from '../errors.js';
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

/**
 * How a later period differs from training, for any schema: PeriodShift's fields keyed by the model's
 * feature names. `onlyRegions` (the Expresso preset's segment) restricts `numericScale` to rows whose
 * REGION is one of them; generic plans have no segment.
 */
export interface ReplayShift {
  numericScale?: Readonly<Record<string, number>>;
  onlyRegions?: string[];
  missingBoost?: Readonly<Record<string, number>>;
  categoryShares?: Readonly<Record<string, Record<string, number>>>;
  newCategories?: Readonly<Record<string, string[]>>;
  newCategoryShare?: number;
  conceptDrift?: number;
}

/** Which features the scenarios touch, for one model. */
export interface ScenarioPlan {
  /** The model's features in schema order (a replayed row has each, null when missing). */
  readonly features: readonly FeatureSpec[];
  /** Numeric features the drift scenarios multiply. */
  readonly drift: readonly string[];
  /** Features that follow the drifted ones without being scaled themselves (Expresso: ARPU_SEGMENT). */
  readonly driftFollowers: readonly string[];
  /** The segment the drift is limited to (Expresso: DAKAR customers); undefined: every row. */
  readonly driftRegion?: string | undefined;
  /** Extra missing share per feature in missing-spike, in the order shown. */
  readonly missing: readonly (readonly [string, number])[];
  /** Unseen values injected per categorical feature in new-categories. */
  readonly newCategories: readonly (readonly [string, readonly string[]])[];
  /** Apply the Expresso data layer's rules to numeric scaling (round amounts, ARPU follows REVENUE). */
  readonly expressoRules: boolean;
  /** Concept drift's other churn mechanism, on what a row shows. */
  readonly alternativeChurnProbability: (features: RawFeatures) => number;
  /** The other mechanism in words, e.g. "customers with a high tenure leave". */
  readonly alternativeMechanism: string;
}

export interface Scenario {
  readonly name: ScenarioName;
  /** What changes in the traffic. */
  readonly summary: string;
  /** What the dashboards should show while it runs. */
  readonly expect: string;
  /** The features chosen and how to apply the shift (applyShift). */
  readonly plan: ScenarioPlan;
  /** The shift `elapsedMs` of simulated time after the scenario started. */
  shiftAt(elapsedMs: number): ReplayShift;
}

/** The region whose customers change in the Expresso drift scenarios: the largest, so the shift is visible. */
export const DRIFT_REGION = 'DAKAR';
/** Simulated time the gradual drift takes to reach its full size. */
export const GRADUAL_RAMP_MS = 30 * 60_000;
const DRIFT_SCALE = 3;
const NEW_CATEGORY_SHARE = 0.3;
const CONCEPT_DRIFT = 0.8;

/** "A", "A and B", "A, B and C". */
export function listInWords(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? 'no feature';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

const percent = (share: number) => `${Math.round(share * 100)} %`;

function scale(plan: ScenarioPlan, k: number): ReplayShift {
  return {
    numericScale: Object.fromEntries(plan.drift.map((name) => [name, k])),
    ...(plan.driftRegion !== undefined ? { onlyRegions: [plan.driftRegion] } : {}),
  };
}

/** The scenarios for a plan; a scenario whose features the model lacks throws when asked for. */
function scenarioSpecs(plan: ScenarioPlan): Record<ScenarioName, Omit<Scenario, 'plan' | 'name'>> {
  const drift = plan.drift;
  const followers =
    plan.driftFollowers.length > 0 ? ` (and ${listInWords(plan.driftFollowers)} with it)` : '';
  const who = plan.driftRegion !== undefined ? `${plan.driftRegion} customers` : 'every row';
  const red = [...drift, ...plan.driftFollowers];
  const missing = plan.missing.map(([name]) => name);
  const fresh = plan.newCategories.map(([name]) => name);
  const both = fresh.length > 1 ? (fresh.length === 2 ? 'both' : 'all') : 'it';
  return {
    stable: {
      summary: 'rows replayed as they are',
      expect:
        'no feature in red, estimated and realized performance near validation, prediction drift below threshold',
      shiftAt: () => ({}),
    },
    'sudden-drift': {
      summary: `${listInWords(drift)}${followers} ×${DRIFT_SCALE} for ${who}, from the first row`,
      expect: `${listInWords(red)} turn${red.length === 1 ? 's' : ''} red within one window; ${red.length === 1 ? 'its' : 'their'} drill-down shows mass moving to the upper bins`,
      shiftAt: () => scale(plan, DRIFT_SCALE),
    },
    'gradual-drift': {
      summary: `the same shift growing linearly from ×1 to ×${DRIFT_SCALE} over ${GRADUAL_RAMP_MS / 60_000} simulated minutes`,
      expect: `${drift.join('/')} PSI rising steadily over the chunks, crossing the threshold part-way through`,
      shiftAt: (elapsedMs) =>
        scale(plan, 1 + (DRIFT_SCALE - 1) * Math.min(1, Math.max(0, elapsedMs / GRADUAL_RAMP_MS))),
    },
    'missing-spike': {
      summary: `a pipeline losing data: ${plan.missing.map(([name, p]) => `${name} ${percent(p)}`).join(', ')} of values extra missing`,
      expect: `missing-value panel jumps for ${listInWords(missing)}, missing-value alert, drift on them (the missing bin grows)`,
      shiftAt: () => ({ missingBoost: Object.fromEntries(plan.missing) }),
    },
    'new-categories': {
      summary: `${percent(NEW_CATEGORY_SHARE)} of ${listInWords(fresh)} values replaced by categories never seen in training`,
      expect: `unseen-category share above zero for ${listInWords(fresh)}, ${both} red in the drift table (the unseen bin)`,
      shiftAt: () => ({
        newCategories: Object.fromEntries(plan.newCategories.map(([name, values]) => [name, [...values]])),
        newCategoryShare: NEW_CATEGORY_SHARE,
      }),
    },
    'concept-drift': {
      summary: `inputs unchanged, ${percent(CONCEPT_DRIFT)} of labels follow another churn mechanism (${plan.alternativeMechanism})`,
      expect:
        'no data drift and estimated performance unchanged, but realized accuracy/F1 fall once labels arrive',
      shiftAt: () => ({ conceptDrift: CONCEPT_DRIFT }),
    },
  };
}

/** What each scenario needs from the plan, to refuse one the model cannot run. */
function lacking(name: ScenarioName, plan: ScenarioPlan): string | undefined {
  if ((name === 'sudden-drift' || name === 'gradual-drift') && plan.drift.length === 0)
    return 'no numeric feature to scale (none in the model, or none among --feature)';
  if (name === 'missing-spike' && plan.missing.length === 0) return 'no feature was chosen to lose values';
  if (name === 'new-categories' && plan.newCategories.length === 0)
    return 'no categorical feature to give unseen values (none in the model, or none among --feature)';
  return undefined;
}

/**
 * The scenario of that name for a plan (default: the Expresso preset). Throws RangeError listing the
 * names for an unknown one, CW_SIM_BAD_OPTION when the model lacks the features it needs.
 */
export function getScenario(name: string, plan: ScenarioPlan = expressoPlan()): Scenario {
  if (!(SCENARIO_NAMES as readonly string[]).includes(name))
    throw new RangeError(`unknown scenario "${name}"; one of ${SCENARIO_NAMES.join(', ')}`);
  const scenarioName = name as ScenarioName;
  const why = lacking(scenarioName, plan);
  if (why !== undefined)
    throw new ChurnwatchError('CW_SIM_BAD_OPTION', `scenario ${name} cannot run on this model: ${why}`, {
      hint: 'choose another --scenario, or name the features with --feature',
    });
  return { name: scenarioName, plan, ...scenarioSpecs(plan)[scenarioName] };
}

/** The scenarios a plan can run (default: the Expresso preset). */
export function listScenarios(plan: ScenarioPlan = expressoPlan()): readonly Scenario[] {
  return SCENARIO_NAMES.filter((n) => lacking(n, plan) === undefined).map((n) => getScenario(n, plan));
}

/** One replayed customer: features by schema name (null = missing), the id, and the true label when known. */
export interface SimRow {
  readonly userId: string;
  readonly features: RawFeatures;
  readonly churn: 0 | 1 | null;
}

/**
 * Expresso's other churn mechanism, on what a row shows (the generator's `altScore` works on latent
 * variables a replayed row does not have): regular customers with recorded data usage leave, the
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
 * The Expresso preset: the features today's demo, docs and tests name (MONTANT and REVENUE drift for
 * DAKAR customers, TOP_PACK and REGION get unseen values…), whatever the importance says.
 */
export function expressoPlan(): ScenarioPlan {
  return EXPRESSO_PLAN;
}

const EXPRESSO_PLAN: ScenarioPlan = Object.freeze<ScenarioPlan>({
  features: EXPRESSO_SCHEMA.features,
  drift: ['MONTANT', 'REVENUE'],
  driftFollowers: ['ARPU_SEGMENT'],
  driftRegion: DRIFT_REGION,
  missing: [
    ['DATA_VOLUME', 0.5],
    ['ON_NET', 0.4],
    ['REGION', 0.3],
  ],
  newCategories: [
    ['TOP_PACK', ['NEW_5G_PACK', 'Promo Tabaski 2000']],
    ['REGION', ['NEW-REGION']],
  ],
  expressoRules: true,
  alternativeChurnProbability,
  alternativeMechanism: 'regular, data-heavy customers leave',
});

function validateReplayShift(shift: ReplayShift, plan: ScenarioPlan): void {
  const check = (what: string, v: number, lo: number, hi: number) => {
    if (!(Number.isFinite(v) && v >= lo && v <= hi))
      throw new RangeError(`${what} must be within ${lo}..${hi}, got ${v}`);
  };
  for (const [k, v] of Object.entries(shift.numericScale ?? {})) check(`numericScale.${k}`, v, 0, 1e6);
  const names = new Set(plan.features.map((f) => f.name));
  for (const [k, v] of Object.entries(shift.missingBoost ?? {})) {
    if (!names.has(k)) throw new RangeError(`missingBoost names an unknown feature "${k}"`);
    check(`missingBoost.${k}`, v, 0, 1);
  }
  if (shift.conceptDrift !== undefined) check('conceptDrift', shift.conceptDrift, 0, 1);
  if (shift.newCategoryShare !== undefined) check('newCategoryShare', shift.newCategoryShare, 0, 1);
}

/** A scaled value as a recorded one: integers stay integers, decimals lose the float noise. */
function scaled(v: number, k: number): number {
  return Number.isInteger(v) ? Math.round(v * k) : Number((v * k).toPrecision(12));
}

/** `numericScale` on a row of any schema, in place: a missing value stays missing. */
function scaleNumbers(f: Record<string, number | string | null>, shift: ReplayShift, plan: ScenarioPlan) {
  if (plan.expressoRules) {
    const region = f.REGION;
    applyNumericScale(f, typeof region === 'string' ? region : null, shift as PeriodShift);
    return;
  }
  if (shift.onlyRegions !== undefined) {
    const region = f.REGION;
    if (typeof region !== 'string' || !shift.onlyRegions.includes(region)) return;
  }
  for (const [name, k] of Object.entries(shift.numericScale ?? {})) {
    const v = f[name];
    if (typeof v === 'number') f[name] = scaled(v, k);
  }
}

/** `categoryShares` on one value: kept with probability w < 1, else moved to a category of weight > 1. */
function reweighted(value: string, weights: Record<string, number>, rng: Rng): string {
  const w = weights[value] ?? 1;
  const u = rng.next();
  if (!(w < 1 && u >= w)) return value;
  const targets = Object.entries(weights).filter(([, x]) => x > 1);
  const total = targets.reduce((s, [, x]) => s + (x - 1), 0);
  if (total <= 0) return value;
  let pick = rng.next() * total;
  for (const [target, x] of targets) {
    pick -= x - 1;
    if (pick <= 0) return target;
  }
  return value;
}

/**
 * Applies a shift to one row, with the data layer's rules (period-shift.ts) where a row allows them:
 * `numericScale` multiplies recorded values (with the Expresso preset: for customers of `onlyRegions`,
 * rounded as the file records amounts, ARPU_SEGMENT following REVENUE), `missingBoost` blanks values with
 * the given probability, `newCategories` replaces `newCategoryShare` of non-missing values,
 * `categoryShares` keeps a value of weight w < 1 with probability w and otherwise moves it to a category of
 * weight > 1 (in proportion to w − 1; a row has no base distribution to reweight), and `conceptDrift`
 * redraws that share of labels from the plan's other mechanism. Draws come from `rng` (one per row keeps
 * runs reproducible). Throws RangeError for a shift out of range.
 */
export function applyShift(
  row: SimRow,
  shift: ReplayShift,
  rng: Rng,
  plan: ScenarioPlan = expressoPlan(),
): SimRow {
  validateReplayShift(shift, plan);
  const f: Record<string, number | string | null> = {};
  for (const spec of plan.features) f[spec.name] = row.features[spec.name] ?? null;
  scaleNumbers(f, shift, plan);

  for (const spec of plan.features) {
    if (spec.kind !== 'categorical') continue;
    const name = spec.name;
    const weights = shift.categoryShares?.[name];
    const v = f[name];
    if (weights && typeof v === 'string') f[name] = reweighted(v, weights, rng);
    const value = f[name];
    if (typeof value === 'string') {
      const share = shift.newCategoryShare ?? DEFAULT_NEW_CATEGORY_SHARE;
      f[name] = withNewCategory(value, shift.newCategories?.[name], share, () => rng.next());
    }
  }

  applyMissingBoost(
    shift as PeriodShift,
    () => rng.next(),
    (name) => {
      f[name] = null;
    },
  );

  let churn = row.churn;
  const drift = shift.conceptDrift ?? 0;
  if (drift > 0 && churn !== null && rng.next() < drift) {
    churn = rng.next() < plan.alternativeChurnProbability(f) ? 1 : 0;
  }
  return { userId: row.userId, features: f, churn };
}

/**
 * The JSON record POST /predict takes for a row: `user_id` and the schema's own feature names, numbers
 * for numeric features, strings for categorical ones, null for missing.
 */
export function toRequestRecord(
  row: SimRow,
  features: readonly FeatureSpec[] = expressoPlan().features,
): Record<string, string | number | null> {
  const record: Record<string, string | number | null> = { user_id: row.userId };
  for (const spec of features) {
    const v = row.features[spec.name];
    record[spec.name] =
      v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))
        ? null
        : spec.kind === 'numeric'
          ? Number(v)
          : String(v);
  }
  return record;
}
