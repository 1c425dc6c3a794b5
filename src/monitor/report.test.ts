import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import type { ColumnarTable } from '../data/columnar-table.js';
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
