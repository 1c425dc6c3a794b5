/**
 * `churnwatch report` through the CLI on a table shaped like NannyML's synthetic car-loan tutorial data
 * (test/helpers/car-loan-data.ts): roles recognised, chunks by period, size and count, the chunk table
 * in the JSON and the HTML, and the errors (exit code ≠ 0) for bad chunk flags, a missing time, a target
 * with unknown labels, an empty current file and two files with no feature in common.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DriftReport } from '../../src/monitor/report.js';
import { carLoanCsv } from '../helpers/car-loan-data.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';

const cli = (args: string[]) => runCli(['report', ...args]);
/** `--reference R --current C --target repaid`. */
const withTarget = (files: { reference: string; current: string }) => [
  '--reference',
  files.reference,
  '--current',
  files.current,
  '--target',
  'repaid',
];
const START = Date.UTC(2018, 0, 1);
const STEP = 600_000;

/** Writes a reference and a current car-loan file (the current one drifting from its middle on). */
async function carLoanFiles(
  dir: string,
  rows: number,
  extra: { idName?: string; timeFormat?: 's' | 'ms' } = {},
) {
  const reference = join(dir, 'reference.csv');
  const current = join(dir, 'analysis.csv');
  await writeFile(reference, carLoanCsv({ rows, seed: 1, start: START, ...extra }));
  await writeFile(
    current,
    carLoanCsv({ rows, seed: 2, start: START + rows * STEP, driftFrom: rows / 2, ...extra }),
  );
  return { reference, current };
}

