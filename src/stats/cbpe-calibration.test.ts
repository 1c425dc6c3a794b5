import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import { createRng } from '../data/rng.js';
import { estimatePerformance } from './cbpe.js';
import {
  applyCbpeCalibration,
  cbpeCalibrationProblem,
  cbpeCalibrator,
  fitCbpeCalibration,
} from './cbpe-calibration.js';
import { classRates, confusionAt } from './classification.js';
import { equalCountBinEdges, expectedCalibrationError } from './ece.js';

/** n rows: true churn probability q uniform, label ~ Bernoulli(q), served score = distort(q). */
function synthetic(n: number, seed: number, distort: (q: number) => number) {
  const rng = createRng(seed);
  const scores = new Float64Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const q = rng.next();
    labels[i] = rng.next() < q ? 1 : 0;
    scores[i] = distort(q);
  }
  return { scores, labels };
}

/** Per-chunk |estimated − realized| accuracy and the sampling standard error of realized accuracy. */
function chunkErrors(
  scores: Float64Array,
  labels: Uint8Array,
  threshold: number,
  chunk: number,
  calibrate = cbpeCalibrator(undefined),
) {
  const errors: number[] = [];
  const ses: number[] = [];
  for (let from = 0; from + chunk <= scores.length; from += chunk) {
    const s = scores.subarray(from, from + chunk);
    const y = labels.subarray(from, from + chunk);
    const realized = classRates(confusionAt(y, s, threshold)).accuracy;
    errors.push(Math.abs(estimatePerformance(s, threshold, calibrate).accuracy - realized));
    ses.push(Math.sqrt((realized * (1 - realized)) / chunk));
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return { mae: mean(errors), se: mean(ses), max: Math.max(...errors) };
}

describe('ECE on equal-count bins (NannyML)', () => {
  it('cuts index edges as _get_bin_index_edges does', () => {
    assert.deepEqual(equalCountBinEdges(20, 4), [
      [0, 5],
      [5, 10],
      [10, 15],
      [15, 20],
    ]);
    // 25 rows, 10 bins: width 2, twelve bins, the last one takes the remainder.
    const edges = equalCountBinEdges(25, 10);
    assert.equal(edges.length, 12);
    assert.deepEqual(edges.at(-1), [22, 25]);
    // n ≤ 2 · bins: bins halve to n / 2; below 4 rows there are no 2 bins.
    assert.equal(equalCountBinEdges(12, 10).length, 6);
    assert.throws(() => equalCountBinEdges(3, 10), RangeError);
  });
  it('weights each bin by its rows', () => {
    assert.ok(Math.abs(expectedCalibrationError([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 2) - 0.15) < 1e-15);
    assert.equal(expectedCalibrationError([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 2), 0);
  });
});

describe('needs calibration (NannyML rule)', () => {
  it('does not calibrate a single class, separable scores or a handful of rows', () => {
    assert.equal(fitCbpeCalibration([0.1, 0.4, 0.7], [1, 1, 1]).reason, 'single-class');
    const separable = fitCbpeCalibration(
      Array.from({ length: 100 }, (_, i) => i / 100),
      Array.from({ length: 100 }, (_, i) => (i >= 50 ? 1 : 0)),
    );
    assert.deepEqual([separable.calibrated, separable.reason], [false, 'separable']);
    assert.equal(fitCbpeCalibration([0.2, 0.6, 0.4, 0.9], [0, 1, 1, 0]).reason, 'too-few-rows');
    assert.throws(() => fitCbpeCalibration([0.2, 0.6], [0, 2]), /label at row 1/);
    assert.throws(() => fitCbpeCalibration([0.2, Number.NaN], [0, 1]), /score at row 1/);
  });

  it('calibrated scores: estimates within sampling error of realized accuracy, calibrated or not', () => {
    // NannyML's rule often calibrates scores that are calibrated already: isotonic's pooled ECE beats the
    // raw scores' on noise alone (scikit-learn + NannyML's functions: 16 of 20 such sets). Harmless: the
    // map stays near the diagonal. So the test pins the estimate, not the choice.
    for (let seed = 1; seed <= 5; seed++) {
      const reference = synthetic(5000, seed, (q) => q);
      const c = fitCbpeCalibration(reference.scores, reference.labels);
      assert.equal(c.reason, 'ece');
      assert.ok(c.eceBefore! < 0.03 && c.eceAfter! < 0.03, `ECE ${c.eceBefore} / ${c.eceAfter}`);
      const analysis = synthetic(20_000, 100 + seed, (q) => q);
      for (const calibrate of [undefined, cbpeCalibrator(c)]) {
        const e = chunkErrors(analysis.scores, analysis.labels, 0.5, 1000, calibrate);
        assert.ok(e.mae <= 1.5 * e.se, `seed ${seed}: MAE ${e.mae} vs sampling error ${e.se}`);
      }
    }
  });

  for (const [name, distort] of [
    ['cubed probabilities', (q: number) => q ** 3],
    ['squashed logit', (q: number) => 1 / (1 + Math.exp(-0.3 * Math.log(q / (1 - q)) + 0.8))],
  ] as const) {
    it(`${name}: calibrates, ECE drops, per-chunk accuracy error falls to sampling level`, () => {
      const reference = synthetic(5000, 3, distort);
      const c = fitCbpeCalibration(reference.scores, reference.labels);
      assert.equal(c.calibrated, true);
      assert.equal(c.method, 'isotonic');
      assert.ok(c.eceAfter! < c.eceBefore!, `ECE ${c.eceAfter} after vs ${c.eceBefore} before`);
      assert.equal(cbpeCalibrationProblem(JSON.parse(JSON.stringify(c))), undefined);
      const analysis = synthetic(20_000, 4, distort);
      const threshold = distort(0.5);
      const raw = chunkErrors(analysis.scores, analysis.labels, threshold, 1000);
      const fixed = chunkErrors(analysis.scores, analysis.labels, threshold, 1000, cbpeCalibrator(c));
      assert.ok(raw.mae > 2 * raw.se, `uncalibrated MAE ${raw.mae} should be well above ${raw.se}`);
      assert.ok(fixed.mae <= 1.5 * fixed.se, `calibrated MAE ${fixed.mae} vs sampling error ${fixed.se}`);
      assert.ok(fixed.mae < raw.mae / 2, `calibrated MAE ${fixed.mae} vs uncalibrated ${raw.mae}`);
      // The calibrated probabilities are the map applied row by row.
      const f = cbpeCalibrator(c)!;
      assert.deepEqual(applyCbpeCalibration(c, [0.01, 0.5]), Float64Array.from([f(0.01), f(0.5)]));
    });
  }

  it('an older profile (no calibration) and "none" are identity', () => {
    assert.equal(cbpeCalibrator(undefined), undefined);
    assert.deepEqual(applyCbpeCalibration(undefined, [0.3]), Float64Array.from([0.3]));
    assert.match(
      cbpeCalibrationProblem({ calibrated: true, thresholds: { x: [1, 0], y: [0, 1] } })!,
      /x\[1\]/,
    );
    assert.match(cbpeCalibrationProblem({ calibrated: true, thresholds: { x: [0], y: [2] } })!, /y\[0\]/);
  });

  it('estimated ROC AUC orders by raw score and rounds the sums to 5 decimals (NannyML ≥ 0.10.6)', () => {
    // Identity: rows by score descending, tps = 0.9, 1.0; fps = 0.1, 1.0 → AUC 0.9.
    assert.ok(Math.abs(estimatePerformance([0.1, 0.9], 0.5).rocAuc - 0.9) < 1e-12);
    // A step map: equal p for different s cannot change the cumulative sums.
    const c = fitCbpeCalibration(
      synthetic(3000, 5, (q) => q ** 3).scores,
      synthetic(3000, 5, (q) => q ** 3).labels,
    );
    const s = synthetic(1000, 6, (q) => q ** 3).scores;
    const p = applyCbpeCalibration(c, s);
    assert.equal(estimatePerformance(s, 0.1, cbpeCalibrator(c)).rocAuc, estimatePerformance(p, -1).rocAuc);
  });
});

describe("CBPE's calibration choice against NannyML's procedure on scikit-learn (oracle)", () => {
  const oracle = JSON.parse(readFileSync(oraclePath('sklearn-splits.json'), 'utf8')) as {
    decisions: {
      kind: string;
      n: number;
      scores: number[];
      labels: number[];
      ece_before: number;
      ece_after: number;
      ece_before_stable: number;
      ece_after_stable: number;
      calibrate: boolean;
    }[];
  };

  it('holds out the same rows, so the errors and the choice agree, borderline cases included', () => {
    for (const d of oracle.decisions) {
      const c = fitCbpeCalibration(d.scores, d.labels);
      const at = `${d.kind}, n ${d.n}`;
      assert.equal(c.reason, 'ece', at);
      assert.equal(c.calibrated, d.calibrate, at);
      // The same pooled rows, sorted in NumPy's order, give the same errors.
      assert.ok(
        Math.abs(c.eceBefore! - d.ece_before) < 1e-12,
        `${at}: ECE before ${c.eceBefore} vs ${d.ece_before}`,
      );
      assert.ok(
        Math.abs(c.eceAfter! - d.ece_after) < 1e-12,
        `${at}: ECE after ${c.eceAfter} vs ${d.ece_after}`,
      );
    }
    // The two well-calibrated references are the borderline ones: one is calibrated, one is not; and
    // sorted stably (tied rows in index order), the calibrated one would not have been.
    const calibrated = oracle.decisions.filter((d) => d.kind === 'calibrated');
    assert.deepEqual(
      calibrated.map((d) => d.calibrate),
      [false, true],
    );
    assert.ok(calibrated[1]!.ece_after_stable > calibrated[1]!.ece_before_stable);
  });
});
