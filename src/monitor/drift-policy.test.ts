import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ColumnarTable } from '../data/columnar-table.js';
import { createRng } from '../data/rng.js';
import { evaluateDataQuality } from './data-quality.js';
import { evaluateDrift, resolveDriftPolicy, windowFromTable } from './drift-policy.js';
import { buildDriftReport, buildTableProfile } from './report.js';
import { renderReportHtml } from './report-html.js';
import { calibrateDriftThresholds } from './threshold-calibration.js';

/** A table with a normal numeric column `x` (mean `shift`), a categorical `region`, and a label. */
function makeTable(rows: number, seed: number, shift = 0, regionSkew = 0): ColumnarTable {
  const rng = createRng(seed);
  const x = new Float64Array(rows);
  const stable = new Float64Array(rows);
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    x[i] = rng.next() < 0.05 ? Number.NaN : shift + rng.normal();
    stable[i] = 10 + 2 * rng.normal();
    const u = rng.next();
    codes[i] = u < 0.5 - regionSkew ? 0 : u < 0.8 ? 1 : 2;
  }
  return {
    rowCount: rows,
    header: ['x', 'stable', 'region'],
    columns: new Map([
      ['x', { kind: 'numeric', name: 'x', values: x }],
      ['stable', { kind: 'numeric', name: 'stable', values: stable }],
      ['region', { kind: 'categorical', name: 'region', codes, dictionary: ['north', 'south', 'east'] }],
    ]),
  };
}

describe('drift policy', () => {
  const reference = makeTable(20000, 1);
  const profile = buildTableProfile(reference, ['x', 'stable', 'region'], {
    sampleSize: 5000,
    rng: createRng(2),
  });

  it('uses KS / chi-square for small windows and PSI for large ones', () => {
    const small = evaluateDrift(profile, windowFromTable(profile, makeTable(500, 3)));
    assert.deepEqual(
      small.features.map((f) => f.method),
      ['ks', 'ks', 'chi_square'],
    );
    const large = evaluateDrift(profile, windowFromTable(profile, makeTable(5000, 4)));
    assert.deepEqual(
      large.features.map((f) => f.method),
      ['psi', 'psi', 'psi'],
    );
    // Every statistic is still computed, not only the chosen one.
    assert.ok(
      large.features[0]!.scores.ks !== undefined &&
        large.features[0]!.scores.wasserstein_normed !== undefined,
    );
    assert.ok(large.features[2]!.pValues.chi_square !== undefined);
  });

  it('flags a shifted column and leaves a stable one alone', () => {
    const result = evaluateDrift(profile, windowFromTable(profile, makeTable(5000, 5, 0.5, 0.2)));
    const byName = Object.fromEntries(result.features.map((f) => [f.feature, f]));
    assert.equal(byName.x!.drifted, true);
    assert.equal(byName.region!.drifted, true);
    assert.equal(byName.stable!.drifted, false);
    assert.equal(result.driftShare, 2 / 3);
    assert.equal(result.datasetDrift, true);
  });

  it('gives no verdict below the minimum window', () => {
    const result = evaluateDrift(
      profile,
      windowFromTable(profile, makeTable(100, 6, 3)),
      resolveDriftPolicy(),
    );
    assert.ok(result.features.every((f) => f.drifted === null));
    assert.equal(result.judged, 0);
    assert.equal(result.datasetDrift, null);
  });

  it('counts a missingness shift as drift even when the values do not move', () => {
    const current = makeTable(5000, 7);
    const x = (current.columns.get('x') as { values: Float64Array }).values;
    for (let i = 0; i < 1500; i++) x[i] = Number.NaN;
    const window = windowFromTable(profile, current);
    const result = evaluateDrift(profile, window);
    assert.equal(result.features.find((f) => f.feature === 'x')!.drifted, true);
    const quality = evaluateDataQuality(profile.features, window, current);
    assert.match(quality.find((q) => q.feature === 'x')!.issues.join(), /missing share rose/);
  });

  it('rejects bad options', () => {
    assert.throws(() => resolveDriftPolicy({ minWindowRows: 0 }), RangeError);
    assert.throws(() => resolveDriftPolicy({ alpha: 2 }), RangeError);
  });
});

describe('threshold calibration', () => {
  it('sets thresholds with about the requested false-alarm rate on fresh reference windows', () => {
    const reference = makeTable(20000, 11);
    const profile = buildTableProfile(reference, ['x', 'stable', 'region'], {
      sampleSize: 5000,
      rng: createRng(12),
    });
    const started = performance.now();
    const thresholds = calibrateDriftThresholds(profile, makeTable(20000, 13), {
      windowSize: 1000,
      windows: 200,
      quantile: 0.95,
      rng: createRng(14),
    });
    assert.ok(performance.now() - started < 10000);
    assert.equal(thresholds.windowSize, 1000);
    assert.ok(thresholds.byFeature.x!.psi! > 0 && thresholds.byFeature.x!.psi! < 0.1);
    // Out-of-sample false alarms: fresh windows from the same distribution exceed the threshold ~5 %.
    let alarms = 0;
    const trials = 60;
    for (let t = 0; t < trials; t++) {
      const result = evaluateDrift(
        { ...profile, thresholds },
        windowFromTable(profile, makeTable(1000, 100 + t)),
      );
      if (result.features.find((f) => f.feature === 'stable')!.drifted) alarms++;
    }
    assert.ok(alarms <= 12, `${alarms}/${trials} false alarms`);
    // A real shift is caught with the calibrated threshold.
    const shifted = evaluateDrift(
      { ...profile, thresholds },
      windowFromTable(profile, makeTable(1000, 999, 0.4)),
    );
    assert.equal(shifted.features.find((f) => f.feature === 'x')!.drifted, true);
    assert.equal(shifted.features.find((f) => f.feature === 'x')!.thresholdSource, 'calibrated');
  });

  it('refuses a held-out part smaller than a window', () => {
    const profile = buildTableProfile(makeTable(1000, 1), ['x']);
    assert.throws(
      () => calibrateDriftThresholds(profile, makeTable(50, 2), { windowSize: 100, rng: createRng(1) }),
      RangeError,
    );
  });
});

describe('offline report core', () => {
  it('reports drift, quality and html without external references', () => {
    const report = buildDriftReport(makeTable(5000, 21), makeTable(3000, 22, 1), { now: () => new Date(0) });
    assert.equal(report.generatedAt, '1970-01-01T00:00:00.000Z');
    const x = report.features.find((f) => f.feature === 'x')!;
    assert.equal(x.drifted, true);
    assert.equal(report.features.find((f) => f.feature === 'stable')!.drifted, false);
    assert.equal(x.bins.labels.length, x.bins.reference.length);
    const html = renderReportHtml(report);
    assert.doesNotMatch(html, /<script|<link|https?:|src=/i);
    assert.match(html, /<figure class="chart drift" id="f-x"/);
  });
});