describe('churnwatch report by chunks (NannyML car-loan shape)', () => {
  it('--chunk-period 1w: only the features are judged; the JSON and HTML have the chunk table', async () => {
    await withTempDir(async (dir) => {
      const { reference, current } = await carLoanFiles(dir, 5000);
      const [json, html] = [join(dir, 'r.json'), join(dir, 'r.html')];
      const result = await cli([
        ...withTarget({ reference, current }),
        '--chunk-period',
        '1w',
        '--json',
        json,
        '--html',
        html,
      ]);
      assert.equal(result.code, 0, result.stderr);
      for (const line of [
        /^ {2}timestamp: timestamp \(inferred: ISO 8601 dates in 100 % of rows\)$/m,
        /^ {2}y_pred_proba: score \(inferred: named like a probability, values in \[0, 1\]\)$/m,
        /^ {2}y_pred: prediction \(inferred: named like a predicted class, two values \(0, 1\)\)$/m,
        /^ {2}id: id \(inferred: named like an id, a distinct integer in every row\)$/m,
        /^chunks \(period 1w, timestamp timestamp\):$/m,
      ])
        assert.match(result.stdout, line);
      const report = JSON.parse(await readFile(json, 'utf8')) as DriftReport;
      assert.deepEqual(report.features.map((f) => f.feature).sort(), [
        'car_value',
        'debt_to_income_ratio',
        'driver_tenure',
        'loan_length',
        'repaid_loan_on_prev_car',
        'salary_range',
        'size_of_downpayment',
      ]);
      const chunks = report.chunks!;
      assert.equal(chunks.by, 'period');
      assert.equal(chunks.periodMs, 7 * 86_400_000);
      const cur = chunks.table.filter((c) => c.period === 'current');
      const ref = chunks.table.filter((c) => c.period === 'reference');
      assert.deepEqual(
        ref.map((c) => c.key),
        ['2018-01-01', '2018-01-08', '2018-01-15', '2018-01-22', '2018-01-29'],
      );
      assert.equal(
        cur.reduce((a, c) => a + c.rows, 0),
        5000,
      );
      // The last full weeks (all after the drift): car_value drifts, realized accuracy is out of band.
      for (const c of cur.slice(-3, -1)) {
        assert.equal(c.drift.find((d) => d.feature === 'car_value')?.drifted, true, c.key);
        assert.ok(
          c.alerts.some((a) => a.startsWith('realized accuracy')),
          `${c.key}: ${c.alerts.join('; ')}`,
        );
        assert.ok(Math.abs(c.estimated!.accuracy - 0.8) < 0.05, 'CBPE does not see a concept shift');
      }
      assert.ok(chunks.thresholds['realized.accuracy'] && chunks.thresholds['estimated.rocAuc']);
      const page = await readFile(html, 'utf8');
      assert.match(page, /<h2>Chunks<\/h2>/);
      assert.doesNotMatch(page, /<script|<link|https?:\/\/|\bsrc=|@import|url\(/i);
    });
  });

  it('--chunk-size and --chunks with an identifier column and epoch-seconds times', async () => {
    await withTempDir(async (dir) => {
      const { reference, current } = await carLoanFiles(dir, 2000, { idName: 'identifier', timeFormat: 's' });
      const json = join(dir, 'r.json');
      const bySize = await cli([
        ...withTarget({ reference, current }),
        '--chunk-size',
        '500',
        '--json',
        json,
      ]);
      assert.equal(bySize.code, 0, bySize.stderr);
      assert.match(bySize.stdout, /^ {2}identifier: id \(inferred/m);
      assert.match(
        bySize.stdout,
        /^ {2}timestamp: timestamp \(inferred: named like a time, whole numbers in the epoch seconds range\)$/m,
      );
      const report = JSON.parse(await readFile(json, 'utf8')) as DriftReport;
      assert.deepEqual(
        report.chunks!.table.map((c) => c.rows),
        Array(8).fill(500),
      );
      assert.equal(report.chunks!.table[4]!.from, new Date(START + 2000 * STEP).toISOString());
      const byCount = await cli([...withTarget({ reference, current }), '--chunks', '3']);
      assert.equal(byCount.code, 0, byCount.stderr);
      assert.match(byCount.stdout, /^chunks \(3 per file, timestamp timestamp\):$/m);
      assert.match(byCount.stdout, /^current +rows 1334–2000 +667 /m);
    });
  });

  it('fails on two chunkings, a bad value, a period without a timestamp, and a row without a time', async () => {
    await withTempDir(async (dir) => {
      const { reference, current } = await carLoanFiles(dir, 300);
      const base = withTarget({ reference, current });
      const expectations: [string[], RegExp][] = [
        [
          ['--chunk-size', '100', '--chunks', '3'],
          /CW_REPORT_BAD_OPTION: --chunk-size and --chunks cannot be combined/,
        ],
        [
          ['--chunks', '2', '--chunk-period', '1d'],
          /CW_REPORT_BAD_OPTION: --chunks and --chunk-period cannot be combined/,
        ],
        [['--chunk-size', '0'], /CW_REPORT_BAD_OPTION: --chunk-size must be an integer ≥ 1/],
        [
          ['--chunk-period', 'weekly'],
          /CW_REPORT_BAD_OPTION: --chunk-period must be a duration such as 1h, 1d or 1w/,
        ],
        [
          ['--ignore', 'timestamp', '--chunk-period', '1d'],
          /CW_REPORT_BAD_OPTION: --chunk-period 1d needs a timestamp column in analysis\.csv: none was given/,
        ],
      ];
      for (const [flags, message] of expectations) {
        const result = await cli([...base, ...flags]);
        assert.notEqual(result.code, 0, flags.join(' '));
        assert.match(result.stderr, message);
      }
      const text = (await readFile(current, 'utf8')).split('\n');
      text[5] = text[5]!.replace(/2018-[^,]+/, 'soon');
      await writeFile(current, text.join('\n'));
      const bad = await cli([...base, '--timestamp', 'timestamp', '--chunk-period', '1d']);
      assert.notEqual(bad.code, 0);
      assert.match(
        bad.stderr,
        /CW_REPORT_BAD_TIMESTAMP: analysis\.csv data row 5, column timestamp: "soon" is not an ISO 8601 date or time/,
      );
    });
  });

  it('a target labelled churned/stayed needs --positive-label, and works with it', async () => {
    await withTempDir(async (dir) => {
      const { reference, current } = await carLoanFiles(dir, 400);
      for (const file of [reference, current]) {
        const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
        const relabelled = lines.map((line, i) =>
          i === 0
            ? line.replace(',repaid,', ',status,')
            : line.replace(/,([01]),(20\d\d-)/, (_, y, t) => `,${y === '1' ? 'churned' : 'stayed'},${t}`),
        );
        await writeFile(file, `${relabelled.join('\n')}\n`);
      }
      const base = ['--reference', reference, '--current', current, '--target', 'status', '--chunks', '2'];
      const refused = await cli(base);
      assert.notEqual(refused.code, 0);
      assert.match(
        refused.stderr,
        /CW_REPORT_POSITIVE_LABEL: reference\.csv and analysis\.csv: the target column status holds "churned" and "stayed"/,
      );
      assert.match(refused.stderr, /hint: pass --positive-label "churned" or --positive-label "stayed"/);
      const ok = await cli([...base, '--positive-label', 'churned']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^ {2}reference: rows 400 +roc_auc 0\.[89]/m);
    });
  });

  it('an empty current file, or no feature in common, fails (exit ≠ 0) even with chunks', async () => {
    await withTempDir(async (dir) => {
      const { reference } = await carLoanFiles(dir, 200);
      const header = join(dir, 'header.csv');
      await writeFile(header, `${(await readFile(reference, 'utf8')).split('\n')[0]}\n`);
      const empty = await cli(['--reference', reference, '--current', header, '--chunks', '2']);
      assert.notEqual(empty.code, 0);
      assert.match(empty.stderr, /CW_REPORT_EMPTY_FILE: .*header\.csv has no data rows/);
      const other = join(dir, 'other.csv');
      await writeFile(other, 'user_id,REGION\nx1,DAKAR\nx2,THIES\n');
      const disjoint = await cli(['--reference', reference, '--current', other, '--chunk-size', '10']);
      assert.notEqual(disjoint.code, 0);
      assert.match(
        disjoint.stderr,
        /CW_REPORT_NO_COMMON_FEATURES: reference\.csv and other\.csv have no feature column in common/,
      );
      assert.doesNotMatch(disjoint.stdout, /judged/);
    });
  });
});
