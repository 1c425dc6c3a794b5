import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import { averagePrecision, calibrationCurve, classificationMetrics, rocAuc } from './classification.js';

interface ClassificationCase {
  name: string;
  y_true: number[];
  score: number[];
  threshold: number;
  roc_auc: number;
  log_loss: number;
  brier: number;
  average_precision: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  confusion: { tn: number; fp: number; fn: number; tp: number };
  calibration_uniform_10: { prob_true: number[]; prob_pred: number[] };
}

const oracle = JSON.parse(readFileSync(oraclePath('classification.json'), 'utf8')) as {
  cases: ClassificationCase[];
};

function close(actual: number, expected: number, what: string, rel = 1e-9): void {
  const tolerance = rel * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: got ${actual}, expected ${expected}`);
}

function closeArray(actual: readonly number[], expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what} length`);
  for (const [i, e] of expected.entries()) close(actual[i]!, e, `${what}[${i}]`);
}

describe('classification metrics against scikit-learn (oracle)', () => {
  assert.ok(oracle.cases.length > 0);
  for (const c of oracle.cases) {
    it(c.name, () => {
      const m = classificationMetrics(c.y_true, c.score, c.threshold);
      assert.equal(m.rows, c.y_true.length);
      close(m.rocAuc, c.roc_auc, 'roc_auc');
      close(m.logLoss, c.log_loss, 'log_loss');
      close(m.brier, c.brier, 'brier');
      close(m.averagePrecision, c.average_precision, 'average_precision');
      close(m.accuracy, c.accuracy, 'accuracy');
      close(m.precision, c.precision, 'precision');
      close(m.recall, c.recall, 'recall');
      close(m.f1, c.f1, 'f1');
      const { tp, fp, tn, fn } = c.confusion;
      assert.deepEqual(m.confusion, { tp, fp, tn, fn });
      // sklearn's recall_score(y, ŷ, pos_label=0) from its own confusion matrix.
      close(m.specificity, tn + fp === 0 ? 0 : tn / (tn + fp), 'specificity');
      const classes = c.score.map((s) => (s >= c.threshold ? 1 : 0));
      assert.deepEqual(classificationMetrics(c.y_true, c.score, classes), m, 'the same ŷ given as classes');
      const curve = calibrationCurve(c.y_true, c.score, 10);
      closeArray(curve.probTrue, c.calibration_uniform_10.prob_true, 'prob_true');
      closeArray(curve.probPred, c.calibration_uniform_10.prob_pred, 'prob_pred');
      assert.equal(
        curve.counts.reduce((a, b) => a + b, 0),
        c.y_true.length,
      );
    });
  }
});

describe('classification edge cases', () => {
  it('roc auc counts ties as half', () => {
    assert.equal(rocAuc([0, 1], [0.5, 0.5]), 0.5);
    assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  });
  it('roc auc is NaN with one class, average precision 0 without positives', () => {
    assert.ok(Number.isNaN(rocAuc([0, 0], [0.1, 0.2])));
    assert.equal(averagePrecision([0, 0], [0.1, 0.2]), 0);
  });
  it('zero_division = 0 when nothing is predicted positive', () => {
    const m = classificationMetrics([0, 1], [0.1, 0.2], 0.5);
    assert.equal(m.precision, 0);
    assert.equal(m.recall, 0);
    assert.equal(m.f1, 0);
  });
  it('takes ŷ as given classes: class metrics from them, ranking metrics and log loss from the scores', () => {
    const y = [0, 0, 1, 1, 1];
    const scores = [0.1, 0.7, 0.35, 0.8, 0.6];
    // A model that decided otherwise than any threshold on its score (rows 0 and 2 flipped).
    const m = classificationMetrics(y, scores, [1, 1, 1, 1, 0]);
    assert.deepEqual(m.confusion, { tp: 2, fp: 2, tn: 0, fn: 1 });
    assert.equal(m.accuracy, 2 / 5);
    assert.equal(m.specificity, 0);
    assert.deepEqual(
      [m.rocAuc, m.logLoss, m.averagePrecision],
      [rocAuc(y, scores), classificationMetrics(y, scores, 0.5).logLoss, averagePrecision(y, scores)],
    );
    assert.throws(() => classificationMetrics(y, scores, [1, 0]), /a predicted class per row/);
    assert.throws(() => classificationMetrics(y, scores, [1, 0, 0.5, 1, 1]), /predicted class at row 2/);
  });
  it('rejects labels other than 0/1 and mismatched lengths', () => {
    assert.throws(() => rocAuc([0, 2], [0.1, 0.2]), RangeError);
    assert.throws(() => rocAuc([0, 1], [0.1]), RangeError);
    assert.throws(() => calibrationCurve([0, 1], [0.1, 1.2]), RangeError);
  });
});
