import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import type { Column, ColumnarTable } from '../data/columnar-table.js';
import { createRng } from '../data/rng.js';
import { isChurnwatchError } from '../errors.js';
import { estimatePerformance } from '../stats/cbpe.js';
import { cbpeCalibrator, fitCbpeCalibration } from '../stats/cbpe-calibration.js';
import { classificationMetrics, rocAuc } from '../stats/classification.js';
import { buildDriftReport, formatReportSummary } from './report.js';
import { renderReportHtml } from './report-html.js';

interface NumericCase {
  name: string;
  reference: number[];
  current: number[];
  wasserstein: number;
  wasserstein_normed: number;
}

/** SciPy's figures: `wasserstein_distance(u, v)` and the same divided by `numpy.std(u)`. */
const oracle = JSON.parse(readFileSync(oraclePath('drift-numeric.json'), 'utf8')) as { cases: NumericCase[] };

function table(values: readonly number[]): ColumnarTable {
  return {
    rowCount: values.length,
    header: ['x'],
    columns: new Map([['x', { kind: 'numeric', name: 'x', values: Float64Array.from(values) }]]),
  };
}

function close(actual: number | undefined, expected: number, what: string): void {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) <= 1e-9 * Math.abs(expected),
    `${what}: got ${actual}, expected ${expected}`,
  );
}

describe('report: plain and normed Wasserstein distance', () => {
  for (const c of oracle.cases) {
    it(`matches SciPy on ${c.name}`, () => {
      const report = buildDriftReport(table(c.reference), table(c.current));
      const x = report.features[0]!;
      close(x.wasserstein, c.wasserstein, 'wasserstein');
      close(x.scores.wasserstein_normed, c.wasserstein_normed, 'wasserstein normed');
    });
  }

  it('shows both in the JSON, the text summary and the HTML', () => {
    const c = oracle.cases.find((k) => k.name === 'scaled_lognormal_50_40')!;
    const report = buildDriftReport(table(c.reference), table(c.current), { now: () => new Date(0) });
    const json = JSON.parse(JSON.stringify(report)) as typeof report;
    close(json.features[0]!.wasserstein, c.wasserstein, 'JSON wasserstein');
    const plain = c.wasserstein.toFixed(4);
    const normed = c.wasserstein_normed.toFixed(4);
    const summary = formatReportSummary(report);
    assert.match(summary, /wasserstein\/std\s+wasserstein\s+verdict/);
    assert.match(summary, new RegExp(`\\b${normed}\\s+${plain}\\s`));
    assert.match(renderReportHtml(report), new RegExp(`<td>${normed}</td><td>${plain}</td>`));
  });
});

describe('report: estimated performance of scores that are not calibrated', () => {
  /** A feature, a label drawn with probability p, and a score p³ (miscalibrated, same order). */
  function scored(n: number, seed: number): ColumnarTable {
    const rng = createRng(seed);
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const p = rng.next();
      x[i] = rng.normal();
      y[i] = rng.next() < p ? 1 : 0;
      s[i] = p ** 3;
    }
    return {
      rowCount: n,
      header: ['x', 'churned', 'proba'],
      columns: new Map([
        ['x', { kind: 'numeric', name: 'x', values: x }],
        ['churned', { kind: 'numeric', name: 'churned', values: y }],
        ['proba', { kind: 'numeric', name: 'proba', values: s }],
      ]),
    };
  }

  it('calibrates the reference scores (isotonic, ECE lower), so the estimate meets the realized accuracy', () => {
    const report = buildDriftReport(scored(5000, 1), scored(3000, 2), { target: 'churned', score: 'proba' });
    const perf = report.performance!;
    assert.equal(perf.cbpe?.calibrated, true);
    assert.ok(perf.cbpe.eceAfter! < perf.cbpe.eceBefore!);
    const realized = perf.current!.metrics!.accuracy;
    const estimated = perf.current!.estimated!.accuracy;
    // Sampling error of accuracy over 3,000 rows is about 0.009; uncalibrated p³ misses by far more.
    assert.ok(Math.abs(estimated - realized) < 0.02, `estimated ${estimated}, realized ${realized}`);
    assert.match(formatReportSummary(report), /estimated performance \(CBPE\): isotonic calibration/);
  });
});

