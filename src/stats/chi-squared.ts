/**
 * Pearson's chi-square test of homogeneity on the 2 × k table [reference counts; current counts].
 */
import { logGamma } from './kolmogorov-distribution.js';

export interface ChiSquaredResult {
  statistic: number;
  pValue: number;
  /** Degrees of freedom: (2 − 1) · (columns kept − 1). */
  dof: number;
  /** Columns (categories) kept: those with a non-zero total. */
  columns: number;
}

/**
 * Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a): a power series for x < a + 1, a
 * Lentz continued fraction otherwise (Numerical Recipes §6.2), so tiny tails keep their relative accuracy.
 * Matches `scipy.special.gammaincc(a, x)` to about 1e-13 relative. Cost O(√x) iterations at most a few hundred.
 */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return Number.NaN;
  if (x === 0) return 1;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
    }
    return 1 - sum * Math.exp(logPrefix);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(logPrefix) * h;
}

/** Upper tail of the chi-square distribution: `scipy.stats.chi2.sf(x, dof)`. */
export function chiSquaredSf(x: number, dof: number): number {
  if (dof <= 0) return Number.NaN;
  if (x <= 0) return 1;
  return gammaQ(dof / 2, x / 2);
}

/**
 * Chi-square test that reference and current counts come from the same categorical distribution.
 *
 * Matches `scipy.stats.chi2_contingency([reference, current], correction=False)` (statistic, p-value,
 * dof). SciPy raises when a column total is zero (an expected frequency of 0); we drop such columns
 * instead, since a category absent from both samples carries no evidence. With fewer than two columns
 * left the test is undefined: statistic 0, p-value 1, dof 0.
 * Cost O(k). Throws RangeError on mismatched lengths, negative counts, or an empty sample.
 * @example chiSquaredTest([50, 50], [30, 70]).statistic // 8.333333333333334
 */
export function chiSquaredTest(reference: ArrayLike<number>, current: ArrayLike<number>): ChiSquaredResult {
  const k = reference.length;
  if (k !== current.length)
    throw new RangeError(`chi-square requires aligned counts (${k} vs ${current.length})`);
  let refTotal = 0;
  let curTotal = 0;
  const kept: number[] = [];
  for (let i = 0; i < k; i++) {
    const r = reference[i]!;
    const c = current[i]!;
    if (!(r >= 0) || !(c >= 0)) throw new RangeError(`chi-square count at column ${i} is negative or NaN`);
    refTotal += r;
    curTotal += c;
    if (r + c > 0) kept.push(i);
  }
  if (refTotal === 0 || curTotal === 0)
    throw new RangeError('chi-square requires at least one count in each sample');
  if (kept.length < 2) return { statistic: 0, pValue: 1, dof: 0, columns: kept.length };
  const total = refTotal + curTotal;
  let statistic = 0;
  for (const i of kept) {
    const colTotal = reference[i]! + current[i]!;
    const eRef = (refTotal * colTotal) / total;
    const eCur = (curTotal * colTotal) / total;
    statistic += (reference[i]! - eRef) ** 2 / eRef + (current[i]! - eCur) ** 2 / eCur;
  }
  const dof = kept.length - 1;
  return { statistic, pValue: chiSquaredSf(statistic, dof), dof, columns: kept.length };
}
