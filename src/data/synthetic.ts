/**
 * A synthetic Expresso Train.csv: same header, same value formats, and the statistics and relations the
 * public profile describes (src/data/expresso-profile.ts), so a model trained on it behaves like one
 * trained on the real file (held-out ROC AUC ≈ 0.93).
 *
 * How a customer is drawn. One latent "activity" a ~ N(0,1) drives everything: each missingness block
 * (a group of columns that go missing together) is missing when a plus block noise falls below a
 * threshold set so the block's missing share equals the profile's, which makes the blocks nest (the
 * least active customers lose every block: the "fully inactive" mass). REGULARITY and the usage amounts
 * are Gaussian-copula transforms of variables correlated with a, mapped through each column's quantile
 * function (full-data quartiles, sample p05/p95, maxima). CHURN is Bernoulli from a logistic score on what
 * the file shows — missingness (REGION most of all), log REGULARITY, tenure, region, a few packs, usage —
 * plus an unobserved term, which is why identical rows carry conflicting labels as in the real data.
 * The intercept is calibrated so the churn rate is the real 0.1875.
 *
 * Each row draws from its own stream (seed, row index), so a period generated with a `PeriodShift`
 * contains the same customers as the unshifted one, changed only as the shift says.
 */

import { sigmoid } from '../stats/logistic.js';
import { writeFileAtomically } from './atomic-file.js';
import {
  CATEGORICAL_FEATURES,
  type CategoricalFeature,
  CSV_HEADER,
  NUMERIC_FEATURES,
  type NumericFeature,
} from './customer-schema.js';
import {
  EXPRESSO_CHURN_RATE,
  MRG_VALUE,
  NUMERIC_PROFILE,
  REGION_CHURN_IF_PRESENT,
  REGION_MISSING_SHARE,
  REGIONS,
  REGULARITY_TOP_SHARES,
  TAIL_PACKS,
  TENURES,
  TOP_PACK_CHURN_IF_PRESENT,
  TOP_PACK_KNOWN_CHURN,
  TOP_PACKS_RANKED,
} from './expresso-profile.js';
import {
  applyMissingBoost,
  applyNumericScale,
  DEFAULT_NEW_CATEGORY_SHARE,
  type PeriodShift,
  roundRecorded,
  validateShift,
  withNewCategory,
} from './period-shift.js';
import { createRng, type Rng } from './rng.js';

export type { PeriodShift } from './period-shift.js';

export interface GenerateOptions {
  rows: number;
  seed: number;
  shift?: PeriodShift;
  /** Lowercase hex (≤ 8 chars) that starts every user_id, to keep periods' ids apart. */
  idPrefix?: string;
}

/** One generated customer. Numeric values are NaN when missing, categorical values null. */
export interface SyntheticRow {
  readonly userId: string;
  readonly numeric: Record<NumericFeature, number>;
  readonly categorical: Record<CategoricalFeature, string | null>;
  readonly churn: 0 | 1;
  /** P(churn | what the row shows): the best score any model can reach on this row (≈ calibrated). */
  readonly churnProbability: number;
}

// ---------------------------------------------------------------------------------------------------
// Small numeric helpers

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 on erf, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

const logit = (p: number): number => Math.log(p / (1 - p));

/** A categorical sampler: cumulative weights and a binary search. */
interface Sampler {
  readonly values: readonly string[];
  readonly cumulative: Float64Array;
}

function makeSampler(entries: readonly (readonly [string, number])[]): Sampler {
  const cumulative = new Float64Array(entries.length);
  let total = 0;
  entries.forEach(([, w], i) => {
    total += Math.max(0, w);
    cumulative[i] = total;
  });
  if (!(total > 0)) throw new RangeError('category weights must not all be zero');
  for (let i = 0; i < cumulative.length; i++) cumulative[i] = cumulative[i]! / total;
  return { values: entries.map(([v]) => v), cumulative };
}

