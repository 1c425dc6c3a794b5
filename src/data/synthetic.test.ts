import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withTempDir } from '../../test/helpers/temp-dir.js';
import { parseCsvText } from './csv-reader.js';
import { CSV_HEADER, NUMERIC_FEATURES, type NumericFeature } from './customer-schema.js';
import {
  EXPRESSO_CHURN_RATE,
  FULLY_INACTIVE,
  NUMERIC_PROFILE,
  REGION_CHURN_IF_PRESENT,
  REGION_MISSING_SHARE,
  REGIONS,
  TENURES,
  TOP_PACK_MISSING_SHARE,
  TOP_PACKS_RANKED,
} from './expresso-profile.js';
import { formatCsvLine, generateCustomerRows, type SyntheticRow, writeSyntheticCsv } from './synthetic.js';

/** pandas' default (linear) quantile of sorted values. */
function quantile(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? 0) - sorted[lo]!);
}

function present(rows: readonly SyntheticRow[], f: NumericFeature): number[] {
  return rows
    .map((r) => r.numeric[f])
    .filter((v) => !Number.isNaN(v))
    .sort((a, b) => a - b);
}

function corr(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((s, v) => s + v, 0) / n;
  const my = ys.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Tolerances as documented in docs/data.md ("How faithful is the synthetic file"). */
const TOL = {
  churnRate: 0.006,
  churnIfRegionPresent: 0.005,
  missingShare: 0.01,
  quartileRelative: 0.1,
  quartileAbsolute: 1,
  share: 0.01,
};

describe('synthetic Train.csv against the public profile (200,000 rows)', () => {
  const N = 200_000;
  const rows = [...generateCustomerRows({ rows: N, seed: 42 })];

  it('has the real churn rate', () => {
    const rate = rows.reduce((s, r) => s + r.churn, 0) / N;
    assert.ok(Math.abs(rate - EXPRESSO_CHURN_RATE) <= TOL.churnRate, `churn rate ${rate}`);
  });

  it('has each column’s missing share', () => {
    for (const f of NUMERIC_FEATURES) {
      const share = rows.filter((r) => Number.isNaN(r.numeric[f])).length / N;
      assert.ok(
        Math.abs(share - NUMERIC_PROFILE[f].missingShare) <= TOL.missingShare,
        `${f} missing ${share}`,
      );
    }
    const region = rows.filter((r) => r.categorical.REGION === null).length / N;
    assert.ok(Math.abs(region - REGION_MISSING_SHARE) <= TOL.missingShare, `REGION missing ${region}`);
    const pack = rows.filter((r) => r.categorical.TOP_PACK === null).length / N;
    assert.ok(Math.abs(pack - TOP_PACK_MISSING_SHARE) <= TOL.missingShare, `TOP_PACK missing ${pack}`);
    assert.ok(
      rows.every((r) => r.categorical.TENURE !== null && r.categorical.MRG === 'NO'),
      'TENURE and MRG never missing',
    );
  });

  it('has the full-data quartiles (and p05/p95) of every numeric column', () => {
    for (const f of NUMERIC_FEATURES) {
      const values = present(rows, f);
      const p = NUMERIC_PROFILE[f];
      const checks: [string, number, number][] = [
        ['q25', 0.25, p.q25],
        ['q50', 0.5, p.q50],
        ['q75', 0.75, p.q75],
        ['p05', 0.05, p.p05],
        ['p95', 0.95, p.p95],
      ];
      for (const [name, at, expected] of checks) {
        const got = quantile(values, at);
        // p05/p95 come from a 20k sample: twice the tolerance.
        const factor = name.startsWith('q') ? 1 : 2;
        const tolerance = Math.max(TOL.quartileAbsolute * factor, TOL.quartileRelative * factor * expected);
        assert.ok(Math.abs(got - expected) <= tolerance, `${f} ${name} ${got} vs ${expected}`);
      }
      assert.ok(values[0]! >= p.min && values[values.length - 1]! <= p.max, `${f} range`);
      assert.ok(
        values.every((v) => Number.isInteger(v)),
        `${f} integers`,
      );
    }
  });

  it('has the category shares, including the long tail of TOP_PACK names', () => {
    const share = (get: (r: SyntheticRow) => string | null, value: string) => {
      const known = rows.filter((r) => get(r) !== null);
      return known.filter((r) => get(r) === value).length / known.length;
    };
    for (const [name, expected] of REGIONS) {
      const got = share((r) => r.categorical.REGION, name);
      assert.ok(Math.abs(got - expected) <= TOL.share, `REGION ${name} ${got}`);
    }
    for (const [name, expected] of TENURES) {
      const got = share((r) => r.categorical.TENURE, name);
      assert.ok(Math.abs(got - expected) <= TOL.share, `TENURE ${name} ${got}`);
    }
    for (const [name, expected] of TOP_PACKS_RANKED.slice(0, 14)) {
      const got = share((r) => r.categorical.TOP_PACK, name);
      assert.ok(Math.abs(got - expected) <= TOL.share, `TOP_PACK ${name} ${got}`);
    }
    const distinctPacks = new Set(rows.map((r) => r.categorical.TOP_PACK).filter((v) => v !== null));
    assert.ok(distinctPacks.size >= 90 && distinctPacks.size <= 140, `${distinctPacks.size} distinct packs`);
  });

  it('keeps the relations between columns', () => {
    const both = rows.filter((r) => !Number.isNaN(r.numeric.MONTANT) && !Number.isNaN(r.numeric.REVENUE));
    const rMontant = corr(
      both.map((r) => Math.log(r.numeric.MONTANT)),
      both.map((r) => Math.log(r.numeric.REVENUE)),
    );
    assert.ok(rMontant > 0.95, `corr(log MONTANT, log REVENUE) ${rMontant}`);
    const freq = rows.filter(
      (r) => !Number.isNaN(r.numeric.FREQUENCE_RECH) && !Number.isNaN(r.numeric.FREQUENCE),
    );
    const rFreq = corr(
      freq.map((r) => r.numeric.FREQUENCE_RECH),
      freq.map((r) => r.numeric.FREQUENCE),
    );
    assert.ok(rFreq > 0.9, `corr(FREQUENCE_RECH, FREQUENCE) ${rFreq}`);
    for (const r of rows) {
      if (Number.isNaN(r.numeric.REVENUE))
        assert.ok(Number.isNaN(r.numeric.ARPU_SEGMENT), 'ARPU missing with REVENUE');
      else assert.equal(r.numeric.ARPU_SEGMENT, Math.round(r.numeric.REVENUE / 3));
      assert.equal(Number.isNaN(r.numeric.MONTANT), Number.isNaN(r.numeric.FREQUENCE_RECH));
      assert.equal(Number.isNaN(r.numeric.REVENUE), Number.isNaN(r.numeric.FREQUENCE));
      assert.equal(r.categorical.TOP_PACK === null, Number.isNaN(r.numeric.FREQ_TOP_PACK));
    }
    // Blocks nest: most rows without MONTANT have no ON_NET either, and REVENUE and MONTANT mostly agree.
    const noMontant = rows.filter((r) => Number.isNaN(r.numeric.MONTANT));
    const nested = noMontant.filter((r) => Number.isNaN(r.numeric.ON_NET)).length / noMontant.length;
    assert.ok(nested > 0.85, `ON_NET missing in ${nested} of rows without MONTANT`);
    const disagree =
      rows.filter((r) => Number.isNaN(r.numeric.MONTANT) !== Number.isNaN(r.numeric.REVENUE)).length / N;
    assert.ok(disagree > 0 && disagree < 0.08, `MONTANT/REVENUE missingness disagree on ${disagree}`);
  });

  it('has the real churn among rows whose REGION is present', () => {
    // ≈ 121,000 such rows: the standard error of the rate is ≈ 0.0004, far inside the tolerance.
    const regionPresent = rows.filter((r) => r.categorical.REGION !== null);
    const rate = regionPresent.reduce((s, r) => s + r.churn, 0) / regionPresent.length;
    assert.ok(
      Math.abs(rate - REGION_CHURN_IF_PRESENT) <= TOL.churnIfRegionPresent,
      `churn | REGION present ${rate} (real ${REGION_CHURN_IF_PRESENT})`,
    );
  });

  it('makes churn depend on missingness and REGULARITY as the profile says', () => {
    const rate = (subset: SyntheticRow[]) => subset.reduce((s, r) => s + r.churn, 0) / subset.length;
    const regionMissing = rate(rows.filter((r) => r.categorical.REGION === null));
    assert.ok(
      regionMissing > 0.38 && regionMissing < 0.5,
      `churn | REGION missing ${regionMissing} (real 0.448)`,
    );
    const band = (lo: number, hi: number) =>
      rate(rows.filter((r) => r.numeric.REGULARITY >= lo && r.numeric.REGULARITY <= hi));
    assert.ok(band(1, 20) > 0.3, `REGULARITY 1-20 ${band(1, 20)} (real 0.379)`);
    assert.ok(band(21, 40) < 0.09, `REGULARITY 21-40 ${band(21, 40)} (real 0.046)`);
    assert.ok(band(41, 62) < 0.025, `REGULARITY 41-62 ${band(41, 62)} (real 0.009)`);
    const usage = NUMERIC_FEATURES.filter((f) => f !== 'REGULARITY');
    const inactive = rows.filter(
      (r) =>
        r.categorical.REGION === null &&
        r.categorical.TOP_PACK === null &&
        r.categorical.TENURE === 'K > 24 month' &&
        usage.every((f) => Number.isNaN(r.numeric[f])),
    );
    const at = (k: number) => inactive.filter((r) => r.numeric.REGULARITY === k);
    const share1 = at(1).length / N;
    const real1 = FULLY_INACTIVE[1]![0] / 2_154_048;
    assert.ok(
      Math.abs(share1 - real1) < 0.015,
      `fully inactive at REGULARITY 1: ${share1} of rows (real ${real1})`,
    );
    assert.ok(rate(at(1)) > 0.7 && rate(at(1)) < 0.88, `inactive churn at 1: ${rate(at(1))} (real 0.79)`);
    assert.ok(rate(at(10)) > 0.3 && rate(at(10)) < 0.55, `inactive churn at 10: ${rate(at(10))} (real 0.37)`);
  });

  it('writes user_id as 40 lowercase hex digits, unique and ascending', () => {
    for (let i = 1; i < 5000; i++) assert.ok(rows[i - 1]!.userId < rows[i]!.userId, `ids ascending at ${i}`);
    assert.ok(
      rows.slice(0, 5000).every((r) => /^[0-9a-f]{40}$/.test(r.userId)),
      'ids are 40 lowercase hex digits',
    );
  });
});

describe('writeSyntheticCsv', () => {
  it('writes the real header and is byte-identical for one seed, different for another', async () => {
    await withTempDir(async (dir) => {
      const digest = async (path: string) =>
        createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
      const a = await writeSyntheticCsv(join(dir, 'a.csv'), { rows: 20_000, seed: 7 });
      await writeSyntheticCsv(join(dir, 'b.csv'), { rows: 20_000, seed: 7 });
      await writeSyntheticCsv(join(dir, 'c.csv'), { rows: 20_000, seed: 8 });
      assert.equal(await digest(join(dir, 'a.csv')), await digest(join(dir, 'b.csv')));
      assert.notEqual(await digest(join(dir, 'a.csv')), await digest(join(dir, 'c.csv')));
      const text = await readFile(join(dir, 'a.csv'), 'utf8');
      assert.equal(text.slice(0, text.indexOf('\n')), CSV_HEADER.join(','));
      assert.equal(a.rows, 20_000);
      assert.equal(a.bytes, Buffer.byteLength(text));
      // It reads back with the strict reader, and what it says matches what was generated.
      const { table } = parseCsvText(text, 'a.csv');
      assert.equal(table.rowCount, 20_000);
      assert.equal(
        table.target?.reduce((s, v) => s + v, 0),
        Math.round(a.churnRate * 20_000),
      );
    });
  });
});

describe('PeriodShift', () => {
  const N = 20_000;
  const base = [...generateCustomerRows({ rows: N, seed: 11 })];
  const median = (rows: SyntheticRow[], f: NumericFeature) => quantile(present(rows, f), 0.5);

  it('is the identity when empty, and keeps the same customers under a shift', () => {
    const same = [...generateCustomerRows({ rows: N, seed: 11, shift: {} })];
    assert.deepEqual(
      same.slice(0, 100).map((r) => formatCsvLine(r)),
      base.slice(0, 100).map((r) => formatCsvLine(r)),
    );
    const shifted = [
      ...generateCustomerRows({ rows: N, seed: 11, shift: { numericScale: { MONTANT: 1.6 } } }),
    ];
    assert.deepEqual(
      shifted.map((r) => r.userId),
      base.map((r) => r.userId),
    );
    assert.deepEqual(
      shifted.map((r) => r.churn),
      base.map((r) => r.churn),
    );
  });

  it('numericScale multiplies MONTANT (median ×1.6) and only in onlyRegions when given', () => {
    const shifted = [
      ...generateCustomerRows({ rows: N, seed: 11, shift: { numericScale: { MONTANT: 1.6 } } }),
    ];
    const ratio = median(shifted, 'MONTANT') / median(base, 'MONTANT');
    assert.ok(Math.abs(ratio - 1.6) < 0.05, `median ratio ${ratio}`);
    const dakar = [
      ...generateCustomerRows({
        rows: N,
        seed: 11,
        shift: { numericScale: { MONTANT: 1.6 }, onlyRegions: ['DAKAR'] },
      }),
    ];
    for (let i = 0; i < N; i++) {
      const before = base[i]!.numeric.MONTANT;
      if (Number.isNaN(before)) continue;
      const after = dakar[i]!.numeric.MONTANT;
      if (base[i]!.categorical.REGION === 'DAKAR')
        assert.ok(Math.abs(after - before * 1.6) <= 25, `${after} vs ${before}`);
      else assert.equal(after, before);
    }
    // REVENUE scaled → ARPU_SEGMENT follows.
    const revenue = [
      ...generateCustomerRows({ rows: 2000, seed: 11, shift: { numericScale: { REVENUE: 2 } } }),
    ];
    for (const r of revenue)
      if (!Number.isNaN(r.numeric.REVENUE))
        assert.equal(r.numeric.ARPU_SEGMENT, Math.round(r.numeric.REVENUE / 3));
  });

  it('missingBoost, categoryShares and newCategories change what they name', () => {
    const shifted = [
      ...generateCustomerRows({
        rows: N,
        seed: 11,
        shift: {
          missingBoost: { DATA_VOLUME: 0.5 },
          categoryShares: { REGION: { DAKAR: 0 } },
          newCategories: { TOP_PACK: ['Data:5000F=50GB,30d'] },
          newCategoryShare: 0.2,
        },
      }),
    ];
    const miss = (rows: SyntheticRow[]) => rows.filter((r) => Number.isNaN(r.numeric.DATA_VOLUME)).length / N;
    const expected = miss(base) + 0.5 * (1 - miss(base));
    assert.ok(
      Math.abs(miss(shifted) - expected) < 0.015,
      `DATA_VOLUME missing ${miss(shifted)} vs ${expected}`,
    );
    assert.equal(shifted.filter((r) => r.categorical.REGION === 'DAKAR').length, 0);
    assert.equal(
      shifted.filter((r) => r.categorical.REGION === null).length,
      base.filter((r) => r.categorical.REGION === null).length,
    );
    const packs = shifted.filter((r) => r.categorical.TOP_PACK !== null);
    const fresh = packs.filter((r) => r.categorical.TOP_PACK === 'Data:5000F=50GB,30d').length / packs.length;
    assert.ok(Math.abs(fresh - 0.2) < 0.02, `new pack share ${fresh}`);
  });

  it('conceptDrift changes labels but not inputs, keeping the churn rate', () => {
    const drifted = [...generateCustomerRows({ rows: N, seed: 11, shift: { conceptDrift: 1 } })];
    assert.deepEqual(
      drifted.slice(0, 200).map((r) => formatCsvLine(r, false)),
      base.slice(0, 200).map((r) => formatCsvLine(r, false)),
    );
    const rate = drifted.reduce((s, r) => s + r.churn, 0) / N;
    assert.ok(Math.abs(rate - EXPRESSO_CHURN_RATE) < 0.02, `drifted churn rate ${rate}`);
    const agree = drifted.filter((r, i) => r.churn === base[i]!.churn).length / N;
    assert.ok(agree < 0.8, `labels agree on ${agree} of rows`);
    // Under full drift the inactive mass no longer churns most.
    const inactive = drifted.filter((r) => r.categorical.REGION === null && Number.isNaN(r.numeric.REVENUE));
    const inactiveRate = inactive.reduce((s, r) => s + r.churn, 0) / inactive.length;
    assert.ok(inactiveRate < 0.2, `inactive churn under drift ${inactiveRate}`);
  });

  it('rejects bad options', () => {
    assert.throws(() => [...generateCustomerRows({ rows: -1, seed: 1 })], RangeError);
    assert.throws(
      () => [...generateCustomerRows({ rows: 1, seed: 1, shift: { conceptDrift: 2 } })],
      RangeError,
    );
    assert.throws(() => [...generateCustomerRows({ rows: 1, seed: 1, idPrefix: 'XYZ' })], RangeError);
    const [row] = [...generateCustomerRows({ rows: 1, seed: 1, idPrefix: 'ab12' })];
    assert.match(row!.userId, /^ab12[0-9a-f]{36}$/);
  });
});
