/**
 * The distribution of the two-sided one-sample Kolmogorov-Smirnov statistic D_n (SciPy's `kstwo`), used
 * by the asymptotic branch of the two-sample KS test. A port of SciPy 1.10 `scipy.stats._ksstats._kolmogn`
 * (Simard & L'Ecuyer 2011) and of the one-sided exact sum `scipy.special.smirnov` (Birnbaum & Tingey).
 * Doubles throughout; where SciPy uses double-double arithmetic we sum positive terms in log space,
 * which keeps the relative error far below the 1e-6 the p-values need.
 */

const LOG_2PI = Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const SQRT3 = Math.sqrt(3);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const MIN_LOG = -708;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;
/** cephes MINLOG: below it exp() underflows. */
const CEPHES_MINLOG = -708.3964185322641;
const SMIRNOV_MAX_COMPUTE_N = 1000000;

function clip01(p: number): number {
  return Math.min(1, Math.max(0, p));
}

function logGamma(x: number): number {
  // Lanczos (g = 7, n = 9): ~15 significant digits for x > 0.
  const c = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.61503916999186,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * One-sided Smirnov survival function Pr(D+_n ≥ x), the exact Birnbaum-Tingey sum
 * x · Σ_{j=0}^{⌊n(1−x)⌋} C(n,j) (x + j/n)^{j−1} (1 − x − j/n)^{n−j}. Matches `scipy.special.smirnov(n, x)`.
 * Cost O(n(1 − x)).
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  const nxFloor = Math.floor(nx);
  const alpha = nx - nxFloor;
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) {
    const cdf = x * (1 + x) ** (n - 1);
    return 1 - cdf;
  }
  if (-2 * n * x * x < CEPHES_MINLOG) return 0;
  if (nxFloor >= n - 1) return (1 - x) ** n;
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  // Terms for j = 0 .. ⌊n(1−x)⌋, excluding the last one when n(1−x) is an integer (it is zero).
  let last = n - nxFloor - (alpha === 0 ? 0 : 1);
  if (alpha === 0) last -= 1;
  let logBinom = 0;
  let maxLog = Number.NEGATIVE_INFINITY;
  const logs = new Float64Array(last + 1);
  for (let j = 0; j <= last; j++) {
    const a = x + j / n;
    const b = 1 - x - j / n;
    const term = b > 0 ? logBinom + (j - 1) * Math.log(a) + (n - j) * Math.log(b) : Number.NEGATIVE_INFINITY;
    logs[j] = term;
    if (term > maxLog) maxLog = term;
    logBinom += Math.log(n - j) - Math.log(j + 1);
  }
  if (maxLog === Number.NEGATIVE_INFINITY) return 0;
  let sum = 0;
  for (let j = 0; j <= last; j++) sum += Math.exp(logs[j]! - maxLog);
  return clip01(x * sum * Math.exp(maxLog));
}

function logNFactorialDivNPowN(n: number): number {
  const coeffs = [
    -0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417,
    -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333,
  ];
  const rn = 1 / n;
  let poly = 0;
  for (const c of coeffs) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** Pr(D_n ≤ d) by the Durbin matrix (Marsaglia, Tsang & Wang 2003), as SciPy's `_kolmogn_DMTW`. */
function kolmogornDurbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1]!;
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;

  const matmul = (a: Float64Array, b: Float64Array): Float64Array => {
    const out = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < m; l++) {
        const ail = a[i * m + l]!;
        if (ail === 0) continue;
        for (let j = 0; j < m; j++) out[i * m + j]! += ail * b[l * m + j]!;
      }
    }
    return out;
  };
  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let hExpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      power = matmul(power, H);
      expnt += hExpnt;
    }
    H = matmul(H, H);
    hExpnt *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]!) > EP128) {
      for (let i = 0; i < H.length; i++) H[i]! /= EP128;
      hExpnt += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = power[(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      expnt -= 128;
    }
  }
  if (expnt !== 0) p *= 2 ** expnt;
  return clip01(p);
}

/** Pelz-Good asymptotic series for Pr(D_n ≤ x), as SciPy's `_kolmogn_PelzGood`; returns the SF if !cdf. */
function kolmogornPelzGood(n: number, x: number, cdf: boolean): number {
  if (x <= 0) return cdf ? 0 : 1;
  if (x >= 1) return cdf ? 1 : 0;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < MIN_LOG) return cdf ? 0 : 1;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qpower + coeffs[i]!;
  }
  const denoms = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT_2PI) / denoms[i]!;
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = SQRT3 * z;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k;
    const qp = q ** k2;
    k2extra += k2 * qp;
    const kpi = Math.PI * k;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qp;
  }
  K[2]! += (k2extra * PI2 * SQRT_2PI) / (-36 * z3);
  K[3]! += (k3extra * PI2 * SQRT_2PI) / (216 * z6);
  for (let i = 0; i < 4; i++) K[i] = K[i]! / n ** (i / 2);
  if (!cdf) {
    for (let i = 0; i < 4; i++) K[i] = -K[i]!;
    K[0]! += 1;
  }
  return K[0]! + K[1]! + K[2]! + K[3]!;
}

/**
 * Survival function of D_n: Pr(D_n ≥ x) for integer n ≥ 1.
 * Matches `scipy.stats.kstwo.sf(x, n)` (SciPy 1.10). Where SciPy picks the Pomeranz recursion
 * (n ≤ 140, 0.754693 < n·x² ≤ 4) we use the Durbin matrix, another exact algorithm for the same value.
 * Cost: O(n) to O(k³ log n) with k = ⌈n·x⌉ for the matrix branch.
 */
export function kolmogorovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - prob);
  }
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 4) return clip01(1 - kolmogornDurbinCdf(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clip01(2 * smirnovSf(n, x));
  let cdf: number;
  if (nxSquared >= 18) cdf = 1;
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdf = kolmogornDurbinCdf(n, x);
  else cdf = kolmogornPelzGood(n, x, true);
  return clip01(1 - cdf);
}

export { logGamma };