function sample(sampler: Sampler, u: number): string {
  const cum = sampler.cumulative;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (u < cum[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return sampler.values[lo]!;
}

// ---------------------------------------------------------------------------------------------------
// Marginals

/**
 * Quantile function of a column's non-missing values: zero mass first, then log-linear interpolation
 * through p05, the quartiles, p95, a p99 knot, the sample maximum (at 1 − 1/n) and the full maximum.
 * No p99 was ever published: it is solved for (bisection) so the column's mean equals the full-data mean.
 */
function makeQuantile(feature: NumericFeature): (u: number) => number {
  const p = NUMERIC_PROFILE[feature];
  const build = (p99: number) => {
    const knots: [number, number][] = [];
    const zero = p.zeroShare;
    // A value of min − 0.49 (or 0.5 after the zeros) rounds to the smallest non-zero integer.
    knots.push([zero, zero > 0 ? 0.5 : Math.max(p.min - 0.49, 0)]);
    const candidates: [number, number][] = [
      [0.05, p.p05],
      [0.25, p.q25],
      [0.5, p.q50],
      [0.75, p.q75],
      [0.95, p.p95],
      [0.99, p99],
      [1 - 1 / p.sampleCount, p.sampleMax],
      [1, p.max],
    ];
    for (const [q, v] of candidates) {
      const last = knots[knots.length - 1]!;
      if (q <= last[0]) continue;
      knots.push([q, Math.max(v, last[1])]);
    }
    const ps = Float64Array.from(knots, (k) => k[0]);
    const vs = Float64Array.from(knots, (k) => Math.log1p(k[1]));
    return (u: number): number => {
      if (u < zero) return 0;
      let i = 1;
      while (i < ps.length - 1 && u > ps[i]!) i++;
      const p0 = ps[i - 1]!;
      const p1 = ps[i]!;
      const f = p1 > p0 ? (u - p0) / (p1 - p0) : 1;
      return Math.expm1(vs[i - 1]! + f * (vs[i]! - vs[i - 1]!));
    };
  };
  const meanOf = (q: (u: number) => number) => {
    const n = 4000;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += q((i + 0.5) / n);
    return sum / n;
  };
  let lo = p.p95;
  let hi = p.sampleMax;
  for (let i = 0; i < 30; i++) {
    const mid = Math.sqrt(lo * hi || hi);
    if (meanOf(build(mid)) > p.mean) hi = mid;
    else lo = mid;
  }
  return build(lo);
}

/**
 * REGULARITY (integer 1..62): the printed spikes, then flat-ish shares between them chosen so the
 * full-data quartiles 6 / 24 / 51 hold.
 */
function regularityCumulative(): Float64Array {
  const pmf = new Float64Array(63);
  for (const [k, v] of Object.entries(REGULARITY_TOP_SHARES)) pmf[Number(k)] = v;
  // 8..24 declining from 0.0165 to 0.009, 25..51 flat 0.0092, 52..57 0.0135 each: cumulative shares
  // 0.239 / 0.263 at 5 / 6, 0.494 / 0.503 at 23 / 24, 0.744 / 0.753 at 50 / 51 (the quartiles 6, 24, 51).
  for (let k = 8; k <= 24; k++) pmf[k] = 0.0165 - ((k - 8) * (0.0165 - 0.009)) / 16;
  for (let k = 25; k <= 51; k++) pmf[k] = 0.0092;
  for (let k = 52; k <= 57; k++) pmf[k] = 0.0135;
  const cum = new Float64Array(63);
  let total = 0;
  for (let k = 1; k <= 62; k++) {
    total += pmf[k]!;
    cum[k] = total;
  }
  for (let k = 1; k <= 62; k++) cum[k] = cum[k]! / total;
  return cum;
}

// ---------------------------------------------------------------------------------------------------
// The generative model

/** Missingness blocks in nesting order: their columns, noise scale, and share of the common noise. */
const BLOCKS = [
  { name: 'REVENUE', columns: ['REVENUE', 'ARPU_SEGMENT', 'FREQUENCE'], sigma: 0.3, common: 0.9 },
  { name: 'MONTANT', columns: ['MONTANT', 'FREQUENCE_RECH'], sigma: 0.3, common: 0.9 },
  { name: 'ON_NET', columns: ['ON_NET'], sigma: 0.4, common: 0.7 },
  { name: 'REGION', columns: ['REGION'], sigma: 0.75, common: 0.2 },
  { name: 'ORANGE', columns: ['ORANGE'], sigma: 0.45, common: 0.7 },
  { name: 'TOP_PACK', columns: ['TOP_PACK', 'FREQ_TOP_PACK'], sigma: 0.55, common: 0.5 },
  { name: 'DATA_VOLUME', columns: ['DATA_VOLUME'], sigma: 1.1, common: 0.2 },
  { name: 'TIGO', columns: ['TIGO'], sigma: 0.8, common: 0.4 },
  { name: 'ZONE1', columns: ['ZONE1'], sigma: 1.4, common: 0.3 },
  { name: 'ZONE2', columns: ['ZONE2'], sigma: 1.4, common: 0.3 },
] as const;
type BlockName = (typeof BLOCKS)[number]['name'];

const BLOCK_MISSING_SHARE: Record<BlockName, number> = {
  REVENUE: NUMERIC_PROFILE.REVENUE.missingShare,
  MONTANT: NUMERIC_PROFILE.MONTANT.missingShare,
  ON_NET: NUMERIC_PROFILE.ON_NET.missingShare,
  REGION: REGION_MISSING_SHARE,
  ORANGE: NUMERIC_PROFILE.ORANGE.missingShare,
  TOP_PACK: NUMERIC_PROFILE.FREQ_TOP_PACK.missingShare,
  DATA_VOLUME: NUMERIC_PROFILE.DATA_VOLUME.missingShare,
  TIGO: NUMERIC_PROFILE.TIGO.missingShare,
  ZONE1: NUMERIC_PROFILE.ZONE1.missingShare,
  ZONE2: NUMERIC_PROFILE.ZONE2.missingShare,
};

/**
 * Churn score weights: added when the block is missing. REGION's dominates, as in the real file, where
 * its missingness separates churners best (churn 0.448 missing vs 0.018 present, against ≈ 0.45 / 0.05
 * for the other blocks). Tuned together: raising REGION alone brings churn | REGION present to 0.018 but
 * the Bayes ROC AUC to 0.943; the other blocks' weights are lowered so it stays ≈ 0.93 (docs/data.md).
 */
const MISSING_WEIGHT: Record<BlockName, number> = {
  REVENUE: 0.54,
  MONTANT: 0.3,
  ON_NET: 0.3,
  REGION: 3.6,
  ORANGE: 0.24,
  TOP_PACK: 0.3,
  DATA_VOLUME: 0.12,
  TIGO: 0.18,
  ZONE1: 0.09,
  ZONE2: 0.09,
};

/** Tunables of the churn score and the latent correlations (documented in docs/data.md). */
const MODEL = {
  regularityCorrelation: 0.8,
  regularityLogWeight: -1.1,
  spendCorrelation: 0.45,
  usageWeight: -0.6,
  hiddenSigma: 1.8,
} as const;

/** Latent value correlations with spend s for usage columns (the rest of the variance is own noise). */
const VALUE_LINK: Record<Exclude<NumericFeature, 'REGULARITY' | 'ARPU_SEGMENT'>, number> = {
  MONTANT: 1,
  REVENUE: 1,
  FREQUENCE_RECH: 0.85,
  FREQUENCE: 0.85,
  FREQ_TOP_PACK: 0.5,
  ON_NET: 0.5,
  ORANGE: 0.55,
  TIGO: 0.45,
  DATA_VOLUME: 0.3,
  ZONE1: 0.2,
  ZONE2: 0.2,
};
type ValueColumn = keyof typeof VALUE_LINK;
const VALUE_COLUMNS = Object.keys(VALUE_LINK) as ValueColumn[];
const VALUE_BLOCK: Record<ValueColumn, BlockName> = {
  MONTANT: 'MONTANT',
  FREQUENCE_RECH: 'MONTANT',
  REVENUE: 'REVENUE',
  FREQUENCE: 'REVENUE',
  FREQ_TOP_PACK: 'TOP_PACK',
  ON_NET: 'ON_NET',
  ORANGE: 'ORANGE',
  TIGO: 'TIGO',
  DATA_VOLUME: 'DATA_VOLUME',
  ZONE1: 'ZONE1',
  ZONE2: 'ZONE2',
};

const BLOCK_INDEX = Object.fromEntries(BLOCKS.map((b, i) => [b.name, i])) as Record<BlockName, number>;
const VALUE_BLOCK_INDEX = Int32Array.from(VALUE_COLUMNS, (c) => BLOCK_INDEX[VALUE_BLOCK[c]]);
const VALUE_LINKS = Float64Array.from(VALUE_COLUMNS, (c) => VALUE_LINK[c]);
const V = Object.fromEntries(VALUE_COLUMNS.map((c, i) => [c, i])) as Record<ValueColumn, number>;
const B_REVENUE = BLOCK_INDEX.REVENUE;
const B_REGION = BLOCK_INDEX.REGION;
const B_TOP_PACK = BLOCK_INDEX.TOP_PACK;
const B_DATA = BLOCK_INDEX.DATA_VOLUME;
const BLOCK_THRESHOLD = Float64Array.from(
  BLOCKS,
  (b) => normalQuantile(BLOCK_MISSING_SHARE[b.name]) * Math.sqrt(1 + b.sigma * b.sigma),
);
const BLOCK_SIGMA = Float64Array.from(BLOCKS, (b) => b.sigma);
const BLOCK_COMMON = Float64Array.from(BLOCKS, (b) => b.common);
const BLOCK_WEIGHT = Float64Array.from(BLOCKS, (b) => MISSING_WEIGHT[b.name]);
const REGULARITY_CUM = regularityCumulative();
const FEATURE_COUNT = NUMERIC_FEATURES.length + CATEGORICAL_FEATURES.length;
/** Where a feature's missingBoost uniform sits in Latent.uMissing: numeric features, then categorical. */
const FEATURE_POSITION = new Map<string, number>(
  [...NUMERIC_FEATURES, ...CATEGORICAL_FEATURES].map((f, i) => [f, i]),
);

/** The draws of one customer before shifts and formatting (index-based: this runs millions of times). */
interface Latent {
  regularity: number;
  /** 1 when the block (BLOCKS order) is missing. */
  readonly missing: Uint8Array;
  /** Latent value per usage column (VALUE_COLUMNS order), standardized scale. */
  readonly value: Float64Array;
  hidden: number;
  uChurn: number;
  uRegion: number;
  uTenure: number;
  uPack: number;
  readonly uNew: Float64Array;
  readonly uMissing: Float64Array;
}

function newLatent(): Latent {
  return {
    regularity: 1,
    missing: new Uint8Array(BLOCKS.length),
    value: new Float64Array(VALUE_COLUMNS.length),
    hidden: 0,
    uChurn: 0,
    uRegion: 0,
    uTenure: 0,
    uPack: 0,
    uNew: new Float64Array(CATEGORICAL_FEATURES.length * 2),
    uMissing: new Float64Array(FEATURE_COUNT),
  };
}

/**
 * Draws a customer's latent state into `l`. Always the same number of draws, so rows stay aligned
 * across shifts.
 */
function drawLatent(rng: Rng, l: Latent): Latent {
  const a = rng.normal();
  const rz = rng.normal();
  const rho = MODEL.regularityCorrelation;
  const ur = normalCdf(rho * a + Math.sqrt(1 - rho * rho) * rz);
  let regularity = 1;
  while (regularity < 62 && ur > REGULARITY_CUM[regularity]!) regularity++;
  l.regularity = regularity;
  const common = rng.normal();
  for (let b = 0; b < BLOCKS.length; b++) {
    const k = BLOCK_COMMON[b]!;
    const noise = k * common + Math.sqrt(1 - k * k) * rng.normal();
    l.missing[b] = a + BLOCK_SIGMA[b]! * noise < BLOCK_THRESHOLD[b]! ? 1 : 0;
  }
  const sc = MODEL.spendCorrelation;
  const spend = sc * a + Math.sqrt(1 - sc * sc) * rng.normal();
  const freq = 0.85 * spend + Math.sqrt(1 - 0.85 * 0.85) * rng.normal();
  for (let v = 0; v < VALUE_COLUMNS.length; v++) {
    const own = rng.normal();
    if (v === V.MONTANT || v === V.REVENUE) l.value[v] = spend + 0.06 * own;
    else if (v === V.FREQUENCE_RECH || v === V.FREQUENCE) l.value[v] = freq + 0.15 * own;
    else if (v === V.FREQ_TOP_PACK) l.value[v] = 0.6 * freq + 0.8 * own;
    else {
      const k = VALUE_LINKS[v]!;
      l.value[v] = k * spend + Math.sqrt(1 - k * k) * own;
    }
  }
  l.hidden = rng.normal();
  l.uChurn = rng.next();
  l.uRegion = rng.next();
  l.uTenure = rng.next();
  l.uPack = rng.next();
  for (let i = 0; i < l.uNew.length; i++) l.uNew[i] = rng.next();
  for (let i = 0; i < l.uMissing.length; i++) l.uMissing[i] = rng.next();
  return l;
}

/**
 * The latent → uniform map of each usage column among customers where it is present. Because presence
 * depends on activity, the present values' latent distribution is shifted; this table (built once from a
 * fixed calibration sample) makes each column's non-missing marginal match the profile.
 */
function buildValueTables(latents: readonly Latent[]): Float64Array[] {
  return VALUE_COLUMNS.map((_, v) => {
    const block = VALUE_BLOCK_INDEX[v]!;
    const present: number[] = [];
    for (const l of latents) if (l.missing[block] === 0) present.push(l.value[v]!);
    present.sort((x, y) => x - y);
    const points = 1024;
    const table = new Float64Array(points + 1);
    for (let i = 0; i <= points; i++) {
      table[i] = present[Math.min(present.length - 1, Math.round((i / points) * (present.length - 1)))]!;
    }
    return table;
  });
}

function tableUniform(table: Float64Array, x: number): number {
  const n = table.length - 1;
  if (x <= table[0]!) return 0.5 / (n * 4);
  if (x >= table[n]!) return 1 - 0.5 / (n * 4);
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (table[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const span = table[hi]! - table[lo]!;
  const f = span > 0 ? (x - table[lo]!) / span : 0.5;
  return (lo + f) / n;
}

interface Samplers {
  region: Sampler;
  tenure: Sampler;
  pack: Sampler;
  mrg: Sampler;
}

function baseSamplers(): Samplers {
  const tailTotal = 1 - TOP_PACKS_RANKED.reduce((s, [, w]) => s + w, 0);
  // A geometric tail (ratio 0.935) whose last packs land near one row in two million.
  const ratio = 0.935;
  const norm = (1 - ratio) / (1 - ratio ** TAIL_PACKS.length);
  const tail = TAIL_PACKS.map((name, i) => [name, tailTotal * norm * ratio ** i] as const);
  return {
    region: makeSampler(REGIONS.map(([n, s]) => [n, s] as const)),
    tenure: makeSampler(TENURES.map(([n, s]) => [n, s] as const)),
    pack: makeSampler([...TOP_PACKS_RANKED, ...tail]),
    mrg: makeSampler([[MRG_VALUE, 1]]),
  };
}

const REGION_OFFSET = new Map(REGIONS.map(([n, , c]) => [n, logit(c) - logit(REGION_CHURN_IF_PRESENT)]));
const TENURE_OFFSET = new Map(TENURES.map(([n, , c]) => [n, logit(c) - logit(TENURES[0]![2])]));
const PACK_OFFSET = new Map(
  Object.entries(TOP_PACK_KNOWN_CHURN).map(([n, c]) => [n, logit(c) - logit(TOP_PACK_CHURN_IF_PRESENT)]),
);

/** The churn score without its intercept and hidden term: what the row shows. */
function baseScore(
  l: Latent,
  region: string | null,
  tenure: string,
  pack: string | null,
  uFreq: number,
): number {
  let s = MODEL.regularityLogWeight * Math.log(l.regularity);
  for (let b = 0; b < BLOCKS.length; b++) if (l.missing[b] === 1) s += BLOCK_WEIGHT[b]!;
  if (region !== null) s += REGION_OFFSET.get(region) ?? 0;
  s += TENURE_OFFSET.get(tenure) ?? 0;
  if (pack !== null) s += PACK_OFFSET.get(pack) ?? 0;
  if (l.missing[B_REVENUE] === 0) s += MODEL.usageWeight * (uFreq - 0.5);
  return s;
}

/**
 * The other mechanism concept drift moves towards: engaged, data-heavy, regular customers leave (a
 * competitor's data offer) while the inactive stay. Same inputs, different labels.
 */
function altScore(l: Latent, uData: number): number {
  let s = 1.2 * (l.regularity / 62);
  if (l.missing[B_DATA] === 0) s += 2.0 * uData;
  if (l.missing[B_REGION] === 1) s -= 1.0;
  return s;
}

interface Model {
  tables: Float64Array[];
  quantiles: ((u: number) => number)[];
  base: Samplers;
  calibration: Latent[];
}

let cachedModel: Model | undefined;
const HIDDEN_SHRINK = Math.sqrt(1 + (Math.PI * MODEL.hiddenSigma * MODEL.hiddenSigma) / 8);

/** Builds (once) the value tables from a fixed calibration sample; independent of the user's seed. */
function model(): Model {
  if (cachedModel) return cachedModel;
  const calibration: Latent[] = [];
  for (let i = 0; i < 40_000; i++) calibration.push(drawLatent(createRng(0x5eed, i), newLatent()));
  const quantiles = VALUE_COLUMNS.map((c) => makeQuantile(c));
  cachedModel = { tables: buildValueTables(calibration), quantiles, base: baseSamplers(), calibration };
  return cachedModel;
}

/** Per-options plan: samplers after category shifts, the calibrated intercept for this drift. */
interface Plan {
  model: Model;
  samplers: Samplers;
  newValues: Partial<Record<CategoricalFeature, string[]>>;
  newShare: number;
  intercept: number;
  altIntercept: number;
  drift: number;
  shift: PeriodShift;
}

function reweight(sampler: Sampler, weights: Record<string, number> | undefined): Sampler {
  if (!weights) return sampler;
  const entries = sampler.values.map((v, i) => {
    const share = sampler.cumulative[i]! - (i > 0 ? sampler.cumulative[i - 1]! : 0);
    return [v, share * (weights[v] ?? 1)] as const;
  });
  return makeSampler(entries);
}

function makePlan(shift: PeriodShift = {}): Plan {
  validateShift(shift);
  const m = model();
  const cs = shift.categoryShares ?? {};
  const samplers: Samplers = {
    region: reweight(m.base.region, cs.REGION),
    tenure: reweight(m.base.tenure, cs.TENURE),
    pack: reweight(m.base.pack, cs.TOP_PACK),
    mrg: reweight(m.base.mrg, cs.MRG),
  };
  const drift = shift.conceptDrift ?? 0;
  const plan: Plan = {
    model: m,
    samplers,
    newValues: shift.newCategories ?? {},
    newShare: shift.newCategoryShare ?? DEFAULT_NEW_CATEGORY_SHARE,
    intercept: 0,
    altIntercept: 0,
    drift,
    shift,
  };
  calibrateIntercepts(plan);
  return plan;
}

/** 6-point Gauss–Hermite rule for E[f(σZ)], Z ~ N(0, 1): nodes √2·x_i, weights w_i/√π. */
const GH_NODES = [-2.3506049737, -1.335849074, -0.4360774119, 0.4360774119, 1.335849074, 2.3506049737].map(
  (x) => x * Math.SQRT2,
);
const GH_WEIGHTS = [0.0045300099, 0.1570673203, 0.7246295952, 0.7246295952, 0.1570673203, 0.0045300099].map(
  (w) => w / Math.sqrt(Math.PI),
);

/**
 * Bisection on the intercepts so the expected churn rate over the calibration sample is the real one.
 * The hidden term is integrated out by quadrature (not sampled), so the rate lands within ~0.001.
 */
function calibrateIntercepts(plan: Plan): void {
  const base = plan.model.base;
  const baseScores: number[] = [];
  const altScores: number[] = [];
  for (const l of plan.model.calibration) {
    const c = categories(l, base, plan.model);
    baseScores.push(baseScore(l, c.region, c.tenure, c.pack, c.uFreq));
    altScores.push(altScore(l, c.uData));
  }
  const expectedRate = (intercept: number, altIntercept: number): number => {
    let sum = 0;
    for (let i = 0; i < baseScores.length; i++) {
      const score =
        (1 - plan.drift) * (intercept + baseScores[i]!) + plan.drift * (altIntercept + altScores[i]!);
      for (let g = 0; g < GH_NODES.length; g++)
        sum += GH_WEIGHTS[g]! * sigmoid(score + MODEL.hiddenSigma * GH_NODES[g]!);
    }
    return sum / baseScores.length;
  };
  const solve = (f: (c: number) => number): number => {
    let lo = -20;
    let hi = 10;
    for (let i = 0; i < 28; i++) {
      const mid = (lo + hi) / 2;
      if (f(mid) > EXPRESSO_CHURN_RATE) hi = mid;
      else lo = mid;
    }
    return (lo + hi) / 2;
  };
  // The base intercept is fixed by the undrifted data; the alternative one makes the drifted mix keep the rate.
  const drift = plan.drift;
  plan.drift = 0;
  plan.intercept = solve((c) => expectedRate(c, 0));
  plan.drift = drift;
  plan.altIntercept = drift > 0 ? solve((c) => expectedRate(plan.intercept, c)) : 0;
}

function categories(l: Latent, s: Samplers, m: Model) {
  const region = l.missing[B_REGION] === 1 ? null : sample(s.region, l.uRegion);
  const tenure = sample(s.tenure, l.uTenure);
  const pack = l.missing[B_TOP_PACK] === 1 ? null : sample(s.pack, l.uPack);
  const uFreq = tableUniform(m.tables[V.FREQUENCE]!, l.value[V.FREQUENCE]!);
  const uData = tableUniform(m.tables[V.DATA_VOLUME]!, l.value[V.DATA_VOLUME]!);
  return { region, tenure, pack, uFreq, uData };
}

/** ARPU_SEGMENT is a third of REVENUE in the real file, exactly up to rounding. */
const arpuOfRevenue = (revenue: number): number => Math.round(revenue / 3);

const HEX = '0123456789abcdef';

/** user_id: `idPrefix`, then 12 hex digits that increase with the row index (so ids sort like the real file), then random hex. */
function makeUserId(rng: Rng, index: number, rows: number, prefix: string): string {
  const span = 2 ** 48;
  const head = Math.floor(((index + rng.next()) / rows) * span);
  let id = prefix + head.toString(16).padStart(12, '0');
  for (let w = 0; w < 4; w++) {
    const r = rng.nextUint32();
    for (let k = 0; k < 8 && id.length < 40; k++) id += HEX[(r >>> (k * 4)) & 15];
  }
  return id;
}

function validateOptions(options: GenerateOptions): void {
  if (!Number.isSafeInteger(options.rows) || options.rows < 0) {
    throw new RangeError(`rows must be a non-negative integer, got ${options.rows}`);
  }
  if (!Number.isSafeInteger(options.seed))
    throw new RangeError(`seed must be an integer, got ${options.seed}`);
  if (options.idPrefix !== undefined && !/^[0-9a-f]{0,8}$/.test(options.idPrefix)) {
    throw new RangeError(`idPrefix must be at most 8 lowercase hex digits, got "${options.idPrefix}"`);
  }
  if (options.rows > 2 ** 40) throw new RangeError('rows must be below 2^40');
}

/**
 * Yields `options.rows` customers, deterministic for a seed. O(rows) time, O(1) memory.
 * @example [...generateCustomerRows({ rows: 2, seed: 42 })].length // 2
 */
export function* generateCustomerRows(options: GenerateOptions): Generator<SyntheticRow> {
  validateOptions(options);
  const plan = makePlan(options.shift);
  const m = plan.model;
  const prefix = options.idPrefix ?? '';
  const newValues = CATEGORICAL_FEATURES.map((f) => plan.newValues[f] ?? []);
  const l = newLatent();
  for (let i = 0; i < options.rows; i++) {
    // One stream per row; the id takes a fixed number of draws, so it never changes the customer.
    const rng = createRng(options.seed, i);
    const userId = makeUserId(rng, i, options.rows, prefix);
    drawLatent(rng, l);
    const c = categories(l, plan.samplers, m);
    let score = plan.intercept + baseScore(l, c.region, c.tenure, c.pack, c.uFreq);
    if (plan.drift > 0)
      score = (1 - plan.drift) * score + plan.drift * (plan.altIntercept + altScore(l, c.uData));
    const churn: 0 | 1 = l.uChurn < sigmoid(score + MODEL.hiddenSigma * l.hidden) ? 1 : 0;
    // Averaging the logistic over the hidden term (probit approximation): the best score the row allows.
    const churnProbability = sigmoid(score / HIDDEN_SHRINK);

    const numeric = { REGULARITY: l.regularity } as Record<NumericFeature, number>;
    for (let v = 0; v < VALUE_COLUMNS.length; v++) {
      const column = VALUE_COLUMNS[v]!;
      numeric[column] =
        l.missing[VALUE_BLOCK_INDEX[v]!] === 1
          ? Number.NaN
          : roundRecorded(column, m.quantiles[v]!(tableUniform(m.tables[v]!, l.value[v]!)));
    }
    const categorical: Record<CategoricalFeature, string | null> = {
      REGION: c.region,
      TENURE: c.tenure,
      MRG: sample(plan.samplers.mrg, l.uNew[0]!),
      TOP_PACK: c.pack,
    };
    numeric.ARPU_SEGMENT = arpuOfRevenue(numeric.REVENUE);
    // Shifts change what is recorded; the label above came from the customer's real behaviour. Their
    // uniforms were drawn with the customer (uNew, uMissing), so a shift never moves other rows' draws.
    for (let k = 0; k < CATEGORICAL_FEATURES.length; k++) {
      const f = CATEGORICAL_FEATURES[k]!;
      const value = categorical[f];
      if (value === null || newValues[k]!.length === 0) continue;
      let u = 2 * k;
      categorical[f] = withNewCategory(value, newValues[k], plan.newShare, () => l.uNew[u++]!);
    }
    applyNumericScale(numeric, c.region, plan.shift, arpuOfRevenue);
    applyMissingBoost(
      plan.shift,
      (f) => l.uMissing[FEATURE_POSITION.get(f)!]!,
      (f) => {
        if (f in categorical) categorical[f as CategoricalFeature] = null;
        else numeric[f as NumericFeature] = Number.NaN;
      },
    );
    yield { userId, numeric, categorical, churn, churnProbability };
  }
}

/** RFC 4180 quoting: only values with a comma, quote or line break are quoted. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const CATEGORICAL_SET = new Set<string>(CATEGORICAL_FEATURES);

/** One CSV line (no line ending) in CSV_HEADER order, integers printed as the real file prints them. */
export function formatCsvLine(row: SyntheticRow, withLabel = true): string {
  let line = row.userId;
  for (let i = 1; i < CSV_HEADER.length - 1; i++) {
    const name = CSV_HEADER[i]!;
    line += ',';
    if (CATEGORICAL_SET.has(name)) {
      const v = row.categorical[name as CategoricalFeature];
      if (v !== null) line += csvField(v);
    } else {
      const v = row.numeric[name as NumericFeature];
      if (!Number.isNaN(v)) line += String(v);
    }
  }
  if (withLabel) line += `,${row.churn}`;
  return line;
}

export interface WriteSyntheticResult {
  rows: number;
  churnRate: number;
  bytes: number;
}

/**
 * Writes a generated Train.csv to `path` atomically (temporary file + rename), streaming: memory stays
 * flat whatever the row count. `onProgress(rowsWritten)` is called every 50,000 rows and at the end.
 */
export async function writeSyntheticCsv(
  path: string,
  options: GenerateOptions,
  onProgress?: (rowsWritten: number) => void,
): Promise<WriteSyntheticResult> {
  let churners = 0;
  let rows = 0;
  const bytes = await writeFileAtomically(path, async (sink) => {
    await sink.write(`${CSV_HEADER.join(',')}\n`);
    let block = '';
    for (const row of generateCustomerRows(options)) {
      block += `${formatCsvLine(row)}\n`;
      churners += row.churn;
      rows += 1;
      if (rows % 2000 === 0) {
        await sink.write(block);
        block = '';
      }
      if (rows % 50_000 === 0) onProgress?.(rows);
    }
    await sink.write(block);
    return sink.bytesWritten();
  });
  onProgress?.(rows);
  return { rows, churnRate: rows > 0 ? churners / rows : 0, bytes };
}
