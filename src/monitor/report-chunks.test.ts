import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { carLoanCsv } from '../../test/helpers/car-loan-data.js';
import { parseCsvText } from '../data/csv-reader.js';
import { isChurnwatchError } from '../errors.js';
import { buildDriftReport, formatReportSummary } from './report.js';
import { renderReportHtml } from './report-html.js';

const table = (text: string) => parseCsvText(text, 'test.csv', { schema: 'infer' }).table;
const START = Date.UTC(2018, 0, 1); // a Monday
const STEP = 600_000;

function carLoan(
  rows: number,
  seed: number,
  start: number,
  extra: Parameters<typeof carLoanCsv>[0] | object = {},
) {
  return table(carLoanCsv({ rows, seed, start, ...extra }));
}

describe('report chunks', () => {
  const reference = carLoan(3000, 1, START);
  const current = carLoan(3000, 2, START + 3000 * STEP, { driftFrom: 1500 });

  it('cuts both files by size, the last chunk smaller, with 1-based row ranges', () => {
    const report = buildDriftReport(reference, current, {
      target: 'repaid',
      chunking: { by: 'size', size: 1000 },
    });
    const chunks = report.chunks!;
    assert.equal(chunks.by, 'size');
    assert.equal(chunks.size, 1000);
    assert.deepEqual(
      chunks.table.map((c) => `${c.period}:${c.key}:${c.rows}`),
      [
        'reference:rows 1–1000:1000',
        'reference:rows 1001–2000:1000',
        'reference:rows 2001–3000:1000',
        'current:rows 1–1000:1000',
        'current:rows 1001–2000:1000',
        'current:rows 2001–3000:1000',
      ],
    );
    const last = chunks.table.at(-1)!;
    assert.equal(last.firstRow, 2001);
    assert.equal(last.lastRow, 3000);
    assert.equal(last.from, new Date(START + 5000 * STEP).toISOString(), 'times label row chunks too');
  });

  it('cuts K equal chunks per file', () => {
    const report = buildDriftReport(reference, current, {
      target: 'repaid',
      chunking: { by: 'count', count: 4 },
    });
    const rows = report.chunks!.table.map((c) => c.rows);
    assert.deepEqual(rows, [750, 750, 750, 750, 750, 750, 750, 750]);
  });

  it('per chunk: drift, data quality, estimated and realized performance, alerts against the reference band', () => {
    const report = buildDriftReport(reference, current, {
      target: 'repaid',
      chunking: { by: 'size', size: 750 },
    });
    const chunks = report.chunks!;
    const cur = chunks.table.filter((c) => c.period === 'current');
    const carValue = cur.map((c) => c.drift.find((d) => d.feature === 'car_value')!.drifted);
    assert.deepEqual(carValue, [false, false, true, true]);
    for (const c of chunks.table) {
      assert.ok(
        !c.drift.some((d) => ['id', 'timestamp', 'y_pred', 'y_pred_proba', 'repaid'].includes(d.feature)),
      );
      assert.equal(c.missing.car_value, 0);
      assert.equal(c.unseen.salary_range, 0);
      assert.ok(c.estimated && c.realized, `${c.key}: estimated and realized`);
    }
    // Before the drift, realized accuracy is near the CBPE estimate; after it, far below.
    assert.ok(Math.abs(cur[0]!.realized!.accuracy - cur[0]!.estimated!.accuracy) < 0.05);
    assert.ok(cur[3]!.realized!.accuracy < 0.4, `realized ${cur[3]!.realized!.accuracy}`);
    const band = chunks.thresholds['realized.accuracy']!;
    assert.ok(band.lower! > 0.6 && band.upper! <= 1, JSON.stringify(band));
    assert.ok(!cur[0]!.alerts.some((a) => /car_value|realized accuracy/.test(a)), cur[0]!.alerts.join('; '));
    assert.ok(cur[3]!.alerts.some((a) => /^drift car_value: /.test(a)));
    assert.ok(cur[3]!.alerts.some((a) => /^realized accuracy 0\.\d+ outside \[/.test(a)));
    const text = formatReportSummary(report);
    assert.match(text, /^chunks \(750 rows, timestamp timestamp\):$/m);
    assert.match(text, /^current +rows 2251–3000 +750 +\d\/7 /m);
    const html = renderReportHtml(report);
    assert.match(html, /<h2>Chunks<\/h2>/);
    assert.match(html, /data-chart="drift-car_value"/);
    assert.match(html, /data-chart="perf-accuracy"/);
  });

  it('by period: time order, weeks from Monday, periods as keys, UTC for times without a zone', () => {
    // Rows shuffled in the file: chunks follow time, not file order.
    const lines = carLoanCsv({ rows: 2000, seed: 3, start: START + 3 * 86_400_000 })
      .trimEnd()
      .split('\n');
    const shuffled = [lines[0]!, ...lines.slice(1).reverse()].join('\n');
    const report = buildDriftReport(reference, table(`${shuffled}\n`), {
      target: 'repaid',
      chunking: { by: 'period', period: '1w', periodMs: 7 * 86_400_000 },
    });
    const chunks = report.chunks!;
    assert.equal(chunks.timestamp, 'timestamp');
    const cur = chunks.table.filter((c) => c.period === 'current');
    assert.deepEqual(
      cur.map((c) => c.key),
      ['2018-01-01', '2018-01-08', '2018-01-15'],
    );
    assert.equal(cur[0]!.from, '2018-01-01T00:00:00.000Z');
    assert.equal(cur[0]!.to, '2018-01-08T00:00:00.000Z');
    // Thursday 00:00 to Monday 00:00 is 4 days of rows every 10 minutes.
    assert.equal(cur[0]!.rows, 4 * 144);
    assert.equal(
      cur.reduce((a, c) => a + c.rows, 0),
      2000,
    );
    const daily = buildDriftReport(reference, current, {
      target: 'repaid',
      chunking: { by: 'period', period: '1d', periodMs: 86_400_000 },
    });
    assert.equal(daily.chunks!.table.find((c) => c.period === 'current')!.key, '2018-01-21');
  });

  it('chunks by period need a timestamp, and a time in every row', () => {
    const noTime = table('a,b\n1,x\n2,y\n3,x\n');
    assert.throws(
      () =>
        buildDriftReport(noTime, noTime, { chunking: { by: 'period', period: '1d', periodMs: 86_400_000 } }),
      (e: unknown) =>
        isChurnwatchError(e) &&
        e.code === 'CW_REPORT_BAD_OPTION' &&
        /--chunk-period 1d needs a timestamp column in current/.test(e.message),
    );
    const gap = table('at,a\n2024-01-01,1\n2024-01-02,2\n,3\n2024-01-04,4\n');
    const full = table('at,a\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n2024-01-04,4\n');
    assert.throws(
      () =>
        buildDriftReport(full, gap, {
          timestamp: 'at',
          currentName: 'cur.csv',
          chunking: { by: 'period', period: '1d', periodMs: 86_400_000 },
        }),
      (e: unknown) =>
        isChurnwatchError(e) &&
        e.code === 'CW_REPORT_BAD_TIMESTAMP' &&
        /cur\.csv data row 3, column at: no time/.test(e.message),
    );
    // Chunks by rows only label with the times: a gap is no error there.
    const report = buildDriftReport(gap, gap, { timestamp: 'at', chunking: { by: 'size', size: 2 } });
    assert.equal(report.chunks!.table.length, 4);
  });

  it('reads epoch seconds and milliseconds under a time-like name as the timestamp', () => {
    for (const timeFormat of ['s', 'ms'] as const) {
      const ref = carLoan(1500, 1, START, { timeFormat, idName: 'identifier' });
      const cur = carLoan(1500, 2, START + 1500 * STEP, { timeFormat, idName: 'identifier' });
      const report = buildDriftReport(ref, cur, {
        target: 'repaid',
        chunking: { by: 'period', period: '1d', periodMs: 86_400_000 },
      });
      const roles = Object.fromEntries(report.roles.map((r) => [r.column, r.role]));
      assert.equal(roles.timestamp, 'timestamp', timeFormat);
      assert.equal(roles.identifier, 'id', timeFormat);
      assert.equal(report.chunks!.table.find((c) => c.period === 'current')!.key, '2018-01-11', timeFormat);
    }
  });
});

describe('report target labels', () => {
  const n = 40;
  const rows = (labels: (i: number) => string) =>
    table(`amount,status\n${Array.from({ length: n }, (_, i) => `${100 + i},${labels(i)}`).join('\n')}\n`);
  const churned = rows((i) => (i % 4 ? 'stayed' : 'churned'));

  it('refuses labels other than 1/0, yes/no, true/false without --positive-label, naming the column and both', () => {
    assert.throws(
      () =>
        buildDriftReport(churned, churned, {
          target: 'status',
          referenceName: 'a.csv',
          currentName: 'b.csv',
        }),
      (e: unknown) =>
        isChurnwatchError(e) &&
        e.code === 'CW_REPORT_POSITIVE_LABEL' &&
        /target column status holds "churned" and "stayed"/.test(e.message) &&
        /--positive-label "churned"/.test(e.hint ?? ''),
    );
    assert.throws(
      () => buildDriftReport(churned, churned, { target: 'status', positiveLabel: 'left' }),
      (e: unknown) =>
        isChurnwatchError(e) &&
        /--positive-label left is not a value of the target column status/.test(e.message),
    );
  });

  it('reads them with --positive-label, over both files (a current file may hold one class)', () => {
    const report = buildDriftReport(churned, churned, { target: 'status', positiveLabel: 'churned' });
    assert.equal(report.performance?.current?.positiveRate, 0.25);
    const allStayed = rows(() => 'stayed');
    const one = buildDriftReport(churned, allStayed, { target: 'status', positiveLabel: 'churned' });
    assert.equal(one.performance?.current?.positiveRate, 0);
    const yesOnly = rows(() => 'No');
    assert.equal(
      buildDriftReport(yesOnly, yesOnly, { target: 'status' }).performance?.current?.positiveRate,
      0,
    );
  });

  it('refuses a target with more than two labels', () => {
    const three = rows((i) => ['a', 'b', 'c'][i % 3]!);
    assert.throws(
      () => buildDriftReport(three, three, { target: 'status', positiveLabel: 'a' }),
      (e: unknown) =>
        isChurnwatchError(e) && /target column status has 3 labels \(a, b, c\), not 2/.test(e.message),
    );
  });
});
