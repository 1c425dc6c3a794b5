import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import type { ColumnarTable } from '../data/columnar-table.js';
import { createRng } from '../data/rng.js';
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