describe("report: the model's own predicted classes (--prediction)", () => {
  /**
   * A feature, a label (`churned`/`stayed`), a probability and the model's decision: score ≥ 0.5 except
   * on every 7th row, where the model decided the other way (a business rule on top of its score).
   * `words` spells the decision: 1/0, true/false, or the target's own labels.
   */
  function decided(n: number, seed: number, words: [string, string] = ['1', '0']): ColumnarTable {
    const rng = createRng(seed);
    const x = new Float64Array(n);
    const s = new Float64Array(n);
    const labels = ['churned', 'stayed'];
    const yCodes = new Int32Array(n);
    const predCodes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const p = rng.next();
      x[i] = rng.normal();
      s[i] = p;
      yCodes[i] = rng.next() < p ? 0 : 1;
      const one = p >= 0.5 !== (i % 7 === 0);
      predCodes[i] = one ? 0 : 1;
    }
    return {
      rowCount: n,
      header: ['x', 'outcome', 'proba', 'decision'],
      columns: new Map<string, Column>([
        ['x', { kind: 'numeric', name: 'x', values: x }],
        ['outcome', { kind: 'categorical', name: 'outcome', dictionary: labels, codes: yCodes }],
        ['proba', { kind: 'numeric', name: 'proba', values: s }],
        ['decision', { kind: 'categorical', name: 'decision', dictionary: [...words], codes: predCodes }],
      ]),
    };
  }
  const column = (t: ColumnarTable, name: string) => t.columns.get(name)!;
  const numbers = (t: ColumnarTable, name: string) => (column(t, name) as { values: Float64Array }).values;
  const codes = (t: ColumnarTable, name: string) => (column(t, name) as { codes: Int32Array }).codes;
  const options = { target: 'outcome', score: 'proba', prediction: 'decision', positiveLabel: 'churned' };

  it('uses the given class for the class metrics, the expected confusion and the predicted-class share; ROC AUC from the score', () => {
    const reference = decided(3000, 1);
    const current = decided(2000, 2);
    const report = buildDriftReport(reference, current, options);
    const perf = report.performance!;
    assert.equal(perf.prediction, 'decision');
    const section = perf.current!;
    assert.equal(section.predictedClassFrom, 'prediction');
    const y = Array.from(codes(current, 'outcome'), (c) => (c === 0 ? 1 : 0));
    const yhat = Array.from(codes(current, 'decision'), (c): number => (c === 0 ? 1 : 0));
    const s = numbers(current, 'proba');
    const counted = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (let i = 0; i < y.length; i++) counted[yhat[i] ? (y[i] ? 'tp' : 'fp') : y[i] ? 'fn' : 'tn'] += 1;
    const m = section.metrics!;
    assert.deepEqual(m.confusion, counted);
    assert.equal(m.accuracy, (counted.tp + counted.tn) / y.length);
    assert.equal(m.specificity, counted.tn / (counted.tn + counted.fp));
    assert.equal(m.rocAuc, rocAuc(y, s), 'ROC AUC ranks by the score');
    assert.equal(section.predictedPositiveRate, yhat.reduce((a, b) => a + b, 0) / yhat.length);
    // NannyML's expected confusion: Σ p over rows with ŷ = 1 (TP) and ŷ = 0 (FN), p calibrated as the
    // reference decides (the same fit, made again here).
    const calibration = fitCbpeCalibration(
      numbers(reference, 'proba'),
      Array.from(codes(reference, 'outcome'), (c) => (c === 0 ? 1 : 0)),
    );
    assert.equal(perf.cbpe?.calibrated, calibration.calibrated);
    const calibrate = cbpeCalibrator(calibration) ?? ((v: number) => v);
    const expected = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (let i = 0; i < s.length; i++) {
      const p = calibrate(s[i]!);
      if (yhat[i]) {
        expected.tp += p;
        expected.fp += 1 - p;
      } else {
        expected.fn += p;
        expected.tn += 1 - p;
      }
    }
    const e = section.estimated!;
    for (const k of ['tp', 'fp', 'tn', 'fn'] as const)
      assert.ok(Math.abs(e.confusion[k] - expected[k]) < 1e-9, `${k}: ${e.confusion[k]} vs ${expected[k]}`);
    // The given classes are not the threshold's: the threshold rule would give other numbers.
    const byThreshold = buildDriftReport(reference, current, {
      ...options,
      prediction: undefined,
      ignore: ['decision'],
    });
    assert.equal(byThreshold.performance!.current!.predictedClassFrom, 'threshold');
    assert.notEqual(byThreshold.performance!.current!.metrics!.accuracy, m.accuracy);
    assert.notEqual(byThreshold.performance!.current!.estimated!.accuracy, e.accuracy);
    assert.equal(byThreshold.performance!.current!.metrics!.rocAuc, m.rocAuc);
    assert.match(formatReportSummary(report), /performance, predicted class from column decision:/);
    assert.match(formatReportSummary(report), / specificity \d\.\d{4} .* predicted positive \d\.\d{4}/);
    assert.match(renderReportHtml(report), /<h2>Performance, predicted class from column decision<\/h2>/);
  });

  it('reads 1/0, true/false and the target’s own labels alike', () => {
    const reference = decided(600, 3);
    const base = buildDriftReport(reference, decided(400, 4), options).performance!.current!;
    for (const words of [
      ['true', 'false'],
      ['YES', 'NO'],
      ['churned', 'stayed'],
    ] as [string, string][]) {
      const got = buildDriftReport(reference, decided(400, 4, words), options).performance!.current!;
      assert.deepEqual(got.metrics, base.metrics, words.join('/'));
      assert.deepEqual(got.estimated, base.estimated, words.join('/'));
    }
  });

  it('refuses a value that is no class, naming the file, the data row and the column', () => {
    const table = decided(400, 4);
    const decisionCodes = codes(table, 'decision').slice();
    decisionCodes[11] = 2;
    const columns = new Map(table.columns);
    columns.set('decision', {
      kind: 'categorical',
      name: 'decision',
      dictionary: ['1', '0', '0.83'],
      codes: decisionCodes,
    });
    const current: ColumnarTable = { ...table, columns };
    assert.throws(
      () => buildDriftReport(decided(600, 3), current, { ...options, currentName: 'week.csv' }),
      (error: unknown) =>
        isChurnwatchError(error) &&
        error.code === 'CW_REPORT_BAD_PREDICTION' &&
        /^week\.csv data row 12, column decision: "0\.83" is not a predicted class \(1\/0, true\/false, yes\/no or the target's labels "churned"\/"stayed"\)$/.test(
          error.message,
        ),
    );
  });

  it('chunks use the given classes too; a file without the column falls back to the threshold, and says so', () => {
    const reference = decided(2000, 5);
    const current = decided(2000, 6);
    const report = buildDriftReport(reference, current, { ...options, chunking: { by: 'size', size: 1000 } });
    const chunk = report.chunks!.table.find((c) => c.period === 'current' && c.index === 1)!;
    const rows = Array.from({ length: 1000 }, (_, k) => 1000 + k);
    const s = rows.map((r) => numbers(current, 'proba')[r]!);
    const yhat = rows.map((r) => (codes(current, 'decision')[r] === 0 ? 1 : 0));
    const y = rows.map((r) => (codes(current, 'outcome')[r] === 0 ? 1 : 0));
    assert.equal(chunk.realized!.accuracy, classificationMetrics(y, s, yhat).accuracy);
    assert.notEqual(chunk.realized!.accuracy, classificationMetrics(y, s, 0.5).accuracy);
    const calibrate = cbpeCalibrator(
      fitCbpeCalibration(
        numbers(reference, 'proba'),
        Array.from(codes(reference, 'outcome'), (c) => (c === 0 ? 1 : 0)),
      ),
    );
    assert.equal(chunk.estimated!.accuracy, estimatePerformance(s, yhat, calibrate).accuracy);

    const full = decided(2000, 5);
    const kept = new Map(full.columns);
    kept.delete('decision');
    const without: ColumnarTable = {
      rowCount: full.rowCount,
      header: ['x', 'outcome', 'proba'],
      columns: kept,
    };
    const mixed = buildDriftReport(without, current, { ...options, referenceName: 'ref.csv' });
    assert.equal(mixed.performance!.reference!.predictedClassFrom, 'threshold');
    assert.equal(mixed.performance!.current!.predictedClassFrom, 'prediction');
    assert.match(
      formatReportSummary(mixed),
      /performance, predicted class from column decision \(score ≥ 0\.5 in ref\.csv, which lacks it\):/,
    );
  });
});
