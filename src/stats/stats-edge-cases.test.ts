import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  estimatePerformance,
  expectedConfusion,
  expectedConfusionIncrement,
  expectedRocAuc,
} from './cbpe.js';
import { chiSquaredTest } from './chi-squared.js';
import { ksTest } from './ks-test.js';
import { DECILE_PROBS, psi, psiFromCounts } from './psi.js';
import { wasserstein, wassersteinNormed } from './wasserstein.js';

describe('statistics edge cases', () => {
  it('psi floors empty bins instead of going infinite', () => {
    assert.ok(Number.isFinite(psi([0.5, 0.5, 0], [0.5, 0.4, 0.1])));
    assert.equal(psiFromCounts([10, 10], [5, 5]), 0);
    assert.throws(() => psi([1], [0.5, 0.5]), RangeError);
  });
  it('decile probabilities follow numpy.linspace', () => {
    // numpy.linspace(0.1, 0.9, 9), printed by NumPy: the 3rd and 7th are not the literals 0.3 and 0.7.
    assert.deepEqual(
      [...DECILE_PROBS],
      [0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6, 0.7000000000000001, 0.8, 0.9],
    );
  });
  it('chi-square drops categories absent from both samples', () => {
    const withEmpty = chiSquaredTest([50, 0, 50], [30, 0, 70]);
    const without = chiSquaredTest([50, 50], [30, 70]);
    assert.equal(withEmpty.statistic, without.statistic);
    assert.equal(withEmpty.dof, 1);
    assert.deepEqual(chiSquaredTest([5, 0], [7, 0]), { statistic: 0, pValue: 1, dof: 0, columns: 1 });
  });
  it('ks and wasserstein refuse empty samples and ignore NaN', () => {
    assert.throws(() => ksTest([], [1]), RangeError);
    assert.equal(ksTest([1, 2, Number.NaN], [1, 2]).statistic, 0);
    assert.equal(wasserstein([0, 1, 3], [5, 6, 8]), 5);
    assert.equal(wassersteinNormed(0, 0), 0);
    assert.equal(wassersteinNormed(1, 0), Number.POSITIVE_INFINITY);
  });
  it('cbpe totals equal the per-prediction counter increments', () => {
    const probabilities = [0.91, 0.2, 0.5, 0.49, 0.05, 0.77];
    const summed = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (const p of probabilities) {
      const inc = expectedConfusionIncrement(p, p >= 0.5 ? 1 : 0);
      summed.tp += inc.tp;
      summed.fp += inc.fp;
      summed.tn += inc.tn;
      summed.fn += inc.fn;
    }
    assert.deepEqual(expectedConfusion(probabilities, 0.5), summed);
    const c = expectedConfusion([0.9, 0.2], 0.5);
    assert.ok(Math.abs(c.tp - 0.9) < 1e-15 && Math.abs(c.fp - 0.1) < 1e-15);
    assert.ok(Math.abs(c.tn - 0.8) < 1e-15 && Math.abs(c.fn - 0.2) < 1e-15);
    assert.ok(Math.abs(expectedRocAuc([0.9, 0.1]) - 0.9) < 1e-12);
    const est = estimatePerformance(probabilities, 0.5);
    assert.ok(est.precision > 0 && est.precision < 1);
    assert.throws(() => expectedConfusion([1.2], 0.5), RangeError);
  });
  it('cbpe with the classes the model gave: sums of p over rows with ŷ = 1 and ŷ = 0 (NannyML y_pred)', () => {
    const scores = [0.91, 0.2, 0.5, 0.49, 0.05, 0.77];
    // A model whose decisions disagree with any threshold on its score.
    const classes = [0, 1, 1, 0, 1, 0];
    const c = expectedConfusion(scores, classes);
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-12;
    assert.ok(near(c.tp, 0.2 + 0.5 + 0.05) && near(c.fp, 0.8 + 0.5 + 0.95), JSON.stringify(c));
    assert.ok(near(c.fn, 0.91 + 0.49 + 0.77) && near(c.tn, 0.09 + 0.51 + 0.23), JSON.stringify(c));
    const summed = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (const [i, s] of scores.entries()) {
      const inc = expectedConfusionIncrement(s, classes[i] as 0 | 1);
      for (const k of ['tp', 'fp', 'tn', 'fn'] as const) summed[k] += inc[k];
    }
    assert.deepEqual(c, summed, 'the counters add the same amounts');
    // Classes equal to the threshold rule give the threshold's estimate.
    const atThreshold = scores.map((s) => (s >= 0.5 ? 1 : 0));
    assert.deepEqual(estimatePerformance(scores, atThreshold), estimatePerformance(scores, 0.5));
    const est = estimatePerformance(scores, classes);
    assert.ok(near(est.specificity, c.tn / (c.tn + c.fp)));
    assert.equal(est.rocAuc, estimatePerformance(scores, 0.5).rocAuc, 'ROC AUC from the scores alone');
    assert.throws(() => expectedConfusion(scores, [0, 1]), /a predicted class per row/);
    assert.throws(() => expectedConfusion([0.3], [2]), /predicted class at row 0 is 2/);
  });
});
